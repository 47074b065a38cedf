//! Pods' stories in the store. An Event goes to the story of the pending user server it is
//! about; one about a pod not known yet waits a little, since the events and the pods are two
//! watches and at start the events often list first; every other one is dropped. A story goes
//! when its pod runs, ends or leaves, so the store holds stories of pending servers only.

use std::collections::{BTreeMap, btree_map};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::super::changes::{Change, ChangeLog};
use super::super::hub::HubState;
use super::super::ids::HubKey;
use super::super::objects::{Component, ObjectKey, PodInfo, PodPhase};
use super::super::story::{PodEvent, Story};
use super::super::update::{Delta, Scope};
use super::ClusterState;

/// Events a cluster holds at most for pods it does not know. Events of every pod of the
/// cluster arrive, most about pods that are no hub's: they pass through here and go.
pub const UNCLAIMED_MAX: usize = 256;

/// How long after it last happened an event of an unknown pod is kept, once the cluster has
/// listed its pods: a pod and its first events arrive on separate watches within moments.
const UNCLAIMED_FOR: SignedDuration = SignedDuration::from_secs(120);

/// Whether a pod has a story: a user server not running yet.
pub fn tells_story(pod: &PodInfo) -> bool {
    pod.component == Component::SingleuserServer && pod.phase == PodPhase::Pending
}

/// Events about pods the cluster does not know (yet), by Event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unclaimed {
    events: BTreeMap<ObjectKey, PodEvent>,
}

impl Unclaimed {
    /// Number of events waiting.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether none wait.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The events waiting, by Event key.
    pub fn iter(&self) -> btree_map::Values<'_, ObjectKey, PodEvent> {
        self.events.values()
    }

    /// Keeps the newest when full: a pending pod's events keep being repeated, while those of
    /// pods that started long ago are old.
    fn put(&mut self, e: PodEvent) {
        if self.events.len() >= UNCLAIMED_MAX && !self.events.contains_key(&e.key) {
            let oldest = self
                .events
                .values()
                .min_by(|a, b| (a.seen(), &a.key).cmp(&(b.seen(), &b.key)))
                .map(|o| (o.seen(), o.key.clone()));
            match oldest {
                Some((seen, key)) if seen < e.seen() => self.events.remove(&key),
                _ => return,
            };
        }
        self.events.insert(e.key.clone(), e);
    }

    fn take(&mut self, namespace: &str, pod: &str) -> Vec<PodEvent> {
        let keys: Vec<ObjectKey> = self
            .events
            .iter()
            .filter(|(k, e)| *k.namespace == *namespace && *e.pod == *pod)
            .map(|(k, _)| k.clone())
            .collect();
        keys.iter().filter_map(|k| self.events.remove(k)).collect()
    }

    fn expire(&mut self, now: Timestamp) {
        self.events.retain(|_, e| {
            e.seen()
                .is_some_and(|t| now.duration_since(t) < UNCLAIMED_FOR)
        });
    }

    pub(super) fn narrow_to(&mut self, scope: &Scope) {
        self.events.retain(|k, _| scope.covers(&k.namespace));
    }
}

/// The hub holding pod `name` of `namespace`, and the pod.
fn find<'a>(
    hubs: &'a mut BTreeMap<HubKey, HubState>,
    namespace: &str,
    name: &str,
) -> Option<&'a mut HubState> {
    hubs.values_mut()
        .find(|h| *h.id.key.namespace == *namespace && h.pods.contains_key(name))
}

/// Adds `e` to the story of its pod in `hub`, sharing the pod's name; whether it changed.
fn tell(hub: &mut HubState, e: PodEvent, log: &mut ChangeLog) -> bool {
    let Some(name) = hub
        .pods
        .get(&e.pod)
        .filter(|p| tells_story(p))
        .map(|p| p.key.name.clone())
    else {
        return false;
    };
    let e = PodEvent {
        pod: name.clone(),
        ..e
    };
    if !hub.stories.entry(name.clone()).or_default().upsert(e) {
        return false;
    }
    hub.dirty = true;
    log.record(Change::Pod(hub.id.clone(), name));
    true
}

