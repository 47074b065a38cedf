//! Reading a recording forward from a snapshot: the fleet as it was, and the pod numbers
//! (`pod_ids`) that patches refer to. Patches become whole upserts again against this fleet,
//! which holds what the recording console's fleet held at the same moment.
//!
//! A seek does not apply every update: a pod that changed twelve times in ten minutes is
//! applied once, with its last version ([`Cursor::fast_forward`]), which is what keeps a
//! seek through ten minutes of churn under a second. What is held back is kept by pod number
//! (numbers are dense), and successive patches of a pod are merged rather than applied to a
//! copy of it, so taking a patch in costs neither a lookup by key nor a clone of the pod.

use std::sync::Arc;

use hubdeck_core::fleet::{Delta, Fleet, FleetUpdate, PodInfo, SourceState, Thresholds};
use jiff::Timestamp;

use super::activity_diff::{Changes, Known};
use super::encode::{Overlay, fleet_pod};
use super::format::{Group, Rec};
use super::patch::PodPatch;
use super::pod_ids::{Keys, Numbered};
use super::usage_numbered::NumberedUsage;

/// A pod's last version, held back by `fast_forward`.
enum Held {
    /// Written whole (then perhaps patched).
    Whole(PodInfo),
    /// Patches of the version the fleet holds, merged.
    Patch(PodPatch),
}

/// A fleet being replayed.
pub struct Cursor {
    /// The fleet at the last update applied.
    pub fleet: Fleet,
    keys: Keys,
    /// Every hub's last report of its servers, which the next one's changes apply to.
    activity: Known,
    /// By pod number: its last version not applied yet, with its time.
    staged: Vec<Option<(Timestamp, Held)>>,
    /// The numbers with something in `staged`.
    staged_ids: Vec<u32>,
    /// Other updates after the oldest staged pod, in order: applied with the staged pods, by
    /// time, so every cluster's "updated" ends up as applying everything in turn gives.
    queued: Vec<(Timestamp, FleetUpdate)>,
    /// By pod number, the snapshot's pods as the fleet holds them (shared, not copied), for as
    /// long as no pod of the fleet has changed since: the base a patch applies to, found
    /// without a lookup in the fleet (at 100,000 pods, a seek's lookups chase pointers through
    /// memory scattered by the decoding, and cost most of its time). Emptied at the first change.
    base: Vec<Option<Arc<PodInfo>>>,
}

/// A pod of `fleet` found through its hub (the release its number was last written with),
/// else through every hub of its cluster.
fn held_pod(fleet: &Fleet, k: &Numbered) -> Option<PodInfo> {
    fleet_pod(fleet, &k.cluster, &k.key, &k.release)
        .or_else(|| fleet.pod(&k.cluster, &k.key))
        .cloned()
}

impl Cursor {
    /// Starts at a snapshot's fleet, its derived health not computed yet: whoever shows the
    /// fleet refreshes it once, at the moment shown (derived health depends only on the objects
    /// and that moment).
    pub fn at_snapshot(limits: Thresholds, snapshot: Group) -> Cursor {
        let mut c = Cursor {
            fleet: Fleet::new(limits),
            keys: Keys::default(),
            activity: Known::default(),
            staged: Vec::new(),
            staged_ids: Vec::new(),
            queued: Vec::new(),
            base: Vec::new(),
        };
        let mut unresolved = None;
        for item in snapshot.items {
            let u = match item {
                Rec::Whole(u) => u,
                Rec::Usage(n) => match usage_of(&c.keys, n) {
                    Ok(u) => u,
                    // Figures of pods the snapshot does not hold: the writer went wrong (the
                    // record's checksum held), and its pods are worth more than the figures.
                    Err(e) => {
                        unresolved.get_or_insert(e);
                        continue;
                    }
                },
                Rec::Patch { .. } | Rec::Activity(_) => continue,
            };
            c.keys.note(&u);
            note_activity(&mut c.activity, &u);
            c.fleet.apply(u, snapshot.time);
        }
        if let Some(e) = unresolved {
            tracing::warn!(at = %snapshot.time, "snapshot: usage figures left out: {e}");
        }
        c.base = c.number_pods();
        c
    }

    /// The fleet's pods by number. The snapshot wrote them in the fleet's own order (cluster,
    /// hub, name), so the next number is tried first and a lookup is needed only where the
    /// orders part.
    fn number_pods(&self) -> Vec<Option<Arc<PodInfo>>> {
        let mut base = vec![None; self.keys.len()];
        let mut next = 0usize;
        for c in self.fleet.clusters() {
            for p in c.hubs.values().flat_map(|h| h.pods.shared()) {
                let id = match self.keys.get(next as u32) {
                    Some(k) if k.cluster == c.id && k.key == p.key => next,
                    _ => match self.keys.id(&c.id, &p.key) {
                        Some(id) => id as usize,
                        None => continue,
                    },
                };
                if let Some(slot) = base.get_mut(id) {
                    *slot = Some(p.clone());
                    next = id + 1;
                }
            }
        }
        base
    }

