//! The fleet store: applies `FleetUpdate`s, keeps derived figures fresh and counts versions so
//! the UI knows when to redraw.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::changes::{Change, ChangeLog};
use super::dask::{DaskCluster, DaskDelta, DaskObjects};
use super::declared::{Declaration, DeclaredHub};
use super::derive::derived_alerts;
use super::hub::{HubState, Seen, Thresholds};
use super::ids::{ClusterId, HubId, HubKey};
use super::nodes::NodeMap;
use super::objects::{AlertInfo, EventInfo, ObjectKey, PodInfo};
use super::outside::OutsideCheck;
use super::update::{ClusterMeta, ClusterStatus, Delta, FleetUpdate, Scope, SourceState};
use super::usage::{MetricsSource, NodeUsageMap, Usage};

mod apply;
mod refresh;
mod stories;

pub use stories::{UNCLAIMED_MAX, Unclaimed, tells_story};

/// How many Warning events a cluster keeps.
pub const EVENTS_PER_CLUSTER: usize = 500;

/// Everything the fleet holds about one cluster.
#[derive(Debug, Clone)]
pub struct ClusterState {
    /// Its id.
    pub id: ClusterId,
    /// Context, provider, URL.
    pub meta: ClusterMeta,
    /// Connection state.
    pub status: ClusterStatus,
    /// What its watches cover.
    pub scope: Scope,
    /// Last API round-trip time.
    pub latency: Option<Duration>,
    /// Hubs by namespace and release.
    pub hubs: BTreeMap<HubKey, HubState>,
    /// Recent Warning events, oldest first.
    pub events: VecDeque<EventInfo>,
    /// Firing Alertmanager alerts.
    pub alerts: Vec<AlertInfo>,
    /// Whether the Alertmanager answers.
    pub alert_source: SourceState,
    /// Alerts hubdeck derives for this cluster.
    pub derived: Vec<AlertInfo>,
    /// When an update for this cluster last arrived.
    pub updated: Option<Timestamp>,
    /// The hubs a deployment repository declares for it; `None` when it comes from none.
    pub declared: Option<Vec<DeclaredHub>>,
    /// Nodes, when the identity may list them.
    pub nodes: NodeMap,
    /// Whether nodes can be listed (Unknown until the watch says otherwise).
    pub node_source: SourceState,
    /// Events about pods not known (yet), waiting for their pod a little while.
    pub unclaimed: Unclaimed,
    /// Whether metrics.k8s.io answers its pod and node lists.
    pub metrics: MetricsSource,
    /// What its nodes use.
    pub node_usage: NodeUsageMap,
    /// dask-gateway pods and `DaskCluster`s, for its daskhubs.
    pub dask: DaskObjects,
    /// The last check from outside of each declared hub with a domain, by declared name.
    pub outside: BTreeMap<Arc<str>, OutsideCheck>,
    dirty: bool,
    /// Nodes changed since derived alerts were last computed.
    nodes_dirty: bool,
    /// An outside check changed since derived alerts were last computed.
    outside_dirty: bool,
}

impl ClusterState {
    fn new(id: ClusterId, meta: ClusterMeta) -> Self {
        Self {
            id,
            meta,
            status: ClusterStatus::Connecting,
            scope: Scope::ClusterWide,
            latency: None,
            hubs: BTreeMap::new(),
            events: VecDeque::new(),
            alerts: Vec::new(),
            alert_source: SourceState::Unknown,
            derived: Vec::new(),
            updated: None,
            declared: None,
            nodes: NodeMap::default(),
            node_source: SourceState::Unknown,
            unclaimed: Unclaimed::default(),
            metrics: MetricsSource::default(),
            node_usage: NodeUsageMap::default(),
            dask: DaskObjects::default(),
            outside: BTreeMap::new(),
            dirty: true,
            nodes_dirty: false,
            outside_dirty: false,
        }
    }

    /// How a hub stands against the deployment repository.
    pub fn declaration(&self, hub: &HubState) -> Declaration {
        match (&self.declared, &hub.declared, hub.runs()) {
            (None, _, _) => Declaration::Unknown,
            (Some(_), None, _) => Declaration::Undeclared,
            (Some(_), Some(_), true) => Declaration::Declared,
            (Some(_), Some(_), false) => Declaration::Missing,
        }
    }

