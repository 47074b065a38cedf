//! What pods and nodes use, from metrics.k8s.io (metrics-server): samples as the poller sends
//! them, and how the store keeps them. A fleet holds a hundred thousand pods, so a hub keeps
//! its pods' usage in a vector sorted by name, whose names are the pods' own strings, and one
//! sample time for all of them; a figure older than its sample's freshness reads as absent.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ids::HubKey;
use super::objects::{ObjectKey, PodInfo, Requests};
use super::pods::PodMap;

/// CPU and memory in use (a pod's summed over its containers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Usage {
    /// CPU in millicores.
    pub cpu_milli: u32,
    /// Memory (working set) in bytes.
    pub memory_bytes: u64,
}

impl Usage {
    /// Both figures added, saturating.
    pub fn plus(self, other: Usage) -> Usage {
        Usage {
            cpu_milli: self.cpu_milli.saturating_add(other.cpu_milli),
            memory_bytes: self.memory_bytes.saturating_add(other.memory_bytes),
        }
    }
}

/// One pod's usage as metrics.k8s.io reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodUsage {
    /// Namespace and name.
    pub key: ObjectKey,
    /// Its `release` label: the hub it belongs to.
    pub release: Arc<str>,
    /// Summed over its containers.
    pub usage: Usage,
}

/// One node's usage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeUsage {
    /// Node name.
    pub name: Arc<str>,
    /// What the node uses (its pods and the system's).
    pub usage: Usage,
}

/// What one metrics list covers: every hub of the cluster, the hubs of one namespace (a watch
/// scoped to namespaces polls each), or one hub (a snapshot restores hub by hub).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UsageScope {
    /// The whole cluster.
    Cluster,
    /// One namespace.
    Namespace(Arc<str>),
    /// One hub.
    Hub(HubKey),
}

impl UsageScope {
    /// Whether the scope covers a hub.
    pub fn covers(&self, hub: &HubKey) -> bool {
        match self {
            Self::Cluster => true,
            Self::Namespace(ns) => *hub.namespace == **ns,
            Self::Hub(h) => h == hub,
        }
    }
}

/// The figures of one metrics list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Sampled {
    /// Pods: replaces the usage of every hub the scope covers.
    Pods {
        /// What the list covered.
        scope: UsageScope,
        /// Each pod with metrics (pods that do not run have none).
        pods: Vec<PodUsage>,
    },
    /// Every node.
    Nodes(Vec<NodeUsage>),
}

/// A metrics list's answer, with when it came and how long it counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageSample {
    /// When the list was answered.
    pub at: Timestamp,
    /// How long after `at` the figures are shown (about three poll intervals); older ones are
    /// shown as unknown, not as if current.
    pub fresh_for: Duration,
    /// The figures.
    pub of: Sampled,
}

/// Whether metrics.k8s.io answers one of a cluster's lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum MetricsState {
    /// Not asked yet.
    #[default]
    Unknown,
    /// Answering.
    Served,
    /// The API is not there (404: no metrics-server; 503: its APIService is unavailable).
    NotServed {
        /// The server's answer, on one line.
        note: String,
    },
    /// The identity may not list it (403).
    Forbidden {
        /// The server's answer, on one line.
        note: String,
    },
    /// Another failure (a timeout, a 500, an answer that does not parse).
    Failing {
        /// Last error.
        error: String,
    },
}

impl MetricsState {
    /// `unknown`, `served`, `not served`, `forbidden` or `failing`.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Served => "served",
            Self::NotServed { .. } => "not served",
            Self::Forbidden { .. } => "forbidden",
            Self::Failing { .. } => "failing",
        }
    }

    /// The answer behind a state that is not `served`.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::NotServed { note } | Self::Forbidden { note } => Some(note),
            Self::Failing { error } => Some(error),
            Self::Unknown | Self::Served => None,
        }
    }
}

