//! User servers: of one hub, one node or one pool after a drill-down, or of the whole fleet.

use std::sync::Arc;

use crate::config::theme::Role;
use crate::fleet::{
    Change, ClusterId, Component, HubId, HubState, MetricsState, PodInfo, PodPhase, ServerId,
    Usage, memory_share,
};

use super::super::app::Target;
use super::super::text::{age, bytes, cpu};
use super::super::widgets::table::{Cell, Column, RowSource, SortKey, col, flex};
use super::super::widgets::usage::{
    cpu_cell, mem_cell, share_cell, share_key, share_text, used_key,
};
use super::{Ctx, Open, log_request};

// At 80 columns: HUB USER PHASE READY RST AGE MEM% (who is about to be OOM-killed stays in
// sight); at 120 also SERVER, CPU USED, MEM REQ, MEM USED and LAST ACT; NODE and CPU REQ from
// 140 (and in the detail), DASK (clusters/workers) from 160.
const COLUMNS: &[Column] = &[
    col("HUB", 14, 3),
    col("USER", 16, 0),
    col("SERVER", 8, 4),
    // Wide enough for `OOMKilled 137, 4m ago`; what is left of the width goes to it, for why a
    // pending server waits (`0/12 nodes: 3 Insufficient memory`).
    flex("PHASE", 21, 0),
    col("READY", 5, 1),
    col("RST", 3, 2),
    col("NODE", 12, 6),
    col("AGE", 4, 1),
    col("CPU REQ", 7, 7),
    col("CPU USED", 8, 4),
    col("MEM REQ", 7, 4),
    col("MEM USED", 8, 3),
    // Of the limit; `r`: of the request, for a pod without a limit.
    col("MEM%", 5, 2),
    col("LAST ACT", 8, 3),
    // The user's dask-gateway clusters/workers (daskhubs), `-` without any.
    col("DASK", 5, 5),
];
/// The MEM% column, for `sort-fullest`.
const MEM_SHARE: usize = 12;

/// A server row: its hub and pod name.
pub type ServerRow = (HubId, Arc<str>);

/// Which servers a servers table shows.
#[derive(Debug, Clone, PartialEq)]
enum Scope {
    Fleet,
    Hub(HubId),
    /// On one node of a cluster.
    Node(ClusterId, Arc<str>),
    /// On the nodes of one pool of a cluster.
    Pool(ClusterId, Arc<str>),
}

/// Rows of the servers table.
pub struct Servers {
    scope: Scope,
}

impl Servers {
    /// Whether the hub's servers may be in scope (all of them, for a hub or the fleet).
    fn in_scope(&self, hub: &HubId) -> bool {
        match &self.scope {
            Scope::Fleet => true,
            Scope::Hub(h) => h == hub,
            Scope::Node(c, _) | Scope::Pool(c, _) => *c == hub.cluster,
        }
    }

    /// Whether this server is in scope, by where it runs.
    fn placed(&self, hub: &HubState, pod: &PodInfo, ctx: &Ctx) -> bool {
        match &self.scope {
            Scope::Node(_, node) => pod.node.as_ref() == Some(node),
            Scope::Pool(c, pool) => pod.node.as_ref().is_some_and(|n| {
                ctx.fleet
                    .cluster(c.as_str())
                    .and_then(|c| c.nodes.get(n))
                    .is_some_and(|n| n.pool == *pool)
            }),
            _ => self.in_scope(&hub.id),
        }
    }

    /// Every server of the fleet.
    pub fn fleet() -> Self {
        Self {
            scope: Scope::Fleet,
        }
    }

    /// Servers of one hub.
    pub fn of(hub: HubId) -> Self {
        Self {
            scope: Scope::Hub(hub),
        }
    }

    /// Servers on one node.
    pub fn on_node(cluster: ClusterId, node: Arc<str>) -> Self {
        Self {
            scope: Scope::Node(cluster, node),
        }
    }

    /// Servers on the nodes of one pool.
    pub fn in_pool(cluster: ClusterId, pool: Arc<str>) -> Self {
        Self {
            scope: Scope::Pool(cluster, pool),
        }
    }
}

fn lookup<'a>(row: &ServerRow, ctx: &Ctx<'a>) -> Option<(&'a HubState, &'a PodInfo)> {
    let hub = ctx.fleet.hub(&row.0)?;
    Some((hub, hub.pods.get(&row.1)?))
}

