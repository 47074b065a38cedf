//! A fake Alertmanager v2 API for the demo fleet: firing alerts and silences kept in memory,
//! served in Alertmanager's own JSON (the `alerts::wire` types), with silences muting the
//! alerts they match. The sim serves it behind its service proxy; a [`FakeAlertmanager`]
//! handle lets scenarios fire and resolve alerts. Tested with the real client in
//! `alerts/tests.rs`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::json;

use crate::alerts::wire::{
    AlertStatus, GettableAlert, GettableSilence, PostableAlert, PostableSilence, Receiver,
    SilenceCreated, SilenceStatus,
};

/// How long an alert stays firing without being sent again (Alertmanager's resolve_timeout).
const RESOLVE_TIMEOUT: SignedDuration = SignedDuration::from_mins(5);

#[derive(Debug, Clone)]
struct Firing {
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    starts_at: Timestamp,
    updated_at: Timestamp,
}

#[derive(Debug, Default)]
struct AmState {
    /// Firing alerts by fingerprint.
    alerts: BTreeMap<String, Firing>,
    /// Silences by id, in creation order of ids.
    silences: BTreeMap<String, PostableSilence>,
    /// When each silence was last changed.
    silence_updated: BTreeMap<String, Timestamp>,
    next_silence: u64,
}

/// Handle on a fake Alertmanager: build the router once, fire and resolve from scenarios.
#[derive(Debug, Clone, Default)]
pub struct FakeAlertmanager {
    state: Arc<Mutex<AmState>>,
}

/// Alertmanager's fingerprint: a 64-bit hash of the sorted labels, as 16 hex digits (FNV-1a
/// here: stable across runs, which is all the console relies on).
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in labels {
        for b in k.bytes().chain([0xff]).chain(v.bytes()).chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn to_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl FakeAlertmanager {
    /// An Alertmanager with nothing firing.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, AmState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The v2 API and `/-/ready`, rooted at `/` like port 9093.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/-/ready", get(|| async { "OK" }))
            .route("/-/healthy", get(|| async { "OK" }))
            .route("/api/v2/alerts", get(list_alerts).post(post_alerts))
            .route("/api/v2/silences", get(list_silences).post(post_silence))
            .route("/api/v2/silence/{id}", delete(expire_silence))
            .with_state(self.clone())
    }

    /// Fires an alert (or refreshes it if already firing); returns its fingerprint.
    pub fn fire(&self, labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> String {
        let now = Timestamp::now();
        self.fire_at(to_map(labels), to_map(annotations), now, now)
    }

    /// Fires an alert that has been firing since `since` (the trouble a demo starts with).
    pub fn fire_since(
        &self,
        labels: &[(&str, &str)],
        annotations: &[(&str, &str)],
        since: Timestamp,
    ) -> String {
        self.fire_at(to_map(labels), to_map(annotations), since, Timestamp::now())
    }

    fn fire_at(
        &self,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
        starts_at: Timestamp,
        now: Timestamp,
    ) -> String {
        let fp = fingerprint(&labels);
        let mut st = self.lock();
        let entry = st.alerts.entry(fp.clone()).or_insert_with(|| Firing {
            labels,
            annotations: BTreeMap::new(),
            starts_at,
            updated_at: now,
        });
        entry.annotations = annotations;
        entry.updated_at = now;
        fp
    }

    /// Resolves the alert with this fingerprint; false when it was not firing.
    pub fn resolve(&self, fingerprint: &str) -> bool {
        self.lock().alerts.remove(fingerprint).is_some()
    }

    /// Resolves every alert with this `alertname`; returns how many.
    pub fn resolve_named(&self, alertname: &str) -> usize {
        let mut st = self.lock();
        let before = st.alerts.len();
        st.alerts
            .retain(|_, a| a.labels.get("alertname").map(String::as_str) != Some(alertname));
        before - st.alerts.len()
    }

    /// The firing alerts as `GET /api/v2/alerts` shows them.
    pub fn alerts(&self) -> Vec<GettableAlert> {
        self.lock().gettable_alerts(Timestamp::now())
    }

    /// The silences as `GET /api/v2/silences` shows them.
    pub fn silences(&self) -> Vec<GettableSilence> {
        self.lock().gettable_silences(Timestamp::now())
    }
}

impl AmState {
    fn silence_state(s: &PostableSilence, now: Timestamp) -> &'static str {
        if s.ends_at <= now {
            "expired"
        } else if s.starts_at > now {
            "pending"
        } else {
            "active"
        }
    }

    fn gettable_alerts(&self, now: Timestamp) -> Vec<GettableAlert> {
        self.alerts
            .iter()
            .map(|(fp, a)| {
                let labels: Vec<(String, String)> = a.labels.clone().into_iter().collect();
                let silenced_by: Vec<String> = self
                    .silences
                    .iter()
                    .filter(|(_, s)| Self::silence_state(s, now) == "active")
                    .filter(|(_, s)| s.matchers.iter().all(|m| m.matches(&labels)))
                    .map(|(id, _)| id.clone())
                    .collect();
                let state = if silenced_by.is_empty() {
                    "active"
                } else {
                    "suppressed"
                };
                GettableAlert {
                    labels: a.labels.clone(),
                    annotations: a.annotations.clone(),
                    fingerprint: fp.clone(),
                    starts_at: a.starts_at,
                    ends_at: a
                        .updated_at
                        .saturating_add(RESOLVE_TIMEOUT)
                        .unwrap_or(a.updated_at),
                    updated_at: a.updated_at,
                    generator_url: None,
                    receivers: vec![Receiver {
                        name: "null".into(),
                    }],
                    status: AlertStatus {
                        state: state.into(),
                        silenced_by,
                        inhibited_by: Vec::new(),
                    },
                }
            })
            .collect()
    }

    fn gettable_silences(&self, now: Timestamp) -> Vec<GettableSilence> {
        self.silences
            .iter()
            .map(|(id, s)| GettableSilence {
                id: id.clone(),
                status: SilenceStatus {
                    state: Self::silence_state(s, now).into(),
                },
                updated_at: self.silence_updated.get(id).copied().unwrap_or(now),
                matchers: s.matchers.clone(),
                starts_at: s.starts_at,
                ends_at: s.ends_at,
                created_by: s.created_by.clone(),
                comment: s.comment.clone(),
            })
            .collect()
    }
}

