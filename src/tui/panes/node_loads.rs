//! What runs on each node, kept for the Nodes pane and moved pod by pod from the fleet's change
//! log. Summing every pod of the fleet again after each change would cost a frame at 100,000
//! servers; a change costs this two map updates, and names the nodes whose rows it moved.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::fleet::{Change, ClusterId, Component, Fleet, HubId, HubKey, PodInfo, Requests};

/// Where one pod counts.
#[derive(Debug, Clone)]
struct Placed {
    node: Arc<str>,
    requests: Requests,
    server: bool,
}

impl Placed {
    fn of(pod: &PodInfo) -> Option<Self> {
        Some(Self {
            node: pod.node.clone()?,
            requests: pod.requests,
            server: pod.component == Component::SingleuserServer,
        })
    }
}

/// What runs on one node: the same figures as core's `node_loads`, kept instead of rebuilt.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Load {
    /// User servers there.
    pub servers: u32,
    /// Requests of every z2jh pod there.
    pub requested: Requests,
    /// Hubs with user servers there, with how many each.
    pub hubs: BTreeMap<HubKey, u32>,
}

impl Load {
    fn add(&mut self, p: &Placed, hub: &HubKey) {
        self.requested.cpu_milli = self
            .requested
            .cpu_milli
            .saturating_add(p.requests.cpu_milli);
        self.requested.memory_bytes = self
            .requested
            .memory_bytes
            .saturating_add(p.requests.memory_bytes);
        if p.server {
            self.servers += 1;
            *self.hubs.entry(hub.clone()).or_default() += 1;
        }
    }

    fn remove(&mut self, p: &Placed, hub: &HubKey) {
        self.requested.cpu_milli = self
            .requested
            .cpu_milli
            .saturating_sub(p.requests.cpu_milli);
        self.requested.memory_bytes = self
            .requested
            .memory_bytes
            .saturating_sub(p.requests.memory_bytes);
        if p.server {
            self.servers = self.servers.saturating_sub(1);
            if let Some(n) = self.hubs.get_mut(hub) {
                *n -= 1;
                if *n == 0 {
                    self.hubs.remove(hub);
                }
            }
        }
    }
}

/// A node of a cluster.
pub type NodeKey = (ClusterId, Arc<str>);

/// Node loads at one fleet version.
#[derive(Debug, Default)]
pub struct NodeLoads {
    version: Option<u64>,
    /// Every pod with a node, by hub and pod name: what a pod counted for once it is gone.
    pods: HashMap<HubId, HashMap<Arc<str>, Placed>>,
    nodes: HashMap<NodeKey, Load>,
}

impl NodeLoads {
    /// The fleet version these loads are of.
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// What runs on a node (None: nothing of the hubs).
    pub fn get(&self, cluster: &ClusterId, node: &Arc<str>) -> Option<&Load> {
        self.nodes.get(&(cluster.clone(), node.clone()))
    }

    /// Brings the loads to the fleet's version. Returns the nodes whose load may have moved,
    /// or `None` when everything was counted again (the change log could not tell).
    pub fn sync(&mut self, fleet: &Fleet) -> Option<Vec<NodeKey>> {
        let now = fleet.version();
        if self.version == Some(now) {
            return Some(Vec::new());
        }
        let changed: Option<Vec<(HubId, Arc<str>)>> = self
            .version
            .and_then(|v| fleet.changes_since(v))
            .map(|changes| {
                let mut pods: Vec<_> = changes
                    .filter_map(|c| match c {
                        Change::Pod(hub, pod) => Some((hub.clone(), pod.clone())),
                        _ => None,
                    })
                    .collect();
                pods.sort_unstable();
                pods.dedup();
                pods
            });
        self.version = Some(now);
        let Some(changed) = changed else {
            self.recount(fleet);
            return None;
        };
        let mut touched = Vec::with_capacity(changed.len());
        for (hub, pod) in changed {
            self.move_pod(fleet, &hub, &pod, &mut touched);
        }
        Some(touched)
    }

    fn recount(&mut self, fleet: &Fleet) {
        self.pods.clear();
        self.nodes.clear();
        for hub in fleet.hubs() {
            let placed: HashMap<Arc<str>, Placed> = hub
                .pods
                .values()
                .filter_map(|p| Some((p.key.name.clone(), Placed::of(p)?)))
                .collect();
            for p in placed.values() {
                self.nodes
                    .entry((hub.id.cluster.clone(), p.node.clone()))
                    .or_default()
                    .add(p, &hub.id.key);
            }
            if !placed.is_empty() {
                self.pods.insert(hub.id.clone(), placed);
            }
        }
    }