    fn seen(&self) -> Seen {
        match self.status {
            ClusterStatus::Unreachable { .. } => Seen::Stale,
            // A warm start shows the recorded model; until the lists are in, nothing is missing.
            ClusterStatus::Connecting | ClusterStatus::Recorded { .. } => Seen::NotYet,
            ClusterStatus::Ready | ClusterStatus::Degraded { .. } => Seen::Listed,
        }
    }

    /// Ties the declared hubs to the hubs the cluster runs (by namespace: the repository's
    /// hub name is the namespace), and keeps a row for each declared hub it does not run.
    fn reconcile_declared(&mut self, log: &mut ChangeLog) {
        let Some(declared) = self.declared.clone() else {
            return;
        };
        for hub in self.hubs.values_mut() {
            let entry = declared
                .iter()
                .find(|d| *d.name == *hub.id.key.namespace)
                .cloned();
            if hub.declared != entry {
                hub.declared = entry;
                hub.dirty = true;
                log.record(Change::Hub(hub.id.clone()));
            }
        }
        for d in &declared {
            let running = self
                .hubs
                .values()
                .any(|h| *h.id.key.namespace == *d.name && h.runs());
            if running {
                // A placeholder kept while it was missing gives way to the hub that appeared
                // (whose release may be named differently).
                self.hubs.retain(|_, h| {
                    let keep = *h.id.key.namespace != *d.name || h.runs();
                    if !keep {
                        log.record(Change::Hub(h.id.clone()));
                    }
                    keep
                });
            } else {
                let name: Arc<str> = d.name.clone();
                let hub = self.hub_mut(&name, &name, log);
                if hub.declared.as_ref() != Some(d) {
                    hub.declared = Some(d.clone());
                    hub.dirty = true;
                }
            }
        }
        self.drop_empty_hubs(log);
    }

    /// The last check from outside of a hub the repository declares with a domain.
    pub fn outside_of(&self, hub: &HubState) -> Option<&OutsideCheck> {
        let declared = hub.declared.as_ref()?;
        declared.domain.as_ref()?;
        self.outside.get(&declared.name)
    }

    /// What a node uses, if its last sample is fresh at `now`.
    pub fn node_usage(&self, node: &str, now: Timestamp) -> Option<Usage> {
        self.node_usage.get(node, now)
    }

    /// What a pool's nodes use together ("" for unlabelled nodes), if any of them has a fresh
    /// figure at `now`.
    pub fn pool_usage(&self, pool: &str, now: Timestamp) -> Option<Usage> {
        self.nodes
            .values()
            .filter(|n| *n.pool == *pool)
            .filter_map(|n| self.node_usage.get(&n.name, now))
            .reduce(Usage::plus)
    }

    /// Whether the cluster answered lately.
    pub fn reachable(&self) -> bool {
        !matches!(self.status, ClusterStatus::Unreachable { .. })
    }

    fn hub_mut(
        &mut self,
        namespace: &Arc<str>,
        release: &Arc<str>,
        log: &mut ChangeLog,
    ) -> &mut HubState {
        let key = HubKey {
            namespace: namespace.clone(),
            release: release.clone(),
        };
        let cluster = self.id.clone();
        self.hubs.entry(key.clone()).or_insert_with(|| {
            let id = HubId {
                cluster,
                key: key.clone(),
            };
            log.record(Change::Hub(id.clone()));
            HubState::new(id)
        })
    }

    /// Drops hubs left without objects.
    fn drop_empty_hubs(&mut self, log: &mut ChangeLog) {
        self.hubs.retain(|_, h| {
            let keep = !h.is_empty() || h.declared.is_some();
            if !keep {
                log.record(Change::Hub(h.id.clone()));
            }
            keep
        });
    }

    /// How many pods its hubs hold.
    fn pod_count(&self) -> usize {
        self.hubs.values().map(|h| h.pods.len()).sum()
    }

