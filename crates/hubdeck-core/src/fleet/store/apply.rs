//! How one cluster's objects change: upserts, removals and (re-)lists, whole-cluster or of one
//! namespace, and narrowing to a new scope.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::super::changes::{Change, ChangeLog};
use super::super::dask::DaskDelta;
use super::super::hub::HubState;
use super::super::ids::{HubId, HubKey};
use super::super::nodes::NodeInfo;
use super::super::objects::{EventInfo, PodInfo, Workload, WorkloadKind};
use super::super::update::{Delta, Scope};
use super::super::usage::{PodUsage, Sampled, UsageSample};
use super::{ClusterState, EVENTS_PER_CLUSTER};

impl ClusterState {
    /// Whether a delta fits the cluster's scope. Under a namespaced scope, a cluster-wide list
    /// or an object of another namespace can only come from watches it replaced, late.
    pub(super) fn admits<T>(&self, delta: &Delta<T>, namespace: impl Fn(&T) -> &str) -> bool {
        match (&self.scope, delta) {
            (Scope::ClusterWide, _) => true,
            (Scope::Namespaces(_), Delta::Replace(_)) => false,
            (scope, Delta::ReplaceIn(ns, _)) => scope.covers(ns),
            (scope, Delta::Upsert(x) | Delta::Remove(x)) => scope.covers(namespace(x)),
        }
    }

    /// Drops what a narrower scope no longer watches: lists of the old scope may have brought
    /// in objects the new one's watches will never update or remove.
    pub(super) fn narrow_to(&mut self, scope: &Scope, log: &mut ChangeLog) {
        let before = (self.hubs.len(), self.events.len());
        self.hubs.retain(|k, _| scope.covers(&k.namespace));
        self.events.retain(|e| scope.covers(&e.key.namespace));
        self.unclaimed.narrow_to(scope);
        self.dask.retain(|ns| scope.covers(ns));
        if (self.hubs.len(), self.events.len()) != before {
            log.everything();
            self.dirty = true;
        }
    }

    /// Applies a change to the dask objects; the hubs of the namespace it touches (all, for a
    /// cluster-wide list) are recomputed, and their servers' rows redrawn.
    pub(super) fn apply_dask(&mut self, delta: DaskDelta, log: &mut ChangeLog) -> bool {
        let namespace = delta.namespace().cloned();
        if !self.dask.apply(delta) {
            return false;
        }
        for hub in self.hubs.values_mut() {
            if namespace
                .as_ref()
                .is_none_or(|ns| *ns == hub.id.key.namespace)
            {
                hub.dirty = true;
                log.record(Change::Servers(hub.id.clone()));
            }
        }
        true
    }

    // Workloads only reach views through the hub summary, whose changes `refresh` records;
    // here only hubs appearing and vanishing are.
    pub(super) fn apply_workloads(
        &mut self,
        kind: WorkloadKind,
        delta: Delta<Workload>,
        log: &mut ChangeLog,
    ) {
        match delta {
            Delta::Replace(all) => self.replace_workloads(None, kind, all, log),
            Delta::ReplaceIn(ns, all) => self.replace_workloads(Some(&ns), kind, all, log),
            Delta::Upsert(w) => self.upsert_workload(w, log),
            Delta::Remove(w) => {
                let key = hub_key(&w.key.namespace, &w.release);
                if let Some(hub) = self.hubs.get_mut(&key) {
                    hub.workloads
                        .retain(|x| !(x.kind == w.kind && x.key.name == w.key.name));
                    hub.dirty = true;
                    if hub.is_empty() && hub.declared.is_none() {
                        log.record(Change::Hub(hub.id.clone()));
                        self.hubs.remove(&key);
                    }
                }
            }
        }
    }