    /// Takes a pod's old share off its node and adds its current one.
    fn move_pod(&mut self, fleet: &Fleet, hub: &HubId, pod: &Arc<str>, touched: &mut Vec<NodeKey>) {
        let old = self.pods.get_mut(hub).and_then(|m| m.remove(pod));
        if let Some(old) = old {
            let key = (hub.cluster.clone(), old.node.clone());
            if let Some(load) = self.nodes.get_mut(&key) {
                load.remove(&old, &hub.key);
                if load.servers == 0 && load.requested == Requests::default() {
                    self.nodes.remove(&key);
                }
            }
            touched.push(key);
        }
        let now = fleet
            .hub(hub)
            .and_then(|h| h.pods.get(pod))
            .and_then(Placed::of);
        if let Some(new) = now {
            let key = (hub.cluster.clone(), new.node.clone());
            self.nodes
                .entry(key.clone())
                .or_default()
                .add(&new, &hub.key);
            self.pods
                .entry(hub.clone())
                .or_default()
                .insert(pod.clone(), new);
            touched.push(key);
        }
        if self.pods.get(hub).is_some_and(HashMap::is_empty) {
            self.pods.remove(hub);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::fixtures::{healthy_hub, hub_id, server, t0};
    use crate::fleet::{Delta, FleetUpdate, Thresholds, node_loads};

    fn pods(cluster: &str, delta: Delta<PodInfo>) -> FleetUpdate {
        FleetUpdate::Pods {
            cluster: ClusterId::new(cluster),
            delta,
        }
    }

    /// The loads core computes from scratch, in this module's shape.
    fn from_scratch(fleet: &Fleet) -> HashMap<NodeKey, Load> {
        let mut out = HashMap::new();
        for c in fleet.clusters() {
            for (node, l) in node_loads(c.hubs.values()) {
                let hubs = c
                    .hubs
                    .values()
                    .filter(|h| l.hubs.contains(&h.id.key))
                    .map(|h| {
                        let n = h
                            .servers()
                            .filter(|p| p.node.as_deref() == Some(&*node))
                            .count() as u32;
                        (h.id.key.clone(), n)
                    })
                    .collect();
                let load = Load {
                    servers: l.servers,
                    requested: l.requested,
                    hubs,
                };
                out.insert((c.id.clone(), node), load);
            }
        }
        out
    }

    #[test]
    fn moved_started_and_stopped_pods_keep_the_loads_equal_to_a_recount() {
        let mut fleet = Fleet::new(Thresholds::default());
        fleet.apply_all(healthy_hub("leap", "prod", &["ada", "bob", "cy"]), t0());
        let mut loads = NodeLoads::default();
        assert_eq!(loads.sync(&fleet), None, "the first sync counts everything");
        assert_eq!(loads.nodes, from_scratch(&fleet));
        assert_eq!(
            loads
                .get(&ClusterId::new("leap"), &"node-a".into())
                .map(|l| l.servers),
            Some(3)
        );

        let mut moved = server("prod", "prod", "bob");
        moved.node = Some("node-b".into());
        let mut started = server("prod", "prod", "dee");
        started.node = Some("node-c".into());
        fleet.apply_all(
            [
                pods("leap", Delta::Upsert(moved)),
                pods("leap", Delta::Upsert(started)),
                pods("leap", Delta::Remove(server("prod", "prod", "cy"))),
            ],
            t0(),
        );
        let touched = loads.sync(&fleet).expect("changes named");
        let names: std::collections::BTreeSet<&str> = touched.iter().map(|k| &*k.1).collect();
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["node-a", "node-b", "node-c"]
        );
        assert_eq!(loads.nodes, from_scratch(&fleet));
        let a = loads
            .get(&ClusterId::new("leap"), &"node-a".into())
            .unwrap();
        assert_eq!(a.servers, 1, "ada is left on node-a");
        assert_eq!(a.hubs.get(&hub_id("leap", "prod").key), Some(&1));
        assert_eq!(loads.sync(&fleet), Some(Vec::new()), "nothing new");
    }
}
