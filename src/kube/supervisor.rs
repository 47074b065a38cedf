//! One supervisor per cluster: builds the client, starts the watchers, probes latency and turns
//! the watchers' reports into the cluster's status. Nothing here can block another cluster.
//!
//! Watches start cluster-wide. When the API server forbids that (403), the supervisor asks
//! which namespaces may be read (`scope`) and replaces them with one watch per namespace and
//! kind; the cluster's scope goes to the model.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Event;
use kube::runtime::watcher;
use kube::{Api, Client};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::mapping::{Mapper, Z2JH_SELECTOR};
use super::scope::{self, Found, NamespaceAccess, recv_discovery, start_discovery};
use super::slim::{SlimNode, SlimPod};
use super::targets::ClusterTarget;
use super::watch::{self, WatchCtx, WatchKey, WatchKind, WatchState, is_unreachable, one_line};
use crate::fleet::{
    ClusterId, ClusterMeta, ClusterStatus, DaskDelta, Delta, FleetUpdate, Scope, SourceState,
    WorkloadKind,
};

/// How often the cluster's liveness is probed (`/version`) and the status re-derived: a hung
/// API server (accepts connections, answers nothing) shows unreachable within
/// `TICK + PROBE_TIMEOUT`.
const TICK: Duration = Duration::from_secs(1);
/// How often the probe's round-trip time is reported as the cluster's latency (unless it
/// moved a lot): every probe would be a model change every second per cluster.
const LATENCY_EVERY: Duration = Duration::from_secs(10);
/// How long a watch failure counts: a watch that keeps failing reports again within
/// `MAX_RETRY_DELAY`, so an older failure means its retry succeeded.
const FAILURE_FRESH: Duration = Duration::from_secs(2 * watch::MAX_RETRY_DELAY.as_secs() + 2);
/// How long a probe may take before the cluster counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// Every watch a cluster runs.
const KINDS: [WatchKind; 7] = [
    WatchKind::Deployments,
    WatchKind::StatefulSets,
    WatchKind::Pods,
    WatchKind::Events,
    WatchKind::PodEvents,
    WatchKind::DaskPods,
    WatchKind::DaskClusters,
];
/// How long after finding no readable namespace the supervisor asks again (a RoleBinding may
/// be added meanwhile).
const REDISCOVER_AFTER: Duration = Duration::from_secs(60);
/// Failing watches named in a degraded cluster's reason.
const MAX_REASONS: usize = 3;
/// The order stalled watches are named in.
const SHOWN_FIRST: [WatchKind; 8] = [
    WatchKind::Pods,
    WatchKind::Deployments,
    WatchKind::StatefulSets,
    WatchKind::Events,
    WatchKind::PodEvents,
    WatchKind::DaskPods,
    WatchKind::DaskClusters,
    WatchKind::Nodes,
];

/// Announces a cluster to the store, before anything is known of it.
pub fn added(target: &ClusterTarget) -> FleetUpdate {
    FleetUpdate::ClusterAdded {
        cluster: ClusterId::new(target.name.as_str()),
        meta: ClusterMeta {
            context: target.context.clone(),
            provider: target.provider.clone(),
            // A kubeconfig may carry credentials in the URL: the model never holds them.
            server: target
                .server
                .as_deref()
                .map(|s| hubdeck_core::secrets::mask_url_credentials(s).into_owned()),
        },
    }
}

