//! A fleet as the updates that rebuild it: what a recording stores at its start and every few
//! minutes, so that a replay seeks to a snapshot and applies only the deltas after it. Built
//! from the model's public state; derived health and alerts are not stored but re-derived,
//! and the model holds no credentials, so neither does a snapshot.

use std::sync::Arc;

use super::dask::DaskDelta;
use super::ids::ClusterId;
use super::objects::PodInfo;
use super::store::{ClusterState, Fleet};
use super::update::{Delta, FleetUpdate, SourceState};
use super::usage::MetricsSource;

/// One step of a snapshot: an update, or a cluster's pods list with the pods shared with the
/// model it was taken from (most of a big fleet's snapshot, taken without copying a pod).
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "a snapshot's parts live for one encoding; boxing every update would cost an \
              allocation each to save bytes of a short-lived Vec"
)]
pub enum Part {
    /// An update as it is.
    Update(FleetUpdate),
    /// `FleetUpdate::Pods` replacing the cluster's pods with these.
    Pods {
        /// The cluster.
        cluster: ClusterId,
        /// Its pods, hub by hub.
        pods: Vec<Arc<PodInfo>>,
    },
}

impl Part {
    /// The update this part stands for (pods copied only where the model still holds them).
    pub fn into_update(self) -> FleetUpdate {
        match self {
            Part::Update(u) => u,
            Part::Pods { cluster, pods } => FleetUpdate::Pods {
                cluster,
                delta: Delta::Replace(pods.into_iter().map(Arc::unwrap_or_clone).collect()),
            },
        }
    }
}

impl Fleet {
    /// Updates that, applied in order to an empty fleet with the same thresholds and refreshed,
    /// give this fleet again (cluster by cluster, object order kept).
    pub fn snapshot(&self) -> Vec<FleetUpdate> {
        self.snapshot_parts()
            .into_iter()
            .map(Part::into_update)
            .collect()
    }

    /// The same as [`Fleet::snapshot`], its pods shared rather than copied: cheap to take on
    /// the task owning the fleet, and to hand to another thread to encode.
    pub fn snapshot_parts(&self) -> Vec<Part> {
        let mut out = Vec::new();
        for c in self.clusters() {
            cluster_parts(c, &mut out);
        }
        out
    }
}

/// The updates that rebuild one cluster.
pub fn cluster_snapshot(c: &ClusterState, out: &mut Vec<FleetUpdate>) {
    let mut parts = Vec::new();
    cluster_parts(c, &mut parts);
    out.extend(parts.into_iter().map(Part::into_update));
}

/// The parts that rebuild one cluster.
fn cluster_parts(c: &ClusterState, parts: &mut Vec<Part>) {
    // Every update but the pods list goes through `out`, in order; the pods list is taken
    // apart where it belongs.
    let mut out = Vec::new();
    let cluster = c.id.clone();
    out.push(FleetUpdate::ClusterAdded {
        cluster: cluster.clone(),
        meta: c.meta.clone(),
    });
    out.push(FleetUpdate::Status {
        cluster: cluster.clone(),
        status: c.status.clone(),
    });
    if let Some(latency) = c.latency {
        out.push(FleetUpdate::Latency {
            cluster: cluster.clone(),
            latency,
        });
    }
    if let Some(hubs) = &c.declared {
        out.push(FleetUpdate::Declared {
            cluster: cluster.clone(),
            hubs: hubs.clone(),
        });
    }
    out.push(FleetUpdate::Nodes {
        cluster: cluster.clone(),
        delta: Delta::Replace(c.nodes.values().cloned().collect()),
    });
    if c.node_source != SourceState::Unknown {
        out.push(FleetUpdate::NodeSource {
            cluster: cluster.clone(),
            source: c.node_source.clone(),
        });
    }
    // Upserts one by one keep each hub's workload order, which a replace by kind would not.
    for h in c.hubs.values() {
        for w in &h.workloads {
            out.push(FleetUpdate::Workloads {
                cluster: cluster.clone(),
                kind: w.kind,
                delta: Delta::Upsert(w.clone()),
            });
        }
    }
    parts.extend(out.drain(..).map(Part::Update));
    parts.push(Part::Pods {
        cluster: cluster.clone(),
        pods: c
            .hubs
            .values()
            .flat_map(|h| h.pods.shared().cloned())
            .collect(),
    });
    out.push(FleetUpdate::Dask {
        cluster: cluster.clone(),
        delta: DaskDelta::Pods(Delta::Replace(c.dask.pods().cloned().collect())),
    });
    out.push(FleetUpdate::Dask {
        cluster: cluster.clone(),
        delta: DaskDelta::Clusters(Delta::Replace(c.dask.clusters().cloned().collect())),
    });
    // After the pods: an event finds the story of its pod, or waits for it as it did.
    let stories = c.hubs.values().flat_map(|h| {
        h.servers()
            .filter_map(|p| h.story(&p.key.name))
            .flat_map(|s| s.iter())
    });
    for e in stories.chain(c.unclaimed.iter()) {
        out.push(FleetUpdate::PodEvents {
            cluster: cluster.clone(),
            delta: Delta::Upsert(e.clone()),
        });
    }
    // Upserts, not a replace: a replace sorts by last-seen, the live ring is in arrival order.
    for e in &c.events {
        out.push(FleetUpdate::Events {
            cluster: cluster.clone(),
            delta: Delta::Upsert(e.clone()),
        });
    }
    for (source, alerts) in kept_through(&c.alert_source, &c.alerts) {
        out.push(FleetUpdate::Alerts {
            cluster: cluster.clone(),
            source,
            alerts,
        });
    }
    // After the objects: a namespaced scope admits no cluster-wide replace, and narrowing to
    // it keeps what its namespaces hold.
    out.push(FleetUpdate::Scope {
        cluster: cluster.clone(),
        scope: c.scope.clone(),
    });
    for (hub, check) in &c.outside {
        out.push(FleetUpdate::Outside {
            cluster: cluster.clone(),
            hub: hub.clone(),
            check: check.clone(),
        });
    }
    if c.metrics != MetricsSource::default() {
        out.push(FleetUpdate::Metrics {
            cluster: cluster.clone(),
            source: c.metrics.clone(),
        });
    }
    if let Some(sample) = c.node_usage.as_sample() {
        out.push(FleetUpdate::Usage {
            cluster: cluster.clone(),
            sample,
        });
    }
    for h in c.hubs.values() {
        if let Some(sample) = h.usage.as_sample(&h.id.key) {
            out.push(FleetUpdate::Usage {
                cluster: cluster.clone(),
                sample,
            });
        }
        let steps = kept_through(&h.activity.source, &h.activity.servers);
        for (source, servers) in steps {
            out.push(FleetUpdate::Activity {
                hub: h.id.clone(),
                source,
                servers,
            });
        }
    }
    parts.extend(out.into_iter().map(Part::Update));
}

