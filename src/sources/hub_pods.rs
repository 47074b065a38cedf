//! The running hub pod of every hub, as the pod watchers report it, published to that hub's
//! API poller: a port-forward then goes straight to the pod the model already knows instead
//! of listing the namespace's pods on every poll (600 hubs polled each minute would otherwise
//! cost the API servers 600 extra lists a minute).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tokio::sync::watch;

use crate::fleet::{ClusterId, Component, Delta, HubId, HubKey, PodInfo, PodPhase};
use crate::hubapi::RunningPod;

/// How good a hub pod is to talk to: lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    /// Running and ready.
    Ready,
    /// Running, not ready yet (or no longer): during a rollout it may still serve.
    Running,
}

fn rank(p: &PodInfo) -> Option<Rank> {
    match (p.phase, p.ready) {
        (PodPhase::Running, true) => Some(Rank::Ready),
        (PodPhase::Running, false) => Some(Rank::Running),
        _ => None,
    }
}

#[derive(Debug)]
struct Hub {
    pods: BTreeMap<Arc<str>, Rank>,
    tx: watch::Sender<Option<Arc<str>>>,
}

impl Hub {
    fn new() -> Self {
        Self {
            pods: BTreeMap::new(),
            tx: watch::Sender::new(None),
        }
    }

    fn publish(&self) {
        let best = self
            .pods
            .iter()
            .min_by_key(|(name, rank)| (**rank, (*name).clone()))
            .map(|(name, _)| name.clone());
        self.tx.send_if_modified(|cur| {
            let changed = *cur != best;
            *cur = best;
            changed
        });
    }
}

/// Hub pods per hub.
#[derive(Debug, Default)]
pub struct HubPods {
    hubs: HashMap<HubId, Hub>,
}

impl HubPods {
    /// Follows a pod delta of `cluster`.
    pub fn observe(&mut self, cluster: &ClusterId, delta: &Delta<PodInfo>) {
        match delta {
            Delta::Replace(_) | Delta::ReplaceIn(..) => {
                let Some((namespace, all)) = delta.listing() else {
                    return;
                };
                // What the list covers: the cluster, or one namespace of it.
                let covered = |id: &HubId| {
                    id.cluster == *cluster && namespace.is_none_or(|n| *id.key.namespace == *n)
                };
                for (id, hub) in &mut self.hubs {
                    if covered(id) {
                        hub.pods.clear();
                    }
                }
                for p in all.iter().filter(|p| p.component == Component::Hub) {
                    self.set(cluster, p, rank(p));
                }
                for (id, hub) in &self.hubs {
                    if covered(id) {
                        hub.publish();
                    }
                }
                // Hubs that went, unless a poller still follows them (it is stopped separately).
                self.hubs.retain(|id, h| {
                    !covered(id) || !h.pods.is_empty() || h.tx.receiver_count() > 0
                });
            }
            Delta::Upsert(p) if p.component == Component::Hub => {
                self.set(cluster, p, rank(p));
                self.hub(cluster, p).publish();
            }
            Delta::Remove(p) if p.component == Component::Hub => {
                self.set(cluster, p, None);
                self.hub(cluster, p).publish();
            }
            Delta::Upsert(_) | Delta::Remove(_) => {}
        }
    }

    /// The running hub pod of `hub`, kept current.
    pub fn follow(&mut self, hub: &HubId) -> RunningPod {
        self.hubs
            .entry(hub.clone())
            .or_insert_with(Hub::new)
            .tx
            .subscribe()
    }

    fn hub(&mut self, cluster: &ClusterId, p: &PodInfo) -> &mut Hub {
        let id = HubId {
            cluster: cluster.clone(),
            key: HubKey {
                namespace: p.key.namespace.clone(),
                release: p.release.clone(),
            },
        };
        self.hubs.entry(id).or_insert_with(Hub::new)
    }

    fn set(&mut self, cluster: &ClusterId, p: &PodInfo, rank: Option<Rank>) {
        let hub = self.hub(cluster, p);
        match rank {
            Some(r) => hub.pods.insert(p.key.name.clone(), r),
            None => hub.pods.remove(&p.key.name),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::fixtures;

    fn hub_pod(name: &str, phase: PodPhase, ready: bool) -> PodInfo {
        let mut p = fixtures::pod("ns", "rel", Component::Hub, name);
        p.phase = phase;
        p.ready = ready;
        p
    }

    fn hub_id() -> HubId {
        HubId {
            cluster: ClusterId::new("c"),
            key: HubKey {
                namespace: "ns".into(),
                release: "rel".into(),
            },
        }
    }

    #[test]
    fn follows_the_ready_hub_pod_through_a_rollout() {
        let c = ClusterId::new("c");
        let mut pods = HubPods::default();
        let running = pods.follow(&hub_id());
        let old = hub_pod("hub-old", PodPhase::Running, true);
        let user = fixtures::pod("ns", "rel", Component::SingleuserServer, "jupyter-ann");
        pods.observe(&c, &Delta::Replace(vec![old.clone(), user]));
        assert_eq!(running.borrow().as_deref(), Some("hub-old"));

        // The new pod starts: the old one still serves until the new one is ready.
        pods.observe(
            &c,
            &Delta::Upsert(hub_pod("hub-new", PodPhase::Pending, false)),
        );
        assert_eq!(running.borrow().as_deref(), Some("hub-old"));
        pods.observe(
            &c,
            &Delta::Upsert(hub_pod("hub-new", PodPhase::Running, true)),
        );
        pods.observe(
            &c,
            &Delta::Upsert(hub_pod("hub-old", PodPhase::Terminating, false)),
        );
        assert_eq!(running.borrow().as_deref(), Some("hub-new"));
        pods.observe(&c, &Delta::Remove(old));
        assert_eq!(running.borrow().as_deref(), Some("hub-new"));

        // A re-list without any hub pod: nothing to forward to.
        pods.observe(&c, &Delta::Replace(Vec::new()));
        assert_eq!(*running.borrow(), None);
    }

    #[test]
    fn a_running_pod_is_better_than_none_and_other_clusters_are_untouched() {
        let mut pods = HubPods::default();
        let running = pods.follow(&hub_id());
        pods.observe(
            &ClusterId::new("c"),
            &Delta::Replace(vec![hub_pod("hub-a", PodPhase::Running, false)]),
        );
        pods.observe(&ClusterId::new("other"), &Delta::Replace(Vec::new()));
        assert_eq!(running.borrow().as_deref(), Some("hub-a"));
    }
}
