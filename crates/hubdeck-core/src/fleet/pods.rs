//! A hub's pods by name. A hash map of a few hundred pods per hub keeps a third of its slots
//! empty and stores every name twice (key and pod); at a hundred thousand pods that is a third
//! of the model. A vector sorted by name holds only the pods, and finds one by binary search.
//!
//! Each pod is shared (`Arc`), never changed in place: an upsert replaces it. So a snapshot of
//! the fleet (the recorder's) takes every pod by a reference count instead of a copy, and
//! another thread encodes it while the model moves on.

use std::sync::Arc;

use super::objects::PodInfo;

/// Pods of one hub, sorted by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodMap {
    pods: Vec<Arc<PodInfo>>,
}

impl PodMap {
    /// The pod of that name.
    pub fn get(&self, name: &str) -> Option<&PodInfo> {
        self.find(name).ok().map(|i| &*self.pods[i])
    }

    /// Whether a pod of that name is known.
    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// All pods, by name.
    pub fn values(
        &self,
    ) -> impl DoubleEndedIterator<Item = &PodInfo> + ExactSizeIterator + Clone + '_ {
        self.pods.iter().map(|p| &**p)
    }

    /// All pods, by name, shared with this map.
    pub fn shared(&self) -> impl ExactSizeIterator<Item = &Arc<PodInfo>> + '_ {
        self.pods.iter()
    }

    /// Number of pods.
    pub fn len(&self) -> usize {
        self.pods.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pods.is_empty()
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.pods.binary_search_by(|p| (*p.key.name).cmp(name))
    }

    /// Adds a pod or replaces the one of the same name; returns whether the map changed (not
    /// when it held this pod as it is). One search does both, as upserts are most of churn.
    pub(crate) fn upsert(&mut self, pod: PodInfo) -> bool {
        match self.find(&pod.key.name) {
            Ok(i) if *self.pods[i] == pod => false,
            Ok(i) => {
                self.pods[i] = Arc::new(pod);
                true
            }
            Err(i) => {
                // Grow by an eighth, not double: most hubs gain a pod now and then, and a
                // doubled vector would stay half empty.
                if self.pods.len() == self.pods.capacity() {
                    self.pods.reserve_exact(self.pods.len() / 8 + 1);
                }
                self.pods.insert(i, Arc::new(pod));
                true
            }
        }
    }

    /// Removes the pod of that name.
    pub(crate) fn remove(&mut self, name: &str) -> Option<PodInfo> {
        self.find(name)
            .ok()
            .map(|i| Arc::unwrap_or_clone(self.pods.remove(i)))
    }

    /// Replaces every pod at once (a re-list): one sort instead of a shifting insert per pod.
    /// Of two pods with one name, the later wins, as with inserts one by one.
    pub(crate) fn replace_all(&mut self, mut pods: Vec<PodInfo>) {
        pods.reverse();
        pods.sort_by(|a, b| a.key.name.cmp(&b.key.name));
        pods.dedup_by(|a, b| a.key.name == b.key.name);
        // Not `collect()`: it would reuse the list's allocation in place, sized for the pods
        // themselves, for the pointers to them, and keep it: twice a re-listed fleet's pods.
        let mut shared = Vec::with_capacity(pods.len());
        shared.extend(pods.into_iter().map(Arc::new));
        self.pods = shared;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::fixtures;

    fn named(name: &str, restarts: u32) -> PodInfo {
        let mut p = fixtures::pod("prod", "prod", crate::fleet::Component::Proxy, name);
        p.restarts = restarts;
        p
    }

    #[test]
    fn a_relist_keeps_no_allocation_sized_for_the_pods_themselves() {
        let mut map = PodMap::default();
        map.replace_all((0..100).map(|i| named(&format!("p{i:03}"), 0)).collect());
        assert_eq!(map.pods.len(), 100);
        assert!(
            map.pods.capacity() < 200,
            "capacity {}",
            map.pods.capacity()
        );
    }

    #[test]
    fn pods_are_found_by_name_whatever_the_order_they_came_in() {
        let mut m = PodMap::default();
        for (n, r) in [("c", 0), ("a", 0), ("b", 0), ("a", 5)] {
            m.upsert(named(n, r));
        }
        let names: Vec<&str> = m.values().map(|p| &*p.key.name).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(m.get("a").map(|p| p.restarts), Some(5));
        assert!(m.remove("b").is_some());
        assert!(!m.contains_key("b") && m.get("zz").is_none());
        m.replace_all(vec![named("y", 1), named("x", 0), named("y", 2)]);
        assert_eq!(m.len(), 2);
        assert_eq!(
            m.get("y").map(|p| p.restarts),
            Some(2),
            "the later pod wins"
        );
    }
}
