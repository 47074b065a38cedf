//! Which pod of a node a shell goes into: the pods the model knows on the node (user servers
//! first, then hub components), one picked with the dialog's keys. The pick becomes an exec
//! request naming that pod, bound by the one resolver and confirmed in the dialog like a shell
//! opened on a server row.

use std::sync::Arc;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::action::PodSource;
use crate::config::keymap::{Command, Context, Key, Keymap};
use crate::config::theme::{Role, Theme};
use crate::fleet::{ClusterId, Component, Fleet, HubId, HubRef, PodPhase};
use hubdeck_core::action::component_name;

use super::super::text::fit;
use super::layout::{box_width, draw_box, draw_key_hint};

/// A pod on the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodChoice {
    /// Its hub.
    pub hub: HubId,
    /// Its name.
    pub pod: Arc<str>,
    /// What it is: `server ada`, `server ada/gpu`, `hub`, `proxy`.
    pub what: String,
    /// Its phase: a pod that is not running has no shell, and the resolver says so.
    pub phase: PodPhase,
}

/// The pods of `node` a shell can go into: every hub's pods scheduled there, but the
/// placeholders and image pullers, which run only a pause container.
pub fn pods_on(fleet: &Fleet, cluster: &ClusterId, node: &str) -> Vec<PodChoice> {
    let Some(c) = fleet.cluster(cluster.as_str()) else {
        return Vec::new();
    };
    let mut out: Vec<(bool, PodChoice)> = c
        .hubs
        .values()
        .flat_map(|h| h.pods.values().map(move |p| (h, p)))
        .filter(|(_, p)| p.node.as_deref() == Some(node))
        .filter(|(_, p)| {
            !matches!(
                p.component,
                Component::UserPlaceholder | Component::ImagePuller
            )
        })
        .map(|(h, p)| {
            let what = match &p.owner {
                Some(o) if o.server.is_empty() => format!("server {}", o.user),
                Some(o) => format!("server {}/{}", o.user, o.server),
                None => component_name(p.component).to_string(),
            };
            let server = p.component == Component::SingleuserServer;
            let choice = PodChoice {
                hub: h.id.clone(),
                pod: p.key.name.clone(),
                what,
                phase: p.phase,
            };
            (!server, choice)
        })
        .collect();
    out.sort_by(|a, b| (a.0, &a.1.hub, &a.1.pod).cmp(&(b.0, &b.1.hub, &b.1.pod)));
    out.into_iter().map(|(_, c)| c).collect()
}

/// The picker over a node's pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodPicker {
    /// The node's cluster.
    pub cluster: ClusterId,
    /// The node.
    pub node: Arc<str>,
    /// Its pods, never empty.
    pub choices: Vec<PodChoice>,
    selected: usize,
    scroll: usize,
    page: usize,
}

/// What a key did to the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickOutcome {
    /// Still open.
    Stay,
    /// Closed: nothing is asked.
    Cancel,
    /// Open the shell in this pod.
    Pick(PodSource),
}

impl PodPicker {
    /// A picker over `choices` (not empty: the caller says so when a node has none).
    pub fn new(cluster: ClusterId, node: Arc<str>, choices: Vec<PodChoice>) -> Self {
        Self {
            cluster,
            node,
            choices,
            selected: 0,
            scroll: 0,
            page: 10,
        }
    }

    /// The pod selected now.
    pub fn selected(&self) -> Option<&PodChoice> {
        self.choices.get(self.selected)
    }

    /// Moves with the dialog's keys; its confirm picks, its cancel closes.
    pub fn handle(&mut self, keymap: &Keymap, key: &KeyEvent) -> PickOutcome {
        let last = self.choices.len().saturating_sub(1);
        match keymap.lookup_in(Context::Dialog, Key::from_event(key)) {
            Some(Command::Cancel) => return PickOutcome::Cancel,
            Some(Command::Confirm) => {
                if let Some(c) = self.selected() {
                    return PickOutcome::Pick(PodSource::Pod(
                        HubRef::from(&c.hub),
                        c.pod.to_string(),
                    ));
                }
            }
            Some(Command::Up) => self.selected = self.selected.saturating_sub(1),
            Some(Command::Down) => self.selected = (self.selected + 1).min(last),
            Some(Command::PageUp) => self.selected = self.selected.saturating_sub(self.page),
            Some(Command::PageDown) => self.selected = (self.selected + self.page).min(last),
            _ => {}
        }
        PickOutcome::Stay
    }

    /// Draws the list centred over `area`, the selected pod highlighted and kept in view.
    pub fn draw(&mut self, frame: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme) {
        let w = box_width(area, 80);
        let title = format!("Shell on node {} of {}", self.node, self.cluster);
        let Some(b) = draw_box(frame, area, w, self.choices.len(), &title, theme) else {
            return;
        };
        let width = usize::from(b.body.width);
        let what_w = self
            .choices
            .iter()
            .map(|c| c.what.chars().count())
            .max()
            .unwrap_or(0);
        let hub_w = self
            .choices
            .iter()
            .map(|c| c.hub.key.name().chars().count())
            .max()
            .unwrap_or(0);
        self.page = usize::from(b.body.height).max(1);
        if self.selected < self.scroll {
            self.scroll = self.selected;
        } else if self.selected >= self.scroll + self.page {
            self.scroll = self.selected + 1 - self.page;
        }
        let lines: Vec<Line> = self
            .choices
            .iter()
            .enumerate()
            .skip(self.scroll)
            .take(self.page)
            .map(|(i, c)| {
                let phase = match c.phase {
                    PodPhase::Running => String::new(),
                    other => format!("  ({other:?}: no shell)"),
                };
                let text = format!(
                    "{:<what_w$}  {:<hub_w$}  {}{phase}",
                    c.what,
                    c.hub.key.name(),
                    c.pod
                );
                let role = match (i == self.selected, c.phase) {
                    (true, _) => Role::Selection,
                    (false, PodPhase::Running) => Role::Text,
                    (false, _) => Role::Dim,
                };
                Line::styled(format!("{:<width$}", fit(&text, width)), theme.style(role))
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), b.body);
        draw_key_hint(
            frame,
            b.input,
            keymap,
            theme,
            "shell in this pod (the plan is shown first)",
            "cancel",
        );
    }
}
