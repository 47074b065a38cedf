//! dask-gateway beside a hub (2i2c's `daskhub` chart): the gateway's own pods (API server,
//! controller, traefik), the users' dask clusters (`DaskCluster` objects) and their scheduler
//! and worker pods. A cluster keeps these objects by namespace; each hub sees its namespace's
//! share as a [`HubDask`], which its health and its servers' rows read.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::declared::Chart;
use super::objects::{ObjectKey, PodPhase};
use super::update::Delta;

/// What a dask-gateway pod is, from its `app.kubernetes.io/component` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DaskRole {
    /// The gateway's API server (`gateway`).
    Gateway,
    /// The Kubernetes controller that runs clusters (`controller`).
    Controller,
    /// The traefik proxy in front of the clusters' schedulers (`traefik`).
    Traefik,
    /// A dask cluster's scheduler (`dask-scheduler`).
    Scheduler,
    /// A dask cluster's worker (`dask-worker`).
    Worker,
}

/// The gateway's components, in the order health names them.
pub const GATEWAY_COMPONENTS: [DaskRole; 3] =
    [DaskRole::Gateway, DaskRole::Controller, DaskRole::Traefik];

impl DaskRole {
    /// Parses the component label; None for what hubdeck does not track (a cluster's
    /// credentials Secret is labelled too).
    pub fn from_label(v: &str) -> Option<Self> {
        Some(match v {
            "gateway" => Self::Gateway,
            "controller" => Self::Controller,
            "traefik" => Self::Traefik,
            "dask-scheduler" => Self::Scheduler,
            "dask-worker" => Self::Worker,
            _ => return None,
        })
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gateway => "gateway",
            Self::Controller => "controller",
            Self::Traefik => "traefik",
            Self::Scheduler => "dask-scheduler",
            Self::Worker => "dask-worker",
        }
    }

    /// Whether the pod is one of the gateway's own, not of a user's cluster.
    pub fn is_gateway(self) -> bool {
        GATEWAY_COMPONENTS.contains(&self)
    }
}

/// A pod labelled `app.kubernetes.io/name=dask-gateway`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaskPod {
    /// Namespace and name.
    pub key: ObjectKey,
    /// What it is.
    pub role: DaskRole,
    /// `gateway.dask.org/cluster`: the dask cluster a scheduler or worker belongs to.
    pub cluster: Option<Arc<str>>,
    /// Phase (Terminating when a deletion timestamp is set).
    pub phase: PodPhase,
    /// Its Ready condition.
    pub ready: bool,
}

impl DaskPod {
    /// Whether it counts as running for a person: not finished, not going.
    fn live(&self) -> bool {
        matches!(self.phase, PodPhase::Pending | PodPhase::Running)
    }
}

/// A `DaskCluster` object (`gateway.dask.org/v1alpha1`), as its controller and the gateway
/// read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaskCluster {
    /// Namespace and name (the name is the cluster's `gateway.dask.org/cluster` label).
    pub key: ObjectKey,
    /// `spec.username`: the JupyterHub user who started it.
    pub user: Arc<str>,
    /// `spec.active`: false once someone asked it to stop (absent counts as true, as for
    /// the controller).
    pub active: bool,
    /// `status.phase` (Pending, Running, Stopping, Stopped, Failed); "" before the controller
    /// wrote one.
    pub phase: Arc<str>,
}

impl DaskCluster {
    /// Whether it is running or on its way: active, and not ended or ending.
    pub fn running(&self) -> bool {
        self.active && !matches!(&*self.phase, "Stopping" | "Stopped" | "Failed")
    }
}

/// A change to one cluster's dask objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DaskDelta {
    /// dask-gateway pods.
    Pods(Delta<DaskPod>),
    /// `DaskCluster` objects.
    Clusters(Delta<DaskCluster>),
}

