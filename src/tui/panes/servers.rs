//! User servers: of one hub after a drill-down, or of the whole fleet.

use std::sync::Arc;

use crate::config::theme::Role;
use crate::fleet::{
    Change, Component, HubId, HubState, MetricsState, PodInfo, PodPhase, ServerId, Usage,
    memory_share,
};

use super::super::app::Target;
use super::super::text::{age, bytes, cpu};
use super::super::widgets::table::{Cell, Column, RowSource, SortKey, col, flex};
use super::super::widgets::usage::{
    cpu_cell, mem_cell, share_cell, share_key, share_text, used_key,
};
use super::super::{DescribeKind, DescribeRequest};
use super::{Ctx, Open, log_request};

// At 80 columns: HUB USER PHASE READY RST AGE MEM% (who is about to be OOM-killed stays in
// sight); at 120 also SERVER, CPU USED, MEM REQ, MEM USED and LAST ACT; NODE and CPU REQ from
// 140 (and in the detail).
const COLUMNS: &[Column] = &[
    col("HUB", 14, 3),
    col("USER", 16, 0),
    col("SERVER", 8, 4),
    // Wide enough for `OOMKilled 137, 4m ago`.
    col("PHASE", 21, 0),
    col("READY", 5, 1),
    col("RST", 3, 2),
    flex("NODE", 12, 6),
    col("AGE", 4, 1),
    col("CPU REQ", 7, 7),
    col("CPU USED", 8, 4),
    col("MEM REQ", 7, 4),
    col("MEM USED", 8, 3),
    // Of the limit; `r`: of the request, for a pod without a limit.
    col("MEM%", 5, 2),
    col("LAST ACT", 8, 3),
];
/// The MEM% column, for `sort-fullest`.
const MEM_SHARE: usize = 12;

/// A server row: its hub and pod name.
pub type ServerRow = (HubId, Arc<str>);

/// Rows of the servers table.
pub struct Servers {
    scope: Option<HubId>,
}

impl Servers {
    fn in_scope(&self, hub: &HubId) -> bool {
        self.scope.as_ref().is_none_or(|h| h == hub)
    }

    /// Every server of the fleet.
    pub fn fleet() -> Self {
        Self { scope: None }
    }

    /// Servers of one hub.
    pub fn of(hub: HubId) -> Self {
        Self { scope: Some(hub) }
    }
}

fn lookup<'a>(row: &ServerRow, ctx: &Ctx<'a>) -> Option<(&'a HubState, &'a PodInfo)> {
    let hub = ctx.fleet.hub(&row.0)?;
    Some((hub, hub.pods.get(&row.1)?))
}

fn user(pod: &PodInfo) -> &Arc<str> {
    pod.owner.as_ref().map_or(&pod.key.name, |o| &o.user)
}

/// Default order: hub by hub, by user within a hub (then by pod name, the row).
fn order(hub: &HubState, pod: &PodInfo) -> (HubId, SortKey) {
    (hub.id.clone(), SortKey::lower(user(pod)))
}

/// The phase, or why the pod is not what it should be; a pod not ready after its container
/// ended says how it ended (`OOMKilled 137, 4m ago`), the one thing a person asks first.
fn phase(pod: &PodInfo, now: jiff::Timestamp) -> (String, Role) {
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
    let text = match (&pod.reason, ended) {
        // How it ended first: a narrow cell keeps the part a person acts on.
        (Some(r), Some(e)) => format!("{e}; {r}"),
        (None, Some(e)) => e,
        (Some(r), None) => r.to_string(),
        (None, None) => pod.phase.as_str().to_string(),
    };
    (text, role)
}

fn last_activity(hub: &HubState, pod: &PodInfo) -> Option<jiff::Timestamp> {
    hub.activity_of(pod).and_then(|a| a.last_activity)
}

fn used(hub: &HubState, pod: &PodInfo, now: jiff::Timestamp) -> Option<Usage> {
    hub.usage.pod(&pod.key.name, now)
}