/// Runs one cluster until shutdown: watchers, latency probe and status. `pod_lists` bounds how
/// many clusters list their pods at once (see `kube::pod_list_permits`).
pub async fn supervise(
    target: ClusterTarget,
    client: Result<Client, super::clients::ClientError>,
    updates: mpsc::Sender<FleetUpdate>,
    shutdown: CancellationToken,
    pod_lists: Arc<Semaphore>,
    idle: Duration,
) {
    let cluster = ClusterId::new(target.name.as_str());
    let client = match client {
        Ok(c) => c,
        Err(error) => {
            let status = ClusterStatus::Unreachable {
                error: error.to_string(),
                since: Timestamp::now(),
            };
            let _ = updates.send(FleetUpdate::Status { cluster, status }).await;
            return;
        }
    };
    let (reports_tx, mut reports) = mpsc::channel(16);
    let ctx = WatchCtx {
        cluster: cluster.clone(),
        updates: updates.clone(),
        reports: reports_tx,
        shutdown: shutdown.child_token(),
        list_permits: None,
        idle,
        namespace: None,
    };
    // Each generation of watches has its own token under `ctx`'s, so one can be replaced.
    let generation = || WatchCtx {
        shutdown: ctx.shutdown.child_token(),
        ..ctx.clone()
    };
    let mut watches = generation();
    // None: cluster-wide; Some: the namespaces found readable when cluster-wide was forbidden.
    let mut access: Option<Vec<NamespaceAccess>> = None;
    // Cleared for good once the identity is refused nodes.
    let mut nodes_allowed = true;
    let mut status = Status {
        expected: spawn_watches(
            &client,
            &watches,
            pod_lists.clone(),
            access.as_deref(),
            true,
        ),
        ..Status::default()
    };
    let mut discovery: Option<oneshot::Receiver<Found>> = None;
    let mut rediscover_at: Option<Instant> = None;
    let mut forbidden_kind = WatchKind::Pods;

    let mut tick = tokio::time::interval(TICK);
    let mut latency_sent: Option<(Duration, Instant)> = None;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some((key, state)) = reports.recv() => {
                if let WatchState::Unserved { error } = &state {
                    // The watch stopped itself; the hubs do without it.
                    status.expected.retain(|k| *k != key);
                    if key.0 == WatchKind::Nodes {
                        nodes_allowed = false;
                        let note = scope::failure_line(key.0, None, error);
                        let source = SourceState::Absent { note };
                        if updates.send(FleetUpdate::NodeSource { cluster: cluster.clone(), source }).await.is_err() {
                            break;
                        }
                    }
                    continue;
                }
                let forbidden_here = key.1.is_none()
                    && matches!(state, WatchState::Failed { forbidden: true, .. });
                // Once a discovery found nothing, only its timer asks again.
                let first = access.is_none() && discovery.is_none() && rediscover_at.is_none();
                if forbidden_here && first {
                    // Stop the cluster-wide watches retrying what will stay forbidden, and stay
                    // "connecting" while the namespaces are looked for.
                    watches.shutdown.cancel();
                    status.watches.clear();
                    status.expected.clear();
                    forbidden_kind = key.0;
                    discovery = Some(start_discovery(&client, &target, forbidden_kind));
                } else if status.expected.contains(&key) {
                    status.watches.insert(key, (state, Instant::now()));
                }
            }
            Some(found) = recv_discovery(&mut discovery) => {
                discovery = None;
                match found {
                    Ok(list) => {
                        status.scope_error = None;
                        let names = list.iter().map(|n| n.namespace.clone()).collect();
                        if updates.send(FleetUpdate::Scope { cluster: cluster.clone(), scope: Scope::Namespaces(names) }).await.is_err() {
                            break;
                        }
                        watches.shutdown.cancel();
                        watches = generation();
                        status.watches.clear();
                        status.expected = spawn_watches(&client, &watches, pod_lists.clone(), Some(&list), nodes_allowed);
                        access = Some(list);
                    }
                    Err(reason) => {
                        // Kinds that may be listed cluster-wide are still worth watching.
                        status.scope_error = Some(reason);
                        rediscover_at = Some(Instant::now() + REDISCOVER_AFTER);
                        if access.is_none() && status.expected.is_empty() {
                            watches = generation();
                            status.watches.clear();
                            status.expected = spawn_watches(&client, &watches, pod_lists.clone(), None, nodes_allowed);
                        }
                    }
                }
            }
            _ = tick.tick() => {
                let probe = probe_once(&client).await;
                let was_down = matches!(status.probe, Some(Err((_, true))));
                if rediscover_at.is_some_and(|at| Instant::now() >= at) && discovery.is_none() {
                    rediscover_at = None;
                    discovery = Some(start_discovery(&client, &target, forbidden_kind));
                }
                if let Ok(latency) = probe {
                    if was_down && discovery.is_none() {
                        // Back: start the watches afresh so they list at once, instead of
                        // waiting out the retry delay they grew to during the outage.
                        watches.shutdown.cancel();
                        watches = generation();
                        status.watches.clear();
                        status.expected = spawn_watches(&client, &watches, pod_lists.clone(), access.as_deref(), nodes_allowed);
                    }
                    if latency_due(latency_sent, latency) {
                        latency_sent = Some((latency, Instant::now()));
                        let _ = updates.send(FleetUpdate::Latency { cluster: cluster.clone(), latency }).await;
                    }
                }
                status.probe = Some(probe);
            }
        }
        let now = status.derive(discovery.is_some());
        if status.sent.as_ref() != Some(&now) {
            status.sent = Some(now.clone());
            if updates
                .send(FleetUpdate::Status {
                    cluster: cluster.clone(),
                    status: now,
                })
                .await
                .is_err()
            {
                break;
            }
        }
    }
    ctx.shutdown.cancel();
}

