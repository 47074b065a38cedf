//! The replay's timeline line, under the header: the moment shown, where it lies in the
//! recording, the nearest alert change or action on each side, and the keys that move it.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::config::keymap::{Command, Context, Keymap};
use crate::config::theme::{Role, Theme};

use super::super::replay::ReplayControl;
use super::super::text::fit;

fn clock(t: Timestamp) -> String {
    t.to_zoned(TimeZone::system())
        .strftime("%H:%M:%S")
        .to_string()
}

/// The keys that move the moment, as the keymap binds them: `., change  <> minute ...`.
fn keys_hint(keymap: &Keymap) -> String {
    let key = |c| {
        keymap
            .keys_for(Context::Replay, c)
            .first()
            .map(ToString::to_string)
    };
    let pairs = [
        (
            Command::ReplayNextChange,
            Command::ReplayPrevChange,
            "change",
        ),
        (Command::ReplayMinuteBack, Command::ReplayMinuteOn, "minute"),
        (
            Command::ReplayPrevMark,
            Command::ReplayNextMark,
            "alert/action",
        ),
    ];
    let mut out = String::new();
    for (a, b, what) in pairs {
        let keys: String = [key(a), key(b)].into_iter().flatten().collect();
        if !keys.is_empty() {
            out.push_str(&format!("  {keys} {what}"));
        }
    }
    if let Some(t) = key(Command::ReplayTypeTime) {
        out.push_str(&format!("  {t} time"));
    }
    out
}

/// Draws the timeline of `r` into one line.
pub fn draw_timeline(
    frame: &mut Frame,
    area: Rect,
    r: &ReplayControl,
    keymap: &Keymap,
    theme: &Theme,
) {
    let base = theme.style(Role::Header);
    let width = usize::from(area.width);
    if let Some(text) = &r.typing {
        let line = format!(" go to time (RFC 3339, or 03:10 of the recording's day): {text}█");
        frame.render_widget(
            Paragraph::new(Line::styled(fit(&line, width).into_owned(), base)),
            area,
        );
        return;
    }
    let (start, end) = r.span();
    let day =
        r.at.to_zoned(TimeZone::system())
            .strftime("%Y-%m-%d %H:%M:%S %Z")
            .to_string();
    let bar_w = 16usize;
    let total = end.duration_since(start).as_secs_f64().max(1.0);
    let pos = (r.at.duration_since(start).as_secs_f64() / total * (bar_w - 1) as f64)
        .round()
        .clamp(0.0, (bar_w - 1) as f64) as usize;
    let bar: String = (0..bar_w)
        .map(|i| if i == pos { '●' } else { '━' })
        .collect();
    let (last, next) = r.around();
    let mark = |word: &str, m: Option<&super::super::replay::Mark>| match m {
        Some(m) => format!("  {word} {} {}", clock(m.time), m.text),
        None => String::new(),
    };
    let mut spans = vec![Span::styled(
        format!(" replay {day}"),
        base.patch(theme.style(Role::KeyHint)),
    )];
    if r.gap {
        spans.push(Span::styled(
            " (gap: recorder fell behind)",
            base.patch(theme.style(Role::HealthDegraded)),
        ));
    }
    spans.push(Span::styled(
        format!("  {} {bar} {}", clock(start), clock(end)),
        base,
    ));
    spans.push(Span::styled(
        format!("{}{}", mark("last", last), mark("next", next)),
        base,
    ));
    spans.push(Span::styled(
        keys_hint(keymap),
        base.patch(theme.style(Role::Dim)),
    ));
    let mut used = 0;
    let mut fitted = Vec::new();
    for s in spans {
        let left = width.saturating_sub(used);
        if left == 0 {
            break;
        }
        let text = fit(&s.content, left).into_owned();
        used += super::super::text::width(&text);
        fitted.push(Span::styled(text, s.style));
    }
    frame.render_widget(Paragraph::new(Line::from(fitted)).style(base), area);
}
