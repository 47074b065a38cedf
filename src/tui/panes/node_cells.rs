//! What a row of the Nodes pane shows: a cluster's or a pool's summary, or a node, and the
//! selected row in full under the table. Trouble is said in words (`NotReady`, `cordoned`,
//! `MemoryPressure`) as well as in the warning and error styles, so NO_COLOR loses nothing.

use std::collections::BTreeSet;
use std::sync::Arc;

use hubdeck_core::text::{Unit, share};
use jiff::Timestamp;

use crate::config::theme::Role;
use crate::fleet::{ClusterState, Fleet, NodeInfo, Requests};

use super::super::text::age;
use super::super::widgets::table::Cell;
use super::node_loads::{Load, NodeLoads};
use super::nodes::NodeRow;

/// Figures of a group of nodes (a pool, a cluster), summed over them.
#[derive(Debug, Default)]
pub struct Figures {
    nodes: u32,
    ready: u32,
    cordoned: u32,
    pressure: u32,
    pools: BTreeSet<Arc<str>>,
    /// User servers on its nodes.
    pub servers: u32,
    /// What the hubs' pods there request.
    pub requested: Requests,
    /// Allocatable over its nodes.
    pub allocatable: Requests,
    /// Instance types and purposes seen (Karpenter pools mix types).
    types: BTreeSet<Arc<str>>,
    purposes: BTreeSet<Arc<str>>,
}

fn add(to: &mut Requests, r: Requests) {
    to.cpu_milli = to.cpu_milli.saturating_add(r.cpu_milli);
    to.memory_bytes = to.memory_bytes.saturating_add(r.memory_bytes);
}

/// The figures of a cluster's nodes in `pool` (every pool: `None`).
pub fn figures(c: &ClusterState, pool: Option<&str>, loads: &NodeLoads) -> Figures {
    let mut f = Figures::default();
    for n in c
        .nodes
        .values()
        .filter(|n| pool.is_none_or(|p| *n.pool == *p))
    {
        f.nodes += 1;
        f.ready += u32::from(n.ready);
        f.cordoned += u32::from(n.cordoned);
        f.pressure += u32::from(n.pressure.any());
        add(&mut f.allocatable, n.allocatable);
        if let Some(l) = loads.get(&c.id, &n.name) {
            f.servers += l.servers;
            add(&mut f.requested, l.requested);
        }
        f.pools.insert(n.pool.clone());
        f.types.insert(n.instance_type.clone());
        f.purposes.insert(n.purpose.clone());
    }
    f
}

/// A pool's name as shown ("" is the unlabelled nodes').
pub fn pool_name(pool: &str) -> &str {
    if pool.is_empty() { "(no pool)" } else { pool }
}

/// A node's name as its row shows it: a DNS name (EKS's `ip-10-0-3-41.us-west-2.compute.internal`)
/// without the domain every node of the region shares. The footer shows it whole.
pub fn short_name(name: &str) -> &str {
    match name.split_once('.') {
        Some((host, _)) if !host.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => name,
    }
}