    /// Recomputes hubs that changed (or all of them); returns whether any figure moved.
    fn refresh(
        &mut self,
        now: Timestamp,
        limits: &Thresholds,
        all: bool,
        log: &mut ChangeLog,
    ) -> bool {
        if self.declared.is_some() && (self.dirty || self.hubs.values().any(|h| h.dirty)) {
            self.reconcile_declared(log);
        }
        let seen = self.seen();
        if seen == Seen::Listed {
            self.expire_unclaimed(now);
        }
        let recorded = match self.status {
            ClusterStatus::Recorded { at } => Some(at),
            _ => None,
        };
        let mut changed = self.dirty;
        for hub in self.hubs.values_mut() {
            if hub.dirty || all || self.dirty {
                let before = hub.summary.clone();
                changed |= hub.dirty;
                // A declared hub in a namespace this identity may not read cannot be told
                // missing.
                let seen = if self.scope.covers(&hub.id.key.namespace) {
                    seen
                } else {
                    Seen::OutOfScope
                };
                let dask = self.dask.hub_view(&hub.id.key.namespace);
                hub.recompute(now, limits, seen, recorded, dask);
                if hub.summary != before {
                    log.record(Change::Hub(hub.id.clone()));
                    changed = true;
                }
            }
        }
        if all {
            changed |= self.expire_usage(now, log);
        }
        if changed || self.nodes_dirty || self.outside_dirty {
            let derived = derived_alerts(self);
            if derived != self.derived {
                log.record(Change::Alerts(self.id.clone()));
                self.derived = derived;
            }
        }
        self.dirty = false;
        changed |= std::mem::take(&mut self.nodes_dirty);
        changed |= std::mem::take(&mut self.outside_dirty);
        changed
    }
}

/// The live model of the whole fleet.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    clusters: BTreeMap<ClusterId, ClusterState>,
    version: u64,
    limits: Thresholds,
    last_full_refresh: Option<Timestamp>,
    changes: ChangeLog,
}

/// How often time alone (pods pending ever longer) makes every hub's health be recomputed.
const FULL_REFRESH_EVERY: jiff::SignedDuration = jiff::SignedDuration::from_secs(5);

impl Fleet {
    /// An empty fleet using the given thresholds for derived health.
    pub fn new(limits: Thresholds) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Bumped by every update that changed something; the UI redraws when it moves.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Keys changed after `version`, so a view can update just those rows; `None` when the
    /// store cannot tell (too much changed, or a re-list) and views must rebuild.
    pub fn changes_since(&self, version: u64) -> Option<impl Iterator<Item = &Change>> {
        self.changes.since(version)
    }

    /// The thresholds in use.
    pub fn limits(&self) -> &Thresholds {
        &self.limits
    }

    /// Clusters in name order.
    pub fn clusters(&self) -> impl Iterator<Item = &ClusterState> {
        self.clusters.values()
    }

    /// One cluster.
    pub fn cluster(&self, name: &str) -> Option<&ClusterState> {
        self.clusters.get(&ClusterId::new(name))
    }

    /// Every hub of every cluster, cluster by cluster.
    pub fn hubs(&self) -> impl Iterator<Item = &HubState> {
        self.clusters.values().flat_map(|c| c.hubs.values())
    }

    /// One hub.
    pub fn hub(&self, id: &HubId) -> Option<&HubState> {
        self.clusters.get(&id.cluster)?.hubs.get(&id.key)
    }

    /// Firing alerts, Alertmanager's and derived, with their cluster.
    pub fn alerts(&self) -> impl Iterator<Item = (&ClusterState, &AlertInfo)> {
        self.clusters
            .values()
            .flat_map(|c| c.alerts.iter().chain(c.derived.iter()).map(move |a| (c, a)))
    }

    /// Number of user server pods in the fleet.
    pub fn server_count(&self) -> usize {
        self.hubs().map(|h| h.summary.servers_total as usize).sum()
    }

    /// Applies one update; returns whether anything changed.
    pub fn apply(&mut self, update: FleetUpdate, now: Timestamp) -> bool {
        self.changes.stamp(self.version + 1);
        let changed = self.apply_inner(update, now);
        if changed {
            self.version += 1;
        }
        changed
    }

