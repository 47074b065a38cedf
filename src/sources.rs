//! The data sources beside the kube watchers: per cluster an Alertmanager poller, per hub a
//! hub-API activity poller, and the action layer's adapters over the same endpoints.
//!
//! The kube updates flow through a tap on their way to the store. The tap starts a cluster's
//! alert poller once the cluster has been announced, and runs one activity poller per hub
//! Deployment the watchers report (started when it appears, stopped when it goes), so the
//! pollers follow exactly the hubs the console shows and a poller's first answer never
//! reaches the store before the object it is about. Endpoints and tokens come from
//! fleet.toml where it names them (`alertmanager_url`, `[hubs.<ns>]`), else the service
//! proxy, the hub pod's port-forward and the hub Secret's service token.

mod hub_pods;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::action::{HubStopper, Matcher, Silencer};
use crate::alerts::{self, AlertSource, AlertmanagerClient, SilenceSpec};
use crate::fleet::{
    ClusterId, Component, Delta, FleetUpdate, HubId, HubKey, SourceState, Workload, WorkloadKind,
};
use crate::hubapi::{
    HubEndpoint, HubSource, HubToken, RunningPod, StopOutcome, TokenSource, poll_activity,
};
use crate::kube::{ClientCache, ClusterTarget, UPDATE_CHANNEL};
use hub_pods::HubPods;

/// What the action layer uses of the sources.
#[derive(Clone)]
pub struct Sources {
    /// Stops servers through the hub APIs (`Runner::with_hub_api`).
    pub hub_api: Arc<dyn HubStopper>,
    /// Creates Alertmanager silences (`Runner::with_silencer`).
    pub silencer: Arc<dyn Silencer>,
}

/// How often the pollers ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polls {
    /// Each cluster's Alertmanager.
    pub alerts: Duration,
    /// Each hub's REST API.
    pub activity: Duration,
}

impl Polls {
    /// The intervals the settings give.
    pub fn from_settings(settings: &crate::config::settings::Settings) -> Self {
        Self {
            alerts: Duration::from_secs(settings.poll_secs),
            activity: Duration::from_secs(settings.activity_poll_secs),
        }
    }
}

/// Starts the sources over `kube_updates` (what `kube::start` returns), polling as `poll` says
/// until `shutdown`. The returned receiver carries the kube updates and the pollers' ones.
pub fn start(
    clients: &Arc<ClientCache>,
    poll: Polls,
    kube_updates: mpsc::Receiver<FleetUpdate>,
    shutdown: &CancellationToken,
) -> (Sources, mpsc::Receiver<FleetUpdate>) {
    let (tx, rx) = mpsc::channel(UPDATE_CHANNEL);
    let (poll_tx, poll_rx) = mpsc::channel(UPDATE_CHANNEL);
    let hubs = Arc::new(HubApis {
        hubs: Mutex::new(HashMap::new()),
    });
    let nudges = Nudges::default();
    let tap = Tap {
        clients: clients.clone(),
        poll,
        tx,
        poll_tx,
        shutdown: shutdown.clone(),
        hub_apis: hubs.clone(),
        nudges: nudges.clone(),
        hub_deployments: HashMap::new(),
        pollers: HashMap::new(),
        listed: std::collections::HashSet::new(),
        hub_pods: HubPods::default(),
    };
    tokio::spawn(tap.run(kube_updates, poll_rx));
    let sources = Sources {
        hub_api: hubs,
        silencer: Arc::new(Alertmanagers {
            clients: clients.clone(),
            nudges,
        }),
    };
    (sources, rx)
}

/// Per cluster, what wakes its Alertmanager poller before the interval is up: a silence made
/// or expired shows as such at once, not a poll interval later.
type Nudges = Arc<Mutex<HashMap<ClusterId, Arc<Notify>>>>;

fn nudge_for(nudges: &Nudges, cluster: &ClusterId) -> Arc<Notify> {
    nudges
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(cluster.clone())
        .or_default()
        .clone()
}