/// Starts the watches of one generation: every kind cluster-wide (`access` None), or the
/// kinds each readable namespace allows there, and nodes (always cluster-wide) unless the
/// identity was refused them. Returns the watches started.
fn spawn_watches(
    client: &Client,
    ctx: &WatchCtx,
    pod_lists: Arc<Semaphore>,
    access: Option<&[NamespaceAccess]>,
    nodes: bool,
) -> Vec<WatchKey> {
    // Nodes last: failures are named in this order, the hubs' watches first.
    let mut started = Vec::new();
    if nodes {
        let ctx = WatchCtx {
            namespace: None,
            ..ctx.clone()
        };
        spawn_watch(WatchKind::Nodes, client, ctx, &pod_lists);
        started.push((WatchKind::Nodes, None));
    }
    let Some(access) = access else {
        for kind in KINDS {
            spawn_watch(kind, client, ctx.clone(), &pod_lists);
        }
        started.splice(0..0, KINDS.iter().map(|k| (*k, None)));
        return started;
    };
    for ns in access {
        for kind in &ns.kinds {
            let ctx = WatchCtx {
                namespace: Some(ns.namespace.clone()),
                ..ctx.clone()
            };
            spawn_watch(*kind, client, ctx, &pod_lists);
            started.push((*kind, Some(ns.namespace.clone())));
        }
    }
    started.rotate_left(usize::from(nodes));
    started
}

/// One watcher of `kind`, in `ctx.namespace` or cluster-wide.
fn spawn_watch(kind: WatchKind, client: &Client, ctx: WatchCtx, pod_lists: &Arc<Semaphore>) {
    fn api<K>(client: &Client, ns: Option<&str>) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        match ns {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        }
    }
    let ns = ctx.namespace.clone();
    let ns = ns.as_deref();
    let z2jh = || watcher::Config::default().labels(Z2JH_SELECTOR);
    match kind {
        WatchKind::Deployments => tokio::spawn(watch::run(
            kind,
            api::<Deployment>(client, ns),
            z2jh(),
            |m: &mut Mapper, d: &Deployment| m.deployment(d),
            |cluster, delta| FleetUpdate::Workloads {
                cluster,
                kind: WorkloadKind::Deployment,
                delta,
            },
            ctx,
        )),
        WatchKind::StatefulSets => tokio::spawn(watch::run(
            kind,
            api::<StatefulSet>(client, ns),
            z2jh(),
            |m: &mut Mapper, s: &StatefulSet| m.stateful_set(s),
            |cluster, delta| FleetUpdate::Workloads {
                cluster,
                kind: WorkloadKind::StatefulSet,
                delta,
            },
            ctx,
        )),
        WatchKind::Pods => tokio::spawn(watch::run(
            kind,
            api::<SlimPod>(client, ns),
            z2jh(),
            |m: &mut Mapper, p: &SlimPod| m.pod(p),
            |cluster, delta| FleetUpdate::Pods { cluster, delta },
            WatchCtx {
                list_permits: Some(pod_lists.clone()),
                ..ctx
            },
        )),
        WatchKind::Events => tokio::spawn(watch::run(
            kind,
            api::<Event>(client, ns),
            watcher::Config::default().fields("type=Warning"),
            |m: &mut Mapper, e: &Event| Some(m.event(e)),
            |cluster, delta: Delta<_>| FleetUpdate::Events { cluster, delta },
            ctx,
        )),
        WatchKind::PodEvents => tokio::spawn(watch::run(
            kind,
            api::<Event>(client, ns),
            watcher::Config::default().fields(super::pod_events::FIELD_SELECTOR),
            |m: &mut Mapper, e: &Event| m.pod_event(e),
            |cluster, delta| FleetUpdate::PodEvents { cluster, delta },
            ctx,
        )),
        WatchKind::DaskPods => tokio::spawn(watch::run(
            kind,
            api::<super::dask::SlimDaskPod>(client, ns),
            watcher::Config::default().labels(super::dask::POD_SELECTOR),
            super::dask::pod,
            |cluster, delta| FleetUpdate::Dask {
                cluster,
                delta: DaskDelta::Pods(delta),
            },
            ctx,
        )),
        WatchKind::DaskClusters => tokio::spawn(watch::run(
            kind,
            api::<super::dask::SlimDaskCluster>(client, ns),
            watcher::Config::default(),
            super::dask::cluster,
            |cluster, delta| FleetUpdate::Dask {
                cluster,
                delta: DaskDelta::Clusters(delta),
            },
            ctx,
        )),
        WatchKind::Nodes => tokio::spawn(watch::run(
            kind,
            Api::<SlimNode>::all(client.clone()),
            watcher::Config::default(),
            |m: &mut Mapper, n: &SlimNode| Some(m.node(n)),
            |cluster, delta| FleetUpdate::Nodes { cluster, delta },
            ctx,
        )),
    };
}