    fn apply_inner(&mut self, update: FleetUpdate, now: Timestamp) -> bool {
        if let FleetUpdate::ClusterAdded { cluster, meta } = update {
            self.changes.record(Change::Cluster(cluster.clone()));
            self.clusters
                .entry(cluster.clone())
                .and_modify(|c| c.meta = meta.clone())
                .or_insert_with(|| ClusterState::new(cluster, meta));
            return true;
        }
        let id = match &update {
            FleetUpdate::ClusterAdded { cluster, .. }
            | FleetUpdate::Status { cluster, .. }
            | FleetUpdate::Scope { cluster, .. }
            | FleetUpdate::Latency { cluster, .. }
            | FleetUpdate::Workloads { cluster, .. }
            | FleetUpdate::Pods { cluster, .. }
            | FleetUpdate::Events { cluster, .. }
            | FleetUpdate::PodEvents { cluster, .. }
            | FleetUpdate::Nodes { cluster, .. }
            | FleetUpdate::NodeSource { cluster, .. }
            | FleetUpdate::Alerts { cluster, .. }
            | FleetUpdate::Usage { cluster, .. }
            | FleetUpdate::Metrics { cluster, .. }
            | FleetUpdate::Declared { cluster, .. }
            | FleetUpdate::Dask { cluster, .. }
            | FleetUpdate::Outside { cluster, .. } => cluster.clone(),
            FleetUpdate::Activity { hub, .. } => hub.cluster.clone(),
        };
        let Some(c) = self.clusters.get_mut(&id) else {
            return false;
        };
        let admitted = match &update {
            FleetUpdate::Workloads { delta, .. } => c.admits(delta, |w| &w.key.namespace),
            FleetUpdate::Pods { delta, .. } => c.admits(delta, |p| &p.key.namespace),
            FleetUpdate::Events { delta, .. } => c.admits(delta, |e| &e.key.namespace),
            FleetUpdate::PodEvents { delta, .. } => c.admits(delta, |e| &e.key.namespace),
            FleetUpdate::Dask { delta, .. } => match delta {
                DaskDelta::Pods(d) => c.admits(d, |p| &p.key.namespace),
                DaskDelta::Clusters(d) => c.admits(d, |k| &k.key.namespace),
            },
            _ => true,
        };
        if !admitted {
            return false;
        }
        let log = &mut self.changes;
        c.updated = Some(now);
        match update {
            FleetUpdate::ClusterAdded { .. } => {}
            FleetUpdate::Status { status, .. } => {
                // Recorded data stays marked as such until live lists replaced it.
                let still_recorded = matches!(c.status, ClusterStatus::Recorded { .. })
                    && status == ClusterStatus::Connecting;
                if c.status == status || still_recorded {
                    return false;
                }
                c.status = status;
                c.dirty = true;
                log.record(Change::Cluster(id));
            }
            FleetUpdate::Scope { scope, .. } => {
                if c.scope == scope {
                    return false;
                }
                c.narrow_to(&scope, log);
                c.scope = scope;
                log.record(Change::Cluster(id));
            }
            FleetUpdate::Latency { latency, .. } => {
                c.latency = Some(latency);
                log.record(Change::Cluster(id));
            }
            // Re-sent objects that did not change in what hubdeck keeps (a label, an annotation,
            // a resync) must not cost a redraw.
            FleetUpdate::Workloads {
                delta: Delta::Upsert(w),
                ..
            } if c.known_workload(&w) => return false,
            FleetUpdate::Pods {
                delta: Delta::Upsert(p),
                ..
            } => {
                if !c.upsert_pod(p, log) {
                    return false;
                }
            }
            FleetUpdate::Workloads { kind, delta, .. } => c.apply_workloads(kind, delta, log),
            FleetUpdate::Pods { delta, .. } => c.apply_pods(delta, log),
            FleetUpdate::Nodes { delta, .. } => {
                if !c.apply_nodes(delta) {
                    return false;
                }
                log.record(Change::Nodes(id));
            }
            FleetUpdate::NodeSource { source, .. } => {
                if c.node_source == source {
                    return false;
                }
                c.node_source = source;
                log.record(Change::Nodes(id.clone()));
                log.record(Change::Cluster(id));
            }
            FleetUpdate::Events { delta, .. } => {
                c.apply_events(delta);
                log.record(Change::Events(id));
            }
            FleetUpdate::PodEvents { delta, .. } => {
                if !c.apply_pod_events(delta, log) {
                    return false;
                }
            }
            FleetUpdate::Alerts { source, alerts, .. } => {
                if matches!(source, SourceState::Ok | SourceState::Absent { .. }) {
                    c.alerts = alerts;
                }
                c.alert_source = source;
                log.record(Change::Alerts(id.clone()));
                log.record(Change::Cluster(id));
            }
            FleetUpdate::Usage { sample, .. } => c.apply_usage(sample, log),
            FleetUpdate::Metrics { source, .. } => {
                if c.metrics == source {
                    return false;
                }
                c.metrics = source;
                log.record(Change::Cluster(id));
            }
            FleetUpdate::Dask { delta, .. } => {
                if !c.apply_dask(delta, log) {
                    return false;
                }
            }
            FleetUpdate::Declared { hubs, .. } => {
                if c.declared.as_ref() == Some(&hubs) {
                    return false;
                }
                c.declared = Some(hubs);
                c.dirty = true;
                log.record(Change::Cluster(id));
            }
            FleetUpdate::Activity {
                hub,
                source,
                servers,
            } => {
                let Some(h) = c.hubs.get_mut(&hub.key) else {
                    return false;
                };
                if source == SourceState::Ok {
                    h.set_servers(servers);
                }
                h.activity.source = source;
                h.dirty = true;
                log.record(Change::Servers(h.id.clone()));
            }
            FleetUpdate::Outside { hub, check, .. } => {
                if c.outside.get(&hub) == Some(&check) {
                    return false;
                }
                for h in c.hubs.values().filter(|h| *h.id.key.namespace == *hub) {
                    log.record(Change::Hub(h.id.clone()));
                }
                c.outside.insert(hub, check);
                c.outside_dirty = true;
            }
        }
        true
    }

