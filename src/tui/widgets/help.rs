//! The help overlay, generated from the active keymap: key → command → description, the
//! focused context first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear};

use crate::config::keymap::{Command, Context, Keymap};
use crate::config::theme::{Role, Theme};

use super::super::text::fit;

/// The help overlay's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Help {
    /// Context that had the keyboard when help opened (listed first).
    pub focus: Context,
    /// First line shown.
    pub scroll: usize,
    page: usize,
}

impl Help {
    /// Help for the pane that has the keyboard.
    pub fn new(focus: Context) -> Self {
        Self {
            focus,
            scroll: 0,
            page: 10,
        }
    }

    /// Scrolls; returns false for commands that close the overlay.
    pub fn handle(&mut self, cmd: Option<Command>) -> bool {
        match cmd {
            Some(Command::Up) => self.scroll = self.scroll.saturating_sub(1),
            Some(Command::Down) => self.scroll += 1,
            Some(Command::PageUp) => self.scroll = self.scroll.saturating_sub(self.page),
            Some(Command::PageDown) => self.scroll += self.page,
            Some(Command::Top) => self.scroll = 0,
            Some(Command::Bottom) => self.scroll = usize::MAX / 2,
            _ => return false,
        }
        true
    }

    /// The lines of help: one per (context, command, description) with all its keys.
    pub fn lines(&self, keymap: &Keymap, theme: &Theme, w: usize) -> Vec<Line<'static>> {
        let mut order: Vec<Context> = vec![self.focus];
        if self.focus != Context::Global {
            order.push(Context::Global);
        }
        let rest: Vec<Context> = Context::ALL
            .iter()
            .copied()
            .filter(|c| !order.contains(c))
            .collect();
        order.extend(rest);
        let mut out = Vec::new();
        for ctx in order {
            let mut rows: Vec<(Vec<String>, Command, String)> = Vec::new();
            for b in keymap.bindings().filter(|b| b.context == ctx) {
                match rows
                    .iter_mut()
                    .find(|(_, c, d)| *c == b.command && *d == b.desc)
                {
                    Some(row) => row.0.push(b.key.to_string()),
                    None => rows.push((vec![b.key.to_string()], b.command, b.desc.clone())),
                }
            }
            if rows.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push(Line::default());
            }
            out.push(Line::styled(
                ctx.name().to_string(),
                theme.style(Role::TableHeader),
            ));
            for (keys, cmd, desc) in rows {
                let keys = fit(&keys.join(", "), 16).into_owned();
                let name = cmd.name();
                let room = w.saturating_sub(2 + 17 + 20);
                out.push(Line::from(vec![
                    Span::styled(format!("  {keys:<16} "), theme.style(Role::KeyHint)),
                    Span::styled(format!("{name:<19} "), theme.style(Role::Dim)),
                    Span::styled(fit(&desc, room).into_owned(), theme.style(Role::Overlay)),
                ]));
            }
        }
        out
    }

    /// Draws the overlay centred over `area`.
    pub fn draw(&mut self, frame: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme) {
        let w = area.width.saturating_sub(4).min(110);
        let h = area.height.saturating_sub(2);
        let rect = Rect::new(area.x + (area.width - w) / 2, area.y + 1, w, h);
        frame.render_widget(Clear, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style(Role::BorderFocused))
            .style(theme.style(Role::Overlay))
            .title(Span::styled(
                format!(" Keys · keymap {} · esc closes ", keymap.name),
                theme.style(Role::Title),
            ));
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let lines = self.lines(keymap, theme, usize::from(inner.width));
        self.page = super::scrolled(frame, inner, lines, &mut self.scroll);
    }
}
