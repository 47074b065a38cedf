//! The small prompt some actions need before their plan can be shown: a replica count, or a
//! silence's duration and comment. One or more labelled lines; Enter moves to the next line and
//! submits on the last; the flow checks the values and shows an error here when they are wrong.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::config::keymap::Command;
use crate::config::theme::{Role, Theme};

use super::super::text::fit;
use super::super::widgets::draw_input;
use super::super::widgets::input::LineInput;
use super::build::Begin;

/// One labelled line of a prompt.
#[derive(Debug, Clone)]
pub struct Field {
    /// What to type ("replicas (0 or 1)").
    pub label: String,
    /// The line.
    pub input: LineInput,
}

/// A prompt and what it is for.
#[derive(Debug, Clone)]
pub struct Prompt {
    /// Title ("scale hub leap/prod").
    pub title: String,
    /// The lines, in order.
    pub fields: Vec<Field>,
    /// The line being typed.
    pub focus: usize,
    /// Why the last submit was refused.
    pub error: Option<String>,
    /// The action being prepared.
    pub begin: Begin,
}

/// What a key did to a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptOutcome {
    /// Still open.
    Stay,
    /// Esc: nothing happens.
    Cancel,
    /// Enter on the last line: the values, one per field.
    Submit(Vec<String>),
}

impl Prompt {
    /// A prompt with `(label, pre-filled text)` lines.
    pub fn new(title: String, fields: &[(&str, &str)], begin: Begin) -> Self {
        Self {
            title,
            fields: fields
                .iter()
                .map(|(label, text)| Field {
                    label: (*label).to_string(),
                    input: LineInput::new(text),
                })
                .collect(),
            focus: 0,
            error: None,
            begin,
        }
    }

    /// Runs an input-context command, or edits the focused line with the key.
    pub fn handle(&mut self, cmd: Option<Command>, key: &KeyEvent) -> PromptOutcome {
        match cmd {
            Some(Command::Cancel) => return PromptOutcome::Cancel,
            Some(Command::Submit) if self.focus + 1 < self.fields.len() => self.focus += 1,
            Some(Command::Submit) => {
                return PromptOutcome::Submit(
                    self.fields
                        .iter()
                        .map(|f| f.input.text().trim().to_string())
                        .collect(),
                );
            }
            Some(Command::Complete | Command::Down) => {
                self.focus = (self.focus + 1) % self.fields.len().max(1)
            }
            Some(Command::Up) => self.focus = self.focus.saturating_sub(1),
            _ => {
                if let Some(f) = self.fields.get_mut(self.focus)
                    && f.input.edit(key)
                {
                    self.error = None;
                }
            }
        }
        PromptOutcome::Stay
    }

    /// Draws the prompt as a box in the middle of `area`.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let label_w = self
            .fields
            .iter()
            .map(|f| f.label.chars().count())
            .max()
            .unwrap_or(0)
            + 2;
        let w = area.width.saturating_sub(4).min(72);
        let h = (self.fields.len() as u16 + 5).min(area.height);
        let rect = Rect::new(
            area.x + (area.width.saturating_sub(w)) / 2,
            area.y + area.height.saturating_sub(h) / 3,
            w,
            h,
        );
        frame.render_widget(Clear, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style(Role::BorderFocused))
            .style(theme.style(Role::Overlay))
            .title(Span::styled(
                format!(" {} ", fit(&self.title, usize::from(w.saturating_sub(4)))),
                theme.style(Role::Title),
            ));
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        for (i, f) in self.fields.iter().enumerate() {
            let y = inner.y + 1 + i as u16;
            if y >= inner.bottom() {
                break;
            }
            let row = Rect::new(inner.x + 1, y, inner.width.saturating_sub(1), 1);
            let label = format!("{:<label_w$}", f.label);
            if i == self.focus {
                draw_input(frame, row, &label, &f.input, theme);
            } else {
                let line = Line::from(vec![
                    Span::styled(label, theme.style(Role::Dim)),
                    Span::styled(f.input.text().to_string(), theme.style(Role::Input)),
                ]);
                frame.render_widget(Paragraph::new(line), row);
            }
        }
        let last = Rect::new(
            inner.x + 1,
            inner.bottom().saturating_sub(1),
            inner.width.saturating_sub(1),
            1,
        );
        let line = match &self.error {
            Some(e) => Line::styled(
                fit(e, usize::from(last.width)).into_owned(),
                theme.style(Role::ToastError),
            ),
            None => Line::styled(
                if self.fields.len() > 1 {
                    "enter: next line, then show the plan · esc: cancel"
                } else {
                    "enter: show the plan · esc: cancel"
                },
                theme.style(Role::Dim),
            ),
        };
        frame.render_widget(Paragraph::new(line), last);
    }
}
