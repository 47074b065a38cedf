//! One supervisor per cluster: builds the client, starts the watchers, probes latency and turns
//! the watchers' reports into the cluster's status. Nothing here can block another cluster.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Event;
use kube::runtime::watcher;
use kube::{Api, Client};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::mapping::{Mapper, Z2JH_SELECTOR};
use super::slim::SlimPod;
use super::targets::ClusterTarget;
use super::watch::{self, WatchCtx, WatchKind, WatchState, is_unreachable, one_line};
use crate::fleet::{ClusterId, ClusterMeta, ClusterStatus, Delta, FleetUpdate, WorkloadKind};

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
const KINDS: [WatchKind; 4] = [
    WatchKind::Deployments,
    WatchKind::StatefulSets,
    WatchKind::Pods,
    WatchKind::Events,
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
    };
    // Each generation of watches has its own token under `ctx`'s, so one can be replaced.
    let generation = || WatchCtx {
        shutdown: ctx.shutdown.child_token(),
        ..ctx.clone()
    };
    let mut watches = generation();
    spawn_watches(&client, &watches, pod_lists.clone());

    let mut status = Status::default();
    let mut tick = tokio::time::interval(TICK);
    let mut latency_sent: Option<(Duration, Instant)> = None;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some((kind, state)) = reports.recv() => {
                status.watches.insert(kind, (state, Instant::now()));
            }
            _ = tick.tick() => {
                let probe = probe_once(&client).await;
                let was_down = matches!(status.probe, Some(Err((_, true))));
                if let Ok(latency) = probe {
                    if was_down {
                        // Back: start the watches afresh so they list at once, instead of
                        // waiting out the retry delay they grew to during the outage.
                        watches.shutdown.cancel();
                        watches = generation();
                        status.watches.clear();
                        spawn_watches(&client, &watches, pod_lists.clone());
                    }
                    if latency_due(latency_sent, latency) {
                        latency_sent = Some((latency, Instant::now()));
                        let _ = updates.send(FleetUpdate::Latency { cluster: cluster.clone(), latency }).await;
                    }
                }
                status.probe = Some(probe);
            }
        }
        let now = status.derive();
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

fn spawn_watches(client: &Client, ctx: &WatchCtx, pod_lists: Arc<Semaphore>) {
    let z2jh = || watcher::Config::default().labels(Z2JH_SELECTOR);
    tokio::spawn(watch::run(
        WatchKind::Deployments,
        Api::<Deployment>::all(client.clone()),
        z2jh(),
        |m: &mut Mapper, d: &Deployment| m.deployment(d),
        |cluster, delta| FleetUpdate::Workloads {
            cluster,
            kind: WorkloadKind::Deployment,
            delta,
        },
        ctx.clone(),
    ));
    tokio::spawn(watch::run(
        WatchKind::StatefulSets,
        Api::<StatefulSet>::all(client.clone()),
        z2jh(),
        |m: &mut Mapper, s: &StatefulSet| m.stateful_set(s),
        |cluster, delta| FleetUpdate::Workloads {
            cluster,
            kind: WorkloadKind::StatefulSet,
            delta,
        },
        ctx.clone(),
    ));
    tokio::spawn(watch::run(
        WatchKind::Pods,
        Api::<SlimPod>::all(client.clone()),
        z2jh(),
        |m: &mut Mapper, p: &SlimPod| m.pod(p),
        |cluster, delta| FleetUpdate::Pods { cluster, delta },
        WatchCtx {
            list_permits: Some(pod_lists),
            ..ctx.clone()
        },
    ));
    tokio::spawn(watch::run(
        WatchKind::Events,
        Api::<Event>::all(client.clone()),
        watcher::Config::default().fields("type=Warning"),
        |m: &mut Mapper, e: &Event| Some(m.event(e)),
        |cluster, delta: Delta<_>| FleetUpdate::Events { cluster, delta },
        ctx.clone(),
    ));
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
    watches: HashMap<WatchKind, (WatchState, Instant)>,
    probe: Option<Probe>,
    sent: Option<ClusterStatus>,
    down_since: Option<Timestamp>,
}

impl Status {
    fn derive(&mut self) -> ClusterStatus {
        let failed: Vec<(WatchKind, &String, bool)> = KINDS
            .iter()
            .filter_map(|k| match self.watches.get(k) {
                Some((WatchState::Failed { error, unreachable }, at))
                    if at.elapsed() < FAILURE_FRESH =>
                {
                    Some((*k, error, *unreachable))
                }
                _ => None,
            })
            .collect();
        // The probe decides reachability; before its first answer, watches that all fail to
        // connect do.
        let down = match &self.probe {
            Some(Err((e, true))) => Some(e.clone()),
            Some(_) => None,
            None if failed.len() == KINDS.len() && failed.iter().all(|f| f.2) => {
                failed.first().map(|f| f.1.clone())
            }
            None => None,
        };
        if let Some(error) = down {
            let since = *self.down_since.get_or_insert_with(Timestamp::now);
            return ClusterStatus::Unreachable { error, since };
        }
        self.down_since = None;
        // A cluster is settled once every watch has listed or failed at least once.
        if KINDS.iter().any(|k| !self.watches.contains_key(k)) {
            return ClusterStatus::Connecting;
        }
        let mut reasons: Vec<String> = failed
            .iter()
            .map(|(k, e, _)| format!("{}: {e}", k.resource()))
            .collect();
        // A stall counts until the restarted watch hears something (it reports Synced then).
        for k in KINDS {
            if let Some((WatchState::Stalled { idle }, _)) = self.watches.get(&k) {
                reasons.push(format!(
                    "{}: watch stalled (no event or bookmark for {}s); restarted",
                    k.resource(),
                    idle.as_secs()
                ));
            }
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
