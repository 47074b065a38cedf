//! Widgets shared by panes: the table, the header and status line, overlays and the line input,
//! plus the mapping from fleet states to style roles.

pub mod header;
pub mod help;
pub mod input;
pub mod palette;
pub mod table;
pub mod tabs;
pub mod timeline;
pub mod usage;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::config::theme::{Role, Theme};
use crate::fleet::{ClusterStatus, HealthLevel, Severity};

use super::text::sanitize;
use input::LineInput;

/// The role styling a health level.
pub fn health_role(level: HealthLevel) -> Role {
    match level {
        HealthLevel::Ok => Role::HealthOk,
        HealthLevel::Degraded => Role::HealthDegraded,
        HealthLevel::Down => Role::HealthDown,
        HealthLevel::Missing => Role::HealthDegraded,
        HealthLevel::Unknown => Role::HealthUnknown,
    }
}

/// A badge readable without colour: symbol and word.
pub fn health_badge(level: HealthLevel) -> &'static str {
    match level {
        HealthLevel::Ok => "✔ ok",
        HealthLevel::Degraded => "▲ degraded",
        HealthLevel::Down => "✖ DOWN",
        HealthLevel::Missing => "∅ missing",
        HealthLevel::Unknown => "? unknown",
    }
}

/// The role styling an alert severity.
pub fn severity_role(s: Severity) -> Role {
    match s {
        Severity::Critical => Role::SeverityCritical,
        Severity::Warning => Role::SeverityWarning,
        Severity::Info => Role::SeverityInfo,
    }
}

/// Symbol and role of a cluster's connection state (distinct symbols, so mono stays readable).
pub fn cluster_mark(status: &ClusterStatus) -> (&'static str, Role) {
    match status {
        ClusterStatus::Ready => ("●", Role::HealthOk),
        ClusterStatus::Connecting => ("◌", Role::HealthUnknown),
        ClusterStatus::Recorded { .. } => ("◷", Role::HealthUnknown),
        ClusterStatus::Degraded { .. } => ("◐", Role::HealthDegraded),
        ClusterStatus::Unreachable { .. } => ("✖", Role::HealthDown),
    }
}

/// Draws a line being typed with a prompt and a block cursor.
pub fn draw_input(frame: &mut Frame, area: Rect, prompt: &str, input: &LineInput, theme: &Theme) {
    let text = sanitize(input.text());
    let (before, after): (String, String) = {
        let at = text
            .char_indices()
            .nth(input.cursor())
            .map_or(text.len(), |(i, _)| i);
        (text[..at].to_string(), text[at..].to_string())
    };
    let mut rest = after.chars();
    let under = rest
        .next()
        .map_or_else(|| " ".to_string(), |c| c.to_string());
    let line = Line::from(vec![
        Span::styled(prompt.to_string(), theme.style(Role::KeyHint)),
        Span::styled(before, theme.style(Role::Input)),
        Span::styled(under, theme.style(Role::Selection)),
        Span::styled(rest.collect::<String>(), theme.style(Role::Input)),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

/// Draws the window of `lines` that fits `area`, starting at `scroll` (clamped so the last
/// page stays full); returns the page height, for page-up/page-down.
pub fn scrolled(frame: &mut Frame, area: Rect, lines: Vec<Line<'_>>, scroll: &mut usize) -> usize {
    let page = usize::from(area.height).max(1);
    *scroll = (*scroll).min(lines.len().saturating_sub(page));
    let visible: Vec<Line> = lines.into_iter().skip(*scroll).take(page).collect();
    frame.render_widget(Paragraph::new(visible), area);
    page
}