pub(super) fn user(pod: &PodInfo) -> &Arc<str> {
    pod.owner.as_ref().map_or(&pod.key.name, |o| &o.user)
}

/// Default order: hub by hub, by user within a hub (then by pod name, the row).
fn order(hub: &HubState, pod: &PodInfo) -> (HubId, SortKey) {
    (hub.id.clone(), SortKey::lower(user(pod)))
}

/// The phase, or why the pod is not what it should be; a pod not ready after its container
/// ended says how it ended (`OOMKilled 137, 4m ago`), the one thing a person asks first, and a
/// pending one the newest step of its story (`scale-up triggered: nb-pool 2->3`).
pub(super) fn phase(hub: &HubState, pod: &PodInfo, now: jiff::Timestamp) -> (String, Role) {
    let role = match pod.phase {
        PodPhase::Running if pod.ready => Role::HealthOk,
        PodPhase::Running | PodPhase::Pending => Role::HealthDegraded,
        PodPhase::Failed => Role::HealthDown,
        _ => Role::Dim,
    };
    let ended = pod
        .last_termination
        .as_ref()
        .filter(|_| !pod.ready && pod.phase != PodPhase::Terminating)
        .map(|t| t.describe(now));
    let why = hub
        .story(&pod.key.name)
        .and_then(|s| s.newest())
        .map(|e| e.summary_at(now))
        .or_else(|| pod.reason.as_deref().map(str::to_string));
    let text = match (why, ended) {
        // How it ended first: a narrow cell keeps the part a person acts on.
        (Some(r), Some(e)) => format!("{e}; {r}"),
        (None, Some(e)) => e,
        (Some(r), None) => r,
        (None, None) => pod.phase.as_str().to_string(),
    };
    (text, role)
}

fn last_activity(hub: &HubState, pod: &PodInfo) -> Option<jiff::Timestamp> {
    hub.activity_of(pod).and_then(|a| a.last_activity)
}

/// A pending server's story for its detail, newest first: each step with when it began, how
/// often it happened, and all its reporter said (a pull with how long it took).
pub(super) fn story_rows(
    story: &crate::fleet::Story,
    now: jiff::Timestamp,
) -> Vec<(String, String)> {
    story
        .iter()
        .map(|e| {
            let mut key = e.step.as_str().to_string();
            if e.count > 1 {
                key.push_str(&format!(" ×{}", e.count));
            }
            let mut said = format!("{} ago: {}", age(now, e.first), e.message);
            if let Some(d) = story.pull_time(e).filter(|_| e.pull_time().is_none()) {
                said.push_str(&format!(" (pulled in {}s)", d.as_secs()));
            }
            (key, said)
        })
        .collect()
}

pub(super) fn used(hub: &HubState, pod: &PodInfo, now: jiff::Timestamp) -> Option<Usage> {
    hub.usage.pod(&pod.key.name, now)
}

/// `1.2Gi of 4.0Gi limit (30%)`, or why there is no figure.
pub(super) fn usage_line(hub: &HubState, pod: &PodInfo, ctx: &Ctx) -> (String, String) {
    let Some(u) = used(hub, pod, ctx.now) else {
        let why = ctx
            .fleet
            .cluster(hub.id.cluster.as_str())
            .map(|c| &c.metrics.pods)
            .filter(|m| !matches!(m, MetricsState::Served))
            .map_or_else(
                || "unknown (no fresh metrics for this pod)".to_string(),
                |m| format!("unknown: metrics {} on this cluster", m.word()),
            );
        return (why.clone(), why);
    };
    let of = |used: String, limit: String, request: String, share: Option<String>| {
        let mut s = used;
        if !limit.is_empty() {
            s.push_str(&format!(" of {limit} limit"));
        } else if !request.is_empty() {
            s.push_str(&format!(" of {request} request, no limit"));
        }
        if let Some(p) = share {
            s.push_str(&format!(" ({p})"));
        }
        s
    };
    let nonzero = |s: String| if s == "-" { String::new() } else { s };
    let cpu_share = (pod.limits.cpu_milli > 0).then(|| {
        format!(
            "{:.0}%",
            f64::from(u.cpu_milli) * 100.0 / f64::from(pod.limits.cpu_milli)
        )
    });
    (
        of(
            cpu_cell(Some(u)).text,
            nonzero(cpu(pod.limits.cpu_milli)),
            nonzero(cpu(pod.requests.cpu_milli)),
            cpu_share,
        ),
        of(
            mem_cell(Some(u)).text,
            nonzero(bytes(pod.limits.memory_bytes)),
            nonzero(bytes(pod.requests.memory_bytes)),
            memory_share(pod, u).map(share_text),
        ),
    )
}

