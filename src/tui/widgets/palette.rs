//! The command palette (`:`): jump to a hub by name, switch pane, switch theme, stop idle
//! servers (`stop-idle 8h`) — with completion over the candidates.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::config::keymap::Command;
use crate::config::theme::{BUILTIN_THEMES, Role, Theme};
use crate::fleet::{Fleet, HubId};

use super::super::text::fit;
use super::draw_input;
use super::input::LineInput;

/// What a palette entry does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaletteAction {
    /// Show this hub (its servers, with the hub selected in the fleet list behind).
    Hub(HubId),
    /// Run a pane command (`pane-hubs`, ...).
    Pane(Command),
    /// Switch to a built-in theme.
    Theme(String),
    /// Stop the selected hub's servers idle for longer than this (`stop-idle 8h`).
    StopIdle(String),
}

/// The palette's state.
#[derive(Debug, Clone)]
pub struct Palette {
    /// The typed text.
    pub input: LineInput,
    candidates: Vec<(String, PaletteAction)>,
    matches: Vec<usize>,
    selected: usize,
}

/// What a key did to the palette.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaletteOutcome {
    /// Still open.
    Stay,
    /// Closed without running anything.
    Close,
    /// Closed, run this.
    Run(PaletteAction),
}

impl Palette {
    /// A palette over the fleet's hubs, the panes and the themes.
    pub fn new(fleet: &Fleet) -> Self {
        let mut candidates: Vec<(String, PaletteAction)> = [
            ("hubs", Command::PaneHubs),
            ("clusters", Command::PaneClusters),
            ("servers", Command::PaneServers),
            ("alerts", Command::PaneAlerts),
            ("events", Command::PaneEvents),
            ("nodes", Command::PaneNodes),
        ]
        .into_iter()
        .map(|(n, c)| (format!("pane {n}"), PaletteAction::Pane(c)))
        .collect();
        candidates.extend(
            fleet
                .hubs()
                .map(|h| (format!("hub {}", h.id), PaletteAction::Hub(h.id.clone()))),
        );
        candidates.push((
            "stop-idle 8h".to_string(),
            PaletteAction::StopIdle("8h".into()),
        ));
        candidates.extend(
            BUILTIN_THEMES
                .iter()
                .map(|(n, _)| (format!("theme {n}"), PaletteAction::Theme((*n).to_string()))),
        );
        let mut p = Self {
            input: LineInput::default(),
            candidates,
            matches: Vec::new(),
            selected: 0,
        };
        p.refilter();
        p
    }

    fn refilter(&mut self) {
        let words: Vec<String> = self
            .input
            .text()
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        self.matches = (0..self.candidates.len())
            .filter(|&i| {
                let label = self.candidates[i].0.to_lowercase();
                words.iter().all(|w| label.contains(w.as_str()))
            })
            .collect();
        self.selected = self.selected.min(self.matches.len().saturating_sub(1));
    }

    /// Runs an input-context command, or edits the text with the key.
    pub fn handle(
        &mut self,
        cmd: Option<Command>,
        key: &crossterm::event::KeyEvent,
    ) -> PaletteOutcome {
        match cmd {
            Some(Command::Cancel) => return PaletteOutcome::Close,
            Some(Command::Up) => self.selected = self.selected.saturating_sub(1),
            Some(Command::Down) => {
                self.selected = (self.selected + 1).min(self.matches.len().saturating_sub(1))
            }
            Some(Command::Complete) => {
                if let Some(&i) = self.matches.get(self.selected) {
                    let label = self.candidates[i].0.clone();
                    self.input.set(&label);
                    self.refilter();
                }
            }
            Some(Command::Submit) => {
                // A command with an argument: run what was typed, not the example candidate.
                if let Some(arg) = self.input.text().trim().strip_prefix("stop-idle ") {
                    return PaletteOutcome::Run(PaletteAction::StopIdle(arg.trim().to_string()));
                }
                return match self.matches.get(self.selected) {
                    Some(&i) => PaletteOutcome::Run(self.candidates[i].1.clone()),
                    None => PaletteOutcome::Close,
                };
            }
            _ => {
                if self.input.edit(key) {
                    self.selected = 0;
                    self.refilter();
                }
            }
        }
        PaletteOutcome::Stay
    }

    /// Draws the palette near the top of `area`.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let w = area.width.saturating_sub(4).min(80);
        let shown = self.matches.len().min(10) as u16;
        let h = (shown + 3).min(area.height);
        let rect = Rect::new(area.x + (area.width - w) / 2, area.y + 1, w, h);
        frame.render_widget(Clear, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style(Role::BorderFocused))
            .style(theme.style(Role::Overlay))
            .title(Span::styled(
                format!(
                    " : {} of {} · tab completes · enter runs ",
                    self.matches.len(),
                    self.candidates.len()
                ),
                theme.style(Role::Title),
            ));
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        if inner.height == 0 {
            return;
        }
        draw_input(frame, Rect { height: 1, ..inner }, ": ", &self.input, theme);
        let room = usize::from(inner.height.saturating_sub(1));
        let first = self.selected.saturating_sub(room.saturating_sub(1));
        let lines: Vec<Line> = self
            .matches
            .iter()
            .enumerate()
            .skip(first)
            .take(room)
            .map(|(n, &i)| {
                let style = if n == self.selected {
                    theme.style(Role::Selection)
                } else {
                    theme.style(Role::Overlay)
                };
                Line::styled(
                    format!(
                        " {}",
                        fit(&self.candidates[i].0, usize::from(inner.width) - 1)
                    ),
                    style,
                )
            })
            .collect();
        let list = Rect {
            y: inner.y + 1,
            height: inner.height - 1,
            ..inner
        };
        frame.render_widget(Paragraph::new(lines), list);
    }
}
