//! A fake Alertmanager v2 API for the demo fleet: firing alerts and silences kept in memory,
//! served in Alertmanager's own JSON (the sim's own [`wire::alertmanager`](super::wire) types,
//! written from the OpenAPI spec), with silences muting the alerts they match by
//! Alertmanager's rules (`silencing`). The sim serves it behind its service proxy; a
//! [`FakeAlertmanager`] handle lets scenarios fire and resolve alerts. Status codes and
//! messages are the ones Alertmanager 0.25 gives (a newer one's 404 for an unknown silence).

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

use super::silencing::Silence;
use super::wire::alertmanager::{
    AlertState, AlertStatus, GettableAlert, GettableSilence, LabelSet, PostableAlert,
    PostableSilence, Receiver, SilenceCreated, SilenceStatus,
};

/// How long an alert stays firing without being sent again (Alertmanager's resolve_timeout).
const RESOLVE_TIMEOUT: SignedDuration = SignedDuration::from_mins(5);

#[derive(Debug, Clone)]
struct Firing {
    labels: LabelSet,
    annotations: LabelSet,
    starts_at: Timestamp,
    updated_at: Timestamp,
}

#[derive(Debug, Default)]
struct AmState {
    /// Firing alerts by fingerprint.
    alerts: BTreeMap<String, Firing>,
    /// Silences by id, in creation order of ids.
    silences: BTreeMap<String, Silence>,
    next_silence: u64,
}

/// Handle on a fake Alertmanager: build the router once, fire and resolve from scenarios.
#[derive(Debug, Clone, Default)]
pub struct FakeAlertmanager {
    state: Arc<Mutex<AmState>>,
}

/// Alertmanager's fingerprint: Prometheus' 64-bit FNV-1a of the sorted label names and
/// values, each followed by a 0xff separator, as 16 hex digits.
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