impl DaskDelta {
    /// The namespace an upsert or remove is about; None for a list.
    pub fn namespace(&self) -> Option<&Arc<str>> {
        match self {
            Self::Pods(Delta::Upsert(p) | Delta::Remove(p)) => Some(&p.key.namespace),
            Self::Clusters(Delta::Upsert(c) | Delta::Remove(c)) => Some(&c.key.namespace),
            Self::Pods(Delta::ReplaceIn(ns, _)) | Self::Clusters(Delta::ReplaceIn(ns, _)) => {
                Some(ns)
            }
            Self::Pods(Delta::Replace(_)) | Self::Clusters(Delta::Replace(_)) => None,
        }
    }
}

/// The dask objects of one Kubernetes cluster.
#[derive(Debug, Clone, Default)]
pub struct DaskObjects {
    pods: BTreeMap<ObjectKey, DaskPod>,
    clusters: BTreeMap<ObjectKey, DaskCluster>,
}

impl DaskObjects {
    /// Applies a change; whether anything the model keeps moved.
    pub(crate) fn apply(&mut self, delta: DaskDelta) -> bool {
        match delta {
            DaskDelta::Pods(d) => apply(&mut self.pods, d, |p| &p.key),
            DaskDelta::Clusters(d) => apply(&mut self.clusters, d, |c| &c.key),
        }
    }

    /// Drops what lies outside the namespaces still watched.
    pub(crate) fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.pods.retain(|k, _| keep(&k.namespace));
        self.clusters.retain(|k, _| keep(&k.namespace));
    }

    /// Every dask-gateway pod, by namespace and name.
    pub fn pods(&self) -> impl Iterator<Item = &DaskPod> {
        self.pods.values()
    }

    /// Every `DaskCluster`, by namespace and name.
    pub fn clusters(&self) -> impl Iterator<Item = &DaskCluster> {
        self.clusters.values()
    }

    /// The running dask clusters of `user` in `namespace`, by name.
    pub fn running_of<'a>(
        &'a self,
        namespace: &'a str,
        user: &'a str,
    ) -> impl Iterator<Item = &'a DaskCluster> + 'a {
        self.in_namespace(&self.clusters, namespace)
            .filter(move |c| c.running() && *c.user == *user)
    }

    fn in_namespace<'a, T>(
        &self,
        map: &'a BTreeMap<ObjectKey, T>,
        namespace: &str,
    ) -> impl Iterator<Item = &'a T> + 'a {
        let from = ObjectKey {
            namespace: Arc::from(namespace),
            name: Arc::from(""),
        };
        let ns: Arc<str> = Arc::from(namespace);
        map.range(from..)
            .take_while(move |(k, _)| k.namespace == ns)
            .map(|(_, v)| v)
    }

    /// What `namespace` runs of dask-gateway.
    pub fn hub_view(&self, namespace: &str) -> HubDask {
        let mut components = Vec::new();
        for pod in self
            .in_namespace(&self.pods, namespace)
            .filter(|p| p.role.is_gateway())
        {
            let part = match components
                .iter_mut()
                .find(|c: &&mut GatewayPart| c.role == pod.role)
            {
                Some(c) => c,
                None => {
                    components.push(GatewayPart {
                        role: pod.role,
                        ready: 0,
                        pods: 0,
                    });
                    let last = components.len() - 1;
                    &mut components[last]
                }
            };
            if pod.live() {
                part.pods += 1;
                part.ready += u32::from(pod.ready && pod.phase == PodPhase::Running);
            }
        }
        components.sort_by_key(|c| c.role);
        let mut workers: BTreeMap<&str, u32> = BTreeMap::new();
        for pod in self.in_namespace(&self.pods, namespace) {
            if pod.role == DaskRole::Worker
                && pod.live()
                && let Some(c) = &pod.cluster
            {
                *workers.entry(c).or_default() += 1;
            }
        }
        let mut users: BTreeMap<Arc<str>, DaskUse> = BTreeMap::new();
        for c in self
            .in_namespace(&self.clusters, namespace)
            .filter(|c| c.running())
        {
            let u = users.entry(c.user.clone()).or_default();
            u.clusters += 1;
            u.workers += workers.get(&*c.key.name).copied().unwrap_or(0);
        }
        HubDask {
            components,
            users: users.into_iter().collect(),
        }
    }
}

