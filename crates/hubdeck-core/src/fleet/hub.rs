//! One hub's state (its workloads, pods and hub-API activity) and the health derived from it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::dask::{DaskUse, HubDask};
use super::ids::HubId;
use super::objects::{Component, PodInfo, PodPhase, ServerActivity, Workload};
use super::pods::PodMap;
use super::story::{PodEvent, Story};
use super::update::SourceState;
use super::usage::HubUsage;

/// Limits above which hubdeck derives trouble.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// A user pod pending longer than this is stuck.
    pub pending_after: Duration,
    /// A pod restarting more often than this while waiting is crash-looping.
    pub crashloop_restarts: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            pending_after: Duration::from_secs(300),
            crashloop_restarts: 3,
        }
    }
}

/// Health level, worst first so that sorting puts trouble on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthLevel {
    /// Users cannot log in or start servers.
    Down,
    /// Declared in the deployment repository, not running on its cluster.
    Missing,
    /// Working, with trouble.
    Degraded,
    /// Its cluster cannot be reached: the data is stale.
    Unknown,
    /// All well.
    Ok,
}

impl HealthLevel {
    /// Lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Down => "down",
            Self::Missing => "missing",
            Self::Degraded => "degraded",
            Self::Unknown => "unknown",
            Self::Ok => "ok",
        }
    }
}

/// Derived health with the reason a person reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    /// How bad.
    pub level: HealthLevel,
    /// Why (empty when ok).
    pub reason: String,
}

/// Ready and desired replicas of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Replicas {
    /// Ready replicas.
    pub ready: u32,
    /// Desired replicas.
    pub desired: u32,
}

/// Figures for one hub, recomputed when its objects change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HubSummary {
    /// Hub Deployment replicas, if the Deployment is known.
    pub hub: Option<Replicas>,
    /// Proxy Deployment replicas.
    pub proxy: Option<Replicas>,
    /// user-placeholder StatefulSet replicas.
    pub placeholders: Option<Replicas>,
    /// User servers running and ready.
    pub servers_ready: u32,
    /// User servers pending (not yet ready).
    pub servers_pending: u32,
    /// User servers pending longer than the threshold.
    pub servers_stuck: u32,
    /// All user server pods.
    pub servers_total: u32,
    /// Hub image.
    pub hub_image: Option<Arc<str>>,
    /// Pods (any component) in CrashLoopBackOff.
    pub crashlooping: Vec<Arc<str>>,
    /// The newest step of the stories of the servers pending too long, in a few words.
    pub stuck_reason: Option<String>,
    /// What its namespace runs of dask-gateway (components, users' clusters).
    pub dask: HubDask,
    /// How the chart it runs differs from the one the repository declares.
    pub chart_drift: Option<&'static str>,
    /// Derived health.
    pub health: Health,
}

/// Activity reported by the hub API for this hub.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Activity {
    /// Whether the hub API answered.
    pub source: SourceState,
    /// Servers the hub knows, sorted by (user, server name): a map would add a third of empty
    /// slots and a second copy of each name, and a hub's few thousand servers are searched fast.
    pub servers: Vec<ServerActivity>,
}

impl Activity {
    /// One server, by user and server name.
    pub fn get(&self, user: &str, server: &str) -> Option<&ServerActivity> {
        self.servers
            .binary_search_by(|s| (&*s.user, &*s.server).cmp(&(user, server)))
            .ok()
            .map(|i| &self.servers[i])
    }
}

/// Everything the fleet holds about one hub.
#[derive(Debug, Clone)]
pub struct HubState {
    /// Which hub.
    pub id: HubId,
    /// Its Deployments and StatefulSets (a handful).
    pub workloads: Vec<Workload>,
    /// Its pods by name.
    pub pods: PodMap,
    /// What the hub API says.
    pub activity: Activity,
    /// What its pods use (metrics.k8s.io).
    pub usage: HubUsage,
    /// Figures derived from the above.
    pub summary: HubSummary,
    /// Its entry in the deployment repository, when the cluster comes from one and declares it.
    pub declared: Option<super::declared::DeclaredHub>,
    /// Why its pending servers wait, by pod name (see [`HubState::story`]).
    pub(crate) stories: BTreeMap<Arc<str>, Story>,
    pub(crate) dirty: bool,
}

