//! Hubs: fleet-wide by default (every hub of every cluster, worst health first), or the hubs of
//! one cluster after a drill-down. The selected hub's observed trend is drawn below the table.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Sparkline};

use crate::config::theme::Role;
use crate::fleet::{
    CRITICAL_AFTER, Change, ClusterId, Component, Declaration, HealthLevel, HubId, HubState,
    OutsideCheck, Replicas,
};

use super::super::app::Target;
use super::super::trends;
use super::super::widgets::table::{Cell, Column, RowSource, SortKey, col, flex};
use super::super::widgets::usage::{cpu_cell, mem_cell, used_key};
use super::super::widgets::{health_badge, health_role};
use super::{Ctx, Open, log_request};

const COLUMNS: &[Column] = &[
    col("CLUSTER", 14, 2),
    col("HUB", 18, 0),
    col("HEALTH", 10, 0),
    col("HUB RDY", 7, 4),
    col("PRX RDY", 7, 4),
    col("SERVERS", 8, 1),
    col("PLACEH", 6, 5),
    col("TREND", 12, 6),
    // What the hub's pods use together (metrics.k8s.io).
    col("CPU USED", 8, 7),
    col("MEM USED", 8, 6),
    // The last check of https://<domain>/hub/health from outside: `200 84ms`, `tls`, `—`.
    col("OUTSIDE", 8, 3),
    flex("REASON", 16, 3),
];
/// The MEM USED column, for `sort-fullest`.
const MEM_USED: usize = 9;
/// The OUTSIDE column.
const OUTSIDE: usize = 10;

/// Rows of the hubs table.
pub struct Hubs {
    scope: Option<ClusterId>,
}

impl Hubs {
    fn in_scope(&self, hub: &HubId) -> bool {
        self.scope.as_ref().is_none_or(|c| *c == hub.cluster)
    }

    /// Every hub of the fleet.
    pub fn fleet() -> Self {
        Self { scope: None }
    }

    /// Hubs of one cluster.
    pub fn of(cluster: ClusterId) -> Self {
        Self {
            scope: Some(cluster),
        }
    }
}

fn replicas(r: Option<Replicas>) -> Cell {
    match r {
        None => Cell::new("-", Role::Dim),
        Some(r) => {
            let role = if r.desired == 0 {
                Role::Dim
            } else if r.ready == 0 {
                Role::HealthDown
            } else if r.ready < r.desired {
                Role::HealthDegraded
            } else {
                Role::HealthOk
            };
            Cell::new(format!("{}/{}", r.ready, r.desired), role)
        }
    }
}

/// Why not ok, led by drift from the deployment repository: a hub nobody declared is worth
/// knowing about even when healthy.
fn reason(hub: &HubState, ctx: &Ctx) -> Cell {
    let undeclared = ctx
        .fleet
        .cluster(hub.id.cluster.as_str())
        .is_some_and(|c| c.declaration(hub) == Declaration::Undeclared);
    match (undeclared, hub.summary.health.reason.as_str()) {
        (true, "") => Cell::new(
            "undeclared: not in the deployment repository",
            Role::HealthDegraded,
        ),
        (true, r) => Cell::new(format!("undeclared; {r}"), Role::HealthDegraded),
        (false, r) => Cell::new(r.to_string(), Role::Dim),
    }
}

/// The hub's last check from outside, when the repository gives it a domain.
fn outside<'a>(hub: &HubState, ctx: &Ctx<'a>) -> Option<&'a OutsideCheck> {
    ctx.fleet
        .cluster(hub.id.cluster.as_str())
        .and_then(|c| c.outside_of(hub))
}

