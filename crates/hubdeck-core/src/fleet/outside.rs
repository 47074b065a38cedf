//! Hubs checked from outside: what `https://<domain>/hub/health` answers to someone on the
//! internet, which catches the ingress, DNS and certificate failures a cluster's own view cannot.
//! The checks run in the application (`outside/`); the model keeps the last check of each
//! declared hub (by its declared name, which is its namespace) and derives the alert of a hub
//! its users cannot reach.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::derive::alert;
use super::hub::HealthLevel;
use super::objects::{AlertInfo, Severity};
use super::store::ClusterState;

/// Failed checks in a row after which the alert is critical: one failure may be a blip of the
/// path between here and the hub, three (about three minutes) are an outage.
pub const CRITICAL_AFTER: u32 = 3;

/// What one request to a hub's health endpoint got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Probe {
    /// An HTTP answer with this status code.
    Answered(u16),
    /// The domain did not resolve.
    Dns,
    /// The TLS handshake failed (certificate not trusted, expired, for another name).
    Tls,
    /// No answer within the timeout.
    Timeout,
    /// No connection (refused, reset, unreachable network).
    Connect,
}

/// The word for a check's outcome, in tables and JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutsideState {
    /// The expected status.
    Ok,
    /// Another status.
    Status,
    /// See [`Probe`].
    Dns,
    /// See [`Probe`].
    Tls,
    /// See [`Probe`].
    Timeout,
    /// See [`Probe`].
    Connect,
}

impl OutsideState {
    /// Lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Status => "status",
            Self::Dns => "dns",
            Self::Tls => "tls",
            Self::Timeout => "timeout",
            Self::Connect => "connect",
        }
    }
}

/// One check of a hub's health endpoint, judged against the status its repository expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutsideCheck {
    /// What the request got.
    pub probe: Probe,
    /// The cause of a failed request, one line (none for an HTTP answer).
    pub detail: Option<String>,
    /// Until the answer's status line, when there was one.
    pub latency: Option<Duration>,
    /// When the request was sent.
    pub at: Timestamp,
    /// The status that counts as up (`uptime_check.expected_status`, else 200).
    pub expected: u16,
    /// Failed checks in a row, this one included; 0 when it passed.
    pub failures: u32,
    /// When the current run of passes or of failures began (`at` when this check changed it).
    pub since: Timestamp,
}

impl OutsideCheck {
    /// The check of `probe` at `at`, following `prev` (the same hub's last check).
    pub fn after(
        prev: Option<&OutsideCheck>,
        probe: Probe,
        detail: Option<String>,
        latency: Option<Duration>,
        at: Timestamp,
        expected: u16,
    ) -> Self {
        let passed = probe == Probe::Answered(expected);
        let failures = if passed {
            0
        } else {
            prev.map_or(0, |p| p.failures).saturating_add(1)
        };
        let since = match prev {
            Some(p) if p.passed() == passed => p.since,
            _ => at,
        };
        Self {
            probe,
            detail,
            latency,
            at,
            expected,
            failures,
            since,
        }
    }

    /// Whether the hub answered as expected.
    pub fn passed(&self) -> bool {
        self.probe == Probe::Answered(self.expected)
    }

    /// How it went, in a word.
    pub fn state(&self) -> OutsideState {
        match self.probe {
            _ if self.passed() => OutsideState::Ok,
            Probe::Answered(_) => OutsideState::Status,
            Probe::Dns => OutsideState::Dns,
            Probe::Tls => OutsideState::Tls,
            Probe::Timeout => OutsideState::Timeout,
            Probe::Connect => OutsideState::Connect,
        }
    }

    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self.probe {
            Probe::Answered(code) => Some(code),
            _ => None,
        }
    }

    /// Why the check failed, for the alert and the detail (None when it passed).
    pub fn reason(&self) -> Option<String> {
        if self.passed() {
            return None;
        }
        let what = match self.probe {
            Probe::Answered(code) => format!("status {code} (expected {})", self.expected),
            Probe::Dns => "DNS".to_string(),
            Probe::Tls => "TLS".to_string(),
            Probe::Timeout => "timeout".to_string(),
            Probe::Connect => "connect".to_string(),
        };
        Some(match &self.detail {
            Some(d) if !d.is_empty() => format!("{what}: {d}"),
            _ => what,
        })
    }

    /// At most 8 columns: `200 84ms`, `503 1.2s`, or the failure's word.
    pub fn brief(&self) -> String {
        match (self.probe, self.latency) {
            (Probe::Answered(code), Some(l)) => format!("{code} {}", brief_latency(l)),
            (Probe::Answered(code), None) => code.to_string(),
            _ => self.state().as_str().to_string(),
        }
    }
}

/// `84ms` below a second, then `1.2s`, then `12s`.
fn brief_latency(l: Duration) -> String {
    let ms = l.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 10_000 {
        format!("{:.1}s", l.as_secs_f64())
    } else {
        format!("{}s", l.as_secs())
    }
}

/// A `HubUnreachableOutside` alert for every declared hub whose last check failed: a warning,
/// critical after [`CRITICAL_AFTER`] failures in a row. A declared hub that does not run is
/// left to `HubMissing`.
pub(super) fn outside_alerts(c: &ClusterState, out: &mut Vec<AlertInfo>) {
    for (name, check) in &c.outside {
        let Some(reason) = check.reason() else {
            continue;
        };
        let hub = c.hubs.values().find(|h| *h.id.key.namespace == **name);
        if hub.is_some_and(|h| h.summary.health.level == HealthLevel::Missing) {
            continue;
        }
        let release: &Arc<str> = hub.map_or(name, |h| &h.id.key.release);
        let shown = hub.map_or_else(|| format!("{}/{name}", c.id), |h| h.id.to_string());
        let severity = if check.failures >= CRITICAL_AFTER {
            Severity::Critical
        } else {
            Severity::Warning
        };
        out.push(alert(
            c,
            "HubUnreachableOutside",
            severity,
            format!("{shown}: hub unreachable from outside: {reason}"),
            (Some(name), Some(release), None),
            Some(check.since),
        ));
    }
}
