use super::fixtures::{healthy_hub, pod, server, t0, workload};
use super::*;
use std::sync::Arc;

fn fleet_with(updates: Vec<FleetUpdate>) -> Fleet {
    let mut f = Fleet::new(Thresholds::default());
    f.apply_all(updates, t0());
    f
}

fn hub<'a>(f: &'a Fleet, cluster: &str, ns: &str) -> &'a HubState {
    f.cluster(cluster)
        .and_then(|c| c.hubs.values().find(|h| &*h.id.key.namespace == ns))
        .expect("hub present")
}

fn pods(cluster: &str, delta: Delta<PodInfo>) -> FleetUpdate {
    FleetUpdate::Pods {
        cluster: ClusterId::new(cluster),
        delta,
    }
}

#[test]
fn healthy_hub_counts_its_servers() {
    let f = fleet_with(healthy_hub("leap", "staging", &["ada", "grace@uni.edu"]));
    let h = hub(&f, "leap", "staging");
    assert_eq!(
        h.summary.health.level,
        HealthLevel::Ok,
        "{:?}",
        h.summary.health
    );
    assert_eq!(h.summary.servers_ready, 2);
    assert_eq!(h.summary.servers_total, 2);
    assert_eq!(f.server_count(), 2);
    assert!(f.alerts().next().is_none());
}

#[test]
fn started_and_stopped_servers_change_counts_and_version() {
    let mut f = fleet_with(healthy_hub("leap", "staging", &["ada"]));
    let v = f.version();
    f.apply(
        pods("leap", Delta::Upsert(server("staging", "staging", "bob"))),
        t0(),
    );
    f.refresh(t0());
    assert!(f.version() > v);
    assert_eq!(hub(&f, "leap", "staging").summary.servers_total, 2);
    f.apply(
        pods("leap", Delta::Remove(server("staging", "staging", "ada"))),
        t0(),
    );
    f.refresh(t0());
    let h = hub(&f, "leap", "staging");
    assert_eq!(h.summary.servers_total, 1);
    assert_eq!(
        h.servers()
            .next()
            .and_then(|p| p.owner.as_ref())
            .map(|o| &*o.user),
        Some("bob")
    );
}

#[test]
fn relist_replaces_without_duplicates_or_ghosts() {
    let mut f = fleet_with(healthy_hub("leap", "staging", &["ada", "bob"]));
    // After an expired watch the watcher re-lists: bob is gone, cy arrived meanwhile.
    let relist = vec![
        pod("staging", "staging", Component::Hub, "hub-7d9f-abcde"),
        pod("staging", "staging", Component::Proxy, "proxy-5c4b-fghij"),
        server("staging", "staging", "ada"),
        server("staging", "staging", "cy"),
    ];
    f.apply_all([pods("leap", Delta::Replace(relist.clone()))], t0());
    f.apply_all([pods("leap", Delta::Replace(relist))], t0());
    let h = hub(&f, "leap", "staging");
    let mut users: Vec<_> = h
        .servers()
        .filter_map(|p| p.owner.as_ref().map(|o| o.user.to_string()))
        .collect();
    users.sort();
    assert_eq!(users, ["ada", "cy"]);
}

#[test]
fn a_relist_with_hubs_interleaved_keeps_each_hubs_pods_and_the_later_of_two() {
    let mut f = fleet_with(healthy_hub("leap", "staging", &[]));
    let mut ada_again = server("staging", "staging", "ada");
    ada_again.restarts = 9;
    // An API server lists by namespace and name, not by hub: runs of one hub's pods alternate.
    let relist = vec![
        server("staging", "staging", "ada"),
        server("prod", "prod", "bob"),
        server("staging", "staging", "cy"),
        server("prod", "prod", "dee"),
        ada_again,
    ];
    f.apply_all([pods("leap", Delta::Replace(relist))], t0());
    let users = |ns: &str| -> Vec<(String, u32)> {
        hub(&f, "leap", ns)
            .servers()
            .filter_map(|p| Some((p.owner.as_ref()?.user.to_string(), p.restarts)))
            .collect()
    };
    assert_eq!(users("staging"), [("ada".into(), 9), ("cy".into(), 0)]);
    assert_eq!(users("prod"), [("bob".into(), 0), ("dee".into(), 0)]);
}

