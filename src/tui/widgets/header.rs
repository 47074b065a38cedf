//! The header (the fleet at a glance) and the status line (cluster connections, key hints or a
//! toast).

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::config::theme::{Role, Theme};
use crate::fleet::{ClusterStatus, Fleet, HealthLevel};

use super::super::text::{age, fit, width};
use super::cluster_mark;

/// Fleet figures shown in the header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Glance {
    /// Clusters ready.
    pub clusters_ready: usize,
    /// Clusters known.
    pub clusters: usize,
    /// Hubs by health.
    pub ok: usize,
    /// Degraded hubs.
    pub degraded: usize,
    /// Down hubs.
    pub down: usize,
    /// Hubs with stale data.
    pub unknown: usize,
    /// Hubs the deployment repository declares that their cluster does not run.
    pub missing: usize,
    /// Ready user servers.
    pub active: u64,
    /// Pending user servers.
    pub pending: u64,
    /// Firing, unsilenced alerts.
    pub alerts: usize,
    /// When the newest update arrived.
    pub newest: Option<Timestamp>,
}

impl Glance {
    /// Counts the fleet (proportional to clusters and hubs, not servers).
    pub fn of(fleet: &Fleet) -> Self {
        let mut g = Glance::default();
        for c in fleet.clusters() {
            g.clusters += 1;
            g.clusters_ready += usize::from(c.status == ClusterStatus::Ready);
            g.newest = g.newest.max(c.updated);
            for h in c.hubs.values() {
                match h.summary.health.level {
                    HealthLevel::Ok => g.ok += 1,
                    HealthLevel::Degraded => g.degraded += 1,
                    HealthLevel::Down => g.down += 1,
                    HealthLevel::Missing => g.missing += 1,
                    HealthLevel::Unknown => g.unknown += 1,
                }
                g.active += u64::from(h.summary.servers_ready);
                g.pending += u64::from(h.summary.servers_pending);
            }
        }
        g.alerts = fleet
            .alerts()
            .filter(|(_, a)| a.silenced_by.is_empty())
            .count();
        g
    }
}

/// Draws the header: full at 100+ columns, condensed below.
pub fn draw_header(frame: &mut Frame, area: Rect, g: &Glance, now: Timestamp, theme: &Theme) {
    let base = theme.style(Role::Header);
    let wide = area.width >= 124;
    let fresh = match g.newest {
        Some(t) => format!("{} ago", age(now, Some(t))),
        None => "no data yet".into(),
    };
    let sep = Span::styled(" │ ", base);
    let count = |n: usize, word: &str, role: Role| {
        let style = if n > 0 {
            base.patch(theme.style(role))
        } else {
            base
        };
        Span::styled(format!("{n} {word}"), style)
    };
    let mut spans = vec![Span::styled(
        if area.width >= 140 {
            " hubdeck │ "
        } else {
            " "
        },
        base,
    )];
    spans.push(Span::styled(
        if wide {
            format!("clusters {}/{} ready", g.clusters_ready, g.clusters)
        } else {
            format!("clu {}/{}", g.clusters_ready, g.clusters)
        },
        if g.clusters_ready < g.clusters {
            base.patch(theme.style(Role::HealthDegraded))
        } else {
            base
        },
    ));
    spans.push(sep.clone());
    spans.push(Span::styled(if wide { "hubs " } else { "" }, base));
    spans.push(Span::styled(format!("{} ok", g.ok), base));
    spans.push(Span::styled(" ", base));
    spans.push(count(
        g.degraded,
        if wide { "degraded" } else { "deg" },
        Role::HealthDegraded,
    ));
    spans.push(Span::styled(" ", base));
    spans.push(count(g.down, "down", Role::HealthDown));
    if g.missing > 0 {
        spans.push(Span::styled(" ", base));
        spans.push(count(
            g.missing,
            if wide { "missing" } else { "miss" },
            Role::HealthDegraded,
        ));
    }
    if g.unknown > 0 {
        spans.push(Span::styled(" ", base));
        spans.push(count(
            g.unknown,
            if wide { "unknown" } else { "?" },
            Role::HealthUnknown,
        ));
    }
    spans.push(sep.clone());
    spans.push(Span::styled(
        if wide {
            format!("servers {} active {} pending", g.active, g.pending)
        } else {
            format!("srv {}+{}p", g.active, g.pending)
        },
        base,
    ));
    spans.push(sep.clone());
    spans.push(count(
        g.alerts,
        if wide { "alerts firing" } else { "alerts" },
        Role::SeverityCritical,
    ));
    spans.push(sep);
    spans.push(Span::styled(
        if wide {
            format!("updated {fresh}")
        } else {
            fresh
        },
        base,
    ));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(base), area);
}

/// Draws the status line: a mark per cluster (unreachable ones named, with since-when), then
/// the hints or a toast on the right.
pub fn draw_status(
    frame: &mut Frame,
    area: Rect,
    fleet: &Fleet,
    now: Timestamp,
    right: Line<'static>,
    theme: &Theme,
) {
    let right_w = right.width() as u16;
    let left_w = usize::from(area.width.saturating_sub(right_w + 1));
    let mut spans = Vec::new();
    let mut used = 0;
    let clusters: Vec<_> = fleet.clusters().collect();
    let named = clusters.len() <= 6;
    for c in &clusters {
        let (mark, role) = cluster_mark(&c.status);
        let label = match &c.status {
            ClusterStatus::Unreachable { since, .. } => {
                format!("{mark} {} down {} ", c.id, age(now, Some(*since)))
            }
            _ if named => format!("{mark} {} ", c.id),
            _ => mark.to_string(),
        };
        let label = fit(&label, left_w.saturating_sub(used)).into_owned();
        used += width(&label);
        spans.push(Span::styled(label, theme.style(role)));
        if used >= left_w {
            break;
        }
    }
    let pad = usize::from(area.width).saturating_sub(used + usize::from(right_w));
    spans.push(Span::raw(" ".repeat(pad)));
    spans.extend(right.spans);
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
