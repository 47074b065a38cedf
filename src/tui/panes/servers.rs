//! User servers: of one hub after a drill-down, or of the whole fleet.

use std::sync::Arc;

use crate::config::theme::Role;
use crate::fleet::{Change, Component, HubId, HubState, PodInfo, PodPhase, ServerId};

use super::super::app::Target;
use super::super::text::{age, bytes, cpu};
use super::super::widgets::table::{Cell, Column, RowSource, SortKey, col, flex};
use super::super::{DescribeKind, DescribeRequest};
use super::{Ctx, Open, log_request};

const COLUMNS: &[Column] = &[
    col("HUB", 16, 3),
    col("USER", 16, 0),
    col("SERVER", 8, 4),
    // Wide enough for `OOMKilled 137, 4m ago`; what is left of the width goes to it, for why a
    // pending server waits (`0/12 nodes: 3 Insufficient memory`).
    flex("PHASE", 21, 0),
    col("READY", 5, 1),
    col("RST", 3, 2),
    col("NODE", 12, 5),
    col("AGE", 4, 1),
    col("CPU", 5, 6),
    col("MEM", 6, 6),
    col("LAST ACT", 8, 2),
];

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
/// ended says how it ended (`OOMKilled 137, 4m ago`), the one thing a person asks first, and a
/// pending one the newest step of its story (`scale-up triggered: nb-pool 2->3`).
fn phase(hub: &HubState, pod: &PodInfo, now: jiff::Timestamp) -> (String, Role) {
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

/// Local sections and the describe request of a user server.
pub fn server_detail(hub: &HubState, pod: &PodInfo, ctx: &Ctx) -> Open {
    let (phase, _) = phase(hub, pod, ctx.now);
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
    let mut sections = vec![("User server".into(), summary)];
    if let Some(story) = hub.story(&pod.key.name) {
        sections.push(("Why it is pending".into(), story_rows(story, ctx.now)));
    }
    Open::Detail {
        title: format!("{} › Detail", user(pod)),
        sections,
        describe: Some(DescribeRequest {
            cluster: hub.id.cluster.clone(),
            kind: DescribeKind::Pod,
            namespace: pod.key.namespace.to_string(),
            name: pod.key.name.to_string(),
        }),
    }
}

/// A pending server's story for its detail, newest first: each step with when it began, how
/// often it happened, and all its reporter said (a pull with how long it took).
fn story_rows(story: &crate::fleet::Story, now: jiff::Timestamp) -> Vec<(String, String)> {
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
                // The hub API's activity shows in every server row of the hub.
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
        let (phase, role) = phase(hub, pod, ctx.now);
        let server = pod.owner.as_ref().map_or("", |o| &o.server);
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
            Cell::text(bytes(pod.requests.memory_bytes)),
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
            3 => SortKey::text(phase(hub, pod, ctx.now).0),
            4 => SortKey::Num(i64::from(pod.ready)),
            5 => SortKey::Num(i64::from(pod.restarts)),
            6 => pod.node.clone().map_or(SortKey::text(""), SortKey::Text),
            7 => secs(pod.started.or(pod.created)),
            8 => SortKey::Num(i64::from(pod.requests.cpu_milli)),
            9 => SortKey::Num(pod.requests.memory_bytes as i64),
            _ => secs(last_activity(hub, pod)),
        }
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
