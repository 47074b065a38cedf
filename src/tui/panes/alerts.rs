//! Alerts: firing Alertmanager alerts and the ones hubdeck derives, most severe first; Enter jumps
//! to the hub or pod an alert concerns.

use std::sync::Arc;

use crate::config::theme::Role;
use jiff::Timestamp;

use crate::fleet::{
    AlertInfo, AlertOrigin, Change, ClusterId, ClusterState, Component, HubId, HubKey, Severity,
};

use super::super::app::Target;
use super::super::text::age;
use super::super::widgets::severity_role;
use super::super::widgets::table::{Cell, Column, RowSource, SortKey, col, flex};
use super::super::{DescribeKind, DescribeRequest};
use super::{Ctx, Open};

const COLUMNS: &[Column] = &[
    col("SEVERITY", 8, 0),
    col("ALERT", 22, 0),
    col("CLUSTER", 12, 1),
    col("HUB/OBJECT", 22, 2),
    col("SINCE", 5, 3),
    col("ORIGIN", 12, 4),
    col("SILENCED", 8, 3),
    flex("SUMMARY", 20, 5),
];

/// An alert row: its cluster and fingerprint.
pub type AlertRow = (ClusterId, Arc<str>);

/// Rows of the alerts table.
pub struct Alerts;

fn lookup<'a>(row: &AlertRow, ctx: &Ctx<'a>) -> Option<(&'a ClusterState, &'a AlertInfo)> {
    let c = ctx.fleet.cluster(row.0.as_str())?;
    let a = c
        .alerts
        .iter()
        .chain(c.derived.iter())
        .find(|a| a.fingerprint == row.1)?;
    Some((c, a))
}

/// The hub an alert concerns, from its namespace and/or release labels.
pub fn alert_hub(c: &ClusterState, a: &AlertInfo) -> Option<HubId> {
    let key = match (&a.namespace, &a.release) {
        (Some(ns), Some(rel)) => HubKey {
            namespace: ns.clone(),
            release: rel.clone(),
        },
        (ns, rel) => c
            .hubs
            .keys()
            .find(|k| {
                ns.as_ref().is_none_or(|n| *n == k.namespace)
                    && rel.as_ref().is_none_or(|r| *r == k.release)
            })
            .filter(|_| ns.is_some() || rel.is_some())?
            .clone(),
    };
    c.hubs.contains_key(&key).then(|| HubId {
        cluster: c.id.clone(),
        key,
    })
}

fn object(a: &AlertInfo) -> String {
    let hub = match (&a.namespace, &a.release) {
        (Some(ns), Some(rel)) if ns == rel => ns.to_string(),
        (Some(ns), Some(rel)) => format!("{ns}/{rel}"),
        (Some(x), None) | (None, Some(x)) => x.to_string(),
        (None, None) => String::new(),
    };
    match &a.pod {
        Some(p) if hub.is_empty() => format!("pod {p}"),
        Some(p) => format!("{hub}: {p}"),
        None => hub,
    }
}

fn order(c: &ClusterState, a: &AlertInfo) -> <Alerts as RowSource>::Order {
    (
        !a.silenced_by.is_empty(),
        a.severity,
        c.id.clone(),
        a.name.clone(),
        a.since,
    )
}

impl RowSource for Alerts {
    type Row = AlertRow;
    /// Unsilenced first, most severe first, then by cluster, name and start.
    type Order = (bool, Severity, ClusterId, Arc<str>, Option<Timestamp>);

    fn crumb(&self) -> String {
        "Alerts".into()
    }

    fn title(&self) -> &'static str {
        "Alerts"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn collect(&self, ctx: &Ctx, out: &mut Vec<(AlertRow, Self::Order)>) {
        out.extend(
            ctx.fleet
                .alerts()
                .map(|(c, a)| ((c.id.clone(), a.fingerprint.clone()), order(c, a))),
        );
    }

    fn order(&self, row: &AlertRow, ctx: &Ctx) -> Option<Self::Order> {
        lookup(row, ctx).map(|(c, a)| order(c, a))
    }

    /// Alerts arrive as whole lists: any change collects them again, but churn elsewhere in
    /// the fleet costs nothing.
    fn changed_since(&self, ctx: &Ctx, since: u64, _out: &mut Vec<AlertRow>) -> bool {
        ctx.fleet
            .changes_since(since)
            .is_some_and(|mut changes| !changes.any(|c| matches!(c, Change::Alerts(_))))
    }

