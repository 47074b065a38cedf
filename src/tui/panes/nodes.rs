//! Nodes: each cluster's summary row, then each of its pools' followed by the pool's nodes —
//! readiness, cordon, pressure, what the hubs request of what is allocatable, the user servers
//! there. Enter on a node (or a pool) shows the user servers running there.

use std::cell::{Ref, RefCell};
use std::collections::BTreeSet;
use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::config::theme::Role;
use crate::fleet::{Change, ClusterId, Requests};

use super::super::app::Target;
use super::super::text::fit;
use super::super::widgets::table::{Cell, Column, RowSource, SortKey, col, flex};
use super::node_cells::{
    figures, footer_lines, group_cells, load_requested, node_cells, pool_name,
};
use super::node_loads::NodeLoads;
use super::{Ctx, Open};

const COLUMNS: &[Column] = &[
    flex("POOL / NODE", 20, 0),
    col("STATUS", 11, 0),
    col("CONDITIONS", 14, 0),
    col("SRV", 3, 1),
    col("CPU REQ/ALL", 12, 1),
    col("MEM REQ/ALL", 13, 2),
    col("AGE", 4, 3),
    col("TYPE", 16, 4),
    col("PURPOSE", 7, 5),
];

/// A row: a cluster's or a pool's summary, or one node.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeRow {
    /// A cluster, over all its nodes.
    Cluster(ClusterId),
    /// A pool of a cluster ("" for unlabelled nodes).
    Pool(ClusterId, Arc<str>),
    /// A node of a cluster.
    Node(ClusterId, Arc<str>),
}

/// Rows of the nodes table, fleet-wide or of one cluster.
pub struct Nodes {
    scope: Option<ClusterId>,
    /// Kept across frames and moved by the fleet's changes (interior: rows are read through
    /// `&self`).
    loads: RefCell<NodeLoads>,
}

impl Nodes {
    /// Every node of the fleet.
    pub fn fleet() -> Self {
        Self {
            scope: None,
            loads: RefCell::default(),
        }
    }

    /// The nodes of one cluster.
    pub fn of(cluster: ClusterId) -> Self {
        Self {
            scope: Some(cluster),
            loads: RefCell::default(),
        }
    }

    fn in_scope(&self, c: &ClusterId) -> bool {
        self.scope.as_ref().is_none_or(|s| s == c)
    }

    fn loads(&self, ctx: &Ctx) -> Ref<'_, NodeLoads> {
        {
            let mut l = self.loads.borrow_mut();
            if l.version() != Some(ctx.fleet.version()) {
                l.sync(ctx.fleet);
            }
        }
        self.loads.borrow()
    }
}

impl RowSource for Nodes {
    type Row = NodeRow;
    /// Cluster (its own row first), pool, then node name ("" for the pool's own row).
    type Order = (ClusterId, Option<(Arc<str>, Arc<str>)>);

    fn crumb(&self) -> String {
        match &self.scope {
            Some(c) => format!("{c} › Nodes"),
            None => "Nodes".into(),
        }
    }

    fn title(&self) -> &'static str {
        "Nodes"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn collect(&self, ctx: &Ctx, out: &mut Vec<(NodeRow, Self::Order)>) {
        let empty: Arc<str> = Arc::from("");
        for c in ctx.fleet.clusters().filter(|c| self.in_scope(&c.id)) {
            if c.nodes.is_empty() {
                continue;
            }
            let start = out.len();
            out.push((NodeRow::Cluster(c.id.clone()), (c.id.clone(), None)));
            let mut pools: BTreeSet<&Arc<str>> = BTreeSet::new();
            for n in c.nodes.values() {
                pools.insert(&n.pool);
                out.push((
                    NodeRow::Node(c.id.clone(), n.name.clone()),
                    (c.id.clone(), Some((n.pool.clone(), n.name.clone()))),
                ));
            }
            out.extend(pools.into_iter().map(|p| {
                (
                    NodeRow::Pool(c.id.clone(), p.clone()),
                    (c.id.clone(), Some((p.clone(), empty.clone()))),
                )
            }));
            out[start..].sort_unstable_by(|a, b| a.1.cmp(&b.1));
        }
    }

