//! Alertmanager's v2 API JSON: the `gettableAlert`, `postableAlert`, `gettableSilence`,
//! `postableSilence` and `matcher` definitions of `api/v2/openapi.yaml`. Every property the
//! spec marks required is always written; times are written as Alertmanager's Go server
//! writes them (RFC 3339 in UTC with exactly three fraction digits), not as serde would.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// `labelSet`: label names to values.
pub type LabelSet = BTreeMap<String, String>;

/// `alertStatus.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Received, not yet routed.
    Unprocessed,
    /// Firing and notified.
    Active,
    /// Firing but muted by a silence or an inhibition.
    Suppressed,
}

/// `alertStatus`: why an alert is, or is not, notified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertStatus {
    /// Active, suppressed or unprocessed.
    pub state: AlertState,
    /// Ids of the silences muting it (required, so `[]` when none).
    pub silenced_by: Vec<String>,
    /// Fingerprints of the alerts inhibiting it (required, so `[]` when none).
    pub inhibited_by: Vec<String>,
}

/// `receiver`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receiver {
    /// The receiver's name from the routing tree.
    pub name: String,
}

/// `gettableAlert`: an alert as `GET /api/v2/alerts` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableAlert {
    /// Identifying labels.
    pub labels: LabelSet,
    /// Annotations (required: `{}` when there are none).
    pub annotations: LabelSet,
    /// Receivers the routing tree sends it to.
    pub receivers: Vec<Receiver>,
    /// Hash of the labels.
    pub fingerprint: String,
    /// When it started firing.
    #[serde(with = "go_time")]
    pub starts_at: Timestamp,
    /// When Alertmanager last received it.
    #[serde(with = "go_time")]
    pub updated_at: Timestamp,
    /// When it resolves unless sent again.
    #[serde(with = "go_time")]
    pub ends_at: Timestamp,
    /// Suppressed or not, and by what.
    pub status: AlertStatus,
    /// Link to the rule that fired it; Go leaves an empty one out.
    #[serde(
        rename = "generatorURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub generator_url: Option<String>,
}

/// `postableAlert`: an alert as Prometheus sends it to `POST /api/v2/alerts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableAlert {
    /// Identifying labels (the only required property).
    pub labels: LabelSet,
    /// Annotations.
    #[serde(default)]
    pub annotations: LabelSet,
    /// Start; Alertmanager takes "now" when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<Timestamp>,
    /// End; one in the past resolves the alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<Timestamp>,
    /// Link to the rule that fired it.
    #[serde(
        rename = "generatorURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub generator_url: Option<String>,
}

/// `matcher`: one label condition of a silence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Value, or a regular expression when `is_regex`.
    pub value: String,
    /// Whether `value` is a regular expression (required).
    pub is_regex: bool,
    /// Match when equal (true) or when not (false); the spec's default is true.
    #[serde(default = "is_equal_by_default")]
    pub is_equal: bool,
}

fn is_equal_by_default() -> bool {
    true
}

/// `silenceStatus.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SilenceState {
    /// Its window is over.
    Expired,
    /// Muting now.
    Active,
    /// Its window has not started.
    Pending,
}

/// `silenceStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilenceStatus {
    /// Expired, active or pending.
    pub state: SilenceState,
}

/// `gettableSilence`: a silence as `GET /api/v2/silences` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableSilence {
    /// Its id (a UUID).
    pub id: String,
    /// Expired, active or pending.
    pub status: SilenceStatus,
    /// When it was last changed.
    #[serde(with = "go_time")]
    pub updated_at: Timestamp,
    /// Conditions an alert must all meet to be muted.
    pub matchers: Vec<Matcher>,
    /// Start of the muting window.
    #[serde(with = "go_time")]
    pub starts_at: Timestamp,
    /// End of the muting window.
    #[serde(with = "go_time")]
    pub ends_at: Timestamp,
    /// Author.
    pub created_by: String,
    /// Why.
    pub comment: String,
}

/// `postableSilence`: a silence as `POST /api/v2/silences` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableSilence {
    /// The silence to update; absent for a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Conditions (the spec asks for at least one).
    pub matchers: Vec<Matcher>,
    /// Start of the muting window.
    pub starts_at: Timestamp,
    /// End of the muting window.
    pub ends_at: Timestamp,
    /// Author (required, but Alertmanager accepts an empty one).
    pub created_by: String,
    /// Why (required, but Alertmanager accepts an empty one).
    pub comment: String,
}

/// The 200 answer of `POST /api/v2/silences`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilenceCreated {
    /// The created or updated silence's id.
    #[serde(rename = "silenceID")]
    pub silence_id: String,
}

/// go-openapi's `strfmt.DateTime` on the wire: `2006-01-02T15:04:05.000Z`, truncated to the
/// millisecond. Any RFC 3339 time is read.
mod go_time {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{t:.3}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        Timestamp::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_have_three_fraction_digits_and_required_lists_are_written() {
        let t: Timestamp = "2025-01-01T10:00:00.123987Z".parse().unwrap();
        let alert = GettableAlert {
            labels: LabelSet::from([("alertname".into(), "X".into())]),
            annotations: LabelSet::new(),
            receivers: vec![Receiver {
                name: "null".into(),
            }],
            fingerprint: "0123456789abcdef".into(),
            starts_at: t,
            updated_at: t,
            ends_at: "2025-01-01T10:05:00Z".parse().unwrap(),
            status: AlertStatus {
                state: AlertState::Active,
                silenced_by: Vec::new(),
                inhibited_by: Vec::new(),
            },
            generator_url: None,
        };
        let v = serde_json::to_value(&alert).unwrap();
        assert_eq!(v["startsAt"], "2025-01-01T10:00:00.123Z");
        assert_eq!(v["endsAt"], "2025-01-01T10:05:00.000Z");
        assert_eq!(v["annotations"], serde_json::json!({}));
        assert_eq!(v["status"]["silencedBy"], serde_json::json!([]));
        assert_eq!(v["status"]["state"], "active");
        assert!(v.get("generatorURL").is_none());
    }

    #[test]
    fn a_matcher_without_is_equal_is_an_equality() {
        let m: Matcher =
            serde_json::from_str(r#"{"name": "a", "value": "b", "isRegex": false}"#).unwrap();
        assert!(m.is_equal);
        let missing = r#"{"name": "a", "value": "b"}"#;
        assert!(
            serde_json::from_str::<Matcher>(missing).is_err(),
            "isRegex is required"
        );
    }
}