/// `200 84ms` when it answered as expected, the failure's word (`tls`, `503 12ms`) in the
/// health colours, `…` before the first check, `—` for a hub without a domain.
fn outside_cell(hub: &HubState, ctx: &Ctx) -> Cell {
    let has_domain = hub.declared.as_ref().is_some_and(|d| d.domain.is_some());
    match outside(hub, ctx) {
        Some(o) if o.passed() => Cell::new(o.brief(), Role::HealthOk),
        Some(o) if o.failures >= CRITICAL_AFTER => Cell::new(o.brief(), Role::HealthDown),
        Some(o) => Cell::new(o.brief(), Role::HealthDegraded),
        None if has_domain => Cell::new("…", Role::Dim),
        None => Cell::new("—", Role::Dim),
    }
}

/// The pod of a component to stream logs from: a running one if there is one.
pub fn component_pod(hub: &HubState, c: Component) -> Option<&crate::fleet::PodInfo> {
    crate::action::component_pod(hub, c)
}

impl RowSource for Hubs {
    type Row = HubId;
    /// Worst health first, then by id.
    type Order = HealthLevel;

    fn crumb(&self) -> String {
        match &self.scope {
            Some(c) => format!("{c} › Hubs"),
            None => "Hubs".into(),
        }
    }

    fn title(&self) -> &'static str {
        "Hubs"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn collect(&self, ctx: &Ctx, out: &mut Vec<(HubId, HealthLevel)>) {
        let row = |h: &HubState| (h.id.clone(), h.summary.health.level);
        match &self.scope {
            Some(c) => out.extend(
                ctx.fleet
                    .cluster(c.as_str())
                    .into_iter()
                    .flat_map(|c| c.hubs.values().map(row)),
            ),
            None => out.extend(ctx.fleet.hubs().map(row)),
        }
    }

    fn order(&self, row: &HubId, ctx: &Ctx) -> Option<HealthLevel> {
        let hub = ctx.fleet.hub(row).filter(|_| self.in_scope(row))?;
        Some(hub.summary.health.level)
    }

    fn changed_since(&self, ctx: &Ctx, since: u64, out: &mut Vec<HubId>) -> bool {
        let Some(changes) = ctx.fleet.changes_since(since) else {
            return false;
        };
        out.extend(changes.filter_map(|c| match c {
            Change::Hub(id) if self.in_scope(id) => Some(id.clone()),
            _ => None,
        }));
        true
    }

    fn cells(&self, row: &HubId, ctx: &Ctx) -> Option<Vec<Cell>> {
        let hub = ctx.fleet.hub(row)?;
        let s = &hub.summary;
        let servers_role = if s.servers_stuck > 0 {
            Role::HealthDegraded
        } else {
            Role::Text
        };
        let trend = ctx.trends.of(row).map(|t| t.bars(12)).unwrap_or_default();
        Some(vec![
            Cell::text(row.cluster.as_str()),
            Cell::new(row.key.name(), Role::Title),
            Cell::new(health_badge(s.health.level), health_role(s.health.level)),
            replicas(s.hub),
            replicas(s.proxy),
            Cell::new(
                format!("{}/{}", s.servers_ready, s.servers_pending),
                servers_role,
            ),
            replicas(s.placeholders),
            Cell::new(trend, Role::Sparkline),
            cpu_cell(hub.usage.total(ctx.now)),
            mem_cell(hub.usage.total(ctx.now)),
            outside_cell(hub, ctx),
            reason(hub, ctx),
        ])
    }

    fn sort_key(&self, row: &HubId, col: usize, ctx: &Ctx) -> SortKey {
        let Some(hub) = ctx.fleet.hub(row) else {
            return SortKey::Num(i64::MAX);
        };
        let s = &hub.summary;
        let ready = |r: Option<Replicas>| SortKey::Num(r.map_or(-1, |r| i64::from(r.ready)));
        match col {
            0 => SortKey::lower(&row.cluster.0),
            1 => SortKey::text(row.key.name().to_lowercase()),
            2 => SortKey::Num(s.health.level as i64),
            3 => ready(s.hub),
            4 => ready(s.proxy),
            5 => SortKey::Num(i64::from(s.servers_ready + s.servers_pending)),
            6 => ready(s.placeholders),
            7 => SortKey::Num(
                ctx.trends
                    .of(row)
                    .and_then(|t| t.active.back().copied())
                    .unwrap_or(0) as i64,
            ),
            8 => used_key(hub.usage.total(ctx.now).map(|u| u64::from(u.cpu_milli))),
            MEM_USED => used_key(hub.usage.total(ctx.now).map(|u| u.memory_bytes)),
            // Failing hubs first, the longest failing run first; then the slowest answers.
            OUTSIDE => match outside(hub, ctx) {
                Some(o) if !o.passed() => SortKey::Num(-i64::from(o.failures)),
                Some(o) => SortKey::Num(
                    o.latency
                        .map_or(0, |l| i64::try_from(l.as_millis()).unwrap_or(i64::MAX)),
                ),
                None => SortKey::Num(i64::MAX),
            },
            _ => SortKey::text(s.health.reason.to_lowercase()),
        }
    }