impl RowSource for Servers {
    type Row = ServerRow;
    type Order = (HubId, SortKey);

    fn crumb(&self) -> String {
        match &self.scope {
            Scope::Hub(h) => format!("{h} › Servers"),
            Scope::Node(_, n) => format!("{} › Servers", super::node_cells::short_name(n)),
            Scope::Pool(c, p) => format!("{c} › {p} › Servers"),
            Scope::Fleet => "Servers".into(),
        }
    }

    fn title(&self) -> &'static str {
        "Servers"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn collect(&self, ctx: &Ctx, out: &mut Vec<(ServerRow, (HubId, SortKey))>) {
        // Hubs come in id order; sorting each hub's few servers leaves the index little to do.
        let mut push = |hub: &HubState| {
            let start = out.len();
            out.extend(
                hub.servers()
                    .filter(|p| self.placed(hub, p, ctx))
                    .map(|p| ((hub.id.clone(), p.key.name.clone()), order(hub, p))),
            );
            out[start..].sort_unstable_by(|a, b| (&a.1.1, &a.0.1).cmp(&(&b.1.1, &b.0.1)));
        };
        match &self.scope {
            Scope::Hub(id) => ctx.fleet.hub(id).into_iter().for_each(&mut push),
            Scope::Node(c, _) | Scope::Pool(c, _) => ctx
                .fleet
                .cluster(c.as_str())
                .into_iter()
                .flat_map(|c| c.hubs.values())
                .for_each(push),
            Scope::Fleet => ctx.fleet.hubs().for_each(push),
        }
    }

    fn order(&self, row: &ServerRow, ctx: &Ctx) -> Option<(HubId, SortKey)> {
        let (hub, pod) = lookup(row, ctx).filter(|_| self.in_scope(&row.0))?;
        (pod.component == Component::SingleuserServer && self.placed(hub, pod, ctx))
            .then(|| order(hub, pod))
    }

    fn changed_since(&self, ctx: &Ctx, since: u64, out: &mut Vec<ServerRow>) -> bool {
        let Some(changes) = ctx.fleet.changes_since(since) else {
            return false;
        };
        for c in changes {
            match c {
                Change::Pod(hub, pod) if self.in_scope(hub) => out.push((hub.clone(), pod.clone())),
                // The hub API's activity and the hub's usage show in every server row of it.
                Change::Servers(hub) if self.in_scope(hub) => {
                    if let Some(h) = ctx.fleet.hub(hub) {
                        out.extend(h.servers().map(|p| (hub.clone(), p.key.name.clone())));
                    }
                }
                // A node joining or leaving its pool moves its servers in or out of view.
                Change::Nodes(c) if matches!(&self.scope, Scope::Pool(p, _) if p == c) => {
                    return false;
                }
                _ => {}
            }
        }
        true
    }

    fn cells(&self, row: &ServerRow, ctx: &Ctx) -> Option<Vec<Cell>> {
        let (hub, pod) = lookup(row, ctx)?;
        let (phase, role) = phase(hub, pod, ctx.now);
        let server = pod.owner.as_ref().map_or("", |o| &o.server);
        let used = used(hub, pod, ctx.now);
        Some(vec![
            Cell::text(row.0.to_string()),
            Cell::new(user(pod).to_string(), Role::Title),
            if server.is_empty() {
                Cell::new("-", Role::Dim)
            } else {
                Cell::text(server)
            },
            Cell::new(phase, role),
            Cell::new(
                if pod.ready { "yes" } else { "no" },
                if pod.ready {
                    Role::HealthOk
                } else {
                    Role::HealthDegraded
                },
            ),
            Cell::new(
                pod.restarts.to_string(),
                if pod.restarts > 0 {
                    Role::HealthDegraded
                } else {
                    Role::Dim
                },
            ),
            Cell::text(pod.node.as_deref().unwrap_or("-")),
            Cell::text(age(ctx.now, pod.started.or(pod.created))),
            Cell::text(cpu(pod.requests.cpu_milli)),
            cpu_cell(used),
            Cell::text(bytes(pod.requests.memory_bytes)),
            mem_cell(used),
            share_cell(used.and_then(|u| memory_share(pod, u))),
            Cell::new(age(ctx.now, last_activity(hub, pod)), Role::Dim),
            match hub.dask_of(pod) {
                Some(d) => Cell::text(format!("{}/{}", d.clusters, d.workers)),
                None => Cell::new("-", Role::Dim),
            },
        ])
    }