fn to_map(pairs: &[(&str, &str)]) -> LabelSet {
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
        labels: LabelSet,
        annotations: LabelSet,
        starts_at: Timestamp,
        now: Timestamp,
    ) -> String {
        let fp = fingerprint(&labels);
        let mut st = self.lock();
        let entry = st.alerts.entry(fp.clone()).or_insert_with(|| Firing {
            labels,
            annotations: LabelSet::new(),
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
    /// Every alert, in fingerprint order as Alertmanager sorts them.
    fn gettable_alerts(&self, now: Timestamp) -> Vec<GettableAlert> {
        self.alerts
            .iter()
            .map(|(fp, a)| {
                let silenced_by: Vec<String> = self
                    .silences
                    .iter()
                    .filter(|(_, s)| s.mutes(&a.labels, now))
                    .map(|(id, _)| id.clone())
                    .collect();
                let state = if silenced_by.is_empty() {
                    AlertState::Active
                } else {
                    AlertState::Suppressed
                };
                GettableAlert {
                    labels: a.labels.clone(),
                    annotations: a.annotations.clone(),
                    receivers: vec![Receiver {
                        name: "null".into(),
                    }],
                    fingerprint: fp.clone(),
                    starts_at: a.starts_at,
                    updated_at: a.updated_at,
                    ends_at: a
                        .updated_at
                        .saturating_add(RESOLVE_TIMEOUT)
                        .unwrap_or(a.updated_at),
                    status: AlertStatus {
                        state,
                        silenced_by,
                        inhibited_by: Vec::new(),
                    },
                    generator_url: None,
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
                    state: s.state(now),
                },
                updated_at: s.updated_at,
                matchers: s.spec.matchers.clone(),
                starts_at: s.spec.starts_at,
                ends_at: s.spec.ends_at,
                created_by: s.spec.created_by.clone(),
                comment: s.spec.comment.clone(),
            })
            .collect()
    }

    /// A new id in UUID form, as the path of `DELETE /silence/{id}` requires.
    fn new_id(&mut self) -> String {
        self.next_silence += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.next_silence)
    }
}

/// Alertmanager's answer to a request its handler refuses: the message as a JSON string.
fn refused(status: StatusCode, message: &str) -> Response {
    (status, Json(json!(message))).into_response()
}

/// go-openapi's answer to a request its spec refuses, before any handler runs.
fn unprocessable(code: u16, message: String) -> Response {
    let body = json!({"code": code, "message": message});
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// The filter flags of `GET /alerts`, as raw strings: go-openapi reads a boolean query
/// parameter with `swag.ConvertBool`, where every word but a few true ones means false.
#[derive(Deserialize)]
struct AlertFilter {
    active: Option<String>,
    silenced: Option<String>,
    inhibited: Option<String>,
    unprocessed: Option<String>,
}

/// `swag.ConvertBool`, with the spec's default (true) for an absent flag.
fn flag(v: Option<&str>) -> bool {
    v.is_none_or(|v| {
        matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "ok" | "y" | "on" | "selected" | "checked" | "t" | "enabled"
        )
    })
}

async fn list_alerts(
    State(am): State<FakeAlertmanager>,
    Query(f): Query<AlertFilter>,
) -> Json<Vec<GettableAlert>> {
    // Nothing is inhibited or unprocessed here; those flags leave every alert in.
    let _ = (flag(f.inhibited.as_deref()), flag(f.unprocessed.as_deref()));
    let active = flag(f.active.as_deref());
    let silenced = flag(f.silenced.as_deref());
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
            return refused(StatusCode::BAD_REQUEST, "at least one label pair required");
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

/// `POST /silences` in Alertmanager's order: the spec's checks, the window, the id, the
/// matchers; then an update in place where allowed, else a new silence (expiring the old).
async fn post_silence(
    State(am): State<FakeAlertmanager>,
    Json(s): Json<PostableSilence>,
) -> Response {
    if s.matchers.is_empty() {
        let msg = "matchers in body should have at least 1 items".to_string();
        return unprocessable(612, msg);
    }
    if s.ends_at <= s.starts_at {
        let msg = "Failed to create silence: start time must be before end time";
        return refused(StatusCode::BAD_REQUEST, msg);
    }
    let now = Timestamp::now();
    if s.ends_at < now {
        let msg = "Failed to create silence: end time can't be in the past";
        return refused(StatusCode::BAD_REQUEST, msg);
    }
    let mut st = am.lock();
    let previous = match s.id.as_deref() {
        Some(id) if !st.silences.contains_key(id) => {
            return refused(StatusCode::NOT_FOUND, "silence not found");
        }
        other => other.map(str::to_string),
    };
    let mut silence = match Silence::new(PostableSilence { id: None, ..s }, now) {
        Ok(silence) => silence,
        Err(msg) => return refused(StatusCode::BAD_REQUEST, &msg),
    };
    if let Some((id, old)) = previous.and_then(|id| st.silences.get_mut(&id).map(|s| (id, s))) {
        if old.can_become(&silence.spec, now) {
            *old = silence;
            return Json(SilenceCreated { silence_id: id }).into_response();
        }
        old.expire(now);
    }
    // A silence starting in the past starts now, as Alertmanager does.
    silence.spec.starts_at = silence.spec.starts_at.max(now);
    let id = st.new_id();
    st.silences.insert(id.clone(), silence);
    Json(SilenceCreated { silence_id: id }).into_response()
}

async fn expire_silence(State(am): State<FakeAlertmanager>, Path(id): Path<String>) -> Response {
    if !is_uuid(&id) {
        let msg = format!("silenceID in path must be of type uuid: {id:?}");
        return unprocessable(601, msg);
    }
    let now = Timestamp::now();
    let mut st = am.lock();
    let Some(s) = st.silences.get_mut(&id) else {
        return refused(StatusCode::NOT_FOUND, "silence not found");
    };
    // Expiring an expired silence again is no error (Alertmanager 0.25 answers 200).
    s.expire(now);
    StatusCode::OK.into_response()
}

/// The `format: uuid` check go-openapi makes on the path: 8-4-4-4-12 hex digits.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
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
        // What Alertmanager 0.25 answered for an alert with these labels.
        assert_eq!(fingerprint(&a), "b3fe63deb8379dcb");
    }

    #[test]
    fn silence_ids_are_uuids_and_paths_must_be() {
        let mut st = AmState::default();
        assert!(is_uuid(&st.new_id()));
        assert!(is_uuid("cc8b1d71-fa13-444c-a143-ee767e29eda5"));
        assert!(!is_uuid("no-such-silence"));
        assert!(!is_uuid("cc8b1d71fa13444ca143ee767e29eda5"));
    }

    #[test]
    fn boolean_flags_read_as_go_openapi_reads_them() {
        assert!(flag(None));
        assert!(flag(Some("true")) && flag(Some("1")) && flag(Some("Yes")));
        assert!(!flag(Some("false")) && !flag(Some("0")) && !flag(Some("maybe")));
    }
}