    /// The fleet's pods are about to change: the snapshot's no longer stand for them.
    fn pods_change(&mut self) {
        self.base = Vec::new();
    }

    /// The group's updates, patches made whole. Only what was held back is applied.
    pub fn expand(&mut self, g: Group) -> Result<Vec<FleetUpdate>, String> {
        self.flush()?;
        let fleet = &self.fleet;
        let base = |c: &_, k: &_, release: &Arc<str>| {
            if release.is_empty() {
                fleet.pod(c, k).cloned()
            } else {
                fleet_pod(fleet, c, k, release).cloned()
            }
        };
        let mut overlay = Overlay::new(&base);
        let mut out = Vec::with_capacity(g.items.len());
        for item in g.items {
            let u = match item {
                Rec::Whole(u) => {
                    self.keys.note(&u);
                    note_activity(&mut self.activity, &u);
                    u
                }
                Rec::Activity(c) => activity_of(&mut self.activity, c)?,
                Rec::Usage(n) => usage_of(&self.keys, n)?,
                Rec::Patch { id, patch } => {
                    let k = self.keys.get(id).ok_or_else(|| never_whole(id))?;
                    let mut pod = overlay
                        .current(&k.cluster, &k.key, &k.release)
                        .ok_or_else(|| not_held(k))?;
                    patch.apply(&mut pod);
                    FleetUpdate::Pods {
                        cluster: k.cluster.clone(),
                        delta: Delta::Upsert(pod),
                    }
                }
            };
            overlay.note(&u, PodInfo::clone);
            out.push(u);
        }
        Ok(out)
    }

    /// Applies a group update by update; returns them whole.
    pub fn step(&mut self, g: Group) -> Result<Vec<FleetUpdate>, String> {
        let time = g.time;
        let updates = self.expand(g)?;
        self.apply(updates.clone(), time);
        Ok(updates)
    }

    /// Applies updates `expand` gave.
    pub fn apply(&mut self, updates: Vec<FleetUpdate>, time: Timestamp) {
        self.pods_change();
        for u in updates {
            self.fleet.apply(u, time);
        }
    }

    /// Takes a group in, applying pod upserts only when something else needs them.
    pub fn fast_forward(&mut self, g: Group) -> Result<(), String> {
        let time = g.time;
        for item in g.items {
            match item {
                Rec::Patch { id, patch } => {
                    if self.keys.get(id).is_none() {
                        return Err(never_whole(id));
                    }
                    // Merged where it is staged: a pod's version is a few hundred bytes, and
                    // moving it out and back for every patch cost a seek more than the merge.
                    let slot = self.slot(id);
                    match slot {
                        Some((t, held)) => {
                            *t = time;
                            match held {
                                Held::Whole(p) => patch.apply(p),
                                Held::Patch(q) => q.merge(patch),
                            }
                        }
                        None => {
                            *slot = Some((time, Held::Patch(patch)));
                            self.staged_ids.push(id);
                        }
                    }
                }
                Rec::Whole(u) => {
                    note_activity(&mut self.activity, &u);
                    self.take_whole(u, time)?;
                }
                Rec::Activity(c) => {
                    let u = activity_of(&mut self.activity, c)?;
                    self.take_whole(u, time)?;
                }
                Rec::Usage(n) => {
                    let u = usage_of(&self.keys, n)?;
                    self.take_whole(u, time)?;
                }
            }
        }
        Ok(())
    }

    /// Takes an update written whole in: a pod upsert staged, anything else applied or
    /// queued. Whatever is staged is applied first when the update needs the pods as they
    /// are, and before the update renumbers pods (the numbers' releases would move on).
    fn take_whole(&mut self, u: FleetUpdate, time: Timestamp) -> Result<(), String> {
        let u = match u {
            FleetUpdate::Pods {
                cluster,
                delta: Delta::Upsert(p),
            } => match self.stays_in_its_hub(&cluster, &p) {
                Some(id) => {
                    self.keys.note_pod(&cluster, &p);
                    self.stage(id, time, Held::Whole(p));
                    return Ok(());
                }
                None => FleetUpdate::Pods {
                    cluster,
                    delta: Delta::Upsert(p),
                },
            },
            u => u,
        };
        match u {
            FleetUpdate::Pods { .. }
            | FleetUpdate::Scope { .. }
            | FleetUpdate::ClusterAdded { .. } => {
                self.flush()?;
                self.pods_change();
                self.keys.note(&u);
                self.fleet.apply(u, time);
            }
            u if self.staged_ids.is_empty() => {
                self.fleet.apply(u, time);
            }
            u => self.queued.push((time, u)),
        }
        Ok(())
    }

