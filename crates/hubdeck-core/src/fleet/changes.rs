//! What changed in the fleet since a version: a bounded ring of changed keys, so that a view
//! holding rows of version `v` can update only the rows that moved instead of rebuilding all of
//! them. Keys are `Arc` clones of the ids the store already holds: recording costs no allocation.

use std::collections::VecDeque;
use std::sync::Arc;

use super::ids::{ClusterId, HubId};

/// How many changes the ring keeps. A view that falls further behind rebuilds; at 2,000 pod
/// updates a second this still covers a few seconds, far more than a frame.
pub const CHANGES_KEPT: usize = 8_192;

/// One changed key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    /// A hub appeared or vanished, or its summary (health, counts) changed.
    Hub(HubId),
    /// A pod of a hub appeared, changed or vanished (by pod name).
    Pod(HubId, Arc<str>),
    /// Something every user server of a hub shows changed (the hub API's activity).
    Servers(HubId),
    /// A cluster appeared, or its status, latency or Alertmanager state changed.
    Cluster(ClusterId),
    /// A cluster's firing alerts changed (Alertmanager's or derived).
    Alerts(ClusterId),
    /// A cluster's Warning events changed.
    Events(ClusterId),
    /// A cluster's nodes changed.
    Nodes(ClusterId),
}

/// Changes since a version, or that too much changed to list.
#[derive(Debug, Clone)]
pub struct ChangeLog {
    ring: VecDeque<(u64, Change)>,
    /// Views at a version below this missed changes the ring no longer holds.
    floor: u64,
    /// The version changes recorded now will carry (the one the store is about to publish).
    at: u64,
    cap: usize,
}

impl Default for ChangeLog {
    fn default() -> Self {
        Self::with_capacity(CHANGES_KEPT)
    }
}

impl ChangeLog {
    /// A log keeping at most `cap` changes.
    pub fn with_capacity(cap: usize) -> Self {
        Self {
            ring: VecDeque::new(),
            floor: 0,
            at: 0,
            cap: cap.max(1),
        }
    }

    /// Changes recorded from now on belong to `version`.
    pub(crate) fn stamp(&mut self, version: u64) {
        self.at = version;
    }

    /// Records a changed key.
    pub(crate) fn record(&mut self, change: Change) {
        // Churn updates the same pod many times in a row; one entry per version is enough.
        if self.ring.back() == Some(&(self.at, change.clone())) {
            return;
        }
        if self.ring.len() == self.cap
            && let Some((dropped, _)) = self.ring.pop_front()
        {
            self.floor = self.floor.max(dropped);
        }
        self.ring.push_back((self.at, change));
    }

    /// Everything may have changed (a full re-list): views older than this version rebuild.
    pub(crate) fn everything(&mut self) {
        self.ring.clear();
        self.floor = self.at;
    }

    /// An empty log for the same version, to record into on another thread and `join` after.
    pub(crate) fn fork(&self) -> ChangeLog {
        ChangeLog {
            ring: VecDeque::new(),
            floor: 0,
            at: self.at,
            cap: self.cap,
        }
    }

    /// Takes in what was recorded into `fork` since it was forked, as if recorded here now.
    pub(crate) fn join(&mut self, fork: ChangeLog) {
        // The fork lost changes (everything changed, or it overflowed): so did this log.
        if fork.floor > 0 {
            self.everything();
        }
        for (_, change) in fork.ring {
            self.record(change);
        }
    }

    /// Keys changed after `version` (a key may repeat), or `None` when the log cannot tell
    /// (it overflowed, or everything changed) and the caller must rebuild.
    pub fn since(&self, version: u64) -> Option<impl Iterator<Item = &Change>> {
        if version < self.floor {
            return None;
        }
        let start = self.ring.partition_point(|(at, _)| *at <= version);
        Some(self.ring.range(start..).map(|(_, c)| c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::HubKey;

    fn hub(name: &str) -> HubId {
        HubId {
            cluster: ClusterId::new("c"),
            key: HubKey {
                namespace: name.into(),
                release: name.into(),
            },
        }
    }

    fn since(log: &ChangeLog, v: u64) -> Option<Vec<Change>> {
        log.since(v).map(|it| it.cloned().collect())
    }

    #[test]
    fn lists_only_changes_after_the_version_asked_about() {
        let mut log = ChangeLog::with_capacity(10);
        log.stamp(1);
        log.record(Change::Hub(hub("a")));
        log.stamp(2);
        log.record(Change::Pod(hub("a"), "p".into()));
        log.record(Change::Servers(hub("b")));
        assert_eq!(
            since(&log, 0),
            Some(vec![
                Change::Hub(hub("a")),
                Change::Pod(hub("a"), "p".into()),
                Change::Servers(hub("b")),
            ])
        );
        assert_eq!(
            since(&log, 1),
            Some(vec![
                Change::Pod(hub("a"), "p".into()),
                Change::Servers(hub("b"))
            ])
        );
        assert_eq!(since(&log, 2), Some(vec![]));
    }

    #[test]
    fn the_same_key_twice_in_one_version_is_kept_once() {
        let mut log = ChangeLog::with_capacity(10);
        log.stamp(1);
        log.record(Change::Pod(hub("a"), "p".into()));
        log.record(Change::Pod(hub("a"), "p".into()));
        assert_eq!(since(&log, 0).map(|v| v.len()), Some(1));
    }

    #[test]
    fn overflow_makes_views_older_than_the_dropped_changes_rebuild() {
        let mut log = ChangeLog::with_capacity(2);
        for v in 1..=3 {
            log.stamp(v);
            log.record(Change::Hub(hub(&v.to_string())));
        }
        assert_eq!(since(&log, 0), None, "version 1's change was dropped");
        assert_eq!(
            since(&log, 1),
            Some(vec![Change::Hub(hub("2")), Change::Hub(hub("3"))])
        );
    }

    #[test]
    fn a_full_relist_makes_every_older_view_rebuild() {
        let mut log = ChangeLog::with_capacity(10);
        log.stamp(1);
        log.record(Change::Hub(hub("a")));
        log.stamp(5);
        log.everything();
        log.record(Change::Hub(hub("b")));
        assert_eq!(since(&log, 4), None);
        assert_eq!(since(&log, 5), Some(vec![]));
    }

    #[test]
    fn a_forked_log_joins_after_what_was_recorded_here() {
        let mut log = ChangeLog::with_capacity(10);
        log.stamp(3);
        log.record(Change::Hub(hub("a")));
        let mut fork = log.fork();
        fork.record(Change::Hub(hub("b")));
        log.record(Change::Hub(hub("c")));
        log.join(fork);
        assert_eq!(
            since(&log, 2),
            Some(vec![
                Change::Hub(hub("a")),
                Change::Hub(hub("c")),
                Change::Hub(hub("b"))
            ])
        );
    }

    #[test]
    fn a_fork_that_lost_changes_makes_older_views_rebuild() {
        let mut log = ChangeLog::with_capacity(10);
        log.stamp(3);
        log.record(Change::Hub(hub("a")));
        let mut fork = log.fork();
        fork.everything();
        fork.record(Change::Hub(hub("b")));
        log.join(fork);
        assert_eq!(since(&log, 2), None);
        assert_eq!(since(&log, 3), Some(vec![]));
        assert_eq!(log.ring.len(), 1, "the change after the re-list is kept");
    }
}
