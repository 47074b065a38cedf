//! The times a person types for a replay: RFC 3339 (`2026-12-01T03:10:00Z`), or a clock time
//! (`03:10`, `03:10:30`) of the recording's day in the local time zone.

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// Parses `s` as a moment of a recording that starts at `start`. A clock time earlier than
/// the start's is taken on the next day (a recording running past midnight).
pub fn parse(s: &str, start: Timestamp) -> Result<Timestamp, String> {
    parse_in(s, start, &TimeZone::system())
}

fn parse_in(s: &str, start: Timestamp, tz: &TimeZone) -> Result<Timestamp, String> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let clock: Time = s.parse().map_err(|_| {
        format!(
            "{s:?} is not a time: expected RFC 3339 (2026-12-01T03:10:00Z) or a clock time (03:10)"
        )
    })?;
    let day = start.to_zoned(tz.clone()).date();
    let at = day
        .to_datetime(clock)
        .to_zoned(tz.clone())
        .map_err(|e| format!("{s:?}: {e}"))?;
    let t = at.timestamp();
    if t < start {
        // Earlier on the start's day than the recording: the next day's.
        return at
            .checked_add(1.day())
            .map(|z| z.timestamp())
            .map_err(|e| format!("{s:?}: {e}"));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn rfc3339_and_clock_times_of_the_recordings_day_are_understood() {
        let start = ts("2026-12-01T02:55:00Z");
        let utc = TimeZone::UTC;
        assert_eq!(
            parse_in("2026-12-01T03:10:00Z", start, &utc),
            Ok(ts("2026-12-01T03:10:00Z"))
        );
        assert_eq!(
            parse_in("03:10", start, &utc),
            Ok(ts("2026-12-01T03:10:00Z"))
        );
        assert_eq!(
            parse_in("03:10:30", start, &utc),
            Ok(ts("2026-12-01T03:10:30Z"))
        );
        assert_eq!(
            parse_in("00:30", start, &utc),
            Ok(ts("2026-12-02T00:30:00Z")),
            "before the start: the next day"
        );
        assert!(
            parse_in("lunch", start, &utc)
                .unwrap_err()
                .contains("not a time")
        );
    }
}