impl HubState {
    pub(crate) fn new(id: HubId) -> Self {
        Self {
            id,
            workloads: Vec::new(),
            pods: PodMap::default(),
            activity: Activity::default(),
            usage: HubUsage::default(),
            declared: None,
            stories: BTreeMap::new(),
            summary: HubSummary {
                hub: None,
                proxy: None,
                placeholders: None,
                servers_ready: 0,
                servers_pending: 0,
                servers_stuck: 0,
                servers_total: 0,
                hub_image: None,
                crashlooping: Vec::new(),
                stuck_reason: None,
                dask: HubDask::default(),
                chart_drift: None,
                health: Health {
                    level: HealthLevel::Unknown,
                    reason: "not listed yet".into(),
                },
            },
            dirty: true,
        }
    }

    /// The workload of a component (hub, proxy, user-placeholder, ...).
    pub fn workload(&self, component: Component) -> Option<&Workload> {
        self.workloads.iter().find(|w| w.component == component)
    }

    /// Whether the hub has anything left worth showing.
    pub(crate) fn is_empty(&self) -> bool {
        self.workloads.is_empty() && self.pods.is_empty()
    }

    /// Whether its cluster runs anything of it (a declared hub may be only a declaration).
    pub fn runs(&self) -> bool {
        !self.is_empty()
    }

    /// User server pods.
    pub fn servers(&self) -> impl Iterator<Item = &PodInfo> {
        self.pods
            .values()
            .filter(|p| p.component == Component::SingleuserServer)
    }

    /// The hub API's view of a server, if it reported one.
    pub fn activity_of(&self, pod: &PodInfo) -> Option<&ServerActivity> {
        let owner = pod.owner.as_ref()?;
        self.activity.get(&owner.user, &owner.server)
    }

    /// Takes a fresh report of the hub API's servers. Names of servers that have a pod share
    /// the pod owner's strings, so a hundred thousand user names are held once, not twice.
    pub(crate) fn set_servers(&mut self, mut servers: Vec<ServerActivity>) {
        let owners: HashMap<(&str, &str), &super::objects::Owner> = self
            .servers()
            .filter_map(|p| p.owner.as_ref())
            .map(|o| ((&*o.user, &*o.server), o))
            .collect();
        for s in &mut servers {
            if let Some(&o) = owners.get(&(&*s.user, &*s.server)) {
                let (user, server) = (o.user.clone(), o.server.clone());
                s.user = user;
                s.server = server;
            }
        }
        servers.sort_by(|a, b| (&a.user, &a.server).cmp(&(&b.user, &b.server)));
        servers.dedup_by(|a, b| a.user == b.user && a.server == b.server);
        servers.shrink_to_fit();
        self.activity.servers = servers;
    }

    /// A user's running dask clusters and workers, if they run any.
    pub fn dask_of(&self, pod: &PodInfo) -> Option<DaskUse> {
        self.summary.dask.of(&pod.owner.as_ref()?.user)
    }

    /// `recorded`: the time of the recording the hub is shown from, until its cluster lists.
    /// `dask`: what its namespace runs of dask-gateway.
    pub(crate) fn recompute(
        &mut self,
        now: Timestamp,
        limits: &Thresholds,
        seen: Seen,
        recorded: Option<Timestamp>,
        dask: HubDask,
    ) {
        let replicas = |c: Component| {
            self.workload(c).map(|w| Replicas {
                ready: w.ready,
                desired: w.desired,
            })
        };
        let mut s = HubSummary {
            hub: replicas(Component::Hub),
            proxy: replicas(Component::Proxy),
            placeholders: replicas(Component::UserPlaceholder),
            servers_ready: 0,
            servers_pending: 0,
            servers_stuck: 0,
            servers_total: 0,
            hub_image: self
                .workload(Component::Hub)
                .and_then(|w| w.images.first().cloned()),
            crashlooping: Vec::new(),
            stuck_reason: None,
            // Drift is only told once the cluster's lists are in: before, nothing runs yet.
            chart_drift: match seen {
                Seen::Listed if !self.is_empty() => {
                    dask.chart_drift(self.declared.as_ref().map(|d| d.chart))
                }
                _ => None,
            },
            dask,
            health: Health {
                level: HealthLevel::Ok,
                reason: String::new(),
            },
        };
        let mut newest_stuck: Option<&PodEvent> = None;
        let pending_after =
            jiff::SignedDuration::try_from(limits.pending_after).unwrap_or_default();
        for pod in self.pods.values() {
            if is_crashlooping(pod, limits) {
                s.crashlooping.push(pod.key.name.clone());
            }
            if pod.component != Component::SingleuserServer {
                continue;
            }
            s.servers_total += 1;
            if pod.phase == PodPhase::Running && pod.ready {
                s.servers_ready += 1;
            } else if matches!(pod.phase, PodPhase::Pending | PodPhase::Running) {
                s.servers_pending += 1;
                let since = pod.created.or(pod.started);
                if since.is_some_and(|t| now.duration_since(t) > pending_after) {
                    s.servers_stuck += 1;
                    let newest = self.stories.get(&pod.key.name).and_then(Story::newest);
                    if let Some(e) = newest
                        && newest_stuck.is_none_or(|n| e.newest_first(n).is_lt())
                    {
                        newest_stuck = Some(e);
                    }
                }
            }
        }
        s.stuck_reason = newest_stuck.map(PodEvent::summary);
        s.crashlooping.sort();
        s.health = if self.is_empty() && self.declared.is_some() {
            match seen {
                Seen::Listed => Health {
                    level: HealthLevel::Missing,
                    reason: "declared in the deployment repository, not running on the cluster"
                        .into(),
                },
                Seen::NotYet => Health {
                    level: HealthLevel::Unknown,
                    reason: "declared; the cluster is not listed yet".into(),
                },
                Seen::Stale => Health {
                    level: HealthLevel::Unknown,
                    reason: "declared; cluster unreachable: data is stale".into(),
                },
                Seen::OutOfScope => Health {
                    level: HealthLevel::Unknown,
                    reason: "declared; its namespace is not one this identity may read".into(),
                },
            }
        } else {
            let mut extra = s.dask.trouble();
            extra.extend(s.chart_drift.map(|d| format!("chart drift: {d}")));
            with_degraded(derive_health(&s, seen != Seen::Stale), extra)
        };
        if let Some(at) = recorded {
            let age = crate::text::age(now, Some(at));
            s.health.reason = if s.health.reason.is_empty() {
                format!("stale: recorded {age} ago")
            } else {
                format!("stale: recorded {age} ago; {}", s.health.reason)
            };
        }
        self.summary = s;
        self.dirty = false;
    }
}