/// Whether a probe's round-trip is worth reporting: the first, one after `LATENCY_EVERY`, or
/// one that doubled or halved.
fn latency_due(sent: Option<(Duration, Instant)>, now: Duration) -> bool {
    match sent {
        None => true,
        Some((last, at)) => {
            at.elapsed() >= LATENCY_EVERY
                || now > last.saturating_mul(2) + Duration::from_millis(5)
                || now.saturating_mul(2) + Duration::from_millis(5) < last
        }
    }
}

/// Result of one latency probe: the round-trip, or the error and whether it was unreachable.
type Probe = Result<Duration, (String, bool)>;

async fn probe_once(client: &Client) -> Probe {
    let start = Instant::now();
    match tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version()).await {
        Ok(Ok(_)) => Ok(start.elapsed()),
        Ok(Err(e)) => Err((one_line(&e), is_unreachable(&e))),
        Err(_) => Err((
            format!("no answer within {}s", PROBE_TIMEOUT.as_secs()),
            true,
        )),
    }
}

/// What the supervisor knows, from which the cluster status follows.
#[derive(Default)]
struct Status {
    /// The watches of the current generation.
    expected: Vec<WatchKey>,
    watches: HashMap<WatchKey, (WatchState, Instant)>,
    /// Why no namespace could be watched, when cluster-wide was forbidden.
    scope_error: Option<String>,
    probe: Option<Probe>,
    sent: Option<ClusterStatus>,
    down_since: Option<Timestamp>,
}

impl Status {
    /// The status now; `discovering`: cluster-wide was forbidden and the readable namespaces
    /// are being looked for (still connecting).
    fn derive(&mut self, discovering: bool) -> ClusterStatus {
        let failed: Vec<(&WatchKey, &String, bool)> = self
            .expected
            .iter()
            .filter_map(|k| match self.watches.get(k) {
                Some((
                    WatchState::Failed {
                        error, unreachable, ..
                    },
                    at,
                )) if at.elapsed() < FAILURE_FRESH => Some((k, error, *unreachable)),
                _ => None,
            })
            .collect();
        // The probe decides reachability; before its first answer, watches that all fail to
        // connect do.
        let down = match &self.probe {
            Some(Err((e, true))) => Some(e.clone()),
            Some(_) => None,
            None if !failed.is_empty()
                && failed.len() == self.expected.len()
                && failed.iter().all(|f| f.2) =>
            {
                failed.first().map(|f| f.1.clone())
            }
            None => None,
        };
        if let Some(error) = down {
            let since = *self.down_since.get_or_insert_with(Timestamp::now);
            return ClusterStatus::Unreachable { error, since };
        }
        self.down_since = None;
        if let Some(reason) = &self.scope_error {
            return ClusterStatus::Degraded {
                reason: reason.clone(),
            };
        }
        // A cluster is settled once every watch has listed or failed at least once.
        if discovering || self.expected.iter().any(|k| !self.watches.contains_key(k)) {
            return ClusterStatus::Connecting;
        }
        let mut reasons: Vec<String> = failed
            .iter()
            .map(|((k, ns), e, _)| scope::failure_line(*k, ns.as_deref(), e))
            .collect();
        // A stall counts until the restarted watch hears something (it reports Synced then).
        // The hubs' own objects first (pods, which hold the servers, before all), then events,
        // nodes last: only a few lines are shown, and nodes are optional.
        let mut stalled: Vec<(usize, String)> = self
            .watches
            .iter()
            .filter_map(|((k, ns), (state, _))| match state {
                WatchState::Stalled { idle } => Some((
                    SHOWN_FIRST
                        .iter()
                        .position(|x| x == k)
                        .unwrap_or(usize::MAX),
                    scope::failure_line(
                        *k,
                        ns.as_deref(),
                        &format!(
                            "watch stalled (no event or bookmark for {}s); restarted",
                            idle.as_secs()
                        ),
                    ),
                )),
                _ => None,
            })
            .collect();
        stalled.sort();
        reasons.extend(stalled.into_iter().map(|(_, line)| line));
        // One line stays readable: a few failures in full, then how many more.
        if reasons.len() > MAX_REASONS {
            let more = reasons.len() - MAX_REASONS;
            reasons.truncate(MAX_REASONS);
            reasons.push(format!("and {more} more failing watches"));
        }
        if let Some(Err((e, _))) = &self.probe {
            reasons.push(format!("probe: {e}"));
        }
        if reasons.is_empty() {
            ClusterStatus::Ready
        } else {
            ClusterStatus::Degraded {
                reason: reasons.join("; "),
            }
        }
    }
}
