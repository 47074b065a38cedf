//! The deltas producers send to the store. Small, owned values: producers never touch the store.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ids::{ClusterId, HubId};
use super::nodes::NodeInfo;
use super::objects::{AlertInfo, EventInfo, PodInfo, ServerActivity, Workload, WorkloadKind};
use super::story::PodEvent;
use super::usage::{MetricsSource, UsageSample};

/// What is known about a cluster before connecting to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterMeta {
    /// kubeconfig context.
    pub context: String,
    /// Cloud provider, when fleet.toml or the sim names it.
    pub provider: Option<String>,
    /// API server URL.
    pub server: Option<String>,
}

/// Connection state of one cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum ClusterStatus {
    /// First lists not complete yet.
    Connecting,
    /// Every watch is live.
    Ready,
    /// Reachable, but some watch or source is failing.
    Degraded {
        /// What fails.
        reason: String,
    },
    /// Shown from a recording made at `at` (a warm start): not listed live yet. A
    /// `Connecting` keeps it; the first live state after the lists replaces it.
    Recorded {
        /// When the recorded state was current.
        at: Timestamp,
    },
    /// The API server cannot be reached.
    Unreachable {
        /// Last error.
        error: String,
        /// When it was last reachable (or first tried).
        since: Timestamp,
    },
}

impl ClusterStatus {
    /// Lower-case word for tables and JSON.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Ready => "ready",
            Self::Degraded { .. } => "degraded",
            Self::Recorded { .. } => "stale",
            Self::Unreachable { .. } => "unreachable",
        }
    }
}

/// What a cluster's watches cover: everything, or only the namespaces its identity may read
/// (when listing cluster-wide is forbidden, as with a RoleBinding per hub namespace).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Every namespace.
    #[default]
    ClusterWide,
    /// Only these namespaces, in name order.
    Namespaces(Vec<Arc<str>>),
}

impl Scope {
    /// Whether objects of `namespace` are watched.
    pub fn covers(&self, namespace: &str) -> bool {
        match self {
            Self::ClusterWide => true,
            Self::Namespaces(list) => list.iter().any(|n| &**n == namespace),
        }
    }
}

impl std::fmt::Display for Scope {
    /// `cluster-wide`, or `namespaces a, b`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ClusterWide => f.write_str("cluster-wide"),
            Self::Namespaces(list) => {
                f.write_str("namespaces ")?;
                for (i, n) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(n)?;
                }
                Ok(())
            }
        }
    }
}

/// State of an auxiliary data source (Alertmanager, hub API) for a cluster or hub.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum SourceState {
    /// Not looked for yet.
    #[default]
    Unknown,
    /// There is none (no Alertmanager, no hub token): not an error.
    Absent {
        /// Why, for the status line.
        note: String,
    },
    /// Answering.
    Ok,
    /// Present but failing.
    Failing {
        /// Last error.
        error: String,
    },
}

/// A change to one kind of object in one cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Delta<T> {
    /// A complete list (initial list or re-list): replaces everything of this kind.
    Replace(Vec<T>),
    /// A complete list of one namespace, from a watch scoped to it: replaces this kind's
    /// objects of that namespace only, leaving the other namespaces' watches' objects alone.
    ReplaceIn(Arc<str>, Vec<T>),
    /// Added or modified.
    Upsert(T),
    /// Deleted (the last state seen).
    Remove(T),
}

impl<T> Delta<T> {
    /// For a (re-)list: the namespace it covers (None: every namespace) and the objects.
    pub fn listing(&self) -> Option<(Option<&str>, &[T])> {
        match self {
            Self::Replace(all) => Some((None, all)),
            Self::ReplaceIn(ns, all) => Some((Some(ns), all)),
            Self::Upsert(_) | Self::Remove(_) => None,
        }
    }
}

