//! The confirm dialog: exactly what an action will do — the plan's summary, cluster, every step
//! with its API call, warnings, and for a config edit the diff — before anything is sent.
//! `Confirm::Simple` takes y/Enter; `Confirm::Explicit` (destructive or several targets) takes
//! only a typed word (`yes`, or the hub's name) and Enter. Esc or n cancels: nothing is sent and
//! nothing is audited, since nothing was attempted.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::layout::{box_width, draw_box, draw_key_hint};

use crate::action::{Action, Confirm, Plan, Via};
use crate::config::keymap::{Command, Context, Keymap};
use crate::config::theme::{Role, Theme};

use super::super::text::{fit, sanitize, wrap};
use super::super::widgets::draw_input;
use super::super::widgets::input::LineInput;

/// What confirming leads to, so the answer goes back where the action came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A plain action: its outcome is a toast.
    Plain,
    /// The editor's values.yaml: the outcome goes back to the editor.
    ConfigEdit,
}

/// A confirm dialog over one action.
#[derive(Debug, Clone)]
pub struct ConfirmDialog {
    /// The action that runs on confirm.
    pub action: Action,
    /// Its plan, as the runner will run it.
    pub plan: Plan,
    /// Where the outcome goes.
    pub purpose: Purpose,
    /// A line shown above the plan (why this dialog appears).
    pub note: Option<String>,
    /// Words that confirm an explicit dialog.
    accept: Vec<String>,
    input: LineInput,
    error: Option<String>,
    scroll: usize,
    page: usize,
}

/// What a key did to the dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogOutcome {
    /// Still open.
    Stay,
    /// Closed: nothing is sent.
    Cancel,
    /// Run the action.
    Confirm,
}

impl ConfirmDialog {
    /// A dialog showing `plan` for `action`.
    pub fn new(action: Action, plan: Plan, purpose: Purpose) -> Self {
        let mut accept = vec!["yes".to_string()];
        if let Some(hub) = hub_name(&action) {
            accept.push(hub);
        }
        Self {
            action,
            plan,
            purpose,
            note: None,
            accept,
            input: LineInput::default(),
            error: None,
            scroll: 0,
            page: 10,
        }
    }

    /// With a line above the plan.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// Whether a typed word is needed.
    pub fn explicit(&self) -> bool {
        self.plan.confirm == Confirm::Explicit
    }

    /// Handles a key: explicit dialogs read it as typing (input context), simple ones as a
    /// dialog command.
    pub fn handle(&mut self, keymap: &Keymap, key: &KeyEvent) -> DialogOutcome {
        let k = crate::config::keymap::Key::from_event(key);
        if self.explicit() {
            match keymap.lookup_in(Context::Input, k) {
                Some(Command::Cancel) => return DialogOutcome::Cancel,
                Some(Command::Submit) => {
                    let typed = self.input.text().trim();
                    if self.accept.iter().any(|a| a == typed) {
                        return DialogOutcome::Confirm;
                    }
                    self.error = Some(format!(
                        "type {} to confirm (esc cancels)",
                        self.accept_words()
                    ));
                }
                Some(cmd @ (Command::Up | Command::Down)) => self.scroll_by(cmd),
                _ => {
                    if self.input.edit(key) {
                        self.error = None;
                    }
                }
            }
            return DialogOutcome::Stay;
        }
        match keymap.lookup_in(Context::Dialog, k) {
            Some(Command::Confirm) => DialogOutcome::Confirm,
            Some(Command::Cancel) => DialogOutcome::Cancel,
            Some(cmd) => {
                self.scroll_by(cmd);
                DialogOutcome::Stay
            }
            None => DialogOutcome::Stay,
        }
    }

    fn scroll_by(&mut self, cmd: Command) {
        match cmd {
            Command::Up => self.scroll = self.scroll.saturating_sub(1),
            Command::Down => self.scroll += 1,
            Command::PageUp => self.scroll = self.scroll.saturating_sub(self.page),
            Command::PageDown => self.scroll += self.page,
            _ => {}
        }
    }

    fn accept_words(&self) -> String {
        self.accept
            .iter()
            .map(|w| format!("\"{w}\""))
            .collect::<Vec<_>>()
            .join(" or ")
    }