    fn cells(&self, row: &AlertRow, ctx: &Ctx) -> Option<Vec<Cell>> {
        let (_, a) = lookup(row, ctx)?;
        let silenced = !a.silenced_by.is_empty();
        let sev = if silenced {
            Role::Silenced
        } else {
            severity_role(a.severity)
        };
        Some(vec![
            Cell::new(a.severity.as_str(), sev),
            Cell::new(
                a.name.to_string(),
                if silenced {
                    Role::Silenced
                } else {
                    Role::Title
                },
            ),
            Cell::text(row.0.as_str()),
            Cell::text(object(a)),
            Cell::text(age(ctx.now, a.since)),
            Cell::new(
                match a.origin {
                    AlertOrigin::Alertmanager => "alertmanager",
                    AlertOrigin::Derived => "derived",
                },
                Role::Dim,
            ),
            if silenced {
                Cell::new("silenced", Role::Silenced)
            } else {
                Cell::new("-", Role::Dim)
            },
            Cell::new(a.summary.clone(), Role::Dim),
        ])
    }

    fn sort_key(&self, row: &AlertRow, col: usize, ctx: &Ctx) -> SortKey {
        let Some((_, a)) = lookup(row, ctx) else {
            return SortKey::Num(i64::MAX);
        };
        match col {
            0 => SortKey::Num(a.severity as i64),
            1 => SortKey::text(a.name.to_lowercase()),
            2 => SortKey::text(row.0.as_str().to_lowercase()),
            3 => SortKey::text(object(a).to_lowercase()),
            4 => SortKey::Num(a.since.map_or(i64::MAX, |t| -t.as_second())),
            5 => SortKey::Num(a.origin as i64),
            6 => SortKey::Num(i64::from(!a.silenced_by.is_empty())),
            _ => SortKey::text(a.summary.to_lowercase()),
        }
    }

    fn target(&self, row: &AlertRow, ctx: &Ctx) -> Option<Target> {
        let (c, a) = lookup(row, ctx)?;
        Some(Target::Alert {
            cluster: row.0.clone(),
            fingerprint: row.1.clone(),
            name: a.name.clone(),
            hub: alert_hub(c, a),
        })
    }

    fn open(&self, row: &AlertRow, ctx: &Ctx) -> Result<Open, String> {
        let (c, a) = lookup(row, ctx).ok_or("alert resolved")?;
        let hub = alert_hub(c, a);
        let pod = a.pod.as_ref().and_then(|p| {
            let hub = ctx.fleet.hub(hub.as_ref()?)?;
            Some((hub, hub.pods.get(p)?))
        });
        match (pod, hub) {
            (Some((hub, pod)), _) if pod.component == Component::SingleuserServer => {
                Ok(super::server_detail::server_detail(hub, pod, ctx))
            }
            (Some((hub, pod)), _) => Ok(Open::Detail {
                title: format!("{} › {}", hub.id, pod.key.name),
                sections: vec![("Alert".into(), alert_fields(a))],
                describe: Some(DescribeRequest {
                    cluster: hub.id.cluster.clone(),
                    kind: DescribeKind::Pod,
                    namespace: pod.key.namespace.to_string(),
                    name: pod.key.name.to_string(),
                }),
                target: None,
                link: None,
            }),
            (None, hub) => Ok(match (node_of(a), hub) {
                // A node alert: the node, whose servers are one Enter away.
                (Some(node), _) => Open::Node(row.0.clone(), node.into()),
                (None, Some(hub)) => Open::HubDetail(hub),
                (None, None) => Open::Hubs(row.0.clone()),
            }),
        }
    }

    fn describe(&self, row: &AlertRow, ctx: &Ctx) -> Result<Open, String> {
        let (_, a) = lookup(row, ctx).ok_or("alert resolved")?;
        Ok(Open::Detail {
            title: format!("{} › Detail", a.name),
            sections: vec![
                ("Alert".into(), alert_fields(a)),
                ("Labels".into(), a.labels.clone()),
            ],
            describe: None,
            target: None,
            link: None,
        })
    }
}

/// The node an alert names (derived node alerts, and Alertmanager's with a `node` label).
fn node_of(a: &AlertInfo) -> Option<&str> {
    a.labels
        .iter()
        .find(|(k, _)| k == "node")
        .map(|(_, v)| v.as_str())
}

fn alert_fields(a: &AlertInfo) -> Vec<(String, String)> {
    vec![
        ("Name".to_string(), a.name.to_string()),
        ("Severity".into(), a.severity.as_str().into()),
        ("Summary".into(), a.summary.clone()),
        (
            "Since".into(),
            a.since.map_or_else(|| "-".into(), |t| t.to_string()),
        ),
        (
            "Silenced by".into(),
            if a.silenced_by.is_empty() {
                "-".into()
            } else {
                a.silenced_by.join(", ")
            },
        ),
    ]
}
