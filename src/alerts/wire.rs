//! The Alertmanager v2 JSON shapes hubdeck reads and writes (`gettableAlert`, `gettableSilence`,
//! `postableSilence`, `matcher` of the v2 OpenAPI spec). The demo fleet's fake Alertmanager
//! (`hubdeck-sim`) has its own, written from the spec, so a mistake here is not mirrored there.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// An alert as `GET /api/v2/alerts` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableAlert {
    /// Identifying labels.
    pub labels: BTreeMap<String, String>,
    /// Free-form annotations (`summary`, `description`, `runbook_url`, ...).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Hash of the labels, stable while the alert fires.
    pub fingerprint: String,
    /// When it started firing.
    pub starts_at: Timestamp,
    /// When it resolves unless re-sent.
    pub ends_at: Timestamp,
    /// When Alertmanager last received it.
    pub updated_at: Timestamp,
    /// Link back to the rule that fired, if any.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "generatorURL"
    )]
    pub generator_url: Option<String>,
    /// Receivers it is routed to.
    #[serde(default)]
    pub receivers: Vec<Receiver>,
    /// Whether it is silenced or inhibited.
    pub status: AlertStatus,
}

/// A receiver reference inside an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receiver {
    /// Receiver name.
    pub name: String,
}

/// `alertStatus`: why an alert is (not) notified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertStatus {
    /// `active`, `suppressed` or `unprocessed`.
    pub state: String,
    /// Ids of silences muting it.
    #[serde(default)]
    pub silenced_by: Vec<String>,
    /// Fingerprints of alerts inhibiting it.
    #[serde(default)]
    pub inhibited_by: Vec<String>,
}

/// An alert as `POST /api/v2/alerts` accepts it (what Prometheus sends).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableAlert {
    /// Identifying labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Start; Alertmanager uses "now" when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<Timestamp>,
    /// End; in the past resolves the alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<Timestamp>,
}

/// One label matcher of a silence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Value or regular expression.
    pub value: String,
    /// `value` is a regular expression.
    pub is_regex: bool,
    /// Match when equal (true) or when different (false). Absent in old servers: equal.
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

/// A silence as `GET /api/v2/silences` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableSilence {
    /// Silence id.
    pub id: String,
    /// `pending`, `active` or `expired`.
    pub status: SilenceStatus,
    /// When it was last changed.
    pub updated_at: Timestamp,
    /// Matchers; all must match for an alert to be muted.
    pub matchers: Vec<Matcher>,
    /// Start of the muting window.
    pub starts_at: Timestamp,
    /// End of the muting window.
    pub ends_at: Timestamp,
    /// Author.
    pub created_by: String,
    /// Why.
    pub comment: String,
}

/// `silenceStatus`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilenceStatus {
    /// `pending`, `active` or `expired`.
    pub state: String,
}

/// A new silence, as `POST /api/v2/silences` accepts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableSilence {
    /// Set to update an existing silence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Matchers (at least one).
    pub matchers: Vec<Matcher>,
    /// Start.
    pub starts_at: Timestamp,
    /// End.
    pub ends_at: Timestamp,
    /// Author.
    pub created_by: String,
    /// Why.
    pub comment: String,
}

/// Answer to `POST /api/v2/silences`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilenceCreated {
    /// The new silence's id.
    #[serde(rename = "silenceID")]
    pub silence_id: String,
}
