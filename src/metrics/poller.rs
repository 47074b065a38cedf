//! The per-cluster task polling metrics.k8s.io: each interval one pods list (cluster-wide, or
//! one per namespace while the cluster is watched namespace by namespace) and one nodes list,
//! never a request per pod. Where the API is not served (404 with no metrics-server, 503 while
//! its APIService is unavailable) or refused (403), the cluster is marked so once and asked
//! again only every few minutes; other failures back off. Each answer goes to the store as a
//! `FleetUpdate::Usage`, each change of state as a `FleetUpdate::Metrics`.

use std::time::Duration;

use jiff::Timestamp;
use kube::api::ListParams;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::wire;
use crate::fleet::{
    ClusterId, FleetUpdate, MetricsSource, MetricsState, Sampled, Scope, UsageSample, UsageScope,
};
use crate::kube::mapping::Z2JH_SELECTOR;

/// How often a cluster that does not serve metrics (or refuses them) is asked again: metrics-server
/// may be installed, or a role granted, meanwhile.
pub const RETRY_UNSERVED: Duration = Duration::from_secs(300);
/// How many intervals a sample counts before its figures show as unknown.
const FRESH_INTERVALS: u32 = 3;
/// The group version every request goes to.
const BASE: &str = "/apis/metrics.k8s.io/v1beta1";

/// What one cluster's poller needs.
pub struct MetricsPoll {
    /// The cluster.
    pub cluster: ClusterId,
    /// Its shared client.
    pub client: kube::Client,
    /// The interval (`metrics_interval_secs`).
    pub every: Duration,
    /// What the cluster's watches cover, as the supervisor found it.
    pub scope: watch::Receiver<Scope>,
    /// Into the store.
    pub tx: mpsc::Sender<FleetUpdate>,
    /// Ends the poller.
    pub shutdown: CancellationToken,
}