/// `1.2Gi of 4.0Gi limit (30%)`, or why there is no figure.
fn usage_line(hub: &HubState, pod: &PodInfo, ctx: &Ctx) -> (String, String) {
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

/// Local sections and the describe request of a user server.
pub fn server_detail(hub: &HubState, pod: &PodInfo, ctx: &Ctx) -> Open {
    let (phase, _) = phase(pod, ctx.now);
    let (cpu_used, mem_used) = usage_line(hub, pod, ctx);
    let mut summary = vec![
        ("Hub".to_string(), hub.id.to_string()),
        ("User".into(), user(pod).to_string()),
        (
            "Server".into(),
            pod.owner.as_ref().map_or("", |o| &o.server).to_string(),
        ),
        ("Pod".into(), pod.key.name.to_string()),
        ("Phase".into(), phase),
        ("Ready".into(), pod.ready.to_string()),
        ("Restarts".into(), pod.restarts.to_string()),
        (
            "Last termination".into(),
            pod.last_termination
                .as_ref()
                .map_or_else(|| "-".to_string(), |t| t.describe(ctx.now)),
        ),
        (
            "Node".into(),
            pod.node.as_deref().unwrap_or("-").to_string(),
        ),
        ("Age".into(), age(ctx.now, pod.started.or(pod.created))),
        (
            "Requests".into(),
            format!(
                "cpu {} mem {}",
                cpu(pod.requests.cpu_milli),
                bytes(pod.requests.memory_bytes)
            ),
        ),
        (
            "Limits".into(),
            format!(
                "cpu {} mem {}",
                cpu(pod.limits.cpu_milli),
                bytes(pod.limits.memory_bytes)
            ),
        ),
        ("CPU used".into(), cpu_used),
        ("Memory used".into(), mem_used),
        (
            "Image".into(),
            pod.image.as_deref().unwrap_or("-").to_string(),
        ),
    ];
    if let Some(a) = hub.activity_of(pod) {
        summary.push(("Hub says ready".into(), a.ready.to_string()));
        summary.push((
            "Last activity".into(),
            format!("{} ago", age(ctx.now, a.last_activity)),
        ));
        if let Some(p) = a.pending {
            summary.push(("Pending action".into(), p.as_str().to_string()));
        }
    }
    Open::Detail {
        title: format!("{} › Detail", user(pod)),
        sections: vec![("User server".into(), summary)],
        describe: Some(DescribeRequest {
            cluster: hub.id.cluster.clone(),
            kind: DescribeKind::Pod,
            namespace: pod.key.namespace.to_string(),
            name: pod.key.name.to_string(),
        }),
    }
}

impl RowSource for Servers {
    type Row = ServerRow;
    type Order = (HubId, SortKey);

    fn crumb(&self) -> String {
        match &self.scope {
            Some(h) => format!("{h} › Servers"),
            None => "Servers".into(),
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
                    .map(|p| ((hub.id.clone(), p.key.name.clone()), order(hub, p))),
            );
            out[start..].sort_unstable_by(|a, b| (&a.1.1, &a.0.1).cmp(&(&b.1.1, &b.0.1)));
        };
        match &self.scope {
            Some(id) => ctx.fleet.hub(id).into_iter().for_each(&mut push),
            None => ctx.fleet.hubs().for_each(push),
        }
    }

    fn order(&self, row: &ServerRow, ctx: &Ctx) -> Option<(HubId, SortKey)> {
        let (hub, pod) = lookup(row, ctx).filter(|_| self.in_scope(&row.0))?;
        (pod.component == Component::SingleuserServer).then(|| order(hub, pod))
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
                _ => {}
            }
        }
        true
    }

    fn cells(&self, row: &ServerRow, ctx: &Ctx) -> Option<Vec<Cell>> {
        let (hub, pod) = lookup(row, ctx)?;
        let (phase, role) = phase(pod, ctx.now);
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
            3 => SortKey::text(phase(pod, ctx.now).0),
            4 => SortKey::Num(i64::from(pod.ready)),
            5 => SortKey::Num(i64::from(pod.restarts)),
            6 => pod.node.clone().map_or(SortKey::text(""), SortKey::Text),
            7 => secs(pod.started.or(pod.created)),
            8 => SortKey::Num(i64::from(pod.requests.cpu_milli)),
            9 => used_key(used(hub, pod, ctx.now).map(|u| u64::from(u.cpu_milli))),
            10 => SortKey::Num(pod.requests.memory_bytes as i64),
            11 => used_key(used(hub, pod, ctx.now).map(|u| u.memory_bytes)),
            MEM_SHARE => share_key(used(hub, pod, ctx.now).and_then(|u| memory_share(pod, u))),
            _ => secs(last_activity(hub, pod)),
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
        Ok(server_detail(hub, pod, ctx))
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