#[test]
fn crashlooping_proxy_degrades_hub_and_raises_derived_alert() {
    let mut updates = healthy_hub("nasa", "prod", &[]);
    let mut proxy = pod("prod", "prod", Component::Proxy, "proxy-5c4b-fghij");
    proxy.ready = false;
    proxy.restarts = 42;
    proxy.reason = Some("CrashLoopBackOff".into());
    updates.push(pods("nasa", Delta::Upsert(proxy)));
    let f = fleet_with(updates);
    let h = hub(&f, "nasa", "prod");
    assert_eq!(h.summary.health.level, HealthLevel::Degraded);
    assert!(h.summary.health.reason.contains("proxy-5c4b-fghij"));
    let alerts: Vec<_> = f.alerts().map(|(_, a)| a).collect();
    assert_eq!(alerts.len(), 1);
    assert_eq!(&*alerts[0].name, "PodCrashLooping");
    assert_eq!(alerts[0].origin, AlertOrigin::Derived);
    assert_eq!(alerts[0].pod.as_deref(), Some("proxy-5c4b-fghij"));
}

#[test]
fn hub_scaled_to_zero_is_down() {
    let mut updates = healthy_hub("leap", "prod", &[]);
    let mut w = workload("prod", "prod", Component::Hub, "hub", 0);
    w.ready = 0;
    updates.push(FleetUpdate::Workloads {
        cluster: ClusterId::new("leap"),
        kind: WorkloadKind::Deployment,
        delta: Delta::Upsert(w),
    });
    let f = fleet_with(updates);
    let h = hub(&f, "leap", "prod");
    assert_eq!(h.summary.health.level, HealthLevel::Down);
    assert_eq!(h.summary.health.reason, "hub scaled to 0");
}

#[test]
fn pending_server_becomes_stuck_as_time_passes() {
    let mut updates = healthy_hub("leap", "prod", &[]);
    let mut p = server("prod", "prod", "late");
    p.phase = PodPhase::Pending;
    p.ready = false;
    updates.push(pods("leap", Delta::Upsert(p)));
    let mut f = fleet_with(updates);
    assert_eq!(hub(&f, "leap", "prod").summary.servers_pending, 1);
    assert_eq!(
        hub(&f, "leap", "prod").summary.health.level,
        HealthLevel::Ok
    );
    let later = t0() + jiff::SignedDuration::from_secs(600);
    assert!(f.refresh(later), "time alone changed health");
    let h = hub(&f, "leap", "prod");
    assert_eq!(h.summary.servers_stuck, 1);
    assert_eq!(h.summary.health.level, HealthLevel::Degraded);
    assert!(
        f.alerts()
            .any(|(_, a)| &*a.name == "UserServersPendingTooLong")
    );
}

#[test]
fn unreachable_cluster_marks_hubs_unknown_and_alerts_once() {
    let mut f = fleet_with(healthy_hub("utoronto", "prod", &["ada"]));
    f.apply_all(
        [FleetUpdate::Status {
            cluster: ClusterId::new("utoronto"),
            status: ClusterStatus::Unreachable {
                error: "connection refused".into(),
                since: t0(),
            },
        }],
        t0(),
    );
    assert_eq!(
        hub(&f, "utoronto", "prod").summary.health.level,
        HealthLevel::Unknown
    );
    let names: Vec<_> = f.alerts().map(|(_, a)| a.name.to_string()).collect();
    assert_eq!(names, ["ClusterUnreachable"]);
    // The last known servers are kept while unreachable.
    assert_eq!(f.server_count(), 1);
}

#[test]
fn updates_for_unknown_clusters_are_ignored() {
    let mut f = Fleet::default();
    let changed = f.apply(pods("ghost", Delta::Upsert(server("a", "a", "u"))), t0());
    assert!(!changed);
    assert_eq!(f.version(), 0);
}

#[test]
fn hub_disappears_when_its_release_is_uninstalled() {
    let mut f = fleet_with(healthy_hub("leap", "staging", &["ada"]));
    f.apply_all(
        [
            FleetUpdate::Workloads {
                cluster: ClusterId::new("leap"),
                kind: WorkloadKind::Deployment,
                delta: Delta::Replace(vec![]),
            },
            FleetUpdate::Workloads {
                cluster: ClusterId::new("leap"),
                kind: WorkloadKind::StatefulSet,
                delta: Delta::Replace(vec![]),
            },
            pods("leap", Delta::Replace(vec![])),
        ],
        t0(),
    );
    assert_eq!(f.hubs().count(), 0);
}