    /// A list of `kind` replaces that kind's workloads in `namespace` (None: everywhere).
    pub(super) fn replace_workloads(
        &mut self,
        namespace: Option<&str>,
        kind: WorkloadKind,
        all: Vec<Workload>,
        log: &mut ChangeLog,
    ) {
        for hub in self.hubs.values_mut().filter(|h| listed(namespace, h)) {
            hub.workloads.retain(|w| w.kind != kind);
            hub.dirty = true;
        }
        for w in all {
            self.upsert_workload(w, log);
        }
        self.drop_empty_hubs(log);
    }

    pub(super) fn upsert_workload(&mut self, w: Workload, log: &mut ChangeLog) {
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

    pub(super) fn apply_pods(&mut self, delta: Delta<PodInfo>, log: &mut ChangeLog) {
        match delta {
            Delta::Replace(all) => self.replace_pods(None, all, log),
            Delta::ReplaceIn(ns, all) => self.replace_pods(Some(&ns), all, log),
            Delta::Upsert(p) => {
                self.upsert_pod(p, log);
            }
            Delta::Remove(p) => {
                let key = hub_key(&p.key.namespace, &p.release);
                if let Some(hub) = self.hubs.get_mut(&key) {
                    if let Some(gone) = hub.pods.remove(&p.key.name) {
                        hub.stories.remove(&gone.key.name);
                        hub.usage.forget(&gone.key.name);
                        log.record(Change::Pod(hub.id.clone(), gone.key.name));
                    }
                    hub.dirty = true;
                    if hub.is_empty() && hub.declared.is_none() {
                        log.record(Change::Hub(hub.id.clone()));
                        self.hubs.remove(&key);
                    }
                }
            }
        }
    }

    /// A list of pods replaces those of `namespace` (None: every namespace).
    pub(super) fn replace_pods(
        &mut self,
        namespace: Option<&str>,
        all: Vec<PodInfo>,
        log: &mut ChangeLog,
    ) {
        // A re-list may touch every pod of the cluster: listing them all would cost more than
        // the views' rebuild it saves.
        log.everything();
        // Lists come hub by hub (a snapshot's, in the model's own order) or nearly so (the API
        // server's, by namespace): a run of one hub's pods costs one map entry, not one each.
        let mut by_hub: BTreeMap<HubKey, Vec<PodInfo>> = BTreeMap::new();
        let mut run: Vec<PodInfo> = Vec::new();
        let mut end_run = |run: &mut Vec<PodInfo>| {
            let Some(last) = run.last() else { return };
            let slot = by_hub
                .entry(hub_key(&last.key.namespace, &last.release))
                .or_default();
            if slot.is_empty() {
                std::mem::swap(slot, run);
            } else {
                slot.append(run);
            }
        };
        for p in all {
            if run
                .last()
                .is_some_and(|l| l.key.namespace != p.key.namespace || l.release != p.release)
            {
                end_run(&mut run);
            }
            run.push(p);
        }
        end_run(&mut run);
        for hub in self.hubs.values_mut().filter(|h| listed(namespace, h)) {
            let pods = by_hub.remove(&hub.id.key).unwrap_or_default();
            hub.pods.replace_all(pods);
            hub.usage.retain_listed(&hub.pods);
            hub.dirty = true;
        }
        for (key, pods) in by_hub {
            self.hub_mut(&key.namespace, &key.release, log)
                .pods
                .replace_all(pods);
        }
        self.drop_empty_hubs(log);
        self.settle_stories(namespace, log);
    }

    pub(super) fn known_workload(&self, w: &Workload) -> bool {
        self.hubs
            .get(&hub_key(&w.key.namespace, &w.release))
            .is_some_and(|h| h.workloads.contains(w))
    }

    /// Upserts a pod; returns whether the model changed (not when it held the pod as it is:
    /// re-sent objects that changed nothing hubdeck keeps, a label or a resync, must not cost
    /// a redraw).
    pub(super) fn upsert_pod(&mut self, p: PodInfo, log: &mut ChangeLog) -> bool {
        let key = hub_key(&p.key.namespace, &p.release);
        let name = p.key.name.clone();
        let cluster = &self.id;
        // One search of the hubs and one of the hub's pods: at 2,000 upserts a second (and a
        // seek's hundred thousand), a check before the upsert doubled them.
        let hub = self.hubs.entry(key.clone()).or_insert_with(|| {
            let id = HubId {
                cluster: cluster.clone(),
                key: key.clone(),
            };
            log.record(Change::Hub(id.clone()));
            HubState::new(id)
        });
        if !hub.pods.upsert(p) {
            return false;
        }
        log.record(Change::Pod(hub.id.clone(), name.clone()));
        hub.dirty = true;
        self.settle_story(&key, &name, log);
        true
    }

    /// Returns whether the nodes changed.
    pub(super) fn apply_nodes(&mut self, delta: Delta<NodeInfo>) -> bool {
        let changed = match delta {
            Delta::Replace(all) | Delta::ReplaceIn(_, all) => self.nodes.replace_all(all),
            Delta::Upsert(n) => self.nodes.upsert(n),
            Delta::Remove(n) => self.nodes.remove(&n.name),
        };
        self.nodes_dirty |= changed;
        changed
    }

    /// Takes a metrics list's answer: a pods list replaces the usage of every hub its scope
    /// covers (a hub it has no pod of used nothing measurable), a nodes list the nodes' usage.
    /// Every server row of those hubs shows new figures.
    pub(super) fn apply_usage(&mut self, sample: UsageSample, log: &mut ChangeLog) {
        let (at, fresh_for) = (sample.at, sample.fresh_for);
        match sample.of {
            Sampled::Nodes(nodes) => {
                self.node_usage.replace(at, fresh_for, nodes);
                log.record(Change::Nodes(self.id.clone()));
            }
            Sampled::Pods { scope, pods } => {
                let mut by_hub: BTreeMap<HubKey, Vec<PodUsage>> = BTreeMap::new();
                for p in pods {
                    by_hub
                        .entry(hub_key(&p.key.namespace, &p.release))
                        .or_default()
                        .push(p);
                }
                for hub in self.hubs.values_mut().filter(|h| scope.covers(&h.id.key)) {
                    let got = by_hub.remove(&hub.id.key).unwrap_or_default();
                    hub.usage.replace(at, fresh_for, &hub.pods, got);
                    log.record(Change::Servers(hub.id.clone()));
                    log.record(Change::Hub(hub.id.clone()));
                }
            }
        }
    }

    /// Notes usage that went stale since the last refresh (its rows show it unknown now);
    /// returns whether any did.
    pub(super) fn expire_usage(&mut self, now: jiff::Timestamp, log: &mut ChangeLog) -> bool {
        let mut any = false;
        for hub in self.hubs.values_mut() {
            if !hub.usage.expired && hub.usage.stale(now) {
                hub.usage.expired = true;
                log.record(Change::Servers(hub.id.clone()));
                log.record(Change::Hub(hub.id.clone()));
                any = true;
            }
        }
        if !self.node_usage.expired && self.node_usage.stale(now) {
            self.node_usage.expired = true;
            log.record(Change::Nodes(self.id.clone()));
            any = true;
        }
        any
    }

    pub(super) fn apply_events(&mut self, delta: Delta<EventInfo>) {
        match delta {
            Delta::Replace(mut all) => {
                all.sort_by_key(|e| e.last_seen);
                let skip = all.len().saturating_sub(EVENTS_PER_CLUSTER);
                self.events = all.into_iter().skip(skip).collect();
            }
            Delta::ReplaceIn(ns, mut all) => {
                all.extend(self.events.drain(..).filter(|e| e.key.namespace != ns));
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
}

/// Whether a hub is in what a list of `namespace` (None: every namespace) covers.
pub(super) fn listed(namespace: Option<&str>, hub: &HubState) -> bool {
    namespace.is_none_or(|ns| *hub.id.key.namespace == *ns)
}

pub(super) fn hub_key(namespace: &Arc<str>, release: &Arc<str>) -> HubKey {
    HubKey {
        namespace: namespace.clone(),
        release: release.clone(),
    }
}