/// A source's state and the items it last delivered, as the store takes them: items only
/// with a good answer, so a failing source is restored as a good answer then the failure
/// (the store keeps the last good set through a failure).
fn kept_through<T: Clone>(source: &SourceState, items: &[T]) -> Vec<(SourceState, Vec<T>)> {
    match source {
        SourceState::Ok | SourceState::Absent { .. } => vec![(source.clone(), items.to_vec())],
        SourceState::Unknown if items.is_empty() => Vec::new(),
        _ if items.is_empty() => vec![(source.clone(), Vec::new())],
        _ => vec![
            (SourceState::Ok, items.to_vec()),
            (source.clone(), Vec::new()),
        ],
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::fleet::fixtures::{healthy_hub, pod_event, server, t0};
    use crate::fleet::{
        AlertInfo, AlertOrigin, ClusterId, ClusterStatus, EventInfo, ObjectKey, ServerActivity,
        Severity, Step, Thresholds,
    };

    fn event(name: &str, seen: i64) -> EventInfo {
        EventInfo {
            key: ObjectKey {
                namespace: "prod".into(),
                name: name.into(),
            },
            object: "Pod/jupyter-ada".into(),
            reason: "BackOff".into(),
            message: "Back-off restarting failed container".into(),
            count: 3,
            last_seen: jiff::Timestamp::from_second(seen).ok(),
        }
    }

    /// What a person can see of a fleet, everything but when updates arrived.
    fn seen(f: &Fleet) -> String {
        f.clusters()
            .map(|c| {
                let mut c = c.clone();
                c.updated = None;
                format!("{c:?}")
            })
            .collect()
    }

    #[test]
    fn a_fleet_rebuilt_from_its_snapshot_is_the_same_fleet() {
        let limits = Thresholds::default();
        let mut live = Fleet::new(limits);
        let leap = ClusterId::new("leap");
        let mut updates = healthy_hub("leap", "prod", &["ada", "grace"]);
        updates.extend(healthy_hub("nasa", "staging", &["bob"]));
        // Events out of last-seen order, as they arrive from a watch.
        for (name, seen) in [("e2", 2_000_000_000), ("e1", 1_000_000_000)] {
            updates.push(FleetUpdate::Events {
                cluster: leap.clone(),
                delta: Delta::Upsert(event(name, seen)),
            });
        }
        let alert = AlertInfo {
            fingerprint: "f1".into(),
            name: "HubDown".into(),
            severity: Severity::Critical,
            origin: AlertOrigin::Alertmanager,
            summary: "hub down".into(),
            namespace: Some("prod".into()),
            release: None,
            pod: None,
            since: Some(t0()),
            silenced_by: vec![],
            labels: vec![("alertname".into(), "HubDown".into())],
        };
        // An Alertmanager that answered once then failed: its last alerts are kept.
        updates.push(FleetUpdate::Alerts {
            cluster: leap.clone(),
            source: SourceState::Ok,
            alerts: vec![alert],
        });
        updates.push(FleetUpdate::Alerts {
            cluster: leap.clone(),
            source: SourceState::Failing {
                error: "503".into(),
            },
            alerts: vec![],
        });
        let mut pending = server("prod", "prod", "cy");
        pending.phase = crate::fleet::PodPhase::Pending;
        pending.ready = false;
        updates.push(FleetUpdate::Pods {
            cluster: leap.clone(),
            delta: Delta::Upsert(pending),
        });
        // Its story, and an event of a pod not known yet.
        let fit = "0/3 nodes are available: 3 Insufficient cpu.";
        for (pod, name, step) in [
            ("jupyter-cy", "cy.1", Step::FailedScheduling),
            ("jupyter-cy", "cy.2", Step::TriggeredScaleUp),
            ("jupyter-dee", "dee.1", Step::FailedScheduling),
        ] {
            updates.push(FleetUpdate::PodEvents {
                cluster: leap.clone(),
                delta: Delta::Upsert(pod_event("prod", pod, name, step, fit, 590)),
            });
        }
        updates.push(FleetUpdate::Activity {
            hub: crate::fleet::fixtures::hub_id("leap", "prod"),
            source: SourceState::Ok,
            servers: vec![ServerActivity {
                user: "ada".into(),
                server: "".into(),
                ready: true,
                pending: None,
                started: Some(t0()),
                last_activity: Some(t0()),
            }],
        });
        updates.push(FleetUpdate::Latency {
            cluster: leap.clone(),
            latency: Duration::from_millis(42),
        });
        // Usage: one fresh sample, one of a hub whose figures went stale since.
        updates.push(crate::fleet::fixtures::usage(
            "leap",
            t0() + jiff::SignedDuration::from_secs(590),
            &[("prod", "jupyter-ada", 250, 3 << 30)],
        ));
        updates.push(crate::fleet::fixtures::usage(
            "nasa",
            t0(),
            &[("staging", "jupyter-bob", 100, 1 << 30)],
        ));
        updates.push(FleetUpdate::Metrics {
            cluster: leap.clone(),
            source: crate::fleet::MetricsSource {
                pods: crate::fleet::MetricsState::Served,
                nodes: crate::fleet::MetricsState::Forbidden {
                    note: "nodes is forbidden".into(),
                },
            },
        });
        // A hub failing its check from outside, twice in a row: the count survives.
        let first = crate::fleet::OutsideCheck::after(
            None,
            crate::fleet::Probe::Tls,
            Some("invalid peer certificate: UnknownIssuer".into()),
            None,
            t0(),
            200,
        );
        let second = crate::fleet::OutsideCheck::after(
            Some(&first),
            crate::fleet::Probe::Tls,
            None,
            None,
            t0() + jiff::SignedDuration::from_secs(60),
            200,
        );
        updates.push(FleetUpdate::Outside {
            cluster: leap.clone(),
            hub: "prod".into(),
            check: second,
        });
        updates.push(FleetUpdate::Status {
            cluster: ClusterId::new("nasa"),
            status: ClusterStatus::Unreachable {
                error: "connection refused".into(),
                since: t0(),
            },
        });
        live.apply_all(updates, t0());
        let later = t0() + jiff::SignedDuration::from_secs(600);
        live.refresh(later);

        let mut rebuilt = Fleet::new(limits);
        rebuilt.apply_all(live.snapshot(), later);
        assert_eq!(seen(&rebuilt), seen(&live));
        assert!(seen(&live).contains("servers_stuck: 1"), "{}", seen(&live));
        let c = live.cluster("leap").unwrap();
        assert_eq!(c.unclaimed.len(), 1);
        assert_eq!(c.outside.get("prod").map(|o| o.failures), Some(2));
        assert!(
            c.hubs
                .values()
                .any(|h| h.story("jupyter-cy").map(|s| s.len()) == Some(2))
        );
        let ada = live.hub(&crate::fleet::fixtures::hub_id("leap", "prod"));
        assert!(
            ada.and_then(|h| h.usage.pod("jupyter-ada", later))
                .is_some()
        );
    }

    #[test]
    fn every_snapshot_update_survives_a_serde_round_trip() {
        let mut f = Fleet::new(Thresholds::default());
        f.apply_all(healthy_hub("leap", "prod", &["ada"]), t0());
        f.apply_all(
            [crate::fleet::fixtures::usage(
                "leap",
                t0(),
                &[("prod", "jupyter-ada", 250, 3 << 30)],
            )],
            t0(),
        );
        assert!(
            f.snapshot()
                .iter()
                .any(|u| matches!(u, FleetUpdate::Usage { .. }))
        );
        for u in f.snapshot() {
            let json = serde_json::to_string(&u).unwrap();
            let back: FleetUpdate = serde_json::from_str(&json).unwrap();
            assert_eq!(back, u);
        }
    }
}
