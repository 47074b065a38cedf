//! The fleet store: applies `FleetUpdate`s, keeps derived figures fresh and counts versions so
//! the UI knows when to redraw.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::changes::{Change, ChangeLog};
use super::derive::derived_alerts;
use super::hub::{HubState, Thresholds};
use super::ids::{ClusterId, HubId, HubKey};
use super::objects::{AlertInfo, EventInfo, ObjectKey, PodInfo, Workload, WorkloadKind};
use super::update::{ClusterMeta, ClusterStatus, Delta, FleetUpdate, SourceState};

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
    dirty: bool,
}

impl ClusterState {
    fn new(id: ClusterId, meta: ClusterMeta) -> Self {
        Self {
            id,
            meta,
            status: ClusterStatus::Connecting,
            latency: None,
            hubs: BTreeMap::new(),
            events: VecDeque::new(),
            alerts: Vec::new(),
            alert_source: SourceState::Unknown,
            derived: Vec::new(),
            updated: None,
            dirty: true,
        }
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
            let keep = !h.is_empty();
            if !keep {
                log.record(Change::Hub(h.id.clone()));
            }
            keep
        });
    }

    // Workloads only reach views through the hub summary, whose changes `refresh` records;
    // here only hubs appearing and vanishing are.
    fn apply_workloads(&mut self, kind: WorkloadKind, delta: Delta<Workload>, log: &mut ChangeLog) {
        match delta {
            Delta::Replace(all) => {
                for hub in self.hubs.values_mut() {
                    hub.workloads.retain(|w| w.kind != kind);
                    hub.dirty = true;
                }
                for w in all {
                    self.upsert_workload(w, log);
                }
                self.drop_empty_hubs(log);
            }
            Delta::Upsert(w) => self.upsert_workload(w, log),
            Delta::Remove(w) => {
                let key = hub_key(&w.key.namespace, &w.release);
                if let Some(hub) = self.hubs.get_mut(&key) {
                    hub.workloads
                        .retain(|x| !(x.kind == w.kind && x.key.name == w.key.name));
                    hub.dirty = true;
                    if hub.is_empty() {
                        log.record(Change::Hub(hub.id.clone()));
                        self.hubs.remove(&key);
                    }
                }
            }
        }
    }

    fn upsert_workload(&mut self, w: Workload, log: &mut ChangeLog) {
        let hub = self.hub_mut(&w.key.namespace, &w.release, log);
        hub.dirty = true;
        match hub
            .workloads
            .iter_mut()
            .find(|x| x.kind == w.kind && x.key.name == w.key.name)
        {
            Some(slot) => *slot = w,
            None => hub.workloads.push(w),
        }
    }

    fn apply_pods(&mut self, delta: Delta<PodInfo>, log: &mut ChangeLog) {
        match delta {
            Delta::Replace(all) => {
                // A re-list may touch every pod of the cluster: listing them all would cost
                // more than the views' rebuild it saves.
                log.everything();
                let mut by_hub: BTreeMap<HubKey, Vec<PodInfo>> = BTreeMap::new();
                for p in all {
                    by_hub
                        .entry(hub_key(&p.key.namespace, &p.release))
                        .or_default()
                        .push(p);
                }
                for hub in self.hubs.values_mut() {
                    let pods = by_hub.remove(&hub.id.key).unwrap_or_default();
                    hub.pods.replace_all(pods);
                    hub.dirty = true;
                }
                for (key, pods) in by_hub {
                    self.hub_mut(&key.namespace, &key.release, log)
                        .pods
                        .replace_all(pods);
                }
                self.drop_empty_hubs(log);
            }
            Delta::Upsert(p) => self.upsert_pod(p, log),
            Delta::Remove(p) => {
                let key = hub_key(&p.key.namespace, &p.release);
                if let Some(hub) = self.hubs.get_mut(&key) {
                    if let Some(gone) = hub.pods.remove(&p.key.name) {
                        log.record(Change::Pod(hub.id.clone(), gone.key.name));
                    }
                    hub.dirty = true;
                    if hub.is_empty() {
                        log.record(Change::Hub(hub.id.clone()));
                        self.hubs.remove(&key);
                    }
                }
            }
        }
    }

    fn known_pod(&self, p: &PodInfo) -> bool {
        self.hubs
            .get(&hub_key(&p.key.namespace, &p.release))
            .and_then(|h| h.pods.get(&p.key.name))
            == Some(p)
    }

    fn known_workload(&self, w: &Workload) -> bool {
        self.hubs
            .get(&hub_key(&w.key.namespace, &w.release))
            .is_some_and(|h| h.workloads.contains(w))
    }

    fn upsert_pod(&mut self, p: PodInfo, log: &mut ChangeLog) {
        let hub = self.hub_mut(&p.key.namespace, &p.release, log);
        log.record(Change::Pod(hub.id.clone(), p.key.name.clone()));
        hub.dirty = true;
        hub.pods.insert(p);
    }

    fn apply_events(&mut self, delta: Delta<EventInfo>) {
        match delta {
            Delta::Replace(mut all) => {
                all.sort_by_key(|e| e.last_seen);
                let skip = all.len().saturating_sub(EVENTS_PER_CLUSTER);
                self.events = all.into_iter().skip(skip).collect();
            }
            Delta::Upsert(e) => {
                self.events.retain(|x| x.key != e.key);
                self.events.push_back(e);
                while self.events.len() > EVENTS_PER_CLUSTER {
                    self.events.pop_front();
                }
            }
            Delta::Remove(e) => self.events.retain(|x| x.key != e.key),
        }
    }

    /// Recomputes hubs that changed (or all of them); returns whether any figure moved.
    fn refresh(
        &mut self,
        now: Timestamp,
        limits: &Thresholds,
        all: bool,
        log: &mut ChangeLog,
    ) -> bool {
        let reachable = self.reachable();
        let recorded = match self.status {
            ClusterStatus::Recorded { at } => Some(at),
            _ => None,
        };
        let mut changed = self.dirty;
        for hub in self.hubs.values_mut() {
            if hub.dirty || all || self.dirty {
                let before = hub.summary.clone();
                changed |= hub.dirty;
                hub.recompute(now, limits, reachable, recorded);
                if hub.summary != before {
                    log.record(Change::Hub(hub.id.clone()));
                    changed = true;
                }
            }
        }
        if changed {
            let derived = derived_alerts(self);
            if derived != self.derived {
                log.record(Change::Alerts(self.id.clone()));
                self.derived = derived;
            }
        }
        self.dirty = false;
        changed
    }
}

