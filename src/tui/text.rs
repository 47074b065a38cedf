//! Text that reaches the terminal: sanitising strings from clusters, fitting them to a display
//! width, and short human figures (ages, sizes).

use std::borrow::Cow;

use jiff::Timestamp;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Characters that must never reach the terminal: C0/C1 controls, DEL, and the bidi controls
/// that can reorder what a person reads ("Trojan Source").
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Strips escape sequences (CSI, OSC, and other ESC sequences) and control characters from a
/// string that came from a cluster; tabs become spaces. Borrows when nothing needs removing.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                // CSI: parameters and intermediates up to a final byte in @..~
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC, DCS, SOS, PM, APC: up to BEL or ST (ESC \)
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' {
                            if chars.peek() == Some(&'\\') {
                                chars.next();
                            }
                            break;
                        }
                    }
                }
                // Two-character sequences (ESC c, ESC 7, ...) and charset selections
                Some('(' | ')' | '*' | '+' | '#' | '%') => {
                    chars.next();
                }
                _ => {}
            },
            '\u{9b}' => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            '\t' => out.push_str("    "),
            c if is_unsafe(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Display width of a (sanitised) string.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Sanitises `s` and fits it into `max` columns, ending with `…` when cut. Wide characters are
/// never split.
pub fn fit(s: &str, max: usize) -> Cow<'_, str> {
    let clean = sanitize(s);
    if width(&clean) <= max {
        return clean;
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::new();
    let mut used = 0;
    for c in clean.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    Cow::Owned(out)
}

/// A short age: `42s`, `5m`, `3h`, `2d` (`-` when unknown, `0s` for the future).
pub fn age(now: Timestamp, then: Option<Timestamp>) -> String {
    let Some(then) = then else {
        return "-".into();
    };
    let secs = now.duration_since(then).as_secs().max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 * 2 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// Memory for tables: `512Mi`, `2.0Gi`.
pub fn bytes(b: u64) -> String {
    const MI: u64 = 1 << 20;
    const GI: u64 = 1 << 30;
    if b == 0 {
        "-".into()
    } else if b >= GI {
        format!("{:.1}Gi", b as f64 / GI as f64)
    } else {
        format!("{}Mi", b.div_ceil(MI))
    }
}

/// CPU for tables: `500m`, `2`.
pub fn cpu(milli: u32) -> String {
    match milli {
        0 => "-".into(),
        m if m % 1000 == 0 => format!("{}", m / 1000),
        m => format!("{m}m"),
    }
}

/// Splits prose into lines of at most `max` columns at spaces (long words are cut by `fit`).
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(10);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && width(&line) + 1 + width(word) > max {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push(line);
    out.into_iter().map(|l| fit(&l, max).into_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_controls_are_stripped() {
        let dirty = "\u{1b}[31mred\u{1b}[0m \u{1b}]0;pwned\u{7}title \u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\ bell\u{7} cr\r nul\0 \u{202e}evil";
        assert_eq!(sanitize(dirty), "red title link bell cr nul evil");
        assert!(matches!(sanitize("plain ünïcode 漢字"), Cow::Borrowed(_)));
        assert_eq!(sanitize("a\tb"), "a    b");
    }

    #[test]
    fn long_and_wide_strings_fit_their_column() {
        assert_eq!(fit("jupyterhub-staging", 8), "jupyter…");
        assert_eq!(fit("short", 8), "short");
        let wide = fit("漢字漢字漢字", 7);
        assert_eq!(wide, "漢字漢…");
        assert!(width(&wide) <= 7);
        assert_eq!(fit("\u{1b}[1mbold\u{1b}[0m", 4), "bold");
    }

    #[test]
    fn ages_and_sizes_are_short() {
        let now = Timestamp::from_second(100_000).unwrap();
        let ago = |s: i64| Some(Timestamp::from_second(100_000 - s).unwrap());
        assert_eq!(age(now, ago(5)), "5s");
        assert_eq!(age(now, ago(300)), "5m");
        assert_eq!(age(now, ago(7200)), "2h");
        assert_eq!(age(now, None), "-");
        assert_eq!(bytes(2 << 30), "2.0Gi");
        assert_eq!(bytes(512 << 20), "512Mi");
        assert_eq!(cpu(500), "500m");
        assert_eq!(cpu(2000), "2");
    }
}