/// Forwards kube updates and keeps one poller per announced cluster and per hub.
struct Tap {
    clients: Arc<ClientCache>,
    poll: Polls,
    /// Into the store.
    tx: mpsc::Sender<FleetUpdate>,
    /// From the pollers, back through the tap (which notes whether each hub API answers).
    poll_tx: mpsc::Sender<FleetUpdate>,
    shutdown: CancellationToken,
    hub_apis: Arc<HubApis>,
    nudges: Nudges,
    /// Hub Deployments per cluster, as the watchers reported them: (hub, deployment name).
    hub_deployments: HashMap<ClusterId, BTreeSet<(HubKey, Arc<str>)>>,
    /// The running activity pollers.
    pollers: HashMap<HubId, CancellationToken>,
    /// Clusters whose first lists are in: hub polls wait for them, so that on a big fleet the
    /// model is complete before hundreds of port-forwards compete with the lists.
    listed: std::collections::HashSet<ClusterId>,
    /// Each hub's running hub pod, for its poller's port-forwards.
    hub_pods: HubPods,
}

impl Tap {
    async fn run(
        mut self,
        mut updates: mpsc::Receiver<FleetUpdate>,
        mut polled: mpsc::Receiver<FleetUpdate>,
    ) {
        loop {
            let update = tokio::select! {
                () = self.shutdown.cancelled() => break,
                u = updates.recv() => match u {
                    Some(u) => u,
                    None => break,
                },
                Some(u) = polled.recv() => u,
            };
            let after = self.observe(&update);
            if self.tx.send(update).await.is_err() {
                break;
            }
            match after {
                After::Nothing => {}
                After::ClusterAdded(cluster) => self.start_alerts(cluster),
                After::HubsChanged(cluster) => self.reconcile_hubs(&cluster),
            }
        }
        // The store is gone or the supervisors ended: nothing to feed any more.
        for token in self.pollers.values() {
            token.cancel();
        }
    }

    /// Notes what an update means for the pollers.
    fn observe(&mut self, update: &FleetUpdate) -> After {
        match update {
            FleetUpdate::ClusterAdded { cluster, .. } => After::ClusterAdded(cluster.clone()),
            FleetUpdate::Workloads {
                cluster,
                kind: WorkloadKind::Deployment,
                delta,
            } => {
                let set = self.hub_deployments.entry(cluster.clone()).or_default();
                let changed = match delta {
                    Delta::Replace(all) => {
                        let next: BTreeSet<_> = all.iter().filter_map(hub_deployment).collect();
                        let changed = next != *set;
                        *set = next;
                        changed
                    }
                    Delta::Upsert(w) => hub_deployment(w).is_some_and(|k| set.insert(k)),
                    Delta::Remove(w) => hub_deployment(w).is_some_and(|k| set.remove(&k)),
                };
                if changed {
                    After::HubsChanged(cluster.clone())
                } else {
                    After::Nothing
                }
            }
            FleetUpdate::Status { cluster, status } => {
                let listed = matches!(
                    status,
                    crate::fleet::ClusterStatus::Ready
                        | crate::fleet::ClusterStatus::Degraded { .. }
                );
                if listed && self.listed.insert(cluster.clone()) {
                    After::HubsChanged(cluster.clone())
                } else {
                    After::Nothing
                }
            }
            FleetUpdate::Pods { cluster, delta } => {
                self.hub_pods.observe(cluster, delta);
                After::Nothing
            }
            FleetUpdate::Activity { hub, source, .. } => {
                self.hub_apis.set_available(hub, *source == SourceState::Ok);
                After::Nothing
            }
            _ => After::Nothing,
        }
    }

    fn start_alerts(&self, cluster: ClusterId) {
        let Some(target) = self.clients.target(&cluster).cloned() else {
            return;
        };
        let (clients, tx, poll) = (self.clients.clone(), self.poll_tx.clone(), self.poll);
        let shutdown = self.shutdown.child_token();
        let nudge = nudge_for(&self.nudges, &cluster);
        tokio::spawn(async move {
            let source = match &target.alertmanager_url {
                Some(url) => AlertSource::Url(url.clone()),
                // No client: the supervisor reports the cluster unreachable; nothing to poll.
                None => match clients.client(&cluster).await {
                    Ok(client) => AlertSource::Discover(client),
                    Err(_) => return,
                },
            };
            alerts::poll_alerts(cluster, source, tx, poll.alerts, nudge, shutdown).await;
        });
    }

