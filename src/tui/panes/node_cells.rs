//! What a row of the Nodes pane shows: a pool's summary or a node, and the selected row in full
//! under the table. Trouble is said in words (`NotReady`, `cordoned`, `MemoryPressure`) and in
//! the warning and error styles, so NO_COLOR loses nothing.

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

/// A pool's figures, summed over its nodes.
#[derive(Debug, Default)]
pub struct PoolFigures {
    nodes: u32,
    ready: u32,
    cordoned: u32,
    pressure: u32,
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

pub fn pool_figures(c: &ClusterState, pool: &str, loads: &NodeLoads) -> PoolFigures {
    let mut f = PoolFigures::default();
    for n in c.nodes.values().filter(|n| &*n.pool == pool) {
        f.nodes += 1;
        f.ready += u32::from(n.ready);
        f.cordoned += u32::from(n.cordoned);
        f.pressure += u32::from(n.pressure.any());
        add(&mut f.allocatable, n.allocatable);
        if let Some(l) = loads.get(&c.id, &n.name) {
            f.servers += l.servers;
            add(&mut f.requested, l.requested);
        }
        f.types.insert(n.instance_type.clone());
        f.purposes.insert(n.purpose.clone());
    }
    f
}

pub fn pool_name(pool: &str) -> &str {
    if pool.is_empty() { "(no pool)" } else { pool }
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

/// Cordon and pressure of a node, in words (readable without colour).
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

pub fn load_requested(load: Option<&Load>) -> Requests {
    load.map_or_else(Requests::default, |l| l.requested)
}

/// Cells of a pool's summary row (None when no node is left in it).
pub fn pool_cells(c: &ClusterState, pool: &str, loads: &NodeLoads) -> Option<Vec<Cell>> {
    let f = pool_figures(c, pool, loads);
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
    Some(vec![
        Cell::new(format!("{} › {}", c.id, pool_name(pool)), Role::Title),
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
        Cell::new(one_of(&f.types), Role::Dim),
        Cell::new(one_of(&f.purposes), Role::Dim),
    ])
}

/// Cells of a node's row.
pub fn node_cells(c: &ClusterState, n: &NodeInfo, loads: &NodeLoads, now: Timestamp) -> Vec<Cell> {
    let load = loads.get(&c.id, &n.name);
    let requested = load_requested(load);
    let conditions = conditions(n);
    vec![
        Cell::text(format!("  {}", n.name)),
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

/// The two lines under the table: the selected row in full, so that a narrow terminal loses no
/// figure.
pub fn footer_lines(
    row: &NodeRow,
    fleet: &Fleet,
    loads: &NodeLoads,
    now: Timestamp,
) -> Option<[String; 2]> {
    match row {
        NodeRow::Pool(c, pool) => {
            let c = fleet.cluster(c.as_str())?;
            let f = pool_figures(c, pool, loads);
            Some([
                format!(
                    "{} › {}: {} nodes, {} ready, {} cordoned, {} under pressure · {} user servers",
                    c.id,
                    pool_name(pool),
                    f.nodes,
                    f.ready,
                    f.cordoned,
                    f.pressure,
                    f.servers
                ),
                format!(
                    "requested of allocatable: cpu {} · memory {} · enter: the servers there",
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
                ),
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
                    "{} · {} {} · {} · {}{} · {} old",
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
