//! The action layer's adapters over the pollers' endpoints: stopping servers through the hub
//! APIs the pollers found, and silencing through each cluster's Alertmanager (which then wakes
//! that cluster's poller, so the silence shows at once).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::Notify;

use crate::action::{HubStopper, Matcher, Silencer};
use crate::alerts::{self, AlertmanagerClient, SilenceSpec};
use crate::fleet::{ClusterId, HubId};
use crate::hubapi::{HubSource, StopOutcome};
use crate::kube::ClientCache;

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

/// The hub APIs known to the pollers, for stopping servers.
pub(super) struct HubApis {
    /// Each polled hub's source, and whether its last poll succeeded.
    pub(super) hubs: Mutex<HashMap<HubId, (HubSource, bool)>>,
}

impl HubApis {
    fn lock(&self) -> MutexGuard<'_, HashMap<HubId, (HubSource, bool)>> {
        self.hubs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn register(&self, hub: &HubId, source: HubSource) {
        self.lock().insert(hub.clone(), (source, false));
    }

    pub(super) fn forget(&self, hub: &HubId) {
        self.lock().remove(hub);
    }

    pub(super) fn set_available(&self, hub: &HubId, ok: bool) {
        if let Some(entry) = self.lock().get_mut(hub) {
            entry.1 = ok;
        }
    }

    async fn stop_server(&self, hub: &HubId, user: &str, server: &str) -> Result<String, String> {
        let source = self
            .lock()
            .get(hub)
            .map(|(s, _)| s.clone())
            .ok_or_else(|| format!("hub API of {hub} is not known"))?;
        let client = source.connect(hub).await.map_err(|e| e.to_string())?;
        let name = if server.is_empty() {
            user.to_string()
        } else {
            format!("{user}/{server}")
        };
        match client.stop_server(user, server).await {
            Ok(StopOutcome::Stopped) => Ok(format!("{name}: stopped through the hub API")),
            Ok(StopOutcome::Stopping) => Ok(format!("{name}: the hub is stopping it")),
            Ok(StopOutcome::NotFound { message } | StopOutcome::Refused { message }) => {
                Err(format!("hub API: {message}"))
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

impl HubStopper for HubApis {
    /// True while the hub's last activity poll succeeded: its token is known and accepted and
    /// the API answers. Otherwise stopping falls back to deleting the pod.
    fn available(&self, hub: &HubId) -> bool {
        self.lock().get(hub).is_some_and(|(_, ok)| *ok)
    }

    fn stop<'a>(
        &'a self,
        hub: &'a HubId,
        user: &'a str,
        server: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        self.stop_server(hub, user, server).boxed()
    }
}

/// Silences through each cluster's Alertmanager, reached like the alert poller reaches it.
pub(super) struct Alertmanagers {
    pub(super) clients: Arc<ClientCache>,
    pub(super) nudges: Nudges,
}

impl Alertmanagers {
    async fn client(&self, cluster: &ClusterId) -> Result<AlertmanagerClient, String> {
        let target = self
            .clients
            .target(cluster)
            .ok_or_else(|| format!("unknown cluster {cluster}"))?;
        if let Some(url) = &target.alertmanager_url {
            return AlertmanagerClient::at_url(cluster, url).map_err(|e| e.to_string());
        }
        let kube = self.clients.client(cluster).await?;
        match alerts::discover_alertmanager(&kube).await {
            Ok(Some(service)) => Ok(AlertmanagerClient::via_service(cluster, kube, service)),
            Ok(None) => Err(format!("cluster {cluster} has no Alertmanager")),
            Err(e) => Err(e.to_string()),
        }
    }
}

impl Silencer for Alertmanagers {
    fn list<'a>(
        &'a self,
        cluster: &'a ClusterId,
    ) -> BoxFuture<'a, Result<Vec<alerts::Silence>, String>> {
        async move {
            let client = self.client(cluster).await?;
            client.silences().await.map_err(|e| e.to_string())
        }
        .boxed()
    }

    fn expire<'a>(
        &'a self,
        cluster: &'a ClusterId,
        id: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        async move {
            let client = self.client(cluster).await?;
            client.expire_silence(id).await.map_err(|e| e.to_string())?;
            nudge_for(&self.nudges, cluster).notify_one();
            Ok(())
        }
        .boxed()
    }

    fn silence<'a>(
        &'a self,
        cluster: &'a ClusterId,
        matchers: &'a [Matcher],
        duration: Duration,
        author: &'a str,
        comment: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        async move {
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
            let id = client
                .create_silence(&spec)
                .await
                .map_err(|e| e.to_string())?;
            nudge_for(&self.nudges, cluster).notify_one();
            Ok(id)
        }
        .boxed()
    }
}
