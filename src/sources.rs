//! The data sources beside the kube watchers: per cluster an Alertmanager poller and a
//! metrics.k8s.io poller, per hub a hub-API activity poller (`hub_pods` tells each where its hub
//! pod is), and the action layer's adapters over the same endpoints (`adapters`).
//!
//! The kube updates flow through a tap on their way to the store. The tap starts a cluster's
//! alert poller once the cluster has been announced, its metrics poller once its first lists
//! are in (told the cluster's scope as the supervisor finds it), and runs one activity poller per hub
//! Deployment the watchers report (started when it appears, stopped when it goes), so the
//! pollers follow exactly the hubs the console shows and a poller's first answer never
//! reaches the store before the object it is about. Endpoints and tokens come from
//! fleet.toml where it names them (`alertmanager_url`, `[hubs.<ns>]`), else the service
//! proxy, the hub pod's port-forward and the hub Secret's service token.

mod adapters;
mod hub_pods;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::action::HubStopper;
use crate::alerts::{self, AlertSource};
use crate::fleet::{
    ClusterId, Component, Delta, FleetUpdate, HubId, HubKey, Scope, Workload, WorkloadKind,
};
use crate::hubapi::{HubEndpoint, HubSource, HubToken, RunningPod, TokenSource, poll_activity};
use crate::kube::{ClientCache, ClusterTarget, UPDATE_CHANNEL};
pub use adapters::Alertmanagers;
use adapters::{HubApis, Nudges, nudge_for};
use hub_pods::HubPods;

/// What the action layer uses of the sources.
#[derive(Clone)]
pub struct Sources {
    /// Stops servers through the hub APIs (`Runner::with_hub_api`).
    pub hub_api: Arc<dyn HubStopper>,
    /// Creates Alertmanager silences (`Runner::with_silencer`) and lists them.
    pub silencer: Arc<Alertmanagers>,
    /// Where producers started beside the sources (the checks from outside) send their
    /// updates, into the same stream.
    pub feed: mpsc::Sender<FleetUpdate>,
}

/// How often the pollers ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polls {
    /// Each cluster's Alertmanager.
    pub alerts: Duration,
    /// Each hub's REST API.
    pub activity: Duration,
    /// Each cluster's metrics.k8s.io; `None`: not polled.
    pub metrics: Option<Duration>,
}

impl Polls {
    /// The intervals the settings give.
    pub fn from_settings(settings: &crate::config::settings::Settings) -> Self {
        Self {
            alerts: Duration::from_secs(settings.poll_secs),
            activity: Duration::from_secs(settings.activity_poll_secs),
            metrics: (settings.metrics_interval_secs > 0)
                .then(|| Duration::from_secs(settings.metrics_interval_secs)),
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
    let feed = poll_tx.clone();
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
        scopes: HashMap::new(),
    };
    tokio::spawn(tap.run(kube_updates, poll_rx));
    let sources = Sources {
        hub_api: hubs,
        silencer: Arc::new(Alertmanagers {
            clients: clients.clone(),
            nudges,
        }),
        feed,
    };
    (sources, rx)
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
    /// Each cluster's scope, as its metrics poller follows it.
    scopes: HashMap<ClusterId, watch::Sender<Scope>>,
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
                After::Listed(cluster) => {
                    self.start_metrics(&cluster);
                    self.reconcile_hubs(&cluster);
                }
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
                    Delta::Replace(_) | Delta::ReplaceIn(..) => {
                        let (namespace, all) = delta.listing().unwrap_or((None, &[]));
                        // A namespace's list replaces that namespace's hubs only.
                        let mut next: BTreeSet<_> = set
                            .iter()
                            .filter(|(k, _)| namespace.is_some_and(|n| *k.namespace != *n))
                            .cloned()
                            .collect();
                        next.extend(all.iter().filter_map(hub_deployment));
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
                    After::Listed(cluster.clone())
                } else {
                    After::Nothing
                }
            }
            FleetUpdate::Scope { cluster, scope } => {
                self.scope_of(cluster).send_replace(scope.clone());
                After::Nothing
            }
            FleetUpdate::Pods { cluster, delta } => {
                self.hub_pods.observe(cluster, delta);
                After::Nothing
            }
            FleetUpdate::Activity { hub, source, .. } => {
                self.hub_apis.observe(hub, source);
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
                    Ok(client) => {
                        AlertSource::Discover(client, crate::kube::scope::candidates(&target))
                    }
                    Err(_) => return,
                },
            };
            alerts::poll_alerts(cluster, source, tx, poll.alerts, nudge, shutdown).await;
        });
    }

    /// The scope channel of a cluster (cluster-wide until the supervisor says otherwise).
    fn scope_of(&mut self, cluster: &ClusterId) -> &watch::Sender<Scope> {
        self.scopes
            .entry(cluster.clone())
            .or_insert_with(|| watch::channel(Scope::ClusterWide).0)
    }

    /// Starts the cluster's metrics poller, after its first lists: on a big fleet the model is
    /// complete before the metrics lists compete with the watches' lists.
    fn start_metrics(&mut self, cluster: &ClusterId) {
        let Some(every) = self.poll.metrics else {
            return;
        };
        let scope = self.scope_of(cluster).subscribe();
        let (clients, tx) = (self.clients.clone(), self.poll_tx.clone());
        let (cluster, shutdown) = (cluster.clone(), self.shutdown.child_token());
        tokio::spawn(async move {
            // No client: the supervisor reports the cluster unreachable; nothing to poll.
            let Ok(client) = clients.client(&cluster).await else {
                return;
            };
            crate::metrics::poll_metrics(crate::metrics::MetricsPoll {
                cluster,
                client,
                every,
                scope,
                tx,
                shutdown,
            })
            .await;
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
                // Thousands of these tasks live as long as the session: what only the start
                // needs (the target, the client's first build, boxed) must not stay part of
                // each task's state.
                let source = {
                    let Ok(client) = Box::pin(clients.client(&hub.cluster)).await else {
                        return;
                    };
                    // Taken after the await, so that no task keeps a target in its state.
                    let Some(target) = clients.target(&hub.cluster) else {
                        return;
                    };
                    hub_source(target, &hub.key, client, running)
                };
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
    /// The cluster's first lists are in.
    Listed(ClusterId),
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

/// A hub's endpoint and token: fleet.toml's `[cluster.hubs.<namespace>]` where it says,
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
