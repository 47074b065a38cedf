//! Drift between the deployment repository and the clusters, both ways.

use super::fixtures::{healthy_hub, t0, workload};
use super::*;

fn declared(name: &str, chart: Chart) -> DeclaredHub {
    DeclaredHub {
        name: name.into(),
        display_name: Some(format!("{name} hub").into()),
        domain: Some(format!("{name}.example.org").into()),
        chart,
        expected_status: 200,
    }
}

fn declare(cluster: &str, hubs: &[&str]) -> FleetUpdate {
    FleetUpdate::Declared {
        cluster: ClusterId::new(cluster),
        hubs: hubs.iter().map(|h| declared(h, Chart::Basehub)).collect(),
    }
}

fn fleet(updates: Vec<FleetUpdate>) -> Fleet {
    let mut f = Fleet::new(Thresholds::default());
    f.apply_all(updates, t0());
    f
}

fn state<'a>(f: &'a Fleet, ns: &str) -> (Declaration, &'a HubState) {
    let c = f.cluster("leap").expect("cluster");
    let h = c
        .hubs
        .values()
        .find(|h| &*h.id.key.namespace == ns)
        .unwrap_or_else(|| panic!("no row for {ns}"));
    (c.declaration(h), h)
}

#[test]
fn a_declared_hub_the_cluster_does_not_run_is_a_missing_row_and_an_alert() {
    let mut u = healthy_hub("leap", "prod", &["ada"]);
    u.push(declare("leap", &["prod", "staging"]));
    let f = fleet(u);
    let (d, prod) = state(&f, "prod");
    assert_eq!(d, Declaration::Declared);
    assert_eq!(prod.summary.health.level, HealthLevel::Ok);
    let (d, staging) = state(&f, "staging");
    assert_eq!(d, Declaration::Missing);
    assert_eq!(staging.summary.health.level, HealthLevel::Missing);
    assert_eq!(
        staging.declared.as_ref().unwrap().domain.as_deref(),
        Some("staging.example.org")
    );
    let alerts: Vec<_> = f
        .alerts()
        .map(|(_, a)| (&*a.name, a.namespace.as_deref()))
        .collect();
    assert_eq!(alerts, [("HubMissing", Some("staging"))]);
}

#[test]
fn a_hub_running_but_declared_nowhere_is_undeclared_and_without_a_repository_unknown() {
    let mut u = healthy_hub("leap", "prod", &[]);
    u.push(FleetUpdate::Workloads {
        cluster: ClusterId::new("leap"),
        kind: WorkloadKind::Deployment,
        delta: Delta::Upsert(workload("scratch", "scratch", Component::Hub, "hub", 1)),
    });
    let plain = fleet(u.clone());
    assert_eq!(state(&plain, "scratch").0, Declaration::Unknown);
    u.push(declare("leap", &["prod"]));
    let f = fleet(u);
    assert_eq!(state(&f, "scratch").0, Declaration::Undeclared);
    assert_eq!(state(&f, "prod").0, Declaration::Declared);
    assert!(
        f.alerts().next().is_none(),
        "undeclared is a flag, not an alert"
    );
}

#[test]
fn before_the_cluster_is_listed_a_declared_hub_is_unknown_not_missing() {
    let mut u = healthy_hub("leap", "prod", &[]);
    u.push(FleetUpdate::Status {
        cluster: ClusterId::new("leap"),
        status: ClusterStatus::Connecting,
    });
    u.push(declare("leap", &["prod", "staging"]));
    let f = fleet(u);
    assert_eq!(
        state(&f, "staging").1.summary.health.level,
        HealthLevel::Unknown
    );
    assert!(f.alerts().all(|(_, a)| &*a.name != "HubMissing"));
}

#[test]
fn the_missing_row_gives_way_when_the_hub_appears_under_another_release_name() {
    let mut u = healthy_hub("leap", "prod", &[]);
    u.push(declare("leap", &["prod", "staging"]));
    let mut f = fleet(u);
    f.apply_all(
        [FleetUpdate::Workloads {
            cluster: ClusterId::new("leap"),
            kind: WorkloadKind::Deployment,
            delta: Delta::Upsert(workload("staging", "staging-jh", Component::Hub, "hub", 1)),
        }],
        t0(),
    );
    let c = f.cluster("leap").unwrap();
    let staging: Vec<_> = c
        .hubs
        .values()
        .filter(|h| &*h.id.key.namespace == "staging")
        .collect();
    assert_eq!(staging.len(), 1, "one row for the namespace");
    assert_eq!(&*staging[0].id.key.release, "staging-jh");
    assert_eq!(c.declaration(staging[0]), Declaration::Declared);
    assert!(f.alerts().all(|(_, a)| &*a.name != "HubMissing"));
}

#[test]
fn a_hub_that_goes_away_stays_as_missing_while_declared() {
    let mut u = healthy_hub("leap", "prod", &["ada"]);
    u.push(declare("leap", &["prod"]));
    let mut f = fleet(u);
    for kind in [WorkloadKind::Deployment, WorkloadKind::StatefulSet] {
        f.apply(
            FleetUpdate::Workloads {
                cluster: ClusterId::new("leap"),
                kind,
                delta: Delta::Replace(Vec::new()),
            },
            t0(),
        );
    }
    f.apply_all(
        [FleetUpdate::Pods {
            cluster: ClusterId::new("leap"),
            delta: Delta::Replace(Vec::new()),
        }],
        t0(),
    );
    let (d, h) = state(&f, "prod");
    assert_eq!(d, Declaration::Missing);
    assert_eq!(h.summary.health.level, HealthLevel::Missing);
}
