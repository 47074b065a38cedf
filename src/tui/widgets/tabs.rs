//! The tab strip: every top-level pane with the key that opens it, the current one
//! highlighted, then where the person is below it. A newcomer sees on the first screen which
//! panes exist without opening the help.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::config::keymap::{Command, Context, Keymap};
use crate::config::theme::{Role, Theme};

use super::super::text::{fit, fit_end, width};

/// The top-level panes in key order: the command opening each, its title (the crumb of its
/// root pane) and a short title for narrow terminals.
pub const TABS: &[(Command, &str, &str)] = &[
    (Command::PaneHubs, "Hubs", "Hub"),
    (Command::PaneClusters, "Clusters", "Clu"),
    (Command::PaneServers, "Servers", "Srv"),
    (Command::PaneAlerts, "Alerts", "Alr"),
    (Command::PaneEvents, "Events", "Evt"),
    (Command::PaneNodes, "Nodes", "Nod"),
];

/// What the strip shows besides the tabs.
pub struct Where<'a> {
    /// The crumb of the root pane (selects the current tab).
    pub root: &'a str,
    /// The crumbs below the root (`leap › Hubs`), empty at the root.
    pub below: &'a str,
    /// Mutations are refused.
    pub readonly: bool,
    /// The fleet shown is a recording's.
    pub replay: bool,
}

/// Draws the strip on one line. The tabs never give way: the path below them is cut from the
/// left, then the tabs shorten, so all of them fit in 80 columns.
pub fn draw_tabs(frame: &mut Frame, area: Rect, at: &Where, keymap: &Keymap, theme: &Theme) {
    let max = usize::from(area.width);
    let base = theme.style(Role::Breadcrumb);
    let labels = |short: bool| -> Vec<(String, bool)> {
        TABS.iter()
            .map(|(cmd, title, abbr)| {
                let key = keymap
                    .keys_for(Context::Global, *cmd)
                    .first()
                    .map(|k| format!("{k} "))
                    .unwrap_or_default();
                let name = if short { abbr } else { title };
                (format!(" {key}{name} "), *title == at.root)
            })
            .collect()
    };
    let mut tabs = labels(false);
    if tabs.iter().map(|(l, _)| width(l)).sum::<usize>() + 1 > max {
        tabs = labels(true);
    }
    let mut spans: Vec<Span> = vec![Span::styled(" ", base)];
    let mut used = 1;
    for (label, current) in tabs {
        let label = fit(&label, max.saturating_sub(used)).into_owned();
        used += width(&label);
        let style = if current {
            base.patch(theme.style(Role::Selection))
        } else {
            base
        };
        spans.push(Span::styled(label, style));
    }
    let mut tail = String::new();
    if !at.below.is_empty() {
        tail.push_str("│ ");
        tail.push_str(at.below);
    }
    if at.replay {
        tail.push_str("  [replay: read-only]");
    } else if at.readonly {
        tail.push_str("  [read-only]");
    }
    let room = max.saturating_sub(used);
    if !tail.is_empty() && room > 1 {
        // The deepest crumb is the one that says where the person is.
        spans.push(Span::styled(fit_end(&tail, room).into_owned(), base));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(base), area);
}
