//! The fake Alertmanager's silences, with Alertmanager's rules: matchers checked and compiled
//! when a silence is posted (valid label names, regular expressions anchored at both ends, at
//! least one matcher that an empty value fails), a missing label matching as the empty
//! string, and an update kept in place only where Alertmanager keeps it (same matchers, a
//! window that does not rewrite history); otherwise the old silence expires and a new one
//! takes a new id.

use jiff::Timestamp;
use regex::Regex;

use super::wire::alertmanager::{LabelSet, Matcher, PostableSilence, SilenceState};

/// One matcher, ready to test labels.
#[derive(Debug, Clone)]
struct Compiled {
    name: String,
    test: Test,
    is_equal: bool,
}

#[derive(Debug, Clone)]
enum Test {
    Equal(String),
    Regex(Regex),
}

impl Compiled {
    fn matches(&self, value: &str) -> bool {
        let hit = match &self.test {
            Test::Equal(v) => v == value,
            Test::Regex(re) => re.is_match(value),
        };
        hit == self.is_equal
    }
}

/// A stored silence.
#[derive(Debug, Clone)]
pub(crate) struct Silence {
    /// What was posted (its start moved to "now" if it was in the past).
    pub spec: PostableSilence,
    /// When it was last changed.
    pub updated_at: Timestamp,
    matchers: Vec<Compiled>,
}

impl Silence {
    /// A silence from a posted body; the error is Alertmanager's 400 message.
    pub(crate) fn new(spec: PostableSilence, now: Timestamp) -> Result<Self, String> {
        let matchers = compile(&spec.matchers).map_err(|e| format!("silence invalid: {e}"))?;
        Ok(Self {
            spec,
            updated_at: now,
            matchers,
        })
    }

    /// Pending before its window, active in it, expired after.
    pub(crate) fn state(&self, now: Timestamp) -> SilenceState {
        if self.spec.ends_at <= now {
            SilenceState::Expired
        } else if self.spec.starts_at > now {
            SilenceState::Pending
        } else {
            SilenceState::Active
        }
    }

    /// Whether it mutes an alert with these labels now.
    pub(crate) fn mutes(&self, labels: &LabelSet, now: Timestamp) -> bool {
        self.state(now) == SilenceState::Active
            && self.matchers.iter().all(|m| {
                let value = labels.get(&m.name).map_or("", String::as_str);
                m.matches(value)
            })
    }

    /// Whether `next` may replace this silence under the same id (Alertmanager's
    /// `canUpdate`): same matchers, and a window change that keeps the past as it was.
    pub(crate) fn can_become(&self, next: &PostableSilence, now: Timestamp) -> bool {
        if self.spec.matchers != next.matchers {
            return false;
        }
        match self.state(now) {
            SilenceState::Active => next.starts_at == self.spec.starts_at && next.ends_at >= now,
            SilenceState::Pending => next.starts_at >= now,
            SilenceState::Expired => false,
        }
    }

    /// Ends it now: an active silence stops muting, a pending one never starts.
    pub(crate) fn expire(&mut self, now: Timestamp) {
        match self.state(now) {
            SilenceState::Active => self.spec.ends_at = now,
            SilenceState::Pending => {
                self.spec.starts_at = now;
                self.spec.ends_at = now;
            }
            SilenceState::Expired => {}
        }
        self.updated_at = now;
    }
}

/// Checks and compiles matchers as Alertmanager's `validateSilence` does.
fn compile(matchers: &[Matcher]) -> Result<Vec<Compiled>, String> {
    let mut out = Vec::with_capacity(matchers.len());
    for (i, m) in matchers.iter().enumerate() {
        let invalid = |why: String| format!("invalid label matcher {i}: {why}");
        if !valid_label_name(&m.name) {
            return Err(invalid(format!("invalid label name {:?}", m.name)));
        }
        let test = if m.is_regex {
            // Alertmanager anchors every matcher regex: `^(?:value)$`.
            let re = Regex::new(&format!("^(?:{})$", m.value))
                .map_err(|e| invalid(format!("invalid regular expression {:?}: {e}", m.value)))?;
            Test::Regex(re)
        } else {
            Test::Equal(m.value.clone())
        };
        out.push(Compiled {
            name: m.name.clone(),
            test,
            is_equal: m.is_equal,
        });
    }
    if out.iter().all(|m| m.matches("")) {
        return Err("at least one matcher must not match the empty string".into());
    }
    Ok(out)
}

/// Prometheus' label name rule: `[a-zA-Z_][a-zA-Z0-9_]*`.
fn valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(name: &str, value: &str, is_regex: bool, is_equal: bool) -> Matcher {
        Matcher {
            name: name.into(),
            value: value.into(),
            is_regex,
            is_equal,
        }
    }

    /// A silence from `now` for an hour.
    fn silence_at(now: Timestamp, matchers: Vec<Matcher>) -> Result<Silence, String> {
        let spec = PostableSilence {
            id: None,
            matchers,
            starts_at: now,
            ends_at: now + jiff::SignedDuration::from_hours(1),
            created_by: "me".into(),
            comment: "test".into(),
        };
        Silence::new(spec, now)
    }

    fn silence(matchers: Vec<Matcher>) -> Result<Silence, String> {
        silence_at(Timestamp::now(), matchers)
    }

    fn labels(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn regexes_are_anchored_and_a_missing_label_is_empty() {
        let now = Timestamp::now();
        let s = silence_at(now, vec![matcher("alertname", "Kube.*|X", true, true)]).unwrap();
        assert!(s.mutes(&labels(&[("alertname", "KubePodCrashLooping")]), now));
        assert!(s.mutes(&labels(&[("alertname", "X")]), now));
        assert!(!s.mutes(&labels(&[("alertname", "XY")]), now));
        let s = silence_at(
            now,
            vec![
                matcher("alertname", "X", false, true),
                matcher("pod", "p", false, false),
            ],
        )
        .unwrap();
        assert!(s.mutes(&labels(&[("alertname", "X")]), now));
        assert!(!s.mutes(&labels(&[("alertname", "X"), ("pod", "p")]), now));
    }

    #[test]
    fn bad_matchers_are_refused_with_alertmanagers_words() {
        let err = silence(vec![matcher("a-b", "x", false, true)]).unwrap_err();
        assert_eq!(
            err,
            "silence invalid: invalid label matcher 0: invalid label name \"a-b\""
        );
        let err = silence(vec![matcher("a", "(", true, true)]).unwrap_err();
        assert!(err.contains("invalid regular expression \"(\""), "{err}");
        let err = silence(vec![matcher("a", "", false, true)]).unwrap_err();
        assert!(err.ends_with("at least one matcher must not match the empty string"));
    }
}