    fn slot(&mut self, id: u32) -> &mut Option<(Timestamp, Held)> {
        let i = id as usize;
        if self.staged.len() <= i {
            self.staged.resize_with(self.keys.len().max(i + 1), || None);
        }
        &mut self.staged[i]
    }

    fn stage(&mut self, id: u32, time: Timestamp, held: Held) {
        let slot = self.slot(id);
        let fresh = slot.is_none();
        *slot = Some((time, held));
        if fresh {
            self.staged_ids.push(id);
        }
    }

    /// The number to stage a whole upsert under, if it may be applied late: one that moves a
    /// pod to another hub is not staged, as the order would matter. Call before noting it.
    fn stays_in_its_hub(
        &mut self,
        cluster: &hubdeck_core::fleet::ClusterId,
        p: &PodInfo,
    ) -> Option<u32> {
        let Some(id) = self.keys.id(cluster, &p.key) else {
            // A pod never seen: numbered when noted, right after.
            return Some(self.keys.len() as u32);
        };
        let same = match self.slot(id) {
            Some((_, Held::Whole(old))) => old.release == p.release,
            _ => self
                .keys
                .get(id)
                .and_then(|k| held_pod(&self.fleet, k))
                .is_none_or(|old| old.release == p.release),
        };
        same.then_some(id)
    }

    /// Applies what `fast_forward` held back, in time order.
    pub fn flush(&mut self) -> Result<(), String> {
        if self.staged_ids.is_empty() && self.queued.is_empty() {
            return Ok(());
        }
        // In time order, sorting numbers rather than the pods' versions themselves.
        let mut order: Vec<(Timestamp, u32)> = std::mem::take(&mut self.staged_ids)
            .into_iter()
            .filter_map(|id| {
                let (t, _) = self.staged.get(id as usize)?.as_ref()?;
                Some((*t, id))
            })
            .collect();
        order.sort_by_key(|(t, _)| *t);
        let mut queued = std::mem::take(&mut self.queued).into_iter().peekable();
        for (t, id) in order {
            while let Some((qt, _)) = queued.peek()
                && *qt <= t
            {
                if let Some((qt, u)) = queued.next() {
                    self.fleet.apply(u, qt);
                }
            }
            let Some((_, held)) = self.staged.get_mut(id as usize).and_then(Option::take) else {
                continue;
            };
            let k = self.keys.get(id).ok_or_else(|| never_whole(id))?;
            let pod = match held {
                Held::Whole(p) => p,
                Held::Patch(patch) => {
                    let base = self.base.get(id as usize).and_then(Option::as_ref);
                    let mut p = match base {
                        Some(p) => PodInfo::clone(p),
                        None => held_pod(&self.fleet, k).ok_or_else(|| not_held(k))?,
                    };
                    patch.apply(&mut p);
                    p
                }
            };
            let cluster = k.cluster.clone();
            self.fleet.apply(
                FleetUpdate::Pods {
                    cluster,
                    delta: Delta::Upsert(pod),
                },
                t,
            );
        }
        for (qt, u) in queued {
            self.fleet.apply(u, qt);
        }
        self.pods_change();
        Ok(())
    }
}

/// Takes a hub's report written whole as the base of its next changes.
fn note_activity(known: &mut Known, u: &FleetUpdate) {
    if let FleetUpdate::Activity {
        hub,
        source,
        servers,
    } = u
    {
        known.note(hub, source, servers);
    }
}

/// The report a hub's changes stand for.
fn activity_of(known: &mut Known, c: Changes) -> Result<FleetUpdate, String> {
    let hub = c.hub.clone();
    let servers = known.resolve(c)?;
    Ok(FleetUpdate::Activity {
        hub,
        source: SourceState::Ok,
        servers,
    })
}

/// The usage sample numbered figures stand for.
fn usage_of(keys: &Keys, n: NumberedUsage) -> Result<FleetUpdate, String> {
    let (cluster, sample) = n.resolve(keys)?;
    Ok(FleetUpdate::Usage { cluster, sample })
}

fn never_whole(id: u32) -> String {
    format!("patch of pod number {id}, never written whole")
}

fn not_held(k: &Numbered) -> String {
    format!(
        "patch of {}/{}, which the fleet does not hold",
        k.key.namespace, k.key.name
    )
}
