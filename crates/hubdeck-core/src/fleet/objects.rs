//! The small structs the fleet keeps for each watched Kubernetes object. Watchers map full
//! objects into these at once; nothing else of the object is kept.

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Role of a z2jh object, from its `component` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Component {
    /// The JupyterHub process.
    Hub,
    /// configurable-http-proxy.
    Proxy,
    /// Traefik for automatic HTTPS.
    Autohttps,
    /// The optional scheduler packing user pods.
    UserScheduler,
    /// Placeholder pods keeping room for arriving users.
    UserPlaceholder,
    /// A user's server.
    SingleuserServer,
    /// Image pullers (continuous or hook).
    ImagePuller,
    /// Anything else the chart labels.
    Other,
}

impl Component {
    /// Parses the `component` label value.
    pub fn from_label(v: &str) -> Self {
        match v {
            "hub" => Self::Hub,
            "proxy" => Self::Proxy,
            "autohttps" => Self::Autohttps,
            "user-scheduler" => Self::UserScheduler,
            "user-placeholder" => Self::UserPlaceholder,
            "singleuser-server" => Self::SingleuserServer,
            "continuous-image-puller" | "hook-image-puller" | "image-puller" => Self::ImagePuller,
            _ => Self::Other,
        }
    }
}

/// Kind of a watched workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WorkloadKind {
    /// apps/v1 Deployment.
    Deployment,
    /// apps/v1 StatefulSet.
    StatefulSet,
}

/// Namespace and name of an object inside one cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectKey {
    /// Namespace.
    pub namespace: Arc<str>,
    /// Object name.
    pub name: Arc<str>,
}

/// A z2jh Deployment or StatefulSet, reduced to what health and actions need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// Deployment or StatefulSet.
    pub kind: WorkloadKind,
    /// Namespace and name (names carry a release prefix unless fullnameOverride is "").
    pub key: ObjectKey,
    /// The `release` label.
    pub release: Arc<str>,
    /// The `component` label.
    pub component: Component,
    /// `spec.replicas`.
    pub desired: u32,
    /// `status.readyReplicas`.
    pub ready: u32,
    /// `status.updatedReplicas`.
    pub updated: u32,
    /// Images of the pod template's containers.
    pub images: Vec<Arc<str>>,
    /// Whether the controller has seen the latest spec.
    pub observed: bool,
    /// Pod template annotation `kubectl.kubernetes.io/restartedAt`, if any.
    pub restarted_at: Option<Arc<str>>,
}

/// Pod phase, with the reasons that matter for on-call folded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PodPhase {
    /// Not yet running (scheduling, pulling, starting).
    Pending,
    /// Running.
    Running,
    /// Exited successfully.
    Succeeded,
    /// Exited with failure (including evicted or preempted).
    Failed,
    /// Being deleted.
    Terminating,
    /// The API server did not say.
    Unknown,
}

impl PodPhase {
    /// Parses `status.phase`.
    pub fn from_status(v: &str) -> Self {
        match v {
            "Pending" => Self::Pending,
            "Running" => Self::Running,
            "Succeeded" => Self::Succeeded,
            "Failed" => Self::Failed,
            _ => Self::Unknown,
        }
    }

    /// Short word for tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Running => "Running",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Terminating => "Terminating",
            Self::Unknown => "Unknown",
        }
    }
}

/// CPU and memory amounts of a pod (its requests or its limits, summed over its containers)
/// or of a node (allocatable).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requests {
    /// CPU in millicores.
    pub cpu_milli: u32,
    /// Memory in bytes.
    pub memory_bytes: u64,
}

/// Who a user pod belongs to (from KubeSpawner's annotations, never from the escaped pod name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// JupyterHub user name.
    pub user: Arc<str>,
    /// Named server, "" for the default one.
    pub server: Arc<str>,
}

/// A pod of a z2jh release: hub, proxy, placeholder, scheduler or user server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodInfo {
    /// Namespace and name.
    pub key: ObjectKey,
    /// The `release` label.
    pub release: Arc<str>,
    /// The `component` label.
    pub component: Component,
    /// Phase (Terminating when a deletion timestamp is set).
    pub phase: PodPhase,
    /// All containers ready.
    pub ready: bool,
    /// Restarts summed over containers.
    pub restarts: u32,
    /// Why a container waits or why the pod failed: CrashLoopBackOff, ImagePullBackOff, Evicted...
    pub reason: Option<Arc<str>>,
    /// Node it is scheduled on.
    pub node: Option<Arc<str>>,
    /// When the kubelet started it (or, if not started, when it was created).
    pub started: Option<Timestamp>,
    /// When it was created.
    pub created: Option<Timestamp>,
    /// Main container image.
    pub image: Option<Arc<str>>,
    /// Summed resource requests.
    pub requests: Requests,
    /// User and server name, for user servers.
    pub owner: Option<Owner>,
    /// How the main container's previous run ended, once it has restarted. Boxed: most pods
    /// never restart, and a fleet holds many pods. (Defaulted, as every field added since the
    /// first recordings, so that their pods still decode.)
    #[serde(default)]
    pub last_termination: Option<Box<Termination>>,
    /// Summed resource limits; a figure is 0 unless every container sets that limit, as the
    /// kubelet bounds a pod's cgroup only then.
    #[serde(default)]
    pub limits: Requests,
}

