//! The Alertmanager v2 client: firing alerts, silences, create and expire.

use std::sync::Arc;

use http::Method;
use jiff::Timestamp;
use serde::de::DeserializeOwned;

use super::error::AlertsError;
use super::map::to_alert_info;
use super::silence::{Silence, SilenceSpec};
use super::transport::{ServiceRef, Transport};
use super::wire::{GettableAlert, GettableSilence, SilenceCreated};
use crate::fleet::{AlertInfo, ClusterId};

/// Client of one cluster's Alertmanager. Cheap to clone.
#[derive(Clone)]
pub struct AlertmanagerClient {
    /// Cluster and endpoint, for error messages.
    at: Arc<str>,
    transport: Transport,
}

impl std::fmt::Debug for AlertmanagerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertmanagerClient")
            .field("at", &self.at)
            .finish()
    }
}

impl AlertmanagerClient {
    /// Reaches the Alertmanager behind `service` through the cluster's API-server proxy.
    pub fn via_service(cluster: &ClusterId, client: kube::Client, service: ServiceRef) -> Self {
        Self {
            at: format!("of {cluster} (service {service})").into(),
            transport: Transport::ServiceProxy { client, service },
        }
    }

    /// Reaches the Alertmanager at a base URL such as `http://127.0.0.1:9093` (a trailing `/`
    /// or `/api/v2` is accepted).
    pub fn at_url(cluster: &ClusterId, base: &str) -> Result<Self, AlertsError> {
        let base = base.trim_end_matches('/');
        let base = base.strip_suffix("/api/v2").unwrap_or(base).to_string();
        let at = format!(
            "of {cluster} ({})",
            hubdeck_core::secrets::mask_url_credentials(&base)
        );
        let config = |cause: String| AlertsError::Config {
            at: at.clone(),
            cause,
        };
        let http = crate::http::client_for(&base).map_err(config)?;
        Ok(Self {
            at: at.into(),
            transport: Transport::Url { http, base },
        })
    }

    /// Which cluster and endpoint this client talks to (for status lines).
    pub fn endpoint(&self) -> &str {
        &self.at
    }

    /// Firing alerts, including silenced ones (with `silenced_by` set), excluding inhibited
    /// ones (another firing alert already says the same thing).
    pub async fn alerts(&self) -> Result<Vec<AlertInfo>, AlertsError> {
        let raw: Vec<GettableAlert> = self
            .get_json("/api/v2/alerts?active=true&silenced=true&inhibited=false&unprocessed=true")
            .await?;
        let mut alerts: Vec<AlertInfo> = raw.into_iter().map(to_alert_info).collect();
        alerts.sort_by(|a, b| {
            (a.severity, &a.name, &a.fingerprint).cmp(&(b.severity, &b.name, &b.fingerprint))
        });
        Ok(alerts)
    }

    /// All silences Alertmanager keeps: active and pending first, then expired ones.
    pub async fn silences(&self) -> Result<Vec<Silence>, AlertsError> {
        let raw: Vec<GettableSilence> = self.get_json("/api/v2/silences").await?;
        let mut silences: Vec<Silence> = raw.into_iter().map(Silence::from).collect();
        silences.sort_by_key(|s| (s.state, s.ends));
        Ok(silences)
    }

    /// Creates a silence; returns its id.
    pub async fn create_silence(&self, spec: &SilenceSpec) -> Result<String, AlertsError> {
        let body = spec
            .to_postable(Timestamp::now())
            .map_err(|cause| AlertsError::Config {
                at: self.at.to_string(),
                cause: format!("silence window: {cause}"),
            })?;
        let json = serde_json::to_vec(&body).map_err(|e| AlertsError::Config {
            at: self.at.to_string(),
            cause: e.to_string(),
        })?;
        let bytes = self
            .transport
            .send(&self.at, Method::POST, "/api/v2/silences", Some(json))
            .await?
            .success(&self.at)?;
        let created: SilenceCreated = self.decode(&bytes)?;
        Ok(created.silence_id)
    }

    /// Expires a silence now. An unknown id is `SilenceNotFound` (Alertmanager 0.25 answers
    /// 500 "silence not found", later versions 404). Silence ids are UUIDs and Alertmanager
    /// refuses any other path with 422 before looking, so one that is not is unknown unasked.
    pub async fn expire_silence(&self, id: &str) -> Result<(), AlertsError> {
        if !is_uuid(id) {
            return Err(AlertsError::SilenceNotFound {
                at: self.at.to_string(),
                id: id.to_string(),
            });
        }
        let reply = self
            .transport
            .send(
                &self.at,
                Method::DELETE,
                &format!("/api/v2/silence/{id}"),
                None,
            )
            .await?;
        let not_found = reply.status == 404
            || (reply.status == 500 && String::from_utf8_lossy(&reply.body).contains("not found"));
        if not_found {
            return Err(AlertsError::SilenceNotFound {
                at: self.at.to_string(),
                id: id.to_string(),
            });
        }
        reply.success(&self.at).map(|_| ())
    }

    /// Checks that Alertmanager is up and ready (`/-/ready`).
    pub async fn ready(&self) -> Result<(), AlertsError> {
        self.transport
            .send(&self.at, Method::GET, "/-/ready", None)
            .await?
            .success(&self.at)
            .map(|_| ())
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, AlertsError> {
        let bytes = self
            .transport
            .send(&self.at, Method::GET, path, None)
            .await?
            .success(&self.at)?;
        self.decode(&bytes)
    }

    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, AlertsError> {
        serde_json::from_slice(bytes).map_err(|e| AlertsError::Decode {
            at: self.at.to_string(),
            cause: e.to_string(),
        })
    }
}

/// The `format: uuid` of the spec's `silenceID`: 8-4-4-4-12 hex digits.
fn is_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}
