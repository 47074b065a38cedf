//! The one layout of the action windows (the confirm dialog, a rollout's plan, the pod picker):
//! a box centred over the body, as wide as asked up to the screen's width, as tall as its text
//! up to the screen's height, its text inset by a column on each side, and two rows at the
//! bottom for a hint and a typed line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::config::keymap::{Command, Context, Keymap};
use crate::config::theme::{Role, Theme};

use super::super::text::fit;

/// The parts of a drawn action window.
pub struct Boxed {
    /// Where the text goes.
    pub body: Rect,
    /// The row under it, for what the keys do (or why the last key was refused).
    pub hint: Rect,
    /// The last row, for a typed confirmation.
    pub input: Rect,
}

/// How wide a window of at most `max` columns is over `area`: the text is wrapped to this less
/// four (borders and insets) before its height is known.
pub fn box_width(area: Rect, max: u16) -> u16 {
    area.width.saturating_sub(4).min(max)
}

/// Clears and draws a window `width` wide (from [`box_width`]) with `title` on its top border,
/// tall enough for `lines` of text and the two bottom rows; None when the screen leaves no room
/// inside it.
pub fn draw_box(
    frame: &mut Frame,
    area: Rect,
    width: u16,
    lines: usize,
    title: &str,
    theme: &Theme,
) -> Option<Boxed> {
    let want = u16::try_from(lines).unwrap_or(u16::MAX).saturating_add(4);
    let h = want
        .min(area.height.saturating_sub(2))
        .max(6.min(area.height));
    let rect = Rect::new(
        area.x + area.width.saturating_sub(width) / 2,
        area.y + area.height.saturating_sub(h) / 2,
        width,
        h,
    );
    frame.render_widget(Clear, rect);
    let title = fit(&format!(" {title} "), usize::from(width.saturating_sub(2))).into_owned();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Role::BorderFocused))
        .style(theme.style(Role::Overlay))
        .title(Span::styled(title, theme.style(Role::Title)));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    if inner.height < 3 || inner.width < 3 {
        return None;
    }
    let inner = Rect {
        x: inner.x + 1,
        width: inner.width - 2,
        ..inner
    };
    Some(Boxed {
        body: Rect {
            height: inner.height - 2,
            ..inner
        },
        hint: Rect::new(inner.x, inner.bottom() - 2, inner.width, 1),
        input: Rect::new(inner.x, inner.bottom() - 1, inner.width, 1),
    })
}

/// The hint row of a window: what confirming does and that cancelling is possible, with the
/// keys the keymap binds to each, cut to the row.
pub fn draw_key_hint(
    frame: &mut Frame,
    row: Rect,
    keymap: &Keymap,
    theme: &Theme,
    confirm: &str,
    cancel: &str,
) {
    let keys = |c| keymap.hint_keys(Context::Dialog, c);
    let hint = format!(
        "{}: {confirm} · {}: {cancel}",
        keys(Command::Confirm),
        keys(Command::Cancel)
    );
    let line = Line::styled(
        fit(&hint, usize::from(row.width)).into_owned(),
        theme.style(Role::KeyHint),
    );
    frame.render_widget(Paragraph::new(line), row);
}
