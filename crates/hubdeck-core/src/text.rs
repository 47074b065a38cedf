//! Text from clusters and people, made safe to show: the one sanitizer (console and headless
//! tables alike), the one age formatter, and the clipping of echoed input in messages.

use std::borrow::Cow;

use jiff::Timestamp;

/// Bidi controls that reorder what a person reads ("Trojan Source"), and the invisible format
/// characters that hide or disguise text.
fn is_bidi_or_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{00ad}'
            | '\u{180e}'
    )
}

/// Whether `c` is never printed: C0/C1 controls, DEL, bidi controls, zero-width characters.
fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_or_invisible(c)
}

/// Pictographs that emoji ZWJ sequences join (👩‍💻): a zero-width joiner between two of them
/// is part of one glyph and stays.
fn is_emoji(c: char) -> bool {
    matches!(c,
        '\u{1f000}'..='\u{1faff}' | '\u{2600}'..='\u{27bf}' | '\u{2b00}'..='\u{2bff}' | '\u{fe0f}')
}

/// Strips escape sequences (CSI, OSC, DCS and the other ESC forms) and every character that
/// could drive the terminal or hide text from a string that came from a cluster; tabs become
/// four spaces, a line feed one space. Borrows when nothing needs removing.
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
                Some('[') => skip_csi(&mut chars),
                // OSC, DCS, SOS, PM, APC: up to BEL or ST (ESC \)
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' || c == '\u{9c}' {
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
                // Charset selections and the like take one more character.
                Some('(' | ')' | '*' | '+' | '#' | '%') => {
                    chars.next();
                }
                _ => {}
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\t' => out.push_str("    "),
            // A line break inside one field reads as a space, in a table cell or a status line.
            '\n' => out.push(' '),
            '\u{200d}'
                if out.chars().next_back().is_some_and(is_emoji)
                    && chars.peek().copied().is_some_and(is_emoji) =>
            {
                out.push(c)
            }
            c if is_unsafe(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) {
            break;
        }
    }
}

/// Sanitizes and cuts text a person typed (or a file held) to at most `max` characters, for
/// echoing it in an error message: a 50 MB bad value must not come back whole.
pub fn clip(s: &str, max: usize) -> Cow<'_, str> {
    let clean = sanitize(s);
    if clean.chars().count() <= max {
        return clean;
    }
    let mut out: String = clean.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    Cow::Owned(out)
}

/// A short age as kubectl prints it: `42s` below two minutes, `15m` below two hours, `30h`
/// below two days, then `5d`; `-` when unknown, `0s` for a time in the future.
pub fn age(now: Timestamp, then: Option<Timestamp>) -> String {
    let Some(then) = then else {
        return "-".into();
    };
    let secs = now.duration_since(then).as_secs().max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// Requested against allocatable, as the Nodes pane and `get nodes` show it: CPU in cores
/// (`3.2/16 20%`), memory in GiB (`12/64Gi 19%`, TiB from 1000 GiB allocatable: a big pool's
/// `10/20Ti 50%`). Figures below 10 keep one decimal; the percentage is left out when nothing
/// is allocatable.
pub fn share(requested: u64, allocatable: u64, unit: Unit) -> String {
    let (scale, suffix) = match unit {
        Unit::MilliCores => (1000.0, ""),
        Unit::Bytes if allocatable >= 1000 << 30 => ((1u64 << 40) as f64, "Ti"),
        Unit::Bytes => ((1u64 << 30) as f64, "Gi"),
    };
    let short = |v: u64| {
        let x = v as f64 / scale;
        if x >= 9.95 {
            format!("{x:.0}")
        } else {
            let s = format!("{x:.1}");
            s.strip_suffix(".0").map_or(s.clone(), str::to_string)
        }
    };
    let (r, a) = (short(requested), short(allocatable));
    if allocatable == 0 {
        return format!("{r}/{a}{suffix}");
    }
    let pct = (requested as f64 * 100.0 / allocatable as f64).round();
    format!("{r}/{a}{suffix} {pct:.0}%")
}

/// What a [`share`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Millicores, shown as cores.
    MilliCores,
    /// Bytes, shown as GiB.
    Bytes,
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
        assert_eq!(sanitize("two\r\nlines"), "two lines");
        assert_eq!(sanitize("\u{9b}2Jcleared"), "cleared");
        assert_eq!(sanitize("\u{85}next\u{9f}"), "next");
    }

    #[test]
    fn bidi_and_zero_width_characters_are_stripped() {
        for c in ['\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}'] {
            assert_eq!(sanitize(&format!("a{c}b")), "ab");
        }
        for c in [
            '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{200e}', '\u{200f}',
        ] {
            assert_eq!(sanitize(&format!("a{c}b")), "ab");
        }
        assert_eq!(sanitize("ad\u{200b}min"), "admin");
        assert_eq!(sanitize("\u{feff}bom"), "bom");
        assert_eq!(sanitize("jo\u{200d}hn"), "john");
    }

    #[test]
    fn emoji_sequences_keep_their_joiners() {
        let family = "👩\u{200d}💻 coder";
        assert_eq!(sanitize(family), family);
        assert_eq!(sanitize("❤\u{fe0f}\u{200d}🔥"), "❤\u{fe0f}\u{200d}🔥");
    }

    #[test]
    fn echoed_input_is_clipped() {
        assert_eq!(clip("short", 10), "short");
        let huge = "x".repeat(50_000_000);
        let long = clip(&huge, 40);
        assert_eq!(long.chars().count(), 40);
        assert!(long.ends_with('…'));
        assert_eq!(clip("\u{1b}[31mred", 10), "red");
    }

    #[test]
    fn shares_read_as_cores_and_gib_with_a_percentage() {
        assert_eq!(share(3_200, 16_000, Unit::MilliCores), "3.2/16 20%");
        assert_eq!(share(500, 3_920, Unit::MilliCores), "0.5/3.9 13%");
        assert_eq!(share(0, 3_920, Unit::MilliCores), "0/3.9 0%");
        assert_eq!(share(12 << 30, 64 << 30, Unit::Bytes), "12/64Gi 19%");
        assert_eq!(share(3 << 29, 0, Unit::Bytes), "1.5/0Gi");
        assert_eq!(share(10 << 40, 20 << 40, Unit::Bytes), "10/20Ti 50%");
    }

    #[test]
    fn ages_follow_kubectl() {
        let now = Timestamp::from_second(1_000_000).unwrap();
        let ago = |s: i64| Some(Timestamp::from_second(1_000_000 - s).unwrap());
        assert_eq!(age(now, ago(5)), "5s");
        assert_eq!(age(now, ago(119)), "119s");
        assert_eq!(age(now, ago(300)), "5m");
        assert_eq!(age(now, ago(7200)), "2h");
        assert_eq!(age(now, ago(3 * 86_400)), "3d");
        assert_eq!(age(now, None), "-");
        assert_eq!(
            age(now, Some(Timestamp::from_second(2_000_000).unwrap())),
            "0s"
        );
    }
}