#[test]
fn events_ring_is_bounded() {
    let mut f = fleet_with(healthy_hub("leap", "staging", &[]));
    for i in 0..(EVENTS_PER_CLUSTER + 10) {
        let e = EventInfo {
            key: ObjectKey {
                namespace: "staging".into(),
                name: format!("e{i}").into(),
            },
            object: "Pod/x".into(),
            reason: "BackOff".into(),
            message: "Back-off restarting failed container".into(),
            count: 1,
            last_seen: Some(t0()),
        };
        f.apply(
            FleetUpdate::Events {
                cluster: ClusterId::new("leap"),
                delta: Delta::Upsert(e),
            },
            t0(),
        );
    }
    let c = f.cluster("leap").expect("cluster");
    assert_eq!(c.events.len(), EVENTS_PER_CLUSTER);
    assert_eq!(&*c.events.back().expect("last").key.name, "e509");
}

#[test]
fn statefulset_relist_keeps_deployments() {
    let mut f = fleet_with(healthy_hub("leap", "staging", &[]));
    f.apply_all(
        [FleetUpdate::Workloads {
            cluster: ClusterId::new("leap"),
            kind: WorkloadKind::StatefulSet,
            delta: Delta::Replace(vec![]),
        }],
        t0(),
    );
    let h = hub(&f, "leap", "staging");
    assert!(
        h.summary.hub.is_some(),
        "hub Deployment survives a StatefulSet re-list"
    );
    assert!(h.summary.placeholders.is_none());
}

#[test]
fn an_unchanged_object_sent_again_costs_no_redraw() {
    let mut f = fleet_with(healthy_hub("leap", "staging", &["ada"]));
    let v = f.version();
    let same = server("staging", "staging", "ada");
    assert!(!f.apply(pods("leap", Delta::Upsert(same.clone())), t0()));
    assert!(!f.refresh(t0()));
    assert_eq!(f.version(), v);
    let mut changed = same;
    changed.restarts = 1;
    assert!(f.apply(pods("leap", Delta::Upsert(changed)), t0()));
}

#[test]
fn hub_api_activity_is_found_by_pod_and_shares_the_pod_owner_names() {
    let mut f = fleet_with(healthy_hub("leap", "staging", &["ada", "grace@uni.edu"]));
    let id = hub(&f, "leap", "staging").id.clone();
    let seen = |user: &str, pending: Option<PendingAction>| ServerActivity {
        user: user.into(),
        server: "".into(),
        ready: pending.is_none(),
        pending,
        started: Some(t0()),
        last_activity: Some(t0()),
    };
    f.apply_all(
        [FleetUpdate::Activity {
            hub: id,
            source: SourceState::Ok,
            servers: vec![
                seen("zoe", Some(PendingAction::Spawn)),
                seen("grace@uni.edu", None),
                seen("ada", Some(PendingAction::Stop)),
            ],
        }],
        t0(),
    );
    let h = hub(&f, "leap", "staging");
    for p in h.servers() {
        let owner = p.owner.as_ref().expect("owner");
        let a = h.activity_of(p).expect("activity of a running server");
        assert_eq!(a.user, owner.user);
        assert!(
            Arc::ptr_eq(&a.user, &owner.user),
            "one copy of {}",
            owner.user
        );
    }
    assert_eq!(
        h.activity.get("ada", "").and_then(|a| a.pending),
        Some(PendingAction::Stop)
    );
    assert!(
        h.activity.get("zoe", "").is_some(),
        "a server without a pod yet"
    );
    assert!(h.activity.get("nobody", "").is_none());
}

fn changed_since(f: &Fleet, v: u64) -> Option<Vec<Change>> {
    f.changes_since(v).map(|it| {
        let mut all: Vec<Change> = it.cloned().collect();
        all.sort();
        all.dedup();
        all
    })
}

#[test]
fn a_started_server_is_listed_as_changed_with_its_hub_summary() {
    let mut f = fleet_with(healthy_hub("leap", "staging", &["ada"]));
    let id = hub(&f, "leap", "staging").id.clone();
    let v = f.version();
    f.apply(
        pods("leap", Delta::Upsert(server("staging", "staging", "bob"))),
        t0(),
    );
    f.refresh(t0());
    assert_eq!(
        changed_since(&f, v),
        Some(vec![
            Change::Hub(id.clone()),
            Change::Pod(id.clone(), "jupyter-bob".into())
        ])
    );
    assert_eq!(changed_since(&f, f.version()), Some(vec![]));
}