/// Where in the interval a cluster's polls fall after the first: fixed per cluster name, spread
/// evenly over `every` across a fleet.
fn phase_of(cluster: &ClusterId, every: Duration) -> Duration {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    cluster.as_str().hash(&mut h);
    let millis = u64::try_from(every.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(h.finish() % millis)
}

/// One of the two lists and when it is asked next.
struct List {
    state: MetricsState,
    due: Instant,
    backoff: crate::backoff::Backoff,
}

impl List {
    fn new(every: Duration) -> Self {
        Self {
            state: MetricsState::Unknown,
            due: Instant::now(),
            backoff: crate::backoff::Backoff::new(every.saturating_mul(2), RETRY_UNSERVED),
        }
    }

    /// Takes an attempt's state and schedules the next attempt after it.
    fn settle(&mut self, state: MetricsState, every: Duration) {
        let wait = match &state {
            MetricsState::Served => {
                self.backoff.reset();
                every
            }
            MetricsState::NotServed { .. } | MetricsState::Forbidden { .. } => {
                self.backoff.reset();
                RETRY_UNSERVED
            }
            MetricsState::Failing { .. } => self.backoff.delay(),
            MetricsState::Unknown => every,
        };
        self.due = Instant::now() + wait;
        self.state = state;
    }
}

/// Polls until `shutdown` or until the store is gone.
pub async fn poll_metrics(mut p: MetricsPoll) {
    let fresh_for = p.every.saturating_mul(FRESH_INTERVALS);
    let timeout = p.every.max(Duration::from_secs(10));
    let mut pods = List::new(p.every);
    let mut nodes = List::new(p.every);
    let mut sent = MetricsSource::default();
    // The first round goes at once (the model wants usage soon); later rounds keep a phase of
    // their own per cluster. Pollers start together, as their clusters' lists arrive, and in
    // step their lists would be parsed all at once every interval: a peak of every cluster's
    // body the allocator keeps.
    let mut phase = Some(phase_of(&p.cluster, p.every));
    loop {
        let now = Instant::now();
        let mut samples = Vec::new();
        if pods.due <= now {
            let scope = p.scope.borrow_and_update().clone();
            let (state, got) = poll_pods(&p.client, &scope, timeout).await;
            pods.settle(state, p.every);
            samples.extend(
                got.into_iter()
                    .map(|(scope, pods)| Sampled::Pods { scope, pods }),
            );
        }
        if nodes.due <= now {
            let (state, got) = match fetch(&p.client, &format!("{BASE}/nodes"), timeout).await {
                Ok(body) => match wire::nodes(&body) {
                    Ok(list) => (MetricsState::Served, Some(list)),
                    Err(e) => (failing(e.to_string()), None),
                },
                Err(state) => (state, None),
            };
            nodes.settle(state, p.every);
            samples.extend(got.map(Sampled::Nodes));
        }
        let at = Timestamp::now();
        for of in samples {
            let sample = UsageSample { at, fresh_for, of };
            let update = FleetUpdate::Usage {
                cluster: p.cluster.clone(),
                sample,
            };
            if p.tx.send(update).await.is_err() {
                return;
            }
        }
        let source = MetricsSource {
            pods: pods.state.clone(),
            nodes: nodes.state.clone(),
        };
        if source != sent {
            note_change(&p.cluster, &sent, &source);
            sent = source.clone();
            let update = FleetUpdate::Metrics {
                cluster: p.cluster.clone(),
                source,
            };
            if p.tx.send(update).await.is_err() {
                return;
            }
        }
        if let Some(phase) = phase.take() {
            pods.due += phase;
            nodes.due += phase;
        }
        let next = pods.due.min(nodes.due);
        tokio::select! {
            () = p.shutdown.cancelled() => return,
            () = tokio::time::sleep_until(next) => {}
            // A new scope lists its namespaces at once.
            Ok(()) = p.scope.changed() => pods.due = Instant::now(),
        }
    }
}

/// The pods lists of a scope: one cluster-wide, or one per namespace. The state is the first
/// namespace's failure only when no namespace answered.
async fn poll_pods(
    client: &kube::Client,
    scope: &Scope,
    timeout: Duration,
) -> (MetricsState, Vec<(UsageScope, Vec<crate::fleet::PodUsage>)>) {
    let lists: Vec<(UsageScope, String)> = match scope {
        Scope::ClusterWide => vec![(UsageScope::Cluster, format!("{BASE}/pods"))],
        Scope::Namespaces(list) => list
            .iter()
            .map(|ns| {
                (
                    UsageScope::Namespace(ns.clone()),
                    format!("{BASE}/namespaces/{ns}/pods"),
                )
            })
            .collect(),
    };
    let mut got = Vec::new();
    let mut failure = None;
    for (scope, path) in lists {
        let answer = match fetch_selected(client, &path, timeout).await {
            Ok(body) => wire::pods(&body).map_err(|e| failing(e.to_string())),
            Err(state) => Err(state),
        };
        match answer {
            Ok(pods) => got.push((scope, pods)),
            Err(state) => {
                failure.get_or_insert(state);
            }
        }
    }
    let state = match (got.is_empty(), failure) {
        (true, Some(state)) => state,
        _ => MetricsState::Served,
    };
    (state, got)
}

/// A pods list of z2jh pods only: metrics-server selects by the pods' labels, so the other
/// pods of a cluster never cross the network.
async fn fetch_selected(
    client: &kube::Client,
    path: &str,
    timeout: Duration,
) -> Result<String, MetricsState> {
    let params = ListParams::default().labels(Z2JH_SELECTOR);
    let request = kube::core::Request::new(path)
        .list(&params)
        .map_err(|e| failing(e.to_string()))?;
    send(client, request, timeout).await
}

async fn fetch(
    client: &kube::Client,
    path: &str,
    timeout: Duration,
) -> Result<String, MetricsState> {
    let request = kube::core::Request::new(path)
        .list(&ListParams::default())
        .map_err(|e| failing(e.to_string()))?;
    send(client, request, timeout).await
}

async fn send(
    client: &kube::Client,
    request: http::Request<Vec<u8>>,
    timeout: Duration,
) -> Result<String, MetricsState> {
    match tokio::time::timeout(timeout, client.request_text(request)).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(e)) => Err(state_of(&e)),
        Err(_) => Err(failing(format!("no answer within {}s", timeout.as_secs()))),
    }
}

