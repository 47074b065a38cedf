//! `hubdeck get nodes`: one row per node, with its pool and what the hubs run there.

use std::collections::BTreeMap;
use std::sync::Arc;

use hubdeck_core::text::{Unit, age, share};
use jiff::Timestamp;
use serde::Serialize;

use super::super::output::{TableRow, clean};
use crate::fleet::{ClusterState, HubId, HubRef, NodeInfo, NodeLoad, node_loads};

/// A node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeRow {
    /// Cluster.
    pub cluster: String,
    /// Pool, from the cloud's or Karpenter's label; null when unlabelled.
    pub pool: Option<String>,
    /// Node name.
    pub name: String,
    /// `node.kubernetes.io/instance-type`.
    pub instance_type: Option<String>,
    /// z2jh's `hub.jupyter.org/node-purpose` (core, user).
    pub purpose: Option<String>,
    /// As kubectl shows it: Ready or NotReady, `,SchedulingDisabled` when cordoned.
    pub status: String,
    /// The Ready condition is True.
    pub ready: bool,
    /// `spec.unschedulable`.
    pub cordoned: bool,
    /// The True pressure conditions, comma-separated; null when none.
    pub pressure: Option<&'static str>,
    /// When the Node was created.
    pub created: Option<Timestamp>,
    /// Allocatable CPU, millicores.
    pub cpu_allocatable_m: u32,
    /// Allocatable memory, bytes.
    pub memory_allocatable_bytes: u64,
    /// CPU requested by the hubs' pods there (user servers, placeholders, hub, proxy).
    pub cpu_requested_m: u32,
    /// Memory requested by the same pods.
    pub memory_requested_bytes: u64,
    // Usage from metrics.k8s.io belongs here, beside the requests, when the model has it.
    /// User servers there.
    pub servers: u32,
    /// Hubs with user servers there.
    pub hubs: Vec<String>,
}

/// kubectl's STATUS of a node.
pub fn status_word(n: &NodeInfo) -> &'static str {
    match (n.ready, n.cordoned) {
        (true, false) => "Ready",
        (false, false) => "NotReady",
        (true, true) => "Ready,SchedulingDisabled",
        (false, true) => "NotReady,SchedulingDisabled",
    }
}

fn some(s: &Arc<str>) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// Row of a node, given what runs on it.
pub fn node_row(c: &ClusterState, n: &NodeInfo, load: Option<&NodeLoad>) -> NodeRow {
    NodeRow {
        cluster: c.id.to_string(),
        pool: some(&n.pool),
        name: n.name.to_string(),
        instance_type: some(&n.instance_type),
        purpose: some(&n.purpose),
        status: status_word(n).to_string(),
        ready: n.ready,
        cordoned: n.cordoned,
        pressure: Some(n.pressure.names()).filter(|p| !p.is_empty()),
        created: n.created,
        cpu_allocatable_m: n.allocatable.cpu_milli,
        memory_allocatable_bytes: n.allocatable.memory_bytes,
        cpu_requested_m: load.map_or(0, |l| l.requested.cpu_milli),
        memory_requested_bytes: load.map_or(0, |l| l.requested.memory_bytes),
        servers: load.map_or(0, |l| l.servers),
        hubs: load.map_or_else(Vec::new, |l| l.hubs.iter().map(|k| k.name()).collect()),
    }
}

/// Rows of a cluster's nodes, by pool, then name. Nodes belong to a cluster, not a hub: with
/// `hub`, only the nodes that hub's user servers run on.
pub fn cluster_node_rows(c: &ClusterState, hub: Option<&HubRef>) -> Vec<NodeRow> {
    let loads: BTreeMap<Arc<str>, NodeLoad> = node_loads(c.hubs.values());
    let runs_there = |load: Option<&NodeLoad>| {
        hub.is_none_or(|h| {
            load.is_some_and(|l| {
                l.hubs.iter().any(|key| {
                    h.matches(&HubId {
                        cluster: c.id.clone(),
                        key: key.clone(),
                    })
                })
            })
        })
    };
    let mut nodes: Vec<&NodeInfo> = c.nodes.values().collect();
    // Nodes come by name: a stable sort keeps that order within a pool.
    nodes.sort_by(|a, b| a.pool.cmp(&b.pool));
    nodes
        .into_iter()
        .map(|n| (n, loads.get(&n.name)))
        .filter(|(_, load)| runs_there(*load))
        .map(|(n, load)| node_row(c, n, load))
        .collect()
}

fn dash(s: &Option<String>) -> String {
    s.as_deref().map_or_else(|| "-".into(), clean)
}

impl TableRow for NodeRow {
    const KIND: &'static str = "NodeList";
    fn header() -> &'static [&'static str] {
        &[
            "CLUSTER", "POOL", "NAME", "STATUS", "PRESSURE", "AGE", "CPU", "MEMORY", "SERVERS",
        ]
    }
    fn cells(&self, now: Timestamp) -> Vec<String> {
        vec![
            clean(&self.cluster),
            dash(&self.pool),
            clean(&self.name),
            self.status.clone(),
            self.pressure.unwrap_or("-").into(),
            age(now, self.created),
            share(
                u64::from(self.cpu_requested_m),
                u64::from(self.cpu_allocatable_m),
                Unit::MilliCores,
            ),
            share(
                self.memory_requested_bytes,
                self.memory_allocatable_bytes,
                Unit::Bytes,
            ),
            self.servers.to_string(),
        ]
    }
    fn wide_header() -> &'static [&'static str] {
        &["INSTANCE-TYPE", "PURPOSE", "HUBS"]
    }
    fn wide_cells(&self, _now: Timestamp) -> Vec<String> {
        vec![
            dash(&self.instance_type),
            dash(&self.purpose),
            if self.hubs.is_empty() {
                "-".into()
            } else {
                clean(&self.hubs.join(","))
            },
        ]
    }
}
