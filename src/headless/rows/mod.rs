//! The rows `hubdeck get` prints: one flat, serializable struct per kind. Their JSON form is the
//! documented, stable output (README "JSON output").

mod nodes;

pub use nodes::{NodeRow, cluster_node_rows, node_row, status_word};

use jiff::Timestamp;
use serde::Serialize;

use crate::fleet::{
    AlertOrigin, ClusterState, Fleet, HubState, OutsideCheck, PodInfo, Replicas, SourceState,
    Termination, memory_share,
};

/// A cluster.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterRow {
    /// Name.
    pub name: String,
    /// Cloud provider.
    pub provider: Option<String>,
    /// connecting, ready, degraded or unreachable.
    pub status: &'static str,
    /// Why degraded or unreachable.
    pub reason: Option<String>,
    /// Last API round-trip in milliseconds.
    pub latency_ms: Option<u64>,
    /// Number of hubs.
    pub hubs: usize,
    /// Number of user server pods.
    pub servers: usize,
    /// Firing alerts (Alertmanager and derived).
    pub alerts: usize,
    /// Alertmanager state: ok, absent, failing, unknown.
    pub alert_source: &'static str,
    /// kubeconfig context.
    pub context: String,
    /// What the watches cover: `cluster-wide`, or `namespaces a, b` when listing cluster-wide
    /// is forbidden.
    pub scope: String,
    /// The namespaces watched one by one (null when cluster-wide).
    pub namespaces: Option<Vec<String>>,
    /// metrics.k8s.io for its pods: served, not served, forbidden, failing or unknown.
    pub metrics: &'static str,
}

/// A hub.
#[derive(Debug, Clone, Serialize)]
pub struct HubRow {
    /// Cluster.
    pub cluster: String,
    /// Hub name (`namespace`, or `namespace/release` when they differ).
    pub hub: String,
    /// Namespace.
    pub namespace: String,
    /// Helm release.
    pub release: String,
    /// ok, degraded, down or unknown.
    pub health: &'static str,
    /// Why not ok.
    pub reason: String,
    /// Hub ready/desired, e.g. "1/1".
    pub hub_ready: Option<String>,
    /// Proxy ready/desired.
    pub proxy_ready: Option<String>,
    /// Ready user servers.
    pub servers_ready: u32,
    /// Pending user servers.
    pub servers_pending: u32,
    /// User placeholders ready/desired.
    pub placeholders: Option<String>,
    /// Hub image.
    pub image: Option<String>,
    /// Against the deployment repository: declared, missing (declared, not running),
    /// undeclared (running, declared nowhere); null without a repository.
    pub declared: Option<&'static str>,
    /// The repository's `display_name`.
    pub display_name: Option<String>,
    /// The repository's `domain`.
    pub domain: Option<String>,
    /// The repository's `helm_chart`: basehub or daskhub.
    pub chart: Option<&'static str>,
    /// How the running chart differs from the declared one (`declared daskhub, runs no
    /// dask-gateway`, `declared basehub, runs dask-gateway`); null when they agree.
    pub chart_drift: Option<&'static str>,
    /// CPU its pods use, millicores (null: no fresh metrics).
    pub cpu_used_millis: Option<u32>,
    /// Memory its pods use, bytes.
    pub memory_used_bytes: Option<u64>,
    /// The last check of `https://<domain>/hub/health` from outside; null without a domain or
    /// before the first check.
    pub outside: Option<OutsideRow>,
}

/// A hub's last check from outside.
#[derive(Debug, Clone, Serialize)]
pub struct OutsideRow {
    /// ok, status (another status than expected), dns, tls, timeout or connect.
    pub state: &'static str,
    /// The HTTP status, when it answered.
    pub status: Option<u16>,
    /// Until the answer's status line, when it answered.
    pub latency_ms: Option<u64>,
    /// When the request was sent.
    pub checked_at: Timestamp,
    /// Why it failed (null when it passed).
    pub reason: Option<String>,
    /// What the table shows, e.g. `200 84ms`.
    #[serde(skip)]
    pub brief: String,
}

impl OutsideRow {
    fn of(check: &OutsideCheck) -> Self {
        Self {
            state: check.state().as_str(),
            status: check.status(),
            latency_ms: check
                .latency
                .map(|l| u64::try_from(l.as_millis()).unwrap_or(u64::MAX)),
            checked_at: check.at,
            reason: check.reason(),
            brief: check.brief(),
        }
    }
}