/// How a container's run ended (`lastState.terminated`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Termination {
    /// OOMKilled, Error, Completed, ...
    pub reason: Arc<str>,
    /// Exit code (137 for an OOM kill).
    pub exit_code: i32,
    /// When it ended.
    pub finished_at: Option<Timestamp>,
}

impl Termination {
    /// `OOMKilled 137, 4m ago`: for a table cell and the detail pane.
    pub fn describe(&self, now: Timestamp) -> String {
        match self.finished_at {
            Some(at) => format!(
                "{} {}, {} ago",
                self.reason,
                self.exit_code,
                crate::text::age(now, Some(at))
            ),
            None => format!("{} {}", self.reason, self.exit_code),
        }
    }
}

/// A Kubernetes Warning event in a hub namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventInfo {
    /// Namespace and name of the Event object.
    pub key: ObjectKey,
    /// `Kind/name` of the object it concerns.
    pub object: Arc<str>,
    /// Short machine reason (BackOff, FailedScheduling, ...).
    pub reason: Arc<str>,
    /// Human message.
    pub message: Arc<str>,
    /// How often it happened.
    pub count: u32,
    /// When it was last seen.
    pub last_seen: Option<Timestamp>,
}

/// Severity of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Wake somebody up.
    Critical,
    /// Look at it today.
    Warning,
    /// For the record.
    Info,
}

impl Severity {
    /// Parses an Alertmanager `severity` label (unknown values count as warning).
    pub fn from_label(v: &str) -> Self {
        match v.to_ascii_lowercase().as_str() {
            "critical" | "page" | "error" => Self::Critical,
            "info" | "none" => Self::Info,
            _ => Self::Warning,
        }
    }

    /// Lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// Where an alert came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertOrigin {
    /// The cluster's Alertmanager.
    Alertmanager,
    /// Derived by hubdeck from the fleet model.
    Derived,
}

/// A firing alert, attached to the cluster, hub and object it concerns where known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertInfo {
    /// Stable identity (Alertmanager fingerprint, or a derived key).
    pub fingerprint: Arc<str>,
    /// `alertname`.
    pub name: Arc<str>,
    /// Severity.
    pub severity: Severity,
    /// Alertmanager or derived.
    pub origin: AlertOrigin,
    /// One-line summary.
    pub summary: String,
    /// Namespace the alert concerns, if any.
    pub namespace: Option<Arc<str>>,
    /// Release (hub) it concerns, if any.
    pub release: Option<Arc<str>>,
    /// Pod it concerns, if any.
    pub pod: Option<Arc<str>>,
    /// Since when it fires.
    pub since: Option<Timestamp>,
    /// Silence ids muting it (Alertmanager `status.silencedBy`).
    pub silenced_by: Vec<String>,
    /// All labels, sorted, for matchers and display.
    pub labels: Vec<(String, String)>,
}

/// What the hub API says about one user server.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServerActivity {
    /// User name (the pod owner's own string once the store has matched it to a pod).
    pub user: Arc<str>,
    /// Server name, "" for the default one.
    pub server: Arc<str>,
    /// The hub considers it ready.
    pub ready: bool,
    /// Pending action, if any.
    pub pending: Option<PendingAction>,
    /// When it started.
    pub started: Option<Timestamp>,
    /// Last activity the hub recorded.
    pub last_activity: Option<Timestamp>,
}

/// The transition a hub reports a server in (`pending` of the server model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PendingAction {
    /// Being spawned.
    Spawn,
    /// Being stopped.
    Stop,
    /// A value this hubdeck does not know.
    Other,
}

impl PendingAction {
    /// Parses the hub's `pending` value.
    pub fn from_hub(v: &str) -> Self {
        match v {
            "spawn" => Self::Spawn,
            "stop" => Self::Stop,
            _ => Self::Other,
        }
    }

    /// The hub's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spawn => "spawn",
            Self::Stop => "stop",
            Self::Other => "other",
        }
    }
}
