//! Nodes of a cluster, grouped into the pools the clouds and autoscalers label them with, and
//! what runs on them. A fleet holds a few thousand nodes: each is a small struct whose repeated
//! strings (pool, instance type, purpose) are interned, kept in a vector sorted by name.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::hub::HubState;
use super::ids::HubKey;
use super::objects::{Component, Requests};

/// Labels naming a node's pool, first match wins: GKE, EKS managed node groups, eksctl, AKS
/// (current and legacy), Karpenter.
pub const POOL_LABELS: [&str; 6] = [
    "cloud.google.com/gke-nodepool",
    "eks.amazonaws.com/nodegroup",
    "alpha.eksctl.io/nodegroup-name",
    "kubernetes.azure.com/agentpool",
    "agentpool",
    "karpenter.sh/nodepool",
];
/// The well-known instance type label.
pub const INSTANCE_TYPE_LABEL: &str = "node.kubernetes.io/instance-type";
/// z2jh's label for nodes meant for the hub (`core`) or for users (`user`).
pub const PURPOSE_LABEL: &str = "hub.jupyter.org/node-purpose";

/// The pool a node belongs to by its labels; "" when none of [`POOL_LABELS`] is set.
pub fn pool_of<'a>(label: impl Fn(&str) -> Option<&'a str>) -> &'a str {
    POOL_LABELS.iter().find_map(|k| label(k)).unwrap_or("")
}

/// Kubelet pressure conditions that are True.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pressure {
    /// `MemoryPressure`.
    pub memory: bool,
    /// `DiskPressure`.
    pub disk: bool,
    /// `PIDPressure`.
    pub pid: bool,
}

impl Pressure {
    /// Whether any pressure condition is True.
    pub fn any(self) -> bool {
        self.memory || self.disk || self.pid
    }

    /// The True conditions' names, comma-separated ("" when none).
    pub fn names(self) -> &'static str {
        match (self.memory, self.disk, self.pid) {
            (false, false, false) => "",
            (true, false, false) => "MemoryPressure",
            (false, true, false) => "DiskPressure",
            (false, false, true) => "PIDPressure",
            (true, true, false) => "MemoryPressure,DiskPressure",
            (true, false, true) => "MemoryPressure,PIDPressure",
            (false, true, true) => "DiskPressure,PIDPressure",
            (true, true, true) => "MemoryPressure,DiskPressure,PIDPressure",
        }
    }
}

/// A core/v1 Node, reduced to what the Nodes pane and node alerts need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Node name.
    pub name: Arc<str>,
    /// Pool from [`POOL_LABELS`], "" when unlabelled.
    pub pool: Arc<str>,
    /// `node.kubernetes.io/instance-type`, "" when unset.
    pub instance_type: Arc<str>,
    /// `hub.jupyter.org/node-purpose`, "" when unset.
    pub purpose: Arc<str>,
    /// The `Ready` condition is True.
    pub ready: bool,
    /// `spec.unschedulable` (cordoned).
    pub cordoned: bool,
    /// Pressure conditions.
    pub pressure: Pressure,
    /// When the Node object was created.
    pub created: Option<Timestamp>,
    /// `status.allocatable` cpu and memory.
    pub allocatable: Requests,
}

/// Nodes of one cluster, sorted by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeMap {
    nodes: Vec<NodeInfo>,
}

impl NodeMap {
    /// The node of that name.
    pub fn get(&self, name: &str) -> Option<&NodeInfo> {
        self.find(name).ok().map(|i| &self.nodes[i])
    }