fn apply<T: PartialEq>(
    map: &mut BTreeMap<ObjectKey, T>,
    delta: Delta<T>,
    key: fn(&T) -> &ObjectKey,
) -> bool {
    match delta {
        Delta::Replace(all) => {
            let next: BTreeMap<ObjectKey, T> =
                all.into_iter().map(|x| (key(&x).clone(), x)).collect();
            let changed = *map != next;
            *map = next;
            changed
        }
        Delta::ReplaceIn(ns, all) => {
            let before = map.len();
            let mut changed = false;
            map.retain(|k, v| {
                let keep = k.namespace != ns || all.iter().any(|x| key(x) == k && x == v);
                changed |= !keep;
                keep
            });
            changed |= map.len() != before;
            for x in all {
                let k = key(&x).clone();
                if map.get(&k) != Some(&x) {
                    map.insert(k, x);
                    changed = true;
                }
            }
            changed
        }
        Delta::Upsert(x) => {
            let k = key(&x).clone();
            if map.get(&k) == Some(&x) {
                return false;
            }
            map.insert(k, x);
            true
        }
        Delta::Remove(x) => map.remove(key(&x)).is_some(),
    }
}

/// One gateway component's pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GatewayPart {
    /// Which component.
    pub role: DaskRole,
    /// Pods running and ready.
    pub ready: u32,
    /// Pods pending or running.
    pub pods: u32,
}

/// A user's running dask clusters and their workers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DaskUse {
    /// Running (or starting) clusters.
    pub clusters: u32,
    /// Their worker pods, pending or running.
    pub workers: u32,
}

impl DaskUse {
    /// `dask 2/7`: clusters/workers, as a cell shows it.
    pub fn cell(&self) -> String {
        format!("dask {}/{}", self.clusters, self.workers)
    }
}

/// What a hub's namespace runs of dask-gateway.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HubDask {
    /// The gateway components seen, by role (an absent one has no pod at all).
    pub components: Vec<GatewayPart>,
    /// Users with running clusters, by name.
    pub users: Vec<(Arc<str>, DaskUse)>,
}

impl HubDask {
    /// Whether the namespace runs dask-gateway at all.
    pub fn runs_gateway(&self) -> bool {
        !self.components.is_empty()
    }

    /// One user's clusters and workers, if they run any.
    pub fn of(&self, user: &str) -> Option<DaskUse> {
        self.users
            .binary_search_by(|(u, _)| (**u).cmp(user))
            .ok()
            .map(|i| self.users[i].1)
    }

    /// How the running chart differs from the declared one, in a few words.
    pub fn chart_drift(&self, declared: Option<Chart>) -> Option<&'static str> {
        match (declared?, self.runs_gateway()) {
            (Chart::Daskhub, false) => Some("declared daskhub, runs no dask-gateway"),
            (Chart::Basehub, true) => Some("declared basehub, runs dask-gateway"),
            _ => None,
        }
    }

    /// Why the gateway is not well: each component without a ready pod, by name. Empty when
    /// the namespace runs no gateway (see `chart_drift` for a daskhub that should).
    pub fn trouble(&self) -> Vec<String> {
        if !self.runs_gateway() {
            return Vec::new();
        }
        GATEWAY_COMPONENTS
            .iter()
            .filter_map(|role| {
                let part = self.components.iter().find(|c| c.role == *role);
                match part {
                    None => Some(format!("dask-gateway {} missing", role.as_str())),
                    Some(p) if p.pods == 0 || p.ready == 0 => {
                        Some(format!("dask-gateway {} down", role.as_str()))
                    }
                    Some(p) if p.ready < p.pods => Some(format!(
                        "dask-gateway {} {}/{} ready",
                        role.as_str(),
                        p.ready,
                        p.pods
                    )),
                    Some(_) => None,
                }
            })
            .collect()
    }
}