/// Whether a cluster's pod and node metrics are served.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MetricsSource {
    /// The pods list (what servers and hubs show).
    pub pods: MetricsState,
    /// The nodes list (cluster-scoped: an identity limited to namespaces may not list it).
    pub nodes: MetricsState,
}

/// When a sample was taken and until when it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Freshness {
    at: Timestamp,
    until: Timestamp,
}

impl Freshness {
    fn new(at: Timestamp, fresh_for: Duration) -> Self {
        let fresh_for = jiff::SignedDuration::try_from(fresh_for).unwrap_or_default();
        Self {
            at,
            until: at.saturating_add(fresh_for).unwrap_or(at),
        }
    }

    fn fresh(&self, now: Timestamp) -> bool {
        now < self.until
    }

    fn fresh_for(&self) -> Duration {
        Duration::try_from(self.until.duration_since(self.at)).unwrap_or_default()
    }
}

/// The usage of one hub's pods, from its cluster's last pods list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HubUsage {
    sampled: Option<Freshness>,
    /// By pod name; names share the pods' strings.
    pods: Vec<(Arc<str>, Usage)>,
    total: Usage,
    /// The sample counted as stale at the last refresh (so its expiry is noticed once).
    pub(crate) expired: bool,
}

impl HubUsage {
    /// A pod's usage, if its last sample is fresh at `now` and had metrics for it.
    pub fn pod(&self, name: &str, now: Timestamp) -> Option<Usage> {
        self.fresh(now)?;
        let i = self.pods.binary_search_by(|(n, _)| (**n).cmp(name)).ok()?;
        Some(self.pods[i].1)
    }

    /// Summed over the hub's pods with metrics, if the sample is fresh and had any.
    pub fn total(&self, now: Timestamp) -> Option<Usage> {
        self.fresh(now)?;
        (!self.pods.is_empty()).then_some(self.total)
    }

    /// When the last sample was taken, fresh or not.
    pub fn sampled_at(&self) -> Option<Timestamp> {
        self.sampled.map(|s| s.at)
    }

    fn fresh(&self, now: Timestamp) -> Option<()> {
        self.sampled.filter(|s| s.fresh(now)).map(|_| ())
    }

    /// Whether a sample was taken and has since gone stale.
    pub(crate) fn stale(&self, now: Timestamp) -> bool {
        self.sampled.is_some_and(|s| !s.fresh(now))
    }

    /// Takes a fresh sample of this hub's pods: pods the hub does not hold are left out (a pod
    /// listed after the sample gets its figure with the next one).
    pub(crate) fn replace(
        &mut self,
        at: Timestamp,
        fresh_for: Duration,
        pods: &PodMap,
        mut got: Vec<PodUsage>,
    ) {
        got.sort_by(|a, b| a.key.name.cmp(&b.key.name));
        got.dedup_by(|a, b| a.key.name == b.key.name);
        // Both sorted by name: one walk through the two, not a search of the pods per figure
        // (at 100,000 pods those searches chased pointers through the whole model).
        let mut list: Vec<(Arc<str>, Usage)> = Vec::with_capacity(got.len());
        let mut held = pods.values().peekable();
        for u in got {
            while held.next_if(|p| *p.key.name < *u.key.name).is_some() {}
            if let Some(p) = held.peek()
                && p.key.name == u.key.name
            {
                list.push((p.key.name.clone(), u.usage));
            }
        }
        list.shrink_to_fit();
        self.total = list.iter().fold(Usage::default(), |t, (_, u)| t.plus(*u));
        self.pods = list;
        self.sampled = Some(Freshness::new(at, fresh_for));
        self.expired = false;
    }

    /// Forgets a pod that went away: a new pod of the same name is another container.
    pub(crate) fn forget(&mut self, name: &str) {
        if let Ok(i) = self.pods.binary_search_by(|(n, _)| (**n).cmp(name)) {
            let (_, gone) = self.pods.remove(i);
            self.total.cpu_milli = self.total.cpu_milli.saturating_sub(gone.cpu_milli);
            self.total.memory_bytes = self.total.memory_bytes.saturating_sub(gone.memory_bytes);
        }
    }