    fn fullest_column(&self) -> Option<usize> {
        Some(MEM_USED)
    }

    fn target(&self, row: &HubId, _ctx: &Ctx) -> Option<Target> {
        Some(Target::Hub(row.clone()))
    }

    fn markable(&self) -> bool {
        true
    }

    fn marked_target(&self, rows: &[HubId], ctx: &Ctx) -> Option<Target> {
        let list: Vec<HubId> = rows
            .iter()
            .filter(|h| ctx.fleet.hub(h).is_some())
            .cloned()
            .collect();
        (!list.is_empty()).then_some(Target::Hubs(list))
    }

    fn open(&self, row: &HubId, _ctx: &Ctx) -> Result<Open, String> {
        Ok(Open::Servers(row.clone()))
    }

    fn logs(&self, row: &HubId, ctx: &Ctx, proxy: bool) -> Result<Open, String> {
        let hub = ctx.fleet.hub(row).ok_or("hub is gone")?;
        let (c, what) = if proxy {
            (Component::Proxy, "proxy")
        } else {
            (Component::Hub, "hub")
        };
        let pod = component_pod(hub, c).ok_or_else(|| format!("{row}: no {what} pod"))?;
        Ok(Open::Logs(log_request(&row.cluster, &pod.key)))
    }

    fn describe(&self, row: &HubId, _ctx: &Ctx) -> Result<Open, String> {
        Ok(Open::HubDetail(row.clone()))
    }

    fn footer_height(&self) -> u16 {
        4
    }

    fn draw_footer(&self, row: Option<&HubId>, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        draw_trend(row, frame, area, ctx);
    }
}

/// The observed trend of a hub: active servers as a sparkline, with the figures.
pub fn draw_trend(hub: Option<&HubId>, frame: &mut Frame, area: Rect, ctx: &Ctx) {
    let t = ctx.theme;
    let Some(id) = hub else { return };
    let trend = ctx.trends.of(id);
    let active = trend.map(|t| t.active_vec()).unwrap_or_default();
    let pending = trend
        .map(|t| t.pending.back().copied().unwrap_or(0))
        .unwrap_or(0);
    let peak = active.iter().copied().max().unwrap_or(0);
    let [label, spark] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let every = trends::EVERY.as_secs();
    // Say what the figures span: "over 3 samples" made a person count, and before the first
    // sample "now 0" read as an empty hub.
    let text = match active.last() {
        None => format!(" {id}: no samples yet (one every {every}s since the console started)"),
        Some(now) => {
            // At most SAMPLES × EVERY = 10 minutes.
            let secs = every.saturating_mul(active.len() as i64);
            let span = if secs < 120 {
                format!("{secs}s")
            } else {
                format!("{}m", secs / 60)
            };
            format!(
                " {id}: active servers {now} now, peak {peak} in the last {span} · pending {pending}"
            )
        }
    };
    frame.render_widget(
        Paragraph::new(Line::styled(
            super::super::text::fit(&text, usize::from(area.width)).into_owned(),
            t.style(Role::Dim),
        )),
        label,
    );
    frame.render_widget(
        Sparkline::default()
            .data(&active)
            .style(t.style(Role::Sparkline)),
        spark,
    );
}