/// One word for a set: its only member, `mixed`, or `-`.
fn one_of(set: &BTreeSet<Arc<str>>) -> String {
    match set.len() {
        0 => "-".into(),
        1 => set.iter().next().map_or("-", |s| or_dash(s)).into(),
        _ => "mixed".into(),
    }
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

/// Cordon and pressure of a node, in words.
fn conditions(n: &NodeInfo) -> String {
    let mut words: Vec<&str> = Vec::new();
    if n.cordoned {
        words.push("cordoned");
    }
    let pressure = n.pressure.names();
    if !pressure.is_empty() {
        words.push(pressure);
    }
    words.join(",")
}

fn share_cell(requested: u64, allocatable: u64, unit: Unit) -> Cell {
    let text = share(requested, allocatable, unit);
    // Nearly full: the next server may not fit.
    let full = allocatable > 0 && requested * 10 >= allocatable * 9;
    Cell::new(
        text,
        if full {
            Role::HealthDegraded
        } else {
            Role::Text
        },
    )
}

/// What the hubs request on a node (nothing when none of their pods runs there).
pub fn load_requested(load: Option<&Load>) -> Requests {
    load.map_or_else(Requests::default, |l| l.requested)
}

/// Cells of a cluster's (`pool` None) or a pool's summary row; None when no node is left.
pub fn group_cells(c: &ClusterState, pool: Option<&str>, loads: &NodeLoads) -> Option<Vec<Cell>> {
    let f = figures(c, pool, loads);
    if f.nodes == 0 {
        return None;
    }
    let status_role = match f.ready {
        r if r == f.nodes => Role::HealthOk,
        0 => Role::HealthDown,
        _ => Role::HealthDegraded,
    };
    let mut trouble = Vec::new();
    if f.cordoned > 0 {
        trouble.push(format!("{} cordoned", f.cordoned));
    }
    if f.pressure > 0 {
        trouble.push(format!("{} pressure", f.pressure));
    }
    let (name, kind, purpose) = match pool {
        None => (
            Cell::new(c.id.to_string(), Role::Title),
            Cell::new(c.meta.provider.clone().unwrap_or_default(), Role::Dim),
            Cell::new("", Role::Dim),
        ),
        Some(p) => (
            Cell::new(format!(" {}", pool_name(p)), Role::Title),
            Cell::new(one_of(&f.types), Role::Dim),
            Cell::new(one_of(&f.purposes), Role::Dim),
        ),
    };
    Some(vec![
        name,
        Cell::new(format!("{}/{} ready", f.ready, f.nodes), status_role),
        if trouble.is_empty() {
            Cell::new("-", Role::Dim)
        } else {
            Cell::new(trouble.join(","), Role::HealthDegraded)
        },
        Cell::text(f.servers.to_string()),
        share_cell(
            u64::from(f.requested.cpu_milli),
            u64::from(f.allocatable.cpu_milli),
            Unit::MilliCores,
        ),
        share_cell(
            f.requested.memory_bytes,
            f.allocatable.memory_bytes,
            Unit::Bytes,
        ),
        Cell::new("", Role::Dim),
        kind,
        purpose,
    ])
}

/// Cells of a node's row.
pub fn node_cells(c: &ClusterState, n: &NodeInfo, loads: &NodeLoads, now: Timestamp) -> Vec<Cell> {
    let load = loads.get(&c.id, &n.name);
    let requested = load_requested(load);
    let conditions = conditions(n);
    vec![
        // Node names of a pool share a long prefix: their end tells them apart.
        Cell::text(format!("   {}", short_name(&n.name))).keep_end(),
        if n.ready {
            Cell::new("Ready", Role::HealthOk)
        } else {
            Cell::new("NotReady", Role::HealthDown)
        },
        if conditions.is_empty() {
            Cell::new("-", Role::Dim)
        } else {
            Cell::new(conditions, Role::HealthDegraded)
        },
        Cell::text(load.map_or(0, |l| l.servers).to_string()),
        share_cell(
            u64::from(requested.cpu_milli),
            u64::from(n.allocatable.cpu_milli),
            Unit::MilliCores,
        ),
        share_cell(
            requested.memory_bytes,
            n.allocatable.memory_bytes,
            Unit::Bytes,
        ),
        Cell::new(age(now, n.created), Role::Dim),
        Cell::text(or_dash(&n.instance_type)),
        Cell::text(or_dash(&n.purpose)),
    ]
}

fn shares(f: &Figures) -> String {
    format!(
        "requested of allocatable: cpu {} · memory {}",
        share(
            u64::from(f.requested.cpu_milli),
            u64::from(f.allocatable.cpu_milli),
            Unit::MilliCores
        ),
        share(
            f.requested.memory_bytes,
            f.allocatable.memory_bytes,
            Unit::Bytes
        ),
    )
}

/// The two lines under the table: the selected row in full, so that a narrow terminal loses no
/// figure.
pub fn footer_lines(
    row: &NodeRow,
    fleet: &Fleet,
    loads: &NodeLoads,
    now: Timestamp,
) -> Option<[String; 2]> {
    let counts = |f: &Figures| {
        format!(
            "{} nodes, {} ready, {} cordoned, {} under pressure · {} user servers",
            f.nodes, f.ready, f.cordoned, f.pressure, f.servers
        )
    };
    match row {
        NodeRow::Cluster(c) => {
            let c = fleet.cluster(c.as_str())?;
            let f = figures(c, None, loads);
            Some([
                format!("{}: {} pools, {}", c.id, f.pools.len(), counts(&f)),
                format!("{} · enter: its hubs", shares(&f)),
            ])
        }
        NodeRow::Pool(c, pool) => {
            let c = fleet.cluster(c.as_str())?;
            let f = figures(c, Some(pool), loads);
            Some([
                format!("{} › {}: {}", c.id, pool_name(pool), counts(&f)),
                format!("{} · enter: the servers there", shares(&f)),
            ])
        }
        NodeRow::Node(c, name) => {
            let c = fleet.cluster(c.as_str())?;
            let n = c.nodes.get(name)?;
            let load = loads.get(&c.id, &n.name);
            let cond = conditions(n);
            let hubs: Vec<String> = load
                .map(|l| {
                    l.hubs
                        .iter()
                        .map(|(k, count)| format!("{}/{} ({count})", c.id, k.name()))
                        .collect()
                })
                .unwrap_or_default();
            let requested = load_requested(load);
            Some([
                format!(
                    "{} · {} › {} · {} · {}{} · {} old",
                    n.name,
                    c.id,
                    pool_name(&n.pool),
                    or_dash(&n.instance_type),
                    if n.ready { "Ready" } else { "NotReady" },
                    if cond.is_empty() {
                        String::new()
                    } else {
                        format!(",{cond}")
                    },
                    age(now, n.created)
                ),
                format!(
                    "{} user servers{} · requested of allocatable: cpu {} · memory {}",
                    load.map_or(0, |l| l.servers),
                    if hubs.is_empty() {
                        String::new()
                    } else {
                        format!(" of {}", hubs.join(", "))
                    },
                    share(
                        u64::from(requested.cpu_milli),
                        u64::from(n.allocatable.cpu_milli),
                        Unit::MilliCores
                    ),
                    share(
                        requested.memory_bytes,
                        n.allocatable.memory_bytes,
                        Unit::Bytes
                    ),
                ),
            ])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_node_names_lose_their_shared_domain_but_addresses_stay_whole() {
        assert_eq!(
            short_name("ip-192-168-3-41.us-west-2.compute.internal"),
            "ip-192-168-3-41"
        );
        assert_eq!(short_name("10.0.1.5"), "10.0.1.5");
        assert_eq!(
            short_name("gke-leap-nb-1a2b3c4d-x9z2"),
            "gke-leap-nb-1a2b3c4d-x9z2"
        );
    }
}
