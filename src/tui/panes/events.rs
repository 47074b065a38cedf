//! Warning events of hub namespaces, newest first.

use std::cmp::Reverse;

use jiff::Timestamp;

use crate::config::theme::Role;
use crate::fleet::{Change, ClusterId, EventInfo, ObjectKey};

use super::super::app::Target;
use super::super::text::age;
use super::super::widgets::table::{Cell, Column, RowSource, SortKey, col, flex};
use super::super::{DescribeKind, DescribeRequest};
use super::{Ctx, Open};

const COLUMNS: &[Column] = &[
    col("AGE", 4, 0),
    col("CLUSTER", 12, 1),
    col("NAMESPACE", 12, 3),
    col("OBJECT", 24, 2),
    col("REASON", 16, 0),
    col("COUNT", 5, 4),
    flex("MESSAGE", 20, 0),
];

/// An event row: its cluster and the Event object's key.
pub type EventRow = (ClusterId, ObjectKey);

/// Rows of the events table.
pub struct Events;

fn lookup<'a>(row: &EventRow, ctx: &Ctx<'a>) -> Option<&'a EventInfo> {
    ctx.fleet
        .cluster(row.0.as_str())?
        .events
        .iter()
        .rev()
        .find(|e| e.key == row.1)
}

impl RowSource for Events {
    type Row = EventRow;
    /// Newest first, then by cluster and object.
    type Order = Reverse<Option<Timestamp>>;

    fn crumb(&self) -> String {
        "Events".into()
    }

    fn title(&self) -> &'static str {
        "Events"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn collect(&self, ctx: &Ctx, out: &mut Vec<(EventRow, Self::Order)>) {
        out.extend(ctx.fleet.clusters().flat_map(|c| {
            c.events
                .iter()
                .map(|e| ((c.id.clone(), e.key.clone()), Reverse(e.last_seen)))
        }));
    }

    fn order(&self, row: &EventRow, ctx: &Ctx) -> Option<Self::Order> {
        lookup(row, ctx).map(|e| Reverse(e.last_seen))
    }

    /// A ring of events changes at both ends: any change collects them again, but churn
    /// elsewhere in the fleet costs nothing.
    fn changed_since(&self, ctx: &Ctx, since: u64, _out: &mut Vec<EventRow>) -> bool {
        ctx.fleet
            .changes_since(since)
            .is_some_and(|mut changes| !changes.any(|c| matches!(c, Change::Events(_))))
    }

    fn cells(&self, row: &EventRow, ctx: &Ctx) -> Option<Vec<Cell>> {
        let e = lookup(row, ctx)?;
        Some(vec![
            Cell::new(age(ctx.now, e.last_seen), Role::Dim),
            Cell::text(row.0.as_str()),
            Cell::text(row.1.namespace.to_string()),
            Cell::text(e.object.to_string()),
            Cell::new(e.reason.to_string(), Role::SeverityWarning),
            Cell::new(e.count.to_string(), Role::Dim),
            Cell::text(e.message.to_string()),
        ])
    }

    fn sort_key(&self, row: &EventRow, col: usize, ctx: &Ctx) -> SortKey {
        let Some(e) = lookup(row, ctx) else {
            return SortKey::Num(i64::MAX);
        };
        match col {
            0 => SortKey::Num(e.last_seen.map_or(i64::MAX, |t| -t.as_second())),
            1 => SortKey::text(row.0.as_str().to_lowercase()),
            2 => SortKey::text(row.1.namespace.to_lowercase()),
            3 => SortKey::text(e.object.to_lowercase()),
            4 => SortKey::text(e.reason.to_lowercase()),
            5 => SortKey::Num(i64::from(e.count)),
            _ => SortKey::text(e.message.to_lowercase()),
        }
    }

    fn target(&self, row: &EventRow, _ctx: &Ctx) -> Option<Target> {
        Some(Target::Cluster(row.0.clone()))
    }

    fn open(&self, row: &EventRow, ctx: &Ctx) -> Result<Open, String> {
        let e = lookup(row, ctx).ok_or("event expired")?;
        let describe = e.object.split_once('/').and_then(|(kind, name)| {
            let kind = match kind {
                "Pod" => DescribeKind::Pod,
                "Deployment" => DescribeKind::Deployment,
                "StatefulSet" => DescribeKind::StatefulSet,
                _ => return None,
            };
            Some(DescribeRequest {
                cluster: row.0.clone(),
                kind,
                namespace: row.1.namespace.to_string(),
                name: name.to_string(),
            })
        });
        let fields = vec![
            ("Cluster".to_string(), row.0.to_string()),
            ("Namespace".into(), row.1.namespace.to_string()),
            ("Object".into(), e.object.to_string()),
            ("Reason".into(), e.reason.to_string()),
            ("Message".into(), e.message.to_string()),
            ("Count".into(), e.count.to_string()),
            (
                "Last seen".into(),
                format!("{} ago", age(ctx.now, e.last_seen)),
            ),
        ];
        Ok(Open::Detail {
            title: format!("{} › Detail", e.object),
            sections: vec![("Event".into(), fields)],
            describe,
            target: None,
            link: None,
        })
    }

    fn describe(&self, row: &EventRow, ctx: &Ctx) -> Result<Open, String> {
        self.open(row, ctx)
    }
}