    /// Keeps only the pods a re-list still holds.
    pub(crate) fn retain_listed(&mut self, pods: &PodMap) {
        let gone: Vec<Arc<str>> = self
            .pods
            .iter()
            .filter(|(n, _)| !pods.contains_key(n))
            .map(|(n, _)| n.clone())
            .collect();
        for n in gone {
            self.forget(&n);
        }
    }

    /// The sample that restores this hub's usage on an empty store (a recording's snapshot).
    pub(crate) fn as_sample(&self, hub: &HubKey) -> Option<UsageSample> {
        let s = self.sampled?;
        Some(UsageSample {
            at: s.at,
            fresh_for: s.fresh_for(),
            of: Sampled::Pods {
                scope: UsageScope::Hub(hub.clone()),
                pods: self
                    .pods
                    .iter()
                    .map(|(name, usage)| PodUsage {
                        key: ObjectKey {
                            namespace: hub.namespace.clone(),
                            name: name.clone(),
                        },
                        release: hub.release.clone(),
                        usage: *usage,
                    })
                    .collect(),
            },
        })
    }
}

/// The usage of a cluster's nodes, from its last nodes list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeUsageMap {
    sampled: Option<Freshness>,
    nodes: Vec<NodeUsage>,
    pub(crate) expired: bool,
}

impl NodeUsageMap {
    /// A node's usage, if the last sample is fresh at `now` and had it.
    pub fn get(&self, name: &str, now: Timestamp) -> Option<Usage> {
        self.sampled.filter(|s| s.fresh(now))?;
        let i = self.nodes.binary_search_by(|n| (*n.name).cmp(name)).ok()?;
        Some(self.nodes[i].usage)
    }

    /// When the last sample was taken, fresh or not.
    pub fn sampled_at(&self) -> Option<Timestamp> {
        self.sampled.map(|s| s.at)
    }

    pub(crate) fn stale(&self, now: Timestamp) -> bool {
        self.sampled.is_some_and(|s| !s.fresh(now))
    }

    pub(crate) fn replace(
        &mut self,
        at: Timestamp,
        fresh_for: Duration,
        mut nodes: Vec<NodeUsage>,
    ) {
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        nodes.dedup_by(|a, b| a.name == b.name);
        nodes.shrink_to_fit();
        self.nodes = nodes;
        self.sampled = Some(Freshness::new(at, fresh_for));
        self.expired = false;
    }

    pub(crate) fn as_sample(&self) -> Option<UsageSample> {
        let s = self.sampled?;
        Some(UsageSample {
            at: s.at,
            fresh_for: s.fresh_for(),
            of: Sampled::Nodes(self.nodes.clone()),
        })
    }
}

/// Memory in use as a share of what the pod may use: of its limit, or of its request when it
/// has no limit (then the figure says how far past its reservation it is, not how close to an
/// OOM kill).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryShare {
    /// Percent, 100 = all of it.
    pub percent: f64,
    /// Whether `percent` is of the limit (else of the request).
    pub of_limit: bool,
}

/// How full a pod's memory is; `None` when it has neither a limit nor a request.
pub fn memory_share(pod: &PodInfo, used: Usage) -> Option<MemoryShare> {
    let of = |total: u64| used.memory_bytes as f64 * 100.0 / total as f64;
    match (pod.limits, pod.requests) {
        (Requests { memory_bytes, .. }, _) if memory_bytes > 0 => Some(MemoryShare {
            percent: of(memory_bytes),
            of_limit: true,
        }),
        (_, Requests { memory_bytes, .. }) if memory_bytes > 0 => Some(MemoryShare {
            percent: of(memory_bytes),
            of_limit: false,
        }),
        _ => None,
    }
}