    /// Recomputes derived health and alerts of whatever changed, and of everything when enough
    /// time passed for pending pods to become stuck. Call after a batch of `apply`s.
    pub fn refresh(&mut self, now: Timestamp) -> bool {
        let all = self
            .last_full_refresh
            .is_none_or(|t| now.duration_since(t) >= FULL_REFRESH_EVERY);
        if all {
            self.last_full_refresh = Some(now);
        }
        let limits = self.limits;
        self.changes.stamp(self.version + 1);
        let mut clusters: Vec<&mut ClusterState> = self.clusters.values_mut().collect();
        let changed = refresh::refresh_all(&mut clusters, now, &limits, all, &mut self.changes);
        if changed {
            self.version += 1;
        }
        changed
    }

    /// Takes over from a model that views last showed at `version` (a replay seeking to another
    /// moment): versions go on past it, and every view of an older version rebuilds.
    pub fn succeed(&mut self, version: u64) {
        self.version = self.version.max(version) + 1;
        self.changes.stamp(self.version);
        self.changes.everything();
    }

    /// Applies a batch of updates and refreshes once.
    pub fn apply_all(&mut self, updates: impl IntoIterator<Item = FleetUpdate>, now: Timestamp) {
        for u in updates {
            self.apply(u, now);
        }
        self.refresh(now);
    }

    /// The running dask clusters of `user` on `hub` (its namespace's), by name.
    pub fn dask_clusters_of<'a>(
        &'a self,
        hub: &'a HubId,
        user: &'a str,
    ) -> impl Iterator<Item = &'a DaskCluster> + 'a {
        self.clusters
            .get(&hub.cluster)
            .into_iter()
            .flat_map(move |c| c.dask.running_of(&hub.key.namespace, user))
    }

    /// Pods of one cluster by object key, for actions that check what they target.
    pub fn pod(&self, cluster: &ClusterId, key: &ObjectKey) -> Option<&PodInfo> {
        self.clusters
            .get(cluster)?
            .hubs
            .values()
            .find_map(|h| h.pods.get(&key.name).filter(|p| p.key == *key))
    }
}
