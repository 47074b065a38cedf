//! Clusters: connection state, latency and what each cluster holds.

use crate::config::theme::Role;
use crate::fleet::{
    Change, ClusterId, ClusterState, ClusterStatus, MetricsState, Scope, SourceState,
};

use super::super::app::Target;
use super::super::text::age;
use super::super::widgets::cluster_mark;
use super::super::widgets::table::{Cell, Column, RowSource, SortKey, col, flex};
use super::{Ctx, Open};

const COLUMNS: &[Column] = &[
    col("NAME", 18, 0),
    col("PROVIDER", 8, 3),
    col("STATUS", 13, 0),
    col("LATENCY", 7, 2),
    col("HUBS", 4, 1),
    col("SERVERS", 7, 1),
    col("ALERTS", 6, 1),
    flex("NOTE", 16, 4),
];

/// Rows of the clusters table.
pub struct Clusters;

fn servers(c: &ClusterState) -> u32 {
    c.hubs.values().map(|h| h.summary.servers_total).sum()
}

/// The status note, after the scope when the cluster is watched namespace by namespace (so a
/// person sees at once that other namespaces' hubs are not shown).
fn note(c: &ClusterState, ctx: &Ctx) -> String {
    let scope = match &c.scope {
        Scope::ClusterWide => None,
        scope => Some(format!("scope: {scope}")),
    };
    let parts: Vec<String> = [scope, Some(status_note(c, ctx)), metrics_note(c)]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect();
    parts.join("; ")
}

/// Said once here when the cluster's pods have no usage figures, instead of on every row.
fn metrics_note(c: &ClusterState) -> Option<String> {
    match &c.metrics.pods {
        MetricsState::Unknown | MetricsState::Served => None,
        m => Some(format!("metrics: {}", m.word())),
    }
}

/// Both lists' states, with the server's answer where one is not served.
fn metrics_detail(c: &ClusterState) -> String {
    let one = |what: &str, m: &MetricsState| match m.detail() {
        Some(d) => format!("{what} {} ({d})", m.word()),
        None => format!("{what} {}", m.word()),
    };
    format!(
        "{}; {}",
        one("pods", &c.metrics.pods),
        one("nodes", &c.metrics.nodes)
    )
}

fn status_note(c: &ClusterState, ctx: &Ctx) -> String {
    match &c.status {
        ClusterStatus::Unreachable { error, since } => {
            format!("since {} ago: {error}", age(ctx.now, Some(*since)))
        }
        ClusterStatus::Degraded { reason } => reason.clone(),
        ClusterStatus::Recorded { at } => {
            format!(
                "stale: recorded {} ago, not listed yet",
                age(ctx.now, Some(*at))
            )
        }
        _ => match &c.alert_source {
            SourceState::Failing { error } => format!("alertmanager: {error}"),
            _ => String::new(),
        },
    }
}

impl RowSource for Clusters {
    type Row = ClusterId;
    /// By name: the row itself.
    type Order = ();

    fn crumb(&self) -> String {
        "Clusters".into()
    }

    fn title(&self) -> &'static str {
        "Clusters"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn collect(&self, ctx: &Ctx, out: &mut Vec<(ClusterId, ())>) {
        out.extend(ctx.fleet.clusters().map(|c| (c.id.clone(), ())));
    }

    fn order(&self, row: &ClusterId, ctx: &Ctx) -> Option<()> {
        ctx.fleet.cluster(row.as_str()).map(|_| ())
    }

    fn changed_since(&self, ctx: &Ctx, since: u64, out: &mut Vec<ClusterId>) -> bool {
        let Some(changes) = ctx.fleet.changes_since(since) else {
            return false;
        };
        out.extend(changes.filter_map(|c| match c {
            Change::Cluster(id) | Change::Alerts(id) => Some(id.clone()),
            // Hub and server counts.
            Change::Hub(hub) => Some(hub.cluster.clone()),
            _ => None,
        }));
        true
    }

    fn cells(&self, row: &ClusterId, ctx: &Ctx) -> Option<Vec<Cell>> {
        let c = ctx.fleet.cluster(row.as_str())?;
        let (mark, role) = cluster_mark(&c.status);
        let alerts = c.alerts.len() + c.derived.len();
        Some(vec![
            Cell::new(row.as_str(), Role::Title),
            Cell::text(c.meta.provider.clone().unwrap_or_else(|| "-".into())),
            Cell::new(format!("{mark} {}", c.status.word()), role),
            Cell::text(
                c.latency
                    .map_or_else(|| "-".into(), |l| format!("{}ms", l.as_millis())),
            ),
            Cell::text(c.hubs.len().to_string()),
            Cell::text(servers(c).to_string()),
            Cell::new(
                alerts.to_string(),
                if alerts > 0 {
                    Role::SeverityWarning
                } else {
                    Role::Dim
                },
            ),
            Cell::new(note(c, ctx), Role::Dim),
        ])
    }

    fn sort_key(&self, row: &ClusterId, col: usize, ctx: &Ctx) -> SortKey {
        let Some(c) = ctx.fleet.cluster(row.as_str()) else {
            return SortKey::Num(i64::MAX);
        };
        match col {
            0 => SortKey::lower(&row.0),
            1 => SortKey::text(c.meta.provider.clone().unwrap_or_default()),
            2 => SortKey::text(c.status.word()),
            3 => SortKey::Num(c.latency.map_or(i64::MAX, |l| l.as_millis() as i64)),
            4 => SortKey::Num(c.hubs.len() as i64),
            5 => SortKey::Num(i64::from(servers(c))),
            6 => SortKey::Num((c.alerts.len() + c.derived.len()) as i64),
            _ => SortKey::text(note(c, ctx).to_lowercase()),
        }
    }

    fn target(&self, row: &ClusterId, _ctx: &Ctx) -> Option<Target> {
        Some(Target::Cluster(row.clone()))
    }

    fn open(&self, row: &ClusterId, _ctx: &Ctx) -> Result<Open, String> {
        Ok(Open::Hubs(row.clone()))
    }

    fn describe(&self, row: &ClusterId, ctx: &Ctx) -> Result<Open, String> {
        let c = ctx.fleet.cluster(row.as_str()).ok_or("cluster is gone")?;
        let mut status = vec![("State".to_string(), c.status.word().to_string())];
        let n = note(c, ctx);
        if !n.is_empty() {
            status.push(("Note".into(), n));
        }
        status.push((
            "Latency".into(),
            c.latency
                .map_or_else(|| "-".into(), |l| format!("{}ms", l.as_millis())),
        ));
        status.push((
            "Last update".into(),
            format!("{} ago", age(ctx.now, c.updated)),
        ));
        let meta = vec![
            ("Context".to_string(), c.meta.context.clone()),
            ("Scope".into(), c.scope.to_string()),
            ("Metrics".into(), metrics_detail(c)),
            (
                "Provider".into(),
                c.meta.provider.clone().unwrap_or_else(|| "-".into()),
            ),
            (
                "API server".into(),
                c.meta.server.clone().unwrap_or_else(|| "-".into()),
            ),
        ];
        let hubs = c
            .hubs
            .values()
            .map(|h| {
                (
                    h.id.key.name(),
                    format!(
                        "{} ({} servers)",
                        h.summary.health.level.as_str(),
                        h.summary.servers_total
                    ),
                )
            })
            .collect();
        Ok(Open::Detail {
            title: format!("{row} › Detail"),
            sections: vec![
                ("Cluster".into(), meta),
                ("Status".into(), status),
                ("Hubs".into(), hubs),
            ],
            describe: None,
            target: None,
            link: None,
        })
    }
}