fn hub_key(namespace: &Arc<str>, release: &Arc<str>) -> HubKey {
    HubKey {
        namespace: namespace.clone(),
        release: release.clone(),
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
            | FleetUpdate::Latency { cluster, .. }
            | FleetUpdate::Workloads { cluster, .. }
            | FleetUpdate::Pods { cluster, .. }
            | FleetUpdate::Events { cluster, .. }
            | FleetUpdate::Alerts { cluster, .. } => cluster.clone(),
            FleetUpdate::Activity { hub, .. } => hub.cluster.clone(),
        };
        let Some(c) = self.clusters.get_mut(&id) else {
            return false;
        };
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
            } if c.known_pod(&p) => return false,
            FleetUpdate::Workloads { kind, delta, .. } => c.apply_workloads(kind, delta, log),
            FleetUpdate::Pods { delta, .. } => c.apply_pods(delta, log),
            FleetUpdate::Events { delta, .. } => {
                c.apply_events(delta);
                log.record(Change::Events(id));
            }
            FleetUpdate::Alerts { source, alerts, .. } => {
                if matches!(source, SourceState::Ok | SourceState::Absent { .. }) {
                    c.alerts = alerts;
                }
                c.alert_source = source;
                log.record(Change::Alerts(id.clone()));
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
        let mut changed = false;
        for c in self.clusters.values_mut() {
            changed |= c.refresh(now, &limits, all, &mut self.changes);
        }
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

    /// Pods of one cluster by object key, for actions that check what they target.
    pub fn pod(&self, cluster: &ClusterId, key: &ObjectKey) -> Option<&PodInfo> {
        self.clusters
            .get(cluster)?
            .hubs
            .values()
            .find_map(|h| h.pods.get(&key.name).filter(|p| p.key == *key))
    }
}