impl ClusterState {
    /// Returns whether a story changed (an event of an unknown pod changes nothing shown).
    pub(super) fn apply_pod_events(&mut self, delta: Delta<PodEvent>, log: &mut ChangeLog) -> bool {
        match delta {
            Delta::Replace(all) => {
                let forgot = self.forget_stories(None, log);
                self.tell_all(all, log) | forgot
            }
            Delta::ReplaceIn(ns, all) => {
                let forgot = self.forget_stories(Some(&ns), log);
                self.tell_all(all, log) | forgot
            }
            Delta::Upsert(e) => match find(&mut self.hubs, &e.key.namespace, &e.pod) {
                Some(hub) => tell(hub, e, log),
                None => {
                    self.unclaimed.put(e);
                    false
                }
            },
            Delta::Remove(e) => {
                self.unclaimed.events.remove(&e.key);
                let Some(hub) = find(&mut self.hubs, &e.key.namespace, &e.pod) else {
                    return false;
                };
                let Some(story) = hub.stories.get_mut(&*e.pod) else {
                    return false;
                };
                if !story.remove(&e.key) {
                    return false;
                }
                if story.is_empty() {
                    hub.stories.remove(&*e.pod);
                }
                hub.dirty = true;
                log.record(Change::Pod(hub.id.clone(), e.pod));
                true
            }
        }
    }

    /// A (re-)list: newest first, so that what waits for its pod is the newest.
    fn tell_all(&mut self, mut all: Vec<PodEvent>, log: &mut ChangeLog) -> bool {
        all.sort_by_key(|e| std::cmp::Reverse(e.seen()));
        let mut changed = false;
        for e in all {
            match find(&mut self.hubs, &e.key.namespace, &e.pod) {
                Some(hub) => changed |= tell(hub, e, log),
                None => self.unclaimed.put(e),
            }
        }
        changed
    }

    /// Drops the stories of `namespace` (None: all) before a list replaces them.
    fn forget_stories(&mut self, namespace: Option<&str>, log: &mut ChangeLog) -> bool {
        let mut changed = false;
        for hub in self.hubs.values_mut() {
            if namespace.is_some_and(|ns| *hub.id.key.namespace != *ns) || hub.stories.is_empty() {
                continue;
            }
            for (pod, _) in std::mem::take(&mut hub.stories) {
                log.record(Change::Pod(hub.id.clone(), pod));
            }
            hub.dirty = true;
            changed = true;
        }
        self.unclaimed
            .events
            .retain(|k, _| namespace.is_some_and(|ns| *k.namespace != *ns));
        changed
    }

    /// After a pod changed: a pending user server takes the events that waited for it; any
    /// other pod (or one gone) has no story.
    pub(super) fn settle_story(&mut self, hub: &HubKey, name: &Arc<str>, log: &mut ChangeLog) {
        let Some(h) = self.hubs.get_mut(hub) else {
            return;
        };
        if !h.pods.get(name).is_some_and(tells_story) {
            h.stories.remove(name);
            return;
        }
        if self.unclaimed.is_empty() {
            return;
        }
        for e in self.unclaimed.take(&hub.namespace, name) {
            tell(h, e, log);
        }
    }

    /// After a pod list: stories of pods that are not pending servers go, and events that
    /// waited for a pod of the list are claimed (or dropped when it has no story).
    pub(super) fn settle_stories(&mut self, namespace: Option<&str>, log: &mut ChangeLog) {
        for h in self.hubs.values_mut() {
            if namespace.is_none_or(|ns| *h.id.key.namespace == *ns) {
                let pods = &h.pods;
                h.stories
                    .retain(|name, _| pods.get(name).is_some_and(tells_story));
            }
        }
        let waiting = std::mem::take(&mut self.unclaimed.events);
        for e in waiting.into_values() {
            match find(&mut self.hubs, &e.key.namespace, &e.pod) {
                Some(hub) => {
                    tell(hub, e, log);
                }
                None => self.unclaimed.put(e),
            }
        }
    }

    /// Once the cluster has listed, events of pods still unknown are let go after a while.
    pub(super) fn expire_unclaimed(&mut self, now: Timestamp) {
        if !self.unclaimed.is_empty() {
            self.unclaimed.expire(now);
        }
    }
}

impl HubState {
    /// The story of a pending user server, by pod name.
    pub fn story(&self, pod: &str) -> Option<&Story> {
        self.stories.get(pod)
    }
}
