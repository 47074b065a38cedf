//! Warm start: the console opens on the last recorded state of each cluster it watches,
//! marked stale (`ClusterStatus::Recorded`) with its age, which the live lists then replace
//! cluster by cluster.

use std::collections::HashSet;
use std::path::Path;

use hubdeck_core::fleet::{ClusterStatus, Fleet, FleetUpdate, Thresholds, cluster_snapshot};
use jiff::Timestamp;

use super::reader::Recording;

/// The fleet to open on: the clusters named in `clusters` as the newest recording in `dir`
/// last had them; `None` when there is none (or it cannot be read: a cold start then).
pub fn from_dir(dir: &Path, clusters: &[&str], limits: Thresholds) -> Option<Fleet> {
    let newest = super::rotate::recordings(dir).ok()?.pop()?;
    match Recording::open(&newest) {
        Ok(rec) => fleet(&rec, clusters, limits, Timestamp::now()),
        Err(e) => {
            tracing::warn!("warm start: {e}");
            None
        }
    }
}

/// The recording's last state of `clusters`, with `now` as the console's clock.
pub fn fleet(
    rec: &Recording,
    clusters: &[&str],
    limits: Thresholds,
    now: Timestamp,
) -> Option<Fleet> {
    let end = rec.end();
    // Refreshed once below, after the clusters are marked recorded.
    let last = match rec.objects_at(end) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("warm start: {e}");
            return None;
        }
    };
    let wanted: HashSet<&str> = clusters.iter().copied().collect();
    let mut fleet = last.fleet;
    // Usually the console watches what it recorded, with the same thresholds: mark that fleet
    // stale as it is, instead of rebuilding it (a second pass over every pod, at 100,000 pods
    // most of a start's time).
    if *fleet.limits() == limits && fleet.clusters().all(|c| wanted.contains(c.id.as_str())) {
        let ids: Vec<_> = fleet.clusters().map(|c| c.id.clone()).collect();
        if ids.is_empty() {
            return None;
        }
        for cluster in ids {
            let status = ClusterStatus::Recorded { at: end };
            fleet.apply(FleetUpdate::Status { cluster, status }, end);
        }
        fleet.refresh(now);
        return Some(fleet);
    }
    let mut updates = Vec::new();
    for c in fleet.clusters().filter(|c| wanted.contains(c.id.as_str())) {
        cluster_snapshot(c, &mut updates);
        updates.push(FleetUpdate::Status {
            cluster: c.id.clone(),
            status: ClusterStatus::Recorded { at: end },
        });
    }
    if updates.is_empty() {
        return None;
    }
    let mut fleet = Fleet::new(limits);
    // Applied at the recording's time, so "updated" says how old the data is.
    for u in updates {
        fleet.apply(u, end);
    }
    fleet.refresh(now);
    Some(fleet)
}