/// A user server.
#[derive(Debug, Clone, Serialize)]
pub struct ServerRow {
    /// Cluster.
    pub cluster: String,
    /// Hub name.
    pub hub: String,
    /// JupyterHub user.
    pub user: String,
    /// Named server ("" for the default one).
    pub server: String,
    /// Pod name.
    pub pod: String,
    /// Pod phase.
    pub phase: &'static str,
    /// All containers ready.
    pub ready: bool,
    /// Container restarts.
    pub restarts: u32,
    /// Why waiting or failed.
    pub reason: Option<String>,
    /// Node.
    pub node: Option<String>,
    /// Start time (RFC 3339).
    pub started: Option<Timestamp>,
    /// CPU request, millicores.
    pub cpu_m: u32,
    /// Memory request, bytes.
    pub memory_bytes: u64,
    /// Last activity the hub API reported.
    pub last_activity: Option<Timestamp>,
    /// How the main container's previous run ended (reason, exit_code, finished_at).
    pub last_termination: Option<Termination>,
    /// CPU limit, millicores (null: none).
    pub cpu_limit_m: Option<u32>,
    /// Memory limit, bytes (null: none).
    pub memory_limit_bytes: Option<u64>,
    /// CPU in use, millicores (null: no fresh metrics).
    pub cpu_used_millis: Option<u32>,
    /// Memory in use (working set), bytes.
    pub memory_used_bytes: Option<u64>,
    /// Memory in use as a percentage of the limit, or of the request without one.
    pub memory_percent: Option<f64>,
    /// What `memory_percent` is of: limit or request.
    pub memory_percent_of: Option<&'static str>,
    /// Why a pending server waits: the steps its events tell, newest first (empty once it
    /// runs).
    pub scheduling: Vec<StoryRow>,
    /// The user's running dask clusters (dask-gateway's DaskClusters on this hub).
    pub dask_clusters: u32,
    /// Their worker pods, pending or running.
    pub dask_workers: u32,
    /// The newest step as of now, for the table (`pulling image 40s`); not in JSON, it ages.
    #[serde(skip)]
    pub why: Option<String>,
}

/// A step of a pending server's story.
#[derive(Debug, Clone, Serialize)]
pub struct StoryRow {
    /// The Event's reason: FailedScheduling, TriggeredScaleUp, NotTriggerScaleUp, Nominated,
    /// Scheduled, FailedAttachVolume, FailedMount, FailedCreatePodSandBox, Pulling, Pulled,
    /// Failed, BackOff.
    pub reason: &'static str,
    /// In a few words (`0/12 nodes: 3 Insufficient memory`).
    pub summary: String,
    /// What its reporter said.
    pub message: String,
    /// How often it happened.
    pub count: u32,
    /// When it first happened.
    pub first_seen: Option<Timestamp>,
    /// When it last happened.
    pub last_seen: Option<Timestamp>,
    /// For Pulled: how long the pull took, in seconds.
    pub pull_seconds: Option<f64>,
}

/// A firing alert.
#[derive(Debug, Clone, Serialize)]
pub struct AlertRow {
    /// Cluster.
    pub cluster: String,
    /// alertname.
    pub name: String,
    /// critical, warning, info.
    pub severity: &'static str,
    /// alertmanager or derived.
    pub origin: AlertOrigin,
    /// Hub it concerns (namespace/release), if known.
    pub hub: Option<String>,
    /// Pod it concerns.
    pub pod: Option<String>,
    /// Summary.
    pub summary: String,
    /// Since when.
    pub since: Option<Timestamp>,
    /// Silenced by these silences.
    pub silenced_by: Vec<String>,
    /// Fingerprint (use with `hubdeck silence`).
    pub fingerprint: String,
}

/// A Warning event.
#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    /// Cluster.
    pub cluster: String,
    /// Namespace.
    pub namespace: String,
    /// `Kind/name`.
    pub object: String,
    /// Reason.
    pub reason: String,
    /// Message.
    pub message: String,
    /// Count.
    pub count: u32,
    /// Last seen.
    pub last_seen: Option<Timestamp>,
}