#[test]
fn a_stopped_server_is_listed_as_changed() {
    let mut f = fleet_with(healthy_hub("leap", "staging", &["ada", "bob"]));
    let id = hub(&f, "leap", "staging").id.clone();
    let v = f.version();
    f.apply(
        pods("leap", Delta::Remove(server("staging", "staging", "bob"))),
        t0(),
    );
    let changed = changed_since(&f, v).unwrap_or_default();
    assert_eq!(changed, vec![Change::Pod(id, "jupyter-bob".into())]);
}

#[test]
fn hub_activity_marks_every_server_of_the_hub() {
    let mut f = fleet_with(healthy_hub("leap", "staging", &["ada"]));
    let id = hub(&f, "leap", "staging").id.clone();
    let v = f.version();
    f.apply(
        FleetUpdate::Activity {
            hub: id.clone(),
            source: SourceState::Ok,
            servers: Vec::new(),
        },
        t0(),
    );
    assert_eq!(changed_since(&f, v), Some(vec![Change::Servers(id)]));
}

#[test]
fn a_hub_that_loses_its_last_object_is_listed_as_changed() {
    let mut f = fleet_with(vec![
        FleetUpdate::ClusterAdded {
            cluster: ClusterId::new("leap"),
            meta: ClusterMeta::default(),
        },
        pods("leap", Delta::Upsert(server("lone", "lone", "ada"))),
    ]);
    let id = hub(&f, "leap", "lone").id.clone();
    let v = f.version();
    f.apply(
        pods("leap", Delta::Remove(server("lone", "lone", "ada"))),
        t0(),
    );
    assert!(f.cluster("leap").is_some_and(|c| c.hubs.is_empty()));
    assert_eq!(
        changed_since(&f, v),
        Some(vec![
            Change::Hub(id.clone()),
            Change::Pod(id, "jupyter-ada".into())
        ])
    );
}

#[test]
fn a_pod_relist_makes_views_rebuild() {
    let mut f = fleet_with(healthy_hub("leap", "staging", &["ada"]));
    let v = f.version();
    f.apply(
        pods(
            "leap",
            Delta::Replace(vec![server("staging", "staging", "ada")]),
        ),
        t0(),
    );
    assert_eq!(changed_since(&f, v), None);
    assert_eq!(changed_since(&f, f.version()), Some(vec![]));
}

#[test]
fn a_resent_unchanged_pod_lists_nothing() {
    let mut f = fleet_with(healthy_hub("leap", "staging", &["ada"]));
    let v = f.version();
    f.apply(
        pods("leap", Delta::Upsert(server("staging", "staging", "ada"))),
        t0(),
    );
    assert_eq!(changed_since(&f, v), Some(vec![]));
}

#[test]
fn cluster_events_and_alerts_are_listed_by_cluster_and_pod_churn_lists_none_of_them() {
    let mut f = fleet_with(healthy_hub("leap", "staging", &["ada"]));
    let v = f.version();
    f.apply_all(
        vec![pods(
            "leap",
            Delta::Upsert(server("staging", "staging", "bob")),
        )],
        t0(),
    );
    let cluster_level = |f: &Fleet, v| {
        changed_since(f, v)
            .unwrap_or_default()
            .into_iter()
            .filter(|c| {
                matches!(
                    c,
                    Change::Cluster(_) | Change::Alerts(_) | Change::Events(_)
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(cluster_level(&f, v), vec![]);
    let v = f.version();
    let leap = ClusterId::new("leap");
    f.apply_all(
        vec![
            FleetUpdate::Latency {
                cluster: leap.clone(),
                latency: std::time::Duration::from_millis(9),
            },
            FleetUpdate::Events {
                cluster: leap.clone(),
                delta: Delta::Replace(Vec::new()),
            },
            FleetUpdate::Alerts {
                cluster: leap.clone(),
                source: SourceState::Ok,
                alerts: Vec::new(),
            },
        ],
        t0(),
    );
    assert_eq!(
        cluster_level(&f, v),
        vec![
            Change::Cluster(leap.clone()),
            Change::Alerts(leap.clone()),
            Change::Events(leap)
        ]
    );
}
