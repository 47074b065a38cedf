//! The one duration grammar of hubdeck (`--for 2h`, `--idle-for 8h`, `stop-idle 90m`, runbook
//! `timeout: 5m`): every front end parses with [`parse`] and prints with [`humanize`], so a
//! duration the console accepts is one the CLI and runbooks accept too.

use std::time::Duration;

/// The longest duration hubdeck takes: a year. Longer spans are typing mistakes, and they
/// would overflow the clock arithmetic of timeouts and silences.
pub const MAX: Duration = Duration::from_secs(366 * 86_400);

/// A duration that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not in the grammar.
    #[error("{0:?} is not a duration (examples: 45s, 30m, 2h, 1h30m, 1d)")]
    Syntax(String),
    /// Zero or negative: nothing would be silenced, every server would count as idle.
    #[error("{0:?}: a duration must be longer than zero")]
    NotPositive(String),
    /// Over [`MAX`].
    #[error("{0:?}: a duration may be at most 366 days")]
    TooLong(String),
}

fn shown(s: &str) -> String {
    crate::text::clip(s.trim(), 40).into_owned()
}

/// Parses `45s`, `30m`, `2h`, `1h30m`, `1d` (jiff's friendly format, ISO 8601 `PT2H` too)
/// into a duration longer than zero and at most [`MAX`].
pub fn parse(s: &str) -> Result<Duration, DurationError> {
    let text = s.trim();
    // A Span, not a SignedDuration: only spans take days and weeks, which are 24 h and 7 d
    // here (no calendar); months and years stay refused, they have no fixed length.
    let span: jiff::Span = text.parse().map_err(|_| DurationError::Syntax(shown(s)))?;
    let d = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|_| DurationError::Syntax(shown(s)))?;
    if !d.is_positive() {
        return Err(DurationError::NotPositive(shown(s)));
    }
    let d = Duration::try_from(d).map_err(|_| DurationError::NotPositive(shown(s)))?;
    if d > MAX {
        return Err(DurationError::TooLong(shown(s)));
    }
    Ok(d)
}

/// `45s`, `30m`, `2h`, `1h30m`, `3d`: short, for plans and messages.
pub fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    let (days, h, m, sec) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60, s % 60);
    let mut out = String::new();
    for (n, unit) in [(days, "d"), (h, "h"), (m, "m"), (sec, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

/// Reads a duration field of a file (`timeout: 5m`) with [`parse`], so a bad one is an error
/// at its line when the file is loaded, not when the step runs.
pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(d)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// [`deserialize`] for an optional field.
pub fn deserialize_opt<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Duration>, D::Error> {
    let text = <Option<String> as serde::Deserialize>::deserialize(d)?;
    text.map(|t| parse(&t).map_err(serde::de::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friendly_durations_parse() {
        assert_eq!(parse("8h"), Ok(Duration::from_secs(8 * 3600)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(90 * 60)));
        assert_eq!(parse(" 45s "), Ok(Duration::from_secs(45)));
        assert_eq!(parse("2d"), Ok(Duration::from_secs(2 * 86_400)));
        assert_eq!(parse("1w"), Ok(Duration::from_secs(7 * 86_400)));
        assert!(matches!(parse("1mo"), Err(DurationError::Syntax(_))));
    }

    #[test]
    fn zero_negative_huge_and_garbage_are_refused() {
        assert!(matches!(parse("0s"), Err(DurationError::NotPositive(_))));
        assert!(matches!(parse("-5m"), Err(DurationError::NotPositive(_))));
        assert!(matches!(parse("forever"), Err(DurationError::Syntax(_))));
        assert!(matches!(parse("400d"), Err(DurationError::TooLong(_))));
        assert!(matches!(
            parse("9223372036854775807s"),
            Err(DurationError::TooLong(_) | DurationError::Syntax(_))
        ));
    }

    #[test]
    fn errors_do_not_echo_huge_input() {
        let huge = "x".repeat(1_000_000);
        assert!(parse(&huge).unwrap_err().to_string().len() < 120);
    }

    #[test]
    fn humanized_durations_are_short() {
        assert_eq!(humanize(Duration::from_secs(7200)), "2h");
        assert_eq!(humanize(Duration::from_secs(5400)), "1h30m");
        assert_eq!(humanize(Duration::from_secs(45)), "45s");
        assert_eq!(humanize(Duration::from_secs(86_400 + 60)), "1d1m");
        assert_eq!(humanize(Duration::ZERO), "0s");
    }
}
