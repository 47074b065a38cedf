//! Silences: what hubdeck asks Alertmanager to mute, and what it reads back.

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::wire::{GettableSilence, Matcher, PostableSilence};
use crate::fleet::AlertInfo;

impl Matcher {
    /// A matcher for `name="value"`.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            is_regex: false,
            is_equal: true,
        }
    }

    /// Whether this matcher accepts the given labels (regular expressions are not evaluated:
    /// hubdeck only creates equality matchers; a regex matcher never matches here).
    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        if self.is_regex {
            return false;
        }
        let value = labels
            .iter()
            .find(|(k, _)| *k == self.name)
            .map_or("", |(_, v)| v.as_str());
        (value == self.value) == self.is_equal
    }
}

/// A silence to create.
#[derive(Debug, Clone, PartialEq)]
pub struct SilenceSpec {
    /// Label matchers; all must match. Alertmanager needs at least one.
    pub matchers: Vec<Matcher>,
    /// Start of the muting window; `None` for now.
    pub starts: Option<Timestamp>,
    /// Length of the muting window.
    pub duration: Duration,
    /// Author, shown in Alertmanager's UI.
    pub created_by: String,
    /// Why, shown in Alertmanager's UI.
    pub comment: String,
}

impl SilenceSpec {
    /// A silence muting exactly this alert: one equality matcher per label.
    pub fn for_alert(
        alert: &AlertInfo,
        duration: Duration,
        created_by: impl Into<String>,
        comment: impl Into<String>,
    ) -> Self {
        Self {
            matchers: alert
                .labels
                .iter()
                .map(|(k, v)| Matcher::equal(k.clone(), v.clone()))
                .collect(),
            starts: None,
            duration,
            created_by: created_by.into(),
            comment: comment.into(),
        }
    }

    /// The request body, with the window anchored at `now` when no start is given.
    pub(crate) fn to_postable(&self, now: Timestamp) -> Result<PostableSilence, String> {
        let starts = self.starts.unwrap_or(now);
        let span = jiff::SignedDuration::try_from(self.duration).map_err(|e| e.to_string())?;
        let ends = starts.checked_add(span).map_err(|e| e.to_string())?;
        Ok(PostableSilence {
            id: None,
            matchers: self.matchers.clone(),
            starts_at: starts,
            ends_at: ends,
            created_by: self.created_by.clone(),
            comment: self.comment.clone(),
        })
    }
}

/// Lifecycle state of a silence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SilenceState {
    /// Muting now.
    Active,
    /// Starts later.
    Pending,
    /// Over (Alertmanager keeps expired silences for a retention period).
    Expired,
}

impl SilenceState {
    /// Parses `status.state`; unknown words count as expired (they mute nothing we know of).
    pub fn from_wire(v: &str) -> Self {
        match v {
            "active" => Self::Active,
            "pending" => Self::Pending,
            _ => Self::Expired,
        }
    }
}

/// A silence as read back from Alertmanager.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Silence {
    /// Silence id (a UUID).
    pub id: String,
    /// Active, pending or expired.
    pub state: SilenceState,
    /// Label matchers.
    pub matchers: Vec<Matcher>,
    /// Start of the muting window.
    pub starts: Timestamp,
    /// End of the muting window.
    pub ends: Timestamp,
    /// Author.
    pub created_by: String,
    /// Why.
    pub comment: String,
}

impl From<GettableSilence> for Silence {
    fn from(s: GettableSilence) -> Self {
        Self {
            id: s.id,
            state: SilenceState::from_wire(&s.status.state),
            matchers: s.matchers,
            starts: s.starts_at,
            ends: s.ends_at,
            created_by: s.created_by,
            comment: s.comment,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn equality_matcher_treats_missing_label_as_empty() {
        let l = labels(&[("alertname", "HubDown"), ("namespace", "prod")]);
        assert!(Matcher::equal("namespace", "prod").matches(&l));
        assert!(!Matcher::equal("namespace", "staging").matches(&l));
        assert!(Matcher::equal("pod", "").matches(&l));
        let not = Matcher {
            is_equal: false,
            ..Matcher::equal("namespace", "staging")
        };
        assert!(not.matches(&l));
    }

    #[test]
    fn silence_window_starts_now_when_unset() {
        let spec = SilenceSpec {
            matchers: vec![Matcher::equal("alertname", "X")],
            starts: None,
            duration: Duration::from_secs(2 * 3600),
            created_by: "me".into(),
            comment: "maintenance".into(),
        };
        let now: Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
        let p = spec.to_postable(now).unwrap();
        assert_eq!(p.starts_at, now);
        assert_eq!(p.ends_at.to_string(), "2025-01-01T02:00:00Z");
    }
}