    /// The plan as lines a person reads, prose wrapped to `width`.
    pub fn lines(&self, theme: &Theme, width: usize) -> Vec<Line<'static>> {
        let style = |r| theme.style(r);
        let mut out = Vec::new();
        if let Some(note) = &self.note {
            for l in wrap(&sanitize(note), width) {
                out.push(Line::styled(l, style(Role::Text)));
            }
            out.push(Line::default());
        }
        out.push(Line::from(vec![
            Span::styled("cluster ", style(Role::Dim)),
            Span::styled(self.plan.cluster.to_string(), style(Role::Title)),
        ]));
        out.push(Line::styled("steps", style(Role::TableHeader)));
        for (i, step) in self.plan.steps.iter().enumerate() {
            let what = format!(" {}. {}", i + 1, sanitize(&step.what));
            for (n, l) in wrap(&what, width).into_iter().enumerate() {
                let l = if n == 0 { l } else { format!("    {l}") };
                out.push(Line::styled(l, style(Role::Text)));
            }
            let call = match &step.via {
                Via::Kubernetes { call } => call.describe(),
                Via::HubApi { request } => format!("hub API {request}"),
                Via::Alertmanager { request } => format!("Alertmanager {request}"),
            };
            out.push(Line::styled(
                format!("    {}", sanitize(&call)),
                style(Role::KeyHint),
            ));
        }
        if !self.plan.warnings.is_empty() {
            out.push(Line::styled("warnings", style(Role::TableHeader)));
            for w in &self.plan.warnings {
                let text = format!(" ⚠ {}", sanitize(w));
                for (i, l) in wrap(&text, width).into_iter().enumerate() {
                    let l = if i == 0 { l } else { format!("   {l}") };
                    out.push(Line::styled(l, style(Role::SeverityWarning)));
                }
            }
        }
        if let Action::EditHubConfig { diff, .. } = &self.action {
            out.push(Line::styled("diff", style(Role::TableHeader)));
            out.extend(diff_lines(diff, theme));
        }
        out
    }

    /// Draws the dialog centred over `area`.
    pub fn draw(&mut self, frame: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme) {
        let w = box_width(area, 100);
        let lines = self.lines(theme, usize::from(w.saturating_sub(4)));
        let title = format!("Confirm: {}", self.plan.summary);
        let Some(b) = draw_box(frame, area, w, lines.len(), &title, theme) else {
            return;
        };
        self.page = crate::tui::widgets::scrolled(frame, b.body, lines, &mut self.scroll);
        let (hint_row, input_row) = (b.hint, b.input);
        let width = usize::from(input_row.width);
        if self.explicit() {
            let hint = self.error.clone().unwrap_or_else(|| {
                format!(
                    "explicit confirmation: type {} and press enter · esc cancels",
                    self.accept_words()
                )
            });
            let role = if self.error.is_some() {
                Role::ToastError
            } else {
                Role::SeverityWarning
            };
            frame.render_widget(
                Paragraph::new(Line::styled(
                    fit(&hint, width).into_owned(),
                    theme.style(role),
                )),
                hint_row,
            );
            draw_input(frame, input_row, "confirm> ", &self.input, theme);
        } else {
            draw_key_hint(
                frame,
                input_row,
                keymap,
                theme,
                "run it",
                "cancel (nothing is sent)",
            );
        }
    }
}

/// The hub name that also confirms an explicit dialog (the release, as people say it).
fn hub_name(action: &Action) -> Option<String> {
    match action {
        Action::RestartHub { hub, .. }
        | Action::RestartProxy { hub, .. }
        | Action::ScaleHub { hub, .. }
        | Action::ScalePlaceholders { hub, .. }
        | Action::EditHubConfig { hub, .. }
        | Action::StopDaskClusters { hub, .. }
        | Action::Exec { hub, .. } => Some(hub.key.release.to_string()),
        Action::StopServers { servers } => {
            let first = &servers.first()?.id.hub;
            servers
                .iter()
                .all(|s| s.id.hub == *first)
                .then(|| first.key.release.to_string())
        }
        Action::SilenceAlert { .. } | Action::ExpireSilence { .. } => None,
    }
}

/// A unified diff coloured by role: additions, removals, hunk headers.
pub fn diff_lines(diff: &str, theme: &Theme) -> Vec<Line<'static>> {
    diff.lines()
        .map(|l| {
            let role = if l.starts_with("+++") || l.starts_with("---") {
                Role::Dim
            } else if l.starts_with('+') {
                Role::HealthOk
            } else if l.starts_with('-') {
                Role::HealthDown
            } else if l.starts_with("@@") {
                Role::KeyHint
            } else {
                Role::Text
            };
            Line::styled(sanitize(l).into_owned(), theme.style(role))
        })
        .collect()
}

/// The question before an edited values.yaml is thrown away.
pub fn draw_discard(frame: &mut Frame, area: Rect, theme: &Theme) {
    let w = area.width.saturating_sub(4).min(60);
    let rect = Rect::new(
        area.x + area.width.saturating_sub(w) / 2,
        area.y + area.height.saturating_sub(4) / 2,
        w,
        4.min(area.height),
    );
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Role::BorderFocused))
        .style(theme.style(Role::Overlay))
        .title(Span::styled(" Unsaved changes ", theme.style(Role::Title)));
    let lines = vec![
        Line::styled(
            "Discard your changes to values.yaml?",
            theme.style(Role::Text),
        ),
        Line::styled(
            "y: discard · n/esc: keep editing",
            theme.style(Role::KeyHint),
        ),
    ];
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
