//! Refreshing every cluster's derived health, on two threads when the fleet is big.
//!
//! At 100,000 pods a full refresh (hub summaries, derived alerts) takes ~100 ms on one core:
//! too long for a seek or a warm start's first frame, which both refresh once before they
//! show anything. Clusters share nothing while they refresh but the change log, so the
//! clusters are split in two halves of about equal pods; the second half records its changes
//! into a fork of the log, joined after the first half's, which keeps the order a single
//! thread gives.

use jiff::Timestamp;

use super::ClusterState;
use crate::fleet::changes::ChangeLog;
use crate::fleet::hub::Thresholds;

/// Below this many pods one thread refreshes everything: spawning a second costs more than it
/// saves.
const PARALLEL_PODS: usize = 20_000;

/// Refreshes `clusters` in order; returns whether any figure moved.
pub(super) fn refresh_all(
    clusters: &mut [&mut ClusterState],
    now: Timestamp,
    limits: &Thresholds,
    all: bool,
    log: &mut ChangeLog,
) -> bool {
    let pods: Vec<usize> = clusters.iter().map(|c| c.pod_count()).collect();
    let total: usize = pods.iter().sum();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if total < PARALLEL_PODS || cores < 2 || clusters.len() < 2 {
        return in_turn(clusters, now, limits, all, log);
    }
    let mut first = 0;
    let mut mid = 0;
    while mid < pods.len() - 1 && first + pods[mid] <= total / 2 {
        first += pods[mid];
        mid += 1;
    }
    let mut fork = log.fork();
    let both = std::thread::scope(|s| {
        let (a, b) = clusters.split_at_mut(mid.max(1));
        let theirs = &mut fork;
        let worker = std::thread::Builder::new()
            .name("hubdeck-refresh".into())
            .spawn_scoped(s, move || in_turn(b, now, limits, all, theirs))
            .ok()?;
        let changed = in_turn(a, now, limits, all, log);
        let other = worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Some(changed | other)
    });
    match both {
        Some(changed) => {
            log.join(fork);
            changed
        }
        // No thread to be had: this one does it all.
        None => in_turn(clusters, now, limits, all, log),
    }
}

fn in_turn(
    clusters: &mut [&mut ClusterState],
    now: Timestamp,
    limits: &Thresholds,
    all: bool,
    log: &mut ChangeLog,
) -> bool {
    let mut changed = false;
    for c in clusters {
        changed |= c.refresh(now, limits, all, log);
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::fixtures::{as_upserts, healthy_hub, pending_server, t0};
    use crate::fleet::{ClusterId, Delta, Fleet, FleetUpdate};

    /// Three clusters of uneven size, over the parallel threshold, with pending servers.
    fn big_fleet() -> Fleet {
        let mut f = Fleet::new(Thresholds::default());
        let users: Vec<String> = (0..3_000).map(|i| format!("u{i}")).collect();
        let users: Vec<&str> = users.iter().map(String::as_str).collect();
        for (c, hubs) in [("a", 1), ("b", 5), ("c", 3)] {
            for h in 0..hubs {
                let ns = format!("hub{h}");
                // The cluster's own updates once: a second ClusterAdded would start it afresh.
                let objects = healthy_hub(c, &ns, &users).into_iter().filter(|u| {
                    h == 0 || matches!(u, FleetUpdate::Workloads { .. } | FleetUpdate::Pods { .. })
                });
                let pending = users.iter().step_by(97).map(|u| FleetUpdate::Pods {
                    cluster: ClusterId::new(c),
                    delta: Delta::Upsert(pending_server(&ns, &ns, u)),
                });
                for u in objects.flat_map(as_upserts).chain(pending) {
                    f.apply(u, t0());
                }
            }
        }
        f
    }

    #[test]
    fn two_threads_refresh_a_big_fleet_as_one_does() {
        let later = t0() + jiff::SignedDuration::from_mins(30);
        let mut two = big_fleet();
        let mut one = two.clone();
        let version = two.version;
        assert!(two.refresh(later));
        // One thread, the same steps as `Fleet::refresh`.
        let limits = one.limits;
        one.changes.stamp(one.version + 1);
        let mut clusters: Vec<&mut ClusterState> = one.clusters.values_mut().collect();
        let total: usize = clusters.iter().map(|c| c.pod_count()).sum();
        assert!(total > PARALLEL_PODS, "{total} pods");
        assert!(in_turn(
            &mut clusters,
            later,
            &limits,
            true,
            &mut one.changes
        ));
        for (a, b) in one.clusters.values().zip(two.clusters.values()) {
            assert!(!a.derived.is_empty(), "pending servers alert in {}", a.id);
            assert_eq!(a.derived, b.derived);
            let summaries = |c: &ClusterState| -> Vec<_> {
                c.hubs.values().map(|h| h.summary.clone()).collect()
            };
            assert_eq!(summaries(a), summaries(b));
        }
        let changes = |f: &Fleet| {
            f.changes
                .since(version)
                .map(|c| c.cloned().collect::<Vec<_>>())
        };
        assert_eq!(changes(&one), changes(&two));
    }
}
