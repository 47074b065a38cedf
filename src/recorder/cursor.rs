//! Reading a recording forward from a snapshot: the fleet as it was, and the pod numbers
//! (`pod_ids`) that patches refer to. Patches become whole upserts again against this fleet,
//! which holds what the recording console's fleet held at the same moment.
//!
//! A seek does not apply every update: a pod that changed twelve times in ten minutes is
//! applied once, with its last version ([`Cursor::fast_forward`]), which is what keeps a
//! seek through ten minutes of churn under a second.

use std::collections::HashMap;

use hubdeck_core::fleet::{ClusterId, Delta, Fleet, FleetUpdate, ObjectKey, PodInfo, Thresholds};
use jiff::Timestamp;

use super::encode::{Overlay, fleet_pod};
use super::format::{Group, Rec};
use super::pod_ids::Keys;

/// A fleet being replayed.
pub struct Cursor {
    /// The fleet at the last update applied.
    pub fleet: Fleet,
    keys: Keys,
    /// Pods whose last version is known but not applied yet, with its time.
    staged: HashMap<(ClusterId, ObjectKey), (Timestamp, PodInfo)>,
    /// Other updates after the oldest staged pod, in order: applied with the staged pods, by
    /// time, so every cluster's "updated" ends up as applying everything in turn gives.
    queued: Vec<(Timestamp, FleetUpdate)>,
}

impl Cursor {
    /// Starts at a snapshot's fleet.
    pub fn at_snapshot(limits: Thresholds, snapshot: Group) -> Cursor {
        let mut c = Cursor {
            fleet: Fleet::new(limits),
            keys: Keys::default(),
            staged: HashMap::new(),
            queued: Vec::new(),
        };
        for item in snapshot.items {
            if let Rec::Whole(u) = item {
                c.keys.note(&u);
                c.fleet.apply(u, snapshot.time);
            }
        }
        c.fleet.refresh(snapshot.time);
        c
    }

    /// The group's updates, patches made whole. Nothing is applied.
    pub fn expand(&mut self, g: Group) -> Result<Vec<FleetUpdate>, String> {
        let (fleet, staged) = (&self.fleet, &self.staged);
        let base = |c: &ClusterId, k: &ObjectKey, release: &str| match staged
            .get(&(c.clone(), k.clone()))
        {
            Some((_, p)) => Some(p.clone()),
            None if release.is_empty() => fleet.pod(c, k).cloned(),
            None => fleet_pod(fleet, c, k, release),
        };
        let mut overlay = Overlay::new(&base);
        let mut out = Vec::with_capacity(g.items.len());
        for item in g.items {
            let u = match item {
                Rec::Whole(u) => {
                    self.keys.note(&u);
                    u
                }
                Rec::Patch { id, patch } => {
                    let (cluster, key) = self
                        .keys
                        .get(id)
                        .ok_or_else(|| format!("patch of pod number {id}, never written whole"))?;
                    let mut pod = overlay.current(cluster, key, "").ok_or_else(|| {
                        format!(
                            "patch of {}/{}, which the fleet does not hold",
                            key.namespace, key.name
                        )
                    })?;
                    patch.apply(&mut pod);
                    FleetUpdate::Pods {
                        cluster: cluster.clone(),
                        delta: Delta::Upsert(pod),
                    }
                }
            };
            overlay.note(&u);
            out.push(u);
        }
        Ok(out)
    }

    /// Applies a group update by update; returns them whole.
    pub fn step(&mut self, g: Group) -> Result<Vec<FleetUpdate>, String> {
        self.flush();
        let time = g.time;
        let updates = self.expand(g)?;
        self.apply(updates.clone(), time);
        Ok(updates)
    }

    /// Applies updates `expand` gave (after a `flush`).
    pub fn apply(&mut self, updates: Vec<FleetUpdate>, time: Timestamp) {
        for u in updates {
            self.fleet.apply(u, time);
        }
    }

    /// Takes a group in, applying pod upserts only when something else needs them.
    pub fn fast_forward(&mut self, g: Group) -> Result<(), String> {
        let time = g.time;
        for u in self.expand(g)? {
            match u {
                FleetUpdate::Pods {
                    cluster,
                    delta: Delta::Upsert(p),
                } if self.stays_in_its_hub(&cluster, &p) => {
                    self.staged.insert((cluster, p.key.clone()), (time, p));
                }
                u @ (FleetUpdate::Pods { .. }
                | FleetUpdate::Scope { .. }
                | FleetUpdate::ClusterAdded { .. }) => {
                    self.flush();
                    self.fleet.apply(u, time);
                }
                u if self.staged.is_empty() => {
                    self.fleet.apply(u, time);
                }
                u => self.queued.push((time, u)),
            }
        }
        Ok(())
    }

    /// A staged upsert is applied late; one that moves a pod to another hub is not staged, as
    /// the order would matter.
    fn stays_in_its_hub(&self, cluster: &ClusterId, p: &PodInfo) -> bool {
        match self.staged.get(&(cluster.clone(), p.key.clone())) {
            Some((_, old)) => old.release == p.release,
            None => match self.fleet.pod(cluster, &p.key) {
                Some(old) => old.release == p.release,
                None => true,
            },
        }
    }

    /// Applies what `fast_forward` held back, in time order.
    pub fn flush(&mut self) {
        if self.staged.is_empty() && self.queued.is_empty() {
            return;
        }
        let mut pods: Vec<(Timestamp, ClusterId, PodInfo)> = self
            .staged
            .drain()
            .map(|((c, _), (t, p))| (t, c, p))
            .collect();
        pods.sort_by_key(|(t, ..)| *t);
        let mut queued = std::mem::take(&mut self.queued).into_iter().peekable();
        for (t, cluster, p) in pods {
            while let Some((qt, _)) = queued.peek()
                && *qt <= t
            {
                if let Some((qt, u)) = queued.next() {
                    self.fleet.apply(u, qt);
                }
            }
            self.fleet.apply(
                FleetUpdate::Pods {
                    cluster,
                    delta: Delta::Upsert(p),
                },
                t,
            );
        }
        for (qt, u) in queued {
            self.fleet.apply(u, qt);
        }
    }
}
