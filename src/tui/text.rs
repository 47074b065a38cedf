//! Text that reaches the terminal: fitting (sanitized) strings to a display width, and short
//! human figures (sizes). Sanitizing and ages are the core's, re-exported here.

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

pub use hubdeck_core::text::{age, sanitize};

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

/// Like [`fit`], but keeps the end of `s` (and its leading indentation), marking the cut with
/// `…` after the indentation: for names told apart by their end, and paths whose deepest part
/// says where a person is.
pub fn fit_end(s: &str, max: usize) -> Cow<'_, str> {
    let clean = sanitize(s);
    if width(&clean) <= max {
        return clean;
    }
    let body = clean.trim_start_matches(' ');
    let indent = clean.len() - body.len();
    if max <= indent + 1 {
        return Cow::Owned(fit(&clean, max).into_owned());
    }
    let room = max - indent - 1;
    let mut tail: Vec<char> = Vec::new();
    let mut used = 0;
    for c in body.chars().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        tail.push(c);
    }
    let kept: String = tail.iter().rev().collect();
    Cow::Owned(format!("{}…{kept}", " ".repeat(indent)))
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
    fn cutting_from_the_start_keeps_the_end_and_the_indentation() {
        assert_eq!(
            fit_end("    gke-leap-nb-1a2b3c4d-x9z2", 14),
            "    …3c4d-x9z2"
        );
        assert_eq!(fit_end("short", 14), "short");
        assert_eq!(fit_end("│ leap/prod › Servers", 10), "…› Servers");
        assert_eq!(fit_end("漢字漢字漢字", 6), "…漢字");
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
    fn sizes_are_short() {
        assert_eq!(bytes(2 << 30), "2.0Gi");
        assert_eq!(bytes(512 << 20), "512Mi");
        assert_eq!(cpu(500), "500m");
        assert_eq!(cpu(2000), "2");
    }
}
