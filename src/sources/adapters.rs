//! The action layer's adapters over the pollers' endpoints: stopping servers through the hub
//! APIs the pollers found, and silencing through each cluster's Alertmanager (which then wakes
//! that cluster's poller, so the silence shows at once).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use crate::action::{ActionError, HubStopper, Matcher, Pending, Silencer};
use crate::alerts::{self, AlertmanagerClient, AlertsError, SilenceSpec};
use crate::fleet::SourceState;
use crate::fleet::{ClusterId, HubId};
use crate::hubapi::{HubApiError, HubSource, StopOutcome, TokenSource};
use crate::kube::ClientCache;

/// A hub API's failure as the action layer's kind: a rejected token or a forbidden call is a
/// refusal (exit 4), never a reason to fall back to deleting the pod.
fn hub_api_error(e: HubApiError) -> ActionError {
    match e {
        HubApiError::Unauthorized { .. } | HubApiError::Forbidden { .. } => {
            ActionError::Refused(e.to_string())
        }
        HubApiError::Unreachable { .. } => ActionError::Unreachable(e.to_string()),
        _ => ActionError::Failed(e.to_string()),
    }
}

/// An Alertmanager's failure as the action layer's kind.
fn alerts_error(e: AlertsError) -> ActionError {
    match &e {
        AlertsError::Unreachable { .. } => ActionError::Unreachable(e.to_string()),
        AlertsError::Http {
            status: 401 | 403, ..
        } => ActionError::Refused(e.to_string()),
        AlertsError::SilenceNotFound { .. } => ActionError::Precondition(e.to_string()),
        _ => ActionError::Failed(e.to_string()),
    }
}

/// Per cluster, what wakes its Alertmanager poller before the interval is up: a silence made
/// or expired shows as such at once, not a poll interval later.
pub(super) type Nudges = Arc<Mutex<HashMap<ClusterId, Arc<Notify>>>>;

pub(super) fn nudge_for(nudges: &Nudges, cluster: &ClusterId) -> Arc<Notify> {
    nudges
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(cluster.clone())
        .or_default()
        .clone()
}

/// Whether a hub's API has a token hubdeck can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token {
    /// Given in fleet.toml (value or variable): the API is the way, whatever it answers.
    Configured,
    /// To be read from the hub Secret: known once the first poll says.
    Unknown,
    /// The hub Secret holds one.
    Found,
    /// None anywhere: servers are stopped by deleting their pods.
    Missing,
}

/// The hub APIs known to the pollers, for stopping servers.
pub(super) struct HubApis {
    /// Each polled hub's source, and what is known of its token.
    pub(super) hubs: Mutex<HashMap<HubId, (HubSource, Token)>>,
}

impl HubApis {
    fn lock(&self) -> MutexGuard<'_, HashMap<HubId, (HubSource, Token)>> {
        self.hubs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn register(&self, hub: &HubId, source: HubSource) {
        let token = match source.token {
            TokenSource::Value(_) | TokenSource::Env(_) => Token::Configured,
            TokenSource::HubSecret(_) => Token::Unknown,
        };
        self.lock().insert(hub.clone(), (source, token));
    }

    pub(super) fn forget(&self, hub: &HubId) {
        self.lock().remove(hub);
    }

    /// Learns from a poll whether the hub Secret holds a token: "absent" means none; any
    /// other answer (ok, rejected, unreachable) means there is one to use.
    pub(super) fn observe(&self, hub: &HubId, source: &SourceState) {
        if let Some(entry) = self.lock().get_mut(hub)
            && entry.1 != Token::Configured
        {
            entry.1 = match source {
                SourceState::Absent { .. } => Token::Missing,
                SourceState::Unknown => entry.1,
                SourceState::Ok | SourceState::Failing { .. } => Token::Found,
            };
        }
    }