    /// All nodes, by name.
    pub fn values(&self) -> std::slice::Iter<'_, NodeInfo> {
        self.nodes.iter()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.nodes.binary_search_by(|n| (*n.name).cmp(name))
    }

    /// Adds or replaces a node; returns whether anything changed.
    pub(crate) fn upsert(&mut self, node: NodeInfo) -> bool {
        match self.find(&node.name) {
            Ok(i) if self.nodes[i] == node => false,
            Ok(i) => {
                self.nodes[i] = node;
                true
            }
            Err(i) => {
                self.nodes.insert(i, node);
                true
            }
        }
    }

    /// Removes a node; returns whether it was there.
    pub(crate) fn remove(&mut self, name: &str) -> bool {
        self.find(name).ok().map(|i| self.nodes.remove(i)).is_some()
    }

    /// Replaces every node (a re-list); of two with one name the later wins.
    pub(crate) fn replace_all(&mut self, mut nodes: Vec<NodeInfo>) -> bool {
        nodes.reverse();
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        nodes.dedup_by(|a, b| a.name == b.name);
        nodes.shrink_to_fit();
        let changed = nodes != self.nodes;
        self.nodes = nodes;
        changed
    }
}

/// What runs on one node: user servers and their requests, and the hubs they belong to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeLoad {
    /// User server pods scheduled there.
    pub servers: u32,
    /// Requests summed over every z2jh pod scheduled there.
    pub requested: Requests,
    /// Hubs with a user server there, in key order.
    pub hubs: Vec<HubKey>,
}

/// The load of every node that has z2jh pods, by node name. Built on demand (a pass over the
/// cluster's pods) rather than kept, so pod updates cost nothing extra.
pub fn node_loads<'a>(hubs: impl Iterator<Item = &'a HubState>) -> BTreeMap<Arc<str>, NodeLoad> {
    let mut out: BTreeMap<Arc<str>, NodeLoad> = BTreeMap::new();
    for hub in hubs {
        for pod in hub.pods.values() {
            let Some(node) = &pod.node else { continue };
            let load = out.entry(node.clone()).or_default();
            load.requested.cpu_milli = load
                .requested
                .cpu_milli
                .saturating_add(pod.requests.cpu_milli);
            load.requested.memory_bytes = load
                .requested
                .memory_bytes
                .saturating_add(pod.requests.memory_bytes);
            if pod.component == Component::SingleuserServer {
                load.servers += 1;
                if load.hubs.last() != Some(&hub.id.key) {
                    load.hubs.push(hub.id.key.clone());
                }
            }
        }
    }
    out
}

/// Figures of one pool of one cluster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PoolSummary {
    /// Pool name ("" for unlabelled nodes).
    pub name: Arc<str>,
    /// Nodes in it.
    pub nodes: u32,
    /// Of which Ready.
    pub ready: u32,
    /// User servers on its nodes.
    pub servers: u32,
    /// Requests of z2jh pods on its nodes.
    pub requested: Requests,
    /// Allocatable summed over its nodes.
    pub allocatable: Requests,
}

/// Pools of a cluster in name order, from its nodes and their loads.
pub fn pool_summaries(nodes: &NodeMap, loads: &BTreeMap<Arc<str>, NodeLoad>) -> Vec<PoolSummary> {
    let mut pools: BTreeMap<&Arc<str>, PoolSummary> = BTreeMap::new();
    for n in nodes.values() {
        let p = pools.entry(&n.pool).or_insert_with(|| PoolSummary {
            name: n.pool.clone(),
            ..PoolSummary::default()
        });
        p.nodes += 1;
        p.ready += u32::from(n.ready);
        p.allocatable.cpu_milli = p
            .allocatable
            .cpu_milli
            .saturating_add(n.allocatable.cpu_milli);
        p.allocatable.memory_bytes = p
            .allocatable
            .memory_bytes
            .saturating_add(n.allocatable.memory_bytes);
        if let Some(l) = loads.get(&n.name) {
            p.servers += l.servers;
            p.requested.cpu_milli = p.requested.cpu_milli.saturating_add(l.requested.cpu_milli);
            p.requested.memory_bytes = p
                .requested
                .memory_bytes
                .saturating_add(l.requested.memory_bytes);
        }
    }
    pools.into_values().collect()
}