/// The JSON keys of each row, in order: what `--selector` and runbook assertions may name.
pub mod fields {
    /// [`super::ClusterRow`].
    pub const CLUSTER: &[&str] = &[
        "name",
        "provider",
        "status",
        "reason",
        "latency_ms",
        "hubs",
        "servers",
        "alerts",
        "alert_source",
        "context",
        "scope",
        "namespaces",
        "metrics",
    ];
    /// [`super::HubRow`].
    pub const HUB: &[&str] = &[
        "cluster",
        "hub",
        "namespace",
        "release",
        "health",
        "reason",
        "hub_ready",
        "proxy_ready",
        "servers_ready",
        "servers_pending",
        "placeholders",
        "image",
        "declared",
        "display_name",
        "domain",
        "chart",
        "chart_drift",
        "cpu_used_millis",
        "memory_used_bytes",
        "outside",
    ];
    /// [`super::ServerRow`].
    pub const SERVER: &[&str] = &[
        "cluster",
        "hub",
        "user",
        "server",
        "pod",
        "phase",
        "ready",
        "restarts",
        "reason",
        "node",
        "started",
        "cpu_m",
        "memory_bytes",
        "last_activity",
        "last_termination",
        "scheduling",
        "cpu_limit_m",
        "memory_limit_bytes",
        "cpu_used_millis",
        "memory_used_bytes",
        "memory_percent",
        "memory_percent_of",
        "dask_clusters",
        "dask_workers",
    ];
    /// [`super::AlertRow`].
    pub const ALERT: &[&str] = &[
        "cluster",
        "name",
        "severity",
        "origin",
        "hub",
        "pod",
        "summary",
        "since",
        "silenced_by",
        "fingerprint",
    ];
    /// [`super::EventRow`].
    pub const EVENT: &[&str] = &[
        "cluster",
        "namespace",
        "object",
        "reason",
        "message",
        "count",
        "last_seen",
    ];
    /// [`super::NodeRow`].
    pub const NODE: &[&str] = &[
        "cluster",
        "pool",
        "name",
        "instance_type",
        "purpose",
        "status",
        "ready",
        "cordoned",
        "pressure",
        "created",
        "cpu_allocatable_m",
        "memory_allocatable_bytes",
        "cpu_requested_m",
        "memory_requested_bytes",
        "servers",
        "hubs",
    ];
}

fn ratio(r: Option<Replicas>) -> Option<String> {
    r.map(|r| format!("{}/{}", r.ready, r.desired))
}

fn source_word(s: &SourceState) -> &'static str {
    match s {
        SourceState::Unknown => "unknown",
        SourceState::Absent { .. } => "absent",
        SourceState::Ok => "ok",
        SourceState::Failing { .. } => "failing",
    }
}

/// Row of a cluster.
pub fn cluster_row(fleet: &Fleet, c: &ClusterState) -> ClusterRow {
    use crate::fleet::ClusterStatus as S;
    let reason = match &c.status {
        S::Degraded { reason } => Some(reason.clone()),
        S::Unreachable { error, since } => Some(format!("{error} (since {since})")),
        _ => None,
    };
    ClusterRow {
        name: c.id.to_string(),
        provider: c.meta.provider.clone(),
        status: c.status.word(),
        reason,
        latency_ms: c.latency.map(|l| l.as_millis() as u64),
        hubs: c.hubs.len(),
        servers: c
            .hubs
            .values()
            .map(|h| h.summary.servers_total as usize)
            .sum(),
        alerts: fleet.alerts().filter(|(x, _)| x.id == c.id).count(),
        alert_source: source_word(&c.alert_source),
        context: c.meta.context.clone(),
        scope: c.scope.to_string(),
        namespaces: match &c.scope {
            crate::fleet::Scope::ClusterWide => None,
            crate::fleet::Scope::Namespaces(list) => {
                Some(list.iter().map(|n| n.to_string()).collect())
            }
        },
        metrics: c.metrics.pods.word(),
    }
}