/// What a failed request says about the API: 404 and 503 are the API server saying there is no
/// (working) metrics-server behind the group, 403 the identity's role.
fn state_of(e: &kube::Error) -> MetricsState {
    let line = crate::errors::one_line(e);
    match e {
        kube::Error::Api(s) if s.code == 404 || s.code == 503 => {
            MetricsState::NotServed { note: line }
        }
        kube::Error::Api(s) if s.code == 403 => MetricsState::Forbidden { note: line },
        _ => failing(line),
    }
}

fn failing(error: String) -> MetricsState {
    MetricsState::Failing { error }
}

/// One log line per change of state, not per poll.
fn note_change(cluster: &ClusterId, before: &MetricsSource, now: &MetricsSource) {
    for (what, was, is) in [
        ("pods", &before.pods, &now.pods),
        ("nodes", &before.nodes, &now.nodes),
    ] {
        if was == is {
            continue;
        }
        match is {
            MetricsState::Failing { error } => {
                tracing::warn!(%cluster, "metrics.k8s.io {what}: failing: {error}");
            }
            MetricsState::NotServed { note } | MetricsState::Forbidden { note } => {
                tracing::info!(%cluster, "metrics.k8s.io {what}: {}: {note}", is.word());
            }
            MetricsState::Served | MetricsState::Unknown => {
                tracing::info!(%cluster, "metrics.k8s.io {what}: {}", is.word());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, reason: &str, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            code,
            reason: reason.into(),
            message: message.into(),
            ..kube::core::Status::default()
        }))
    }

    #[test]
    fn missing_unavailable_and_refused_apis_are_told_apart() {
        assert_eq!(
            state_of(&api(
                404,
                "NotFound",
                "the server could not find the requested resource"
            ))
            .word(),
            "not served"
        );
        assert_eq!(
            state_of(&api(
                503,
                "Failed to parse error data",
                "service unavailable"
            ))
            .word(),
            "not served"
        );
        let refused = state_of(&api(
            403,
            "Forbidden",
            "pods.metrics.k8s.io is forbidden: User \"ops\" cannot list resource \"pods\"",
        ));
        assert_eq!(refused.word(), "forbidden");
        assert!(refused.detail().unwrap().starts_with("HTTP 403 Forbidden"));
        assert_eq!(
            state_of(&api(500, "InternalError", "boom")).word(),
            "failing"
        );
    }

    #[test]
    fn unserved_lists_wait_minutes_and_failing_ones_back_off_from_two_intervals() {
        let every = Duration::from_secs(30);
        let mut l = List::new(every);
        l.settle(
            MetricsState::NotServed {
                note: "HTTP 404".into(),
            },
            every,
        );
        assert!(l.due >= Instant::now() + RETRY_UNSERVED - Duration::from_secs(1));
        l.settle(failing("timeout".into()), every);
        let wait = l.due - Instant::now();
        assert!(
            wait > Duration::from_secs(50) && wait <= Duration::from_secs(66),
            "{wait:?}"
        );
        l.settle(MetricsState::Served, every);
        assert!(l.due <= Instant::now() + every);
    }

    #[test]
    fn later_rounds_of_a_fleet_spread_over_the_interval() {
        let every = Duration::from_secs(30);
        let phases: Vec<Duration> = (0..30)
            .map(|i| super::phase_of(&ClusterId::new(format!("cluster-{i}")), every))
            .collect();
        assert!(phases.iter().all(|p| *p < every));
        let mut seconds: Vec<u64> = phases.iter().map(Duration::as_secs).collect();
        seconds.sort_unstable();
        seconds.dedup();
        assert!(
            seconds.len() >= 10,
            "30 clusters in {} distinct seconds",
            seconds.len()
        );
    }
}