/// Alertmanager's error body for validation failures.
fn invalid(status: StatusCode, message: &str) -> Response {
    (status, Json(json!(message))).into_response()
}

#[derive(Deserialize)]
struct AlertFilter {
    active: Option<bool>,
    silenced: Option<bool>,
    inhibited: Option<bool>,
    unprocessed: Option<bool>,
}

async fn list_alerts(
    State(am): State<FakeAlertmanager>,
    Query(f): Query<AlertFilter>,
) -> Json<Vec<GettableAlert>> {
    // Nothing is inhibited or unprocessed here; those filters change nothing.
    let _ = (f.inhibited, f.unprocessed);
    let (active, silenced) = (f.active.unwrap_or(true), f.silenced.unwrap_or(true));
    let alerts = am
        .alerts()
        .into_iter()
        .filter(|a| {
            if a.status.silenced_by.is_empty() {
                active
            } else {
                silenced
            }
        })
        .collect();
    Json(alerts)
}

async fn post_alerts(
    State(am): State<FakeAlertmanager>,
    Json(alerts): Json<Vec<PostableAlert>>,
) -> Response {
    let now = Timestamp::now();
    for a in alerts {
        if a.labels.is_empty() {
            return invalid(StatusCode::BAD_REQUEST, "at least one label pair required");
        }
        if a.ends_at.is_some_and(|end| end <= now) {
            am.resolve(&fingerprint(&a.labels));
        } else {
            am.fire_at(a.labels, a.annotations, a.starts_at.unwrap_or(now), now);
        }
    }
    StatusCode::OK.into_response()
}

async fn list_silences(State(am): State<FakeAlertmanager>) -> Json<Vec<GettableSilence>> {
    Json(am.silences())
}

async fn post_silence(
    State(am): State<FakeAlertmanager>,
    Json(s): Json<PostableSilence>,
) -> Response {
    if s.matchers.is_empty() {
        let msg = json!({"code": 612, "message": "matchers in body should have at least 1 items"});
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(msg)).into_response();
    }
    if s.created_by.is_empty() {
        return invalid(StatusCode::BAD_REQUEST, "creator information missing");
    }
    if s.comment.is_empty() {
        return invalid(StatusCode::BAD_REQUEST, "comment missing");
    }
    if s.ends_at <= s.starts_at {
        return invalid(
            StatusCode::BAD_REQUEST,
            "end time must not be before start time",
        );
    }
    let now = Timestamp::now();
    let mut st = am.lock();
    let id = match s.id.clone() {
        Some(id) if st.silences.contains_key(&id) => id,
        Some(_) => return invalid(StatusCode::NOT_FOUND, "silence not found"),
        None => {
            st.next_silence += 1;
            format!("00000000-0000-4000-8000-{:012x}", st.next_silence)
        }
    };
    // A silence starting in the past starts now, as Alertmanager does.
    let starts_at = s.starts_at.max(now);
    st.silences.insert(
        id.clone(),
        PostableSilence {
            id: None,
            starts_at,
            ..s
        },
    );
    st.silence_updated.insert(id.clone(), now);
    Json(SilenceCreated { silence_id: id }).into_response()
}

async fn expire_silence(State(am): State<FakeAlertmanager>, Path(id): Path<String>) -> Response {
    let now = Timestamp::now();
    let mut st = am.lock();
    let Some(s) = st.silences.get_mut(&id) else {
        return invalid(StatusCode::NOT_FOUND, "silence not found");
    };
    if s.ends_at > now {
        s.ends_at = now;
        if s.starts_at > now {
            s.starts_at = now;
        }
    }
    st.silence_updated.insert(id, now);
    StatusCode::OK.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_depends_on_labels_only() {
        let a = to_map(&[("alertname", "X"), ("pod", "p")]);
        let b = to_map(&[("pod", "p"), ("alertname", "X")]);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a).len(), 16);
        assert_ne!(fingerprint(&a), fingerprint(&to_map(&[("alertname", "X")])));
    }
}