    fn order(&self, row: &NodeRow, ctx: &Ctx) -> Option<Self::Order> {
        match row {
            NodeRow::Cluster(c) if self.in_scope(c) => {
                let cluster = ctx.fleet.cluster(c.as_str())?;
                (!cluster.nodes.is_empty()).then(|| (c.clone(), None))
            }
            NodeRow::Pool(c, pool) if self.in_scope(c) => {
                let cluster = ctx.fleet.cluster(c.as_str())?;
                cluster
                    .nodes
                    .values()
                    .any(|n| n.pool == *pool)
                    .then(|| (c.clone(), Some((pool.clone(), Arc::from("")))))
            }
            NodeRow::Node(c, name) if self.in_scope(c) => {
                let n = ctx.fleet.cluster(c.as_str())?.nodes.get(name)?;
                Some((c.clone(), Some((n.pool.clone(), name.clone()))))
            }
            _ => None,
        }
    }

    fn changed_since(&self, ctx: &Ctx, since: u64, out: &mut Vec<NodeRow>) -> bool {
        let mut loads = self.loads.borrow_mut();
        // Loads synced past `since` no longer say what moved in between.
        if loads.version().is_none_or(|v| v > since) {
            return false;
        }
        let Some(mut changes) = ctx.fleet.changes_since(since) else {
            return false;
        };
        // Nodes that joined or left a list are found only by collecting again (a few
        // thousand rows at most); pods moving are the frequent change.
        if changes.any(|c| matches!(c, Change::Nodes(id) if self.in_scope(id))) {
            return false;
        }
        let Some(touched) = loads.sync(ctx.fleet) else {
            return false;
        };
        for (c, name) in touched.into_iter().filter(|(c, _)| self.in_scope(c)) {
            if let Some(n) = ctx
                .fleet
                .cluster(c.as_str())
                .and_then(|x| x.nodes.get(&name))
            {
                out.push(NodeRow::Pool(c.clone(), n.pool.clone()));
            }
            out.push(NodeRow::Cluster(c.clone()));
            out.push(NodeRow::Node(c, name));
        }
        true
    }

    fn cells(&self, row: &NodeRow, ctx: &Ctx) -> Option<Vec<Cell>> {
        match row {
            NodeRow::Cluster(c) => {
                group_cells(ctx.fleet.cluster(c.as_str())?, None, &self.loads(ctx))
            }
            NodeRow::Pool(c, pool) => {
                group_cells(ctx.fleet.cluster(c.as_str())?, Some(pool), &self.loads(ctx))
            }
            NodeRow::Node(c, name) => {
                let cluster = ctx.fleet.cluster(c.as_str())?;
                let node = cluster.nodes.get(name)?;
                Some(node_cells(cluster, node, &self.loads(ctx), ctx.now))
            }
        }
    }

    fn search_text(&self, row: &NodeRow, ctx: &Ctx) -> Option<String> {
        // What a row belongs to but does not show: a filter on a cluster or a pool keeps its
        // rows, and one on a node's whole name keeps it.
        match row {
            NodeRow::Cluster(_) => None,
            NodeRow::Pool(c, _) => Some(c.to_string()),
            NodeRow::Node(c, name) => {
                let n = ctx.fleet.cluster(c.as_str())?.nodes.get(name)?;
                Some(format!("{c} › {} › {name}", pool_name(&n.pool)))
            }
        }
    }