    fn sort_key(&self, row: &ServerRow, col: usize, ctx: &Ctx) -> SortKey {
        let Some((hub, pod)) = lookup(row, ctx) else {
            return SortKey::Num(i64::MAX);
        };
        let secs =
            |t: Option<jiff::Timestamp>| SortKey::Num(t.map_or(i64::MAX, |t| -t.as_second()));
        match col {
            0 => SortKey::text(row.0.to_string()),
            1 => SortKey::lower(user(pod)),
            2 => pod
                .owner
                .as_ref()
                .map_or(SortKey::text(""), |o| SortKey::lower(&o.server)),
            3 => SortKey::text(phase(hub, pod, ctx.now).0),
            4 => SortKey::Num(i64::from(pod.ready)),
            5 => SortKey::Num(i64::from(pod.restarts)),
            6 => pod.node.clone().map_or(SortKey::text(""), SortKey::Text),
            7 => secs(pod.started.or(pod.created)),
            8 => SortKey::Num(i64::from(pod.requests.cpu_milli)),
            9 => used_key(used(hub, pod, ctx.now).map(|u| u64::from(u.cpu_milli))),
            10 => SortKey::Num(pod.requests.memory_bytes as i64),
            11 => used_key(used(hub, pod, ctx.now).map(|u| u.memory_bytes)),
            MEM_SHARE => share_key(used(hub, pod, ctx.now).and_then(|u| memory_share(pod, u))),
            13 => secs(last_activity(hub, pod)),
            _ => SortKey::Num(-i64::from(hub.dask_of(pod).map_or(0, |d| d.workers))),
        }
    }

    fn fullest_column(&self) -> Option<usize> {
        Some(MEM_SHARE)
    }

    fn target(&self, row: &ServerRow, ctx: &Ctx) -> Option<Target> {
        let (_, pod) = lookup(row, ctx)?;
        let owner = pod.owner.as_ref();
        Some(Target::Server {
            server: ServerId {
                hub: row.0.clone(),
                user: owner.map_or_else(|| pod.key.name.clone(), |o| o.user.clone()),
                server: owner.map_or_else(|| Arc::from(""), |o| o.server.clone()),
            },
            pod: pod.key.clone(),
        })
    }

    fn markable(&self) -> bool {
        true
    }

    fn marked_target(&self, rows: &[ServerRow], ctx: &Ctx) -> Option<Target> {
        let list: Vec<_> = rows
            .iter()
            .filter_map(|r| match self.target(r, ctx)? {
                Target::Server { server, pod } => Some((server, pod)),
                _ => None,
            })
            .collect();
        (!list.is_empty()).then_some(Target::Servers(list))
    }

    fn open(&self, row: &ServerRow, ctx: &Ctx) -> Result<Open, String> {
        let (hub, pod) = lookup(row, ctx).ok_or("server is gone")?;
        Ok(super::server_detail::server_detail(hub, pod, ctx))
    }

    fn logs(&self, row: &ServerRow, ctx: &Ctx, proxy: bool) -> Result<Open, String> {
        let (hub, pod) = lookup(row, ctx).ok_or("server is gone")?;
        if proxy {
            let p = super::hubs::component_pod(hub, crate::fleet::Component::Proxy)
                .ok_or_else(|| format!("{}: no proxy pod", hub.id))?;
            return Ok(Open::Logs(log_request(&row.0.cluster, &p.key)));
        }
        Ok(Open::Logs(log_request(&row.0.cluster, &pod.key)))
    }

    fn describe(&self, row: &ServerRow, ctx: &Ctx) -> Result<Open, String> {
        self.open(row, ctx)
    }
}