/// Row of a hub, its usage as fresh at `now`.
pub fn hub_row(c: &ClusterState, h: &HubState, now: Timestamp) -> HubRow {
    let used = h.usage.total(now);
    let s = &h.summary;
    let d = h.declared.as_ref();
    HubRow {
        cluster: h.id.cluster.to_string(),
        hub: h.id.key.name(),
        namespace: h.id.key.namespace.to_string(),
        release: h.id.key.release.to_string(),
        health: s.health.level.as_str(),
        reason: s.health.reason.clone(),
        hub_ready: ratio(s.hub),
        proxy_ready: ratio(s.proxy),
        servers_ready: s.servers_ready,
        servers_pending: s.servers_pending,
        placeholders: ratio(s.placeholders),
        image: s.hub_image.as_deref().map(str::to_string),
        declared: Some(c.declaration(h).as_str()).filter(|w| !w.is_empty()),
        display_name: d
            .and_then(|d| d.display_name.as_deref())
            .map(str::to_string),
        domain: d.and_then(|d| d.domain.as_deref()).map(str::to_string),
        chart: d.map(|d| d.chart.as_str()),
        chart_drift: s.chart_drift,
        cpu_used_millis: used.map(|u| u.cpu_milli),
        memory_used_bytes: used.map(|u| u.memory_bytes),
        outside: c.outside_of(h).map(OutsideRow::of),
    }
}

/// Row of a user server pod, its story told as of `now`.
pub fn server_row(h: &HubState, p: &PodInfo, now: Timestamp) -> ServerRow {
    let owner = p.owner.as_ref();
    let story = h.story(&p.key.name);
    let scheduling = story.map_or_else(Vec::new, |s| {
        s.iter()
            .map(|e| StoryRow {
                reason: e.step.as_str(),
                summary: e.summary(),
                message: e.message.to_string(),
                count: e.count,
                first_seen: e.first,
                last_seen: e.last,
                pull_seconds: s.pull_time(e).map(|d| d.as_secs_f64()),
            })
            .collect()
    });
    let used = h.usage.pod(&p.key.name, now);
    let share = used.and_then(|u| memory_share(p, u));
    let dask = h.dask_of(p).unwrap_or_default();
    ServerRow {
        dask_clusters: dask.clusters,
        dask_workers: dask.workers,
        cluster: h.id.cluster.to_string(),
        hub: h.id.key.name(),
        user: owner.map(|o| o.user.to_string()).unwrap_or_default(),
        server: owner.map(|o| o.server.to_string()).unwrap_or_default(),
        pod: p.key.name.to_string(),
        phase: p.phase.as_str(),
        ready: p.ready,
        restarts: p.restarts,
        reason: p.reason.as_deref().map(str::to_string),
        node: p.node.as_deref().map(str::to_string),
        started: p.started,
        cpu_m: p.requests.cpu_milli,
        memory_bytes: p.requests.memory_bytes,
        last_activity: h.activity_of(p).and_then(|a| a.last_activity),
        last_termination: p.last_termination.as_deref().cloned(),
        scheduling,
        why: story.and_then(|s| s.newest()).map(|e| e.summary_at(now)),
        cpu_limit_m: Some(p.limits.cpu_milli).filter(|&m| m > 0),
        memory_limit_bytes: Some(p.limits.memory_bytes).filter(|&b| b > 0),
        cpu_used_millis: used.map(|u| u.cpu_milli),
        memory_used_bytes: used.map(|u| u.memory_bytes),
        // Tenths are enough to rank and read; more would look precise and is not.
        memory_percent: share.map(|s| (s.percent * 10.0).round() / 10.0),
        memory_percent_of: share.map(|s| if s.of_limit { "limit" } else { "request" }),
    }
}

/// Row of an alert.
pub fn alert_row(c: &ClusterState, a: &crate::fleet::AlertInfo) -> AlertRow {
    let hub = match (&a.namespace, &a.release) {
        (Some(ns), Some(rel)) if ns == rel => Some(ns.to_string()),
        (Some(ns), Some(rel)) => Some(format!("{ns}/{rel}")),
        (Some(ns), None) => Some(ns.to_string()),
        _ => None,
    };
    AlertRow {
        cluster: c.id.to_string(),
        name: a.name.to_string(),
        severity: a.severity.as_str(),
        origin: a.origin,
        hub,
        pod: a.pod.as_deref().map(str::to_string),
        summary: a.summary.clone(),
        since: a.since,
        silenced_by: a.silenced_by.clone(),
        fingerprint: a.fingerprint.to_string(),
    }
}

/// Row of an event.
pub fn event_row(c: &ClusterState, e: &crate::fleet::EventInfo) -> EventRow {
    EventRow {
        cluster: c.id.to_string(),
        namespace: e.key.namespace.to_string(),
        object: e.object.to_string(),
        reason: e.reason.to_string(),
        message: e.message.to_string(),
        count: e.count,
        last_seen: e.last_seen,
    }
}