    fn sort_key(&self, row: &NodeRow, col: usize, ctx: &Ctx) -> SortKey {
        let Some(cells) = self.cells(row, ctx) else {
            return SortKey::Num(i64::MAX);
        };
        let loads = self.loads(ctx);
        let group = |c: &ClusterId, pool: Option<&str>| {
            let f = ctx
                .fleet
                .cluster(c.as_str())
                .map(|c| figures(c, pool, &loads))
                .unwrap_or_default();
            (f.servers, f.requested, f.allocatable)
        };
        let (servers, requested, allocatable) = match row {
            NodeRow::Cluster(c) => group(c, None),
            NodeRow::Pool(c, pool) => group(c, Some(pool)),
            NodeRow::Node(c, name) => {
                let n = ctx
                    .fleet
                    .cluster(c.as_str())
                    .and_then(|x| x.nodes.get(name));
                let l = loads.get(c, name);
                (
                    l.map_or(0, |l| l.servers),
                    load_requested(l),
                    n.map_or_else(Requests::default, |n| n.allocatable),
                )
            }
        };
        // Fullest first when sorted, as a person looking for room wants.
        let permille =
            |r: u64, a: u64| SortKey::Num(-((r * 1000).checked_div(a).unwrap_or(0) as i64));
        match col {
            3 => SortKey::Num(-i64::from(servers)),
            4 => permille(
                u64::from(requested.cpu_milli),
                u64::from(allocatable.cpu_milli),
            ),
            5 => permille(requested.memory_bytes, allocatable.memory_bytes),
            i => SortKey::text(
                cells
                    .get(i)
                    .map_or_else(String::new, |c| c.text.trim().to_lowercase()),
            ),
        }
    }

    fn target(&self, row: &NodeRow, _ctx: &Ctx) -> Option<Target> {
        Some(match row {
            NodeRow::Cluster(c) | NodeRow::Pool(c, _) => Target::Cluster(c.clone()),
            NodeRow::Node(c, name) => Target::Node {
                cluster: c.clone(),
                node: name.clone(),
            },
        })
    }

    fn open(&self, row: &NodeRow, ctx: &Ctx) -> Result<Open, String> {
        self.order(row, ctx).ok_or("node is gone")?;
        Ok(match row {
            NodeRow::Cluster(c) => Open::Hubs(c.clone()),
            NodeRow::Pool(c, pool) => Open::PoolServers(c.clone(), pool.clone()),
            NodeRow::Node(c, name) => Open::NodeServers(c.clone(), name.clone()),
        })
    }

    fn describe(&self, row: &NodeRow, ctx: &Ctx) -> Result<Open, String> {
        let [first, second] =
            footer_lines(row, ctx.fleet, &self.loads(ctx), ctx.now).ok_or("node is gone")?;
        let title = match row {
            NodeRow::Cluster(c) => format!("{c} › nodes › Detail"),
            NodeRow::Pool(c, pool) => format!("{c} › {} › Detail", pool_name(pool)),
            NodeRow::Node(_, name) => format!("{name} › Detail"),
        };
        let mut fields = vec![("Summary".to_string(), first), ("Load".into(), second)];
        if let NodeRow::Node(c, name) = row {
            let loads = self.loads(ctx);
            fields.extend(loads.get(c, name).into_iter().flat_map(|l| {
                l.hubs
                    .iter()
                    .map(|(k, n)| (format!("{c}/{}", k.name()), format!("{n} user servers")))
            }));
        }
        Ok(Open::Detail {
            title,
            sections: vec![("Node".into(), fields)],
            describe: None,
            target: None,
            link: None,
        })
    }

    fn footer_height(&self) -> u16 {
        2
    }

    fn draw_footer(&self, row: Option<&NodeRow>, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let Some(lines) = row.and_then(|r| footer_lines(r, ctx.fleet, &self.loads(ctx), ctx.now))
        else {
            return;
        };
        let w = usize::from(area.width);
        let text: Vec<Line> = lines
            .iter()
            .map(|l| {
                Line::styled(
                    fit(&format!(" {l}"), w).into_owned(),
                    ctx.theme.style(Role::Dim),
                )
            })
            .collect();
        frame.render_widget(Paragraph::new(text), area);
    }
}