/// One message from a producer to the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FleetUpdate {
    /// A cluster joins the fleet (before it is reached).
    ClusterAdded {
        /// Its id.
        cluster: ClusterId,
        /// Context, provider, URL.
        meta: ClusterMeta,
    },
    /// Connection state changed.
    Status {
        /// Which cluster.
        cluster: ClusterId,
        /// New state.
        status: ClusterStatus,
    },
    /// What the cluster's watches now cover; objects outside it are dropped.
    Scope {
        /// Which cluster.
        cluster: ClusterId,
        /// The new scope.
        scope: Scope,
    },
    /// A fresh API round-trip time.
    Latency {
        /// Which cluster.
        cluster: ClusterId,
        /// Round-trip time of a cheap request.
        latency: Duration,
    },
    /// Hub, proxy, scheduler and placeholder workloads of one kind (a replace replaces only
    /// that kind: Deployments and StatefulSets are listed by separate watches).
    Workloads {
        /// Which cluster.
        cluster: ClusterId,
        /// Deployments or StatefulSets.
        kind: WorkloadKind,
        /// The change.
        delta: Delta<Workload>,
    },
    /// Pods of z2jh releases.
    Pods {
        /// Which cluster.
        cluster: ClusterId,
        /// The change.
        delta: Delta<PodInfo>,
    },
    /// Nodes (cluster-scoped: a `ReplaceIn` counts as a whole list).
    Nodes {
        /// Which cluster.
        cluster: ClusterId,
        /// The change.
        delta: Delta<NodeInfo>,
    },
    /// Whether the cluster's nodes can be watched (Absent: the identity may not list them,
    /// which leaves its hubs alone).
    NodeSource {
        /// Which cluster.
        cluster: ClusterId,
        /// The nodes watch's state.
        source: SourceState,
    },
    /// Warning events.
    Events {
        /// Which cluster.
        cluster: ClusterId,
        /// The change.
        delta: Delta<EventInfo>,
    },
    /// Events about pods that tell why one is pending (its story); the store keeps those of
    /// pending user servers only.
    PodEvents {
        /// Which cluster.
        cluster: ClusterId,
        /// The change.
        delta: Delta<PodEvent>,
    },
    /// The complete set of firing Alertmanager alerts of a cluster.
    Alerts {
        /// Which cluster.
        cluster: ClusterId,
        /// Whether the source answered.
        source: SourceState,
        /// Firing alerts (empty when the source failed: the last good set is kept then).
        alerts: Vec<AlertInfo>,
    },
    /// The hubs a deployment repository declares for a cluster (sent once, after
    /// `ClusterAdded`, for clusters that come from a repository).
    Declared {
        /// Which cluster.
        cluster: ClusterId,
        /// Its `hubs:` list.
        hubs: Vec<super::declared::DeclaredHub>,
    },
    /// A metrics.k8s.io list's answer: what pods or nodes use.
    Usage {
        /// Which cluster.
        cluster: ClusterId,
        /// The figures, with when they were taken.
        sample: UsageSample,
    },
    /// Whether the cluster serves metrics.k8s.io to this identity (sent when it changes).
    Metrics {
        /// Which cluster.
        cluster: ClusterId,
        /// The pods and nodes lists' states.
        source: MetricsSource,
    },
    /// What a hub's API says about its servers.
    Activity {
        /// Which hub.
        hub: HubId,
        /// Whether the hub API answered.
        source: SourceState,
        /// Active servers (ignored when the source failed).
        servers: Vec<ServerActivity>,
    },
    /// dask-gateway pods or `DaskCluster`s (see `fleet::dask`). New variants go
    /// last: recordings number the variants.
    Dask {
        /// Which cluster.
        cluster: ClusterId,
        /// The change.
        delta: super::dask::DaskDelta,
    },
    /// A check of a declared hub's health endpoint from outside the cluster (its domain).
    Outside {
        /// Its cluster.
        cluster: ClusterId,
        /// Its declared name (its namespace).
        hub: Arc<str>,
        /// What the check got.
        check: super::outside::OutsideCheck,
    },
}
