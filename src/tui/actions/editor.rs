//! The full-screen values.yaml editor (tui-textarea). It owns the text until the edit is applied:
//! a failed validation, a conflict or a network error leaves it open with the text as typed.
//! After a conflict the cluster's current version can be loaded beside the edit.
//!
//! Its keys are its own (a text editor needs nearly every key): ctrl-s save, ctrl-o load the
//! current version beside the edit (or hide it), esc close; everything else edits.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use tui_textarea::{CursorMove, TextArea};

use crate::action::HubConfig;
use crate::action::config_edit::{InvalidYaml, for_disk, validate};
use crate::config::theme::{Role, Theme};
use crate::fleet::HubId;

use super::super::text::{sanitize, wrap};

/// What a key asks of the flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditorOutcome {
    /// Keep editing.
    Stay,
    /// The text is valid YAML: show the diff and confirm.
    Save(String),
    /// Close; `unsaved` says whether to ask first.
    Close {
        /// The text differs from what was read.
        unsaved: bool,
    },
    /// Load the cluster's current version beside the edit.
    LoadCurrent,
}

/// The editor's state.
pub struct Editor {
    /// Which hub.
    pub hub: HubId,
    /// What the edit started from (its resourceVersion guards the write).
    pub base: HubConfig,
    area: TextArea<'static>,
    trailing_newline: bool,
    /// The cluster's current version (resourceVersion, redacted text), shown beside the edit
    /// after a conflict.
    pub side: Option<(String, String)>,
    /// The text the edit started from, credentials as placeholders: what the person sees.
    shown: String,
    /// The last problem (invalid YAML, failed apply), shown on the bottom line.
    pub error: Option<String>,
    /// Information (where the edit was saved).
    pub info: Option<String>,
    /// An apply is running: keys are ignored until it answers.
    pub busy: bool,
}

impl Editor {
    /// An editor over what was read.
    pub fn new(hub: HubId, base: HubConfig) -> Self {
        // Credentials never reach the screen: the person edits placeholders, which the
        // resolver puts back on apply.
        let shown = for_disk(&base.values);
        let mut area = TextArea::new(shown.lines().map(str::to_string).collect());
        area.set_max_histories(200);
        Self {
            trailing_newline: shown.ends_with('\n') || shown.is_empty(),
            shown,
            hub,
            base,
            area,
            side: None,
            error: None,
            info: None,
            busy: false,
        }
    }

    /// The text as it would be written.
    pub fn text(&self) -> String {
        let mut t = self.area.lines().join("\n");
        if self.trailing_newline {
            t.push('\n');
        }
        t
    }

    /// Whether the text differs from what was read.
    pub fn modified(&self) -> bool {
        self.text() != self.shown
    }

    /// Bases the edit on the cluster's current version and shows it beside the edit.
    pub fn rebase(&mut self, current: HubConfig) {
        self.shown = for_disk(&current.values);
        self.side = Some((current.resource_version.clone(), self.shown.clone()));
        self.base = current;
    }

    /// The cursor (0-based row, column).
    pub fn cursor(&self) -> (usize, usize) {
        self.area.cursor()
    }

    /// Shows a YAML error and puts the cursor on its line.
    pub fn show_invalid(&mut self, e: &InvalidYaml) {
        self.error = Some(e.to_string());
        let row = u16::try_from(e.line.saturating_sub(1)).unwrap_or(u16::MAX);
        self.area.move_cursor(CursorMove::Jump(row, 0));
    }

    /// Handles a key.
    pub fn handle(&mut self, key: KeyEvent) -> EditorOutcome {
        if self.busy {
            return EditorOutcome::Stay;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('s') if ctrl => {
                let text = self.text();
                match validate(&text) {
                    Err(e) => self.show_invalid(&e),
                    Ok(()) if !self.modified() => {
                        self.error = None;
                        self.info = Some("no changes to apply".into());
                    }
                    Ok(()) => {
                        self.error = None;
                        return EditorOutcome::Save(text);
                    }
                }
            }
            KeyCode::Char('o') if ctrl => {
                if self.side.take().is_none() {
                    return EditorOutcome::LoadCurrent;
                }
            }
            KeyCode::Esc => {
                return EditorOutcome::Close {
                    unsaved: self.modified(),
                };
            }
            _ => {
                if self.area.input(key) {
                    self.info = None;
                }
            }
        }
        EditorOutcome::Stay
    }

    /// Draws the editor over `area` (the whole body of the screen).
    pub fn draw(&mut self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let message = self.error.as_ref().or(self.info.as_ref());
        let message_lines: Vec<String> = message
            .map(|m| wrap(m, usize::from(area.width.saturating_sub(2))))
            .unwrap_or_default();
        let status_h = (message_lines.len() as u16).clamp(1, 4);
        let [main, status] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(status_h)]).areas(area);
        let (edit_area, side_area) = if self.side.is_some() {
            let [a, b] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(main);
            (a, Some(b))
        } else {
            (main, None)
        };
        let changed = if self.modified() { " · modified" } else { "" };
        let (row, col) = self.cursor();
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style(Role::BorderFocused))
            .title(Span::styled(
                format!(
                    " values.yaml · {} · your edit of resourceVersion {}{changed} · {}:{} ",
                    self.hub,
                    self.base.resource_version,
                    row + 1,
                    col + 1
                ),
                theme.style(Role::Title),
            ));
        self.area.set_block(block);
        self.area.set_style(theme.style(Role::Text));
        self.area.set_cursor_line_style(theme.style(Role::Text));
        self.area.set_line_number_style(theme.style(Role::Dim));
        self.area.set_cursor_style(theme.style(Role::Selection));
        frame.render_widget(&self.area, edit_area);
        if let (Some((side_version, side_text)), Some(rect)) = (&self.side, side_area) {
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(theme.style(Role::Border))
                .title(Span::styled(
                    format!(" current in the cluster · resourceVersion {side_version} "),
                    theme.style(Role::Title),
                ));
            let lines: Vec<Line> = side_text
                .lines()
                .map(|l| Line::styled(sanitize(l).into_owned(), theme.style(Role::Dim)))
                .collect();
            frame.render_widget(Paragraph::new(lines).block(block), rect);
        }
        if let Some(role) = match (&self.error, &self.info) {
            (Some(_), _) => Some(Role::ToastError),
            (None, Some(_)) => Some(Role::ToastInfo),
            (None, None) => None,
        } {
            let lines: Vec<Line> = message_lines
                .into_iter()
                .take(usize::from(status_h))
                .map(|l| Line::styled(format!(" {l}"), theme.style(role)))
                .collect();
            frame.render_widget(Paragraph::new(lines), status);
            return;
        }
        let line = if self.busy {
            Line::styled(" applying…", theme.style(Role::ToastInfo))
        } else {
            let side = if self.side.is_some() {
                "hide the current version"
            } else {
                "load the current version beside"
            };
            Line::from(vec![
                Span::styled(" ctrl-s", theme.style(Role::KeyHint)),
                Span::styled(" save (validate, diff, apply) ", theme.style(Role::Dim)),
                Span::styled("ctrl-o", theme.style(Role::KeyHint)),
                Span::styled(format!(" {side} "), theme.style(Role::Dim)),
                Span::styled("esc", theme.style(Role::KeyHint)),
                Span::styled(" close", theme.style(Role::Dim)),
            ])
        };
        frame.render_widget(Paragraph::new(line), status);
    }
}