    async fn stop_server(
        &self,
        hub: &HubId,
        user: &str,
        server: &str,
    ) -> Result<String, ActionError> {
        let source = self
            .lock()
            .get(hub)
            .map(|(s, _)| s.clone())
            .ok_or_else(|| ActionError::Precondition(format!("hub API of {hub} is not known")))?;
        let client = source.connect(hub).await.map_err(hub_api_error)?;
        let name = if server.is_empty() {
            user.to_string()
        } else {
            format!("{user}/{server}")
        };
        match client.stop_server(user, server).await {
            Ok(StopOutcome::Stopped) => Ok(format!("{name}: stopped through the hub API")),
            Ok(StopOutcome::Stopping) => Ok(format!("{name}: the hub is stopping it")),
            Ok(StopOutcome::NotFound { message }) => Err(ActionError::Precondition(format!(
                "{name}: hub API of {hub}: {message}"
            ))),
            Ok(StopOutcome::Refused { message }) => Err(ActionError::Refused(format!(
                "{name}: hub API of {hub}: {message}"
            ))),
            Err(e) => Err(hub_api_error(e)),
        }
    }
}

impl HubStopper for HubApis {
    /// True when a token is configured or found: then the hub API is the one way to stop the
    /// hub's servers, and its refusal is a refusal. Deleting pods is only for hubs without one.
    fn available(&self, hub: &HubId) -> bool {
        self.lock()
            .get(hub)
            .is_some_and(|(_, t)| matches!(t, Token::Configured | Token::Found))
    }

    fn stop<'a>(&'a self, hub: &'a HubId, user: &'a str, server: &'a str) -> Pending<'a, String> {
        Box::pin(self.stop_server(hub, user, server))
    }
}

/// Silences through each cluster's Alertmanager, reached like the alert poller reaches it.
pub struct Alertmanagers {
    pub(super) clients: Arc<ClientCache>,
    pub(super) nudges: Nudges,
}

impl Alertmanagers {
    async fn client(&self, cluster: &ClusterId) -> Result<AlertmanagerClient, ActionError> {
        let target = self
            .clients
            .target(cluster)
            .ok_or_else(|| ActionError::Precondition(format!("unknown cluster {cluster}")))?;
        if let Some(url) = &target.alertmanager_url {
            return AlertmanagerClient::at_url(cluster, url).map_err(alerts_error);
        }
        let kube = self
            .clients
            .client(cluster)
            .await
            .map_err(|e| ActionError::Unreachable(format!("cluster {cluster}: {e}")))?;
        let also = crate::kube::scope::candidates(target);
        match alerts::discover_alertmanager(&kube, &also).await {
            Ok(Some(service)) => Ok(AlertmanagerClient::via_service(cluster, kube, service)),
            Ok(None) => Err(ActionError::Precondition(format!(
                "cluster {cluster} has no Alertmanager"
            ))),
            Err(e) => Err(alerts_error(e)),
        }
    }

    /// Every silence the cluster's Alertmanager keeps (a read, for listings).
    pub async fn list(&self, cluster: &ClusterId) -> Result<Vec<alerts::Silence>, ActionError> {
        let client = self.client(cluster).await?;
        client.silences().await.map_err(alerts_error)
    }
}

impl Silencer for Alertmanagers {
    fn expire<'a>(&'a self, cluster: &'a ClusterId, id: &'a str) -> Pending<'a, ()> {
        Box::pin(async move {
            let client = self.client(cluster).await?;
            client.expire_silence(id).await.map_err(alerts_error)?;
            nudge_for(&self.nudges, cluster).notify_one();
            Ok(())
        })
    }

    fn silence<'a>(
        &'a self,
        cluster: &'a ClusterId,
        matchers: &'a [Matcher],
        duration: Duration,
        author: &'a str,
        comment: &'a str,
    ) -> Pending<'a, String> {
        Box::pin(async move {
            let client = self.client(cluster).await?;
            let spec = SilenceSpec {
                matchers: matchers
                    .iter()
                    .map(|m| alerts::Matcher::equal(m.name.clone(), m.value.clone()))
                    .collect(),
                starts: None,
                duration,
                created_by: author.to_string(),
                comment: comment.to_string(),
            };
            let id = client.create_silence(&spec).await.map_err(alerts_error)?;
            nudge_for(&self.nudges, cluster).notify_one();
            Ok(id)
        })
    }
}