/// How much of its cluster the model has seen, for telling a hub that is not there from one
/// not listed yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// The cluster answered and its lists are in.
    Listed,
    /// Reachable, first lists not complete.
    NotYet,
    /// Unreachable: the model is what it was.
    Stale,
    /// The hub's namespace is outside what the identity may read.
    OutOfScope,
}

/// Whether a pod is crash-looping: waiting in back-off after repeated restarts.
pub fn is_crashlooping(pod: &PodInfo, limits: &Thresholds) -> bool {
    pod.reason.as_deref() == Some("CrashLoopBackOff")
        || (!pod.ready
            && pod.restarts > limits.crashloop_restarts
            && pod.phase == PodPhase::Running)
}

/// `health` with more reasons of the degraded kind: an ok hub becomes degraded, a worse one
/// keeps its level and gains the reasons after its own.
fn with_degraded(mut health: Health, reasons: Vec<String>) -> Health {
    if reasons.is_empty() {
        return health;
    }
    if health.level == HealthLevel::Ok {
        health.level = HealthLevel::Degraded;
    }
    let mut all: Vec<String> = Some(std::mem::take(&mut health.reason))
        .filter(|r| !r.is_empty())
        .into_iter()
        .collect();
    all.extend(reasons);
    health.reason = all.join("; ");
    health
}

fn derive_health(s: &HubSummary, reachable: bool) -> Health {
    let mut down = Vec::new();
    let mut degraded = Vec::new();
    match s.hub {
        None => down.push("no hub deployment".to_string()),
        Some(r) if r.desired == 0 => down.push("hub scaled to 0".to_string()),
        Some(r) if r.ready == 0 => down.push("hub not ready".to_string()),
        Some(_) => {}
    }
    match s.proxy {
        None => degraded.push("no proxy deployment".to_string()),
        Some(r) if r.desired > 0 && r.ready == 0 => down.push("proxy not ready".to_string()),
        Some(_) => {}
    }
    if !s.crashlooping.is_empty() {
        degraded.push(format!("crash-looping: {}", s.crashlooping.join(", ")));
    }
    if s.servers_stuck > 0 {
        degraded.push(format!("{} servers pending too long", s.servers_stuck));
    }
    if let Some(p) = s.placeholders
        && p.desired > 0
        && p.ready < p.desired
    {
        degraded.push(format!("placeholders {}/{} ready", p.ready, p.desired));
    }
    let (level, reasons) = if !reachable {
        let mut r = vec!["cluster unreachable: data is stale".to_string()];
        r.extend(down);
        (HealthLevel::Unknown, r)
    } else if !down.is_empty() {
        down.extend(degraded);
        (HealthLevel::Down, down)
    } else if !degraded.is_empty() {
        (HealthLevel::Degraded, degraded)
    } else {
        (HealthLevel::Ok, Vec::new())
    };
    Health {
        level,
        reason: reasons.join("; "),
    }
}