    /// Starts pollers for new hubs of a cluster and stops those of hubs that went.
    fn reconcile_hubs(&mut self, cluster: &ClusterId) {
        if !self.listed.contains(cluster) {
            return;
        }
        let wanted: BTreeSet<HubId> = self
            .hub_deployments
            .get(cluster)
            .into_iter()
            .flatten()
            .map(|(key, _)| HubId {
                cluster: cluster.clone(),
                key: key.clone(),
            })
            .collect();
        self.pollers.retain(|hub, token| {
            let keep = hub.cluster != *cluster || wanted.contains(hub);
            if !keep {
                token.cancel();
                self.hub_apis.forget(hub);
            }
            keep
        });
        for hub in wanted {
            if self.pollers.contains_key(&hub) {
                continue;
            }
            let token = self.shutdown.child_token();
            self.pollers.insert(hub.clone(), token.clone());
            let (clients, tx, poll) = (self.clients.clone(), self.poll_tx.clone(), self.poll);
            let hub_apis = self.hub_apis.clone();
            let running = self.hub_pods.follow(&hub);
            tokio::spawn(async move {
                let Some(target) = clients.target(&hub.cluster).cloned() else {
                    return;
                };
                let Ok(client) = clients.client(&hub.cluster).await else {
                    return;
                };
                let source = hub_source(&target, &hub.key, client, running);
                hub_apis.register(&hub, source.clone());
                poll_activity(hub, source, tx, poll.activity, token).await;
            });
        }
    }
}

/// What the tap does once an update has been forwarded.
enum After {
    Nothing,
    ClusterAdded(ClusterId),
    HubsChanged(ClusterId),
}

/// The hub and Deployment name of a hub Deployment.
fn hub_deployment(w: &Workload) -> Option<(HubKey, Arc<str>)> {
    (w.component == Component::Hub).then(|| {
        let key = HubKey {
            namespace: w.key.namespace.clone(),
            release: w.release.clone(),
        };
        (key, w.key.name.clone())
    })
}

/// A hub's endpoint and token: fleet.toml's `[clusters.hubs.<namespace>]` where it says,
/// else the port-forward to the hub pod and the hub Secret's service token.
fn hub_source(
    target: &ClusterTarget,
    hub: &HubKey,
    client: kube::Client,
    running: RunningPod,
) -> HubSource {
    let entry = target.hubs.get(&*hub.namespace);
    let endpoint = match entry.and_then(|e| e.api_url.clone()) {
        Some(url) => HubEndpoint::Url(url),
        None => HubEndpoint::PortForward {
            client: client.clone(),
            running: Some(running),
        },
    };
    let token = match entry {
        Some(e) if e.token.is_some() => {
            TokenSource::Value(HubToken::new(e.token.clone().unwrap_or_default()))
        }
        Some(e) if e.token_env.is_some() => {
            TokenSource::Env(e.token_env.clone().unwrap_or_default())
        }
        _ => TokenSource::HubSecret(client),
    };
    HubSource { endpoint, token }
}

/// The hub APIs known to the pollers, for stopping servers.
struct HubApis {
    /// Each polled hub's source, and whether its last poll succeeded.
    hubs: Mutex<HashMap<HubId, (HubSource, bool)>>,
}

impl HubApis {
    fn lock(&self) -> MutexGuard<'_, HashMap<HubId, (HubSource, bool)>> {
        self.hubs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn register(&self, hub: &HubId, source: HubSource) {
        self.lock().insert(hub.clone(), (source, false));
    }

    fn forget(&self, hub: &HubId) {
        self.lock().remove(hub);
    }

    fn set_available(&self, hub: &HubId, ok: bool) {
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
struct Alertmanagers {
    clients: Arc<ClientCache>,
    nudges: Nudges,
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
