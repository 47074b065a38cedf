//! dask-gateway in the model: component health, chart drift both ways, users' clusters.

use super::fixtures::{dask_cluster, dask_gateway, dask_pod, healthy_hub, hub_id, server, t0};
use super::*;

fn fleet(updates: Vec<FleetUpdate>) -> Fleet {
    let mut f = Fleet::new(Thresholds::default());
    f.apply_all(updates, t0());
    f
}

fn daskhub(users: &[(&str, u32)]) -> Vec<FleetUpdate> {
    let mut u = healthy_hub("leap", "staging", &["ada", "bo"]);
    u.extend(dask_gateway("leap", "staging", users));
    u
}

fn hub(f: &Fleet) -> &HubState {
    f.hub(&hub_id("leap", "staging")).expect("hub")
}

fn declare(chart: Chart) -> FleetUpdate {
    FleetUpdate::Declared {
        cluster: ClusterId::new("leap"),
        hubs: vec![DeclaredHub {
            name: "staging".into(),
            display_name: None,
            domain: None,
            chart,
            expected_status: 200,
        }],
    }
}

fn dask(delta: DaskDelta) -> FleetUpdate {
    FleetUpdate::Dask {
        cluster: ClusterId::new("leap"),
        delta,
    }
}

#[test]
fn a_user_row_counts_their_running_clusters_and_workers() {
    let f = fleet(daskhub(&[("ada", 3), ("ada", 4), ("bo", 0)]));
    let h = hub(&f);
    let ada = server("staging", "staging", "ada");
    let bo = server("staging", "staging", "bo");
    let cy = server("staging", "staging", "cy");
    assert_eq!(
        h.dask_of(&ada).map(|d| d.cell()).as_deref(),
        Some("dask 2/7")
    );
    assert_eq!(
        h.dask_of(&bo).map(|d| d.cell()).as_deref(),
        Some("dask 1/0")
    );
    assert_eq!(h.dask_of(&cy), None);
    assert_eq!(h.summary.health.level, HealthLevel::Ok);
    assert_eq!(f.dask_clusters_of(&h.id, "ada").count(), 2);
}

#[test]
fn a_stopped_cluster_and_finished_workers_are_not_counted() {
    let mut f = fleet(daskhub(&[("ada", 3)]));
    let mut stopped = dask_cluster("staging", &format!("{:032x}", 0), "ada");
    stopped.active = false;
    f.apply(dask(DaskDelta::Clusters(Delta::Upsert(stopped))), t0());
    f.refresh(t0());
    let ada = server("staging", "staging", "ada");
    assert_eq!(hub(&f).dask_of(&ada), None);
    assert_eq!(f.dask_clusters_of(&hub(&f).id, "ada").count(), 0);

    let mut f = fleet(daskhub(&[("ada", 2)]));
    let mut done = dask_pod(
        "staging",
        DaskRole::Worker,
        &format!("dask-worker-{:032x}-00000", 0),
        Some(&format!("{:032x}", 0)),
    );
    done.phase = PodPhase::Succeeded;
    f.apply(dask(DaskDelta::Pods(Delta::Upsert(done))), t0());
    f.refresh(t0());
    assert_eq!(hub(&f).dask_of(&ada).map(|d| d.workers), Some(1));
}

#[test]
fn a_gateway_component_down_degrades_the_hub_and_is_named() {
    let mut f = fleet(daskhub(&[]));
    let mut controller = dask_pod(
        "staging",
        DaskRole::Controller,
        "controller-daskhub-dask-gateway-5d4b",
        None,
    );
    controller.ready = false;
    f.apply(dask(DaskDelta::Pods(Delta::Upsert(controller))), t0());
    f.refresh(t0());
    let health = &hub(&f).summary.health;
    assert_eq!(health.level, HealthLevel::Degraded);
    assert_eq!(health.reason, "dask-gateway controller down");

    let traefik = dask_pod(
        "staging",
        DaskRole::Traefik,
        "traefik-daskhub-dask-gateway-7a8e",
        None,
    );
    f.apply(dask(DaskDelta::Pods(Delta::Remove(traefik))), t0());
    f.refresh(t0());
    assert_eq!(
        hub(&f).summary.health.reason,
        "dask-gateway controller down; dask-gateway traefik missing"
    );
}

#[test]
fn a_hub_down_keeps_its_level_and_adds_the_gateway_reason() {
    let mut updates = daskhub(&[]);
    let mut hub_pod_gone =
        super::fixtures::workload("staging", "staging", Component::Hub, "hub", 1);
    hub_pod_gone.ready = 0;
    updates.push(FleetUpdate::Workloads {
        cluster: ClusterId::new("leap"),
        kind: WorkloadKind::Deployment,
        delta: Delta::Upsert(hub_pod_gone),
    });
    let mut gateway = dask_pod(
        "staging",
        DaskRole::Gateway,
        "api-daskhub-dask-gateway-6f7c",
        None,
    );
    gateway.phase = PodPhase::Pending;
    gateway.ready = false;
    updates.push(dask(DaskDelta::Pods(Delta::Upsert(gateway))));
    let f = fleet(updates);
    let health = &hub(&f).summary.health;
    assert_eq!(health.level, HealthLevel::Down);
    assert_eq!(health.reason, "hub not ready; dask-gateway gateway down");
}

#[test]
fn a_declared_daskhub_without_the_gateway_is_chart_drift() {
    let mut updates = healthy_hub("leap", "staging", &[]);
    updates.push(declare(Chart::Daskhub));
    let f = fleet(updates);
    let s = &hub(&f).summary;
    assert_eq!(
        s.chart_drift,
        Some("declared daskhub, runs no dask-gateway")
    );
    assert_eq!(s.health.level, HealthLevel::Degraded);
    assert_eq!(
        s.health.reason,
        "chart drift: declared daskhub, runs no dask-gateway"
    );

    let mut updates = daskhub(&[]);
    updates.push(declare(Chart::Daskhub));
    let f = fleet(updates);
    assert_eq!(hub(&f).summary.chart_drift, None);
    assert_eq!(hub(&f).summary.health.level, HealthLevel::Ok);
}

#[test]
fn a_hub_running_the_gateway_but_declared_basehub_is_chart_drift() {
    let mut updates = daskhub(&[]);
    updates.push(declare(Chart::Basehub));
    let f = fleet(updates);
    assert_eq!(
        hub(&f).summary.chart_drift,
        Some("declared basehub, runs dask-gateway")
    );
    // Without a repository there is nothing to drift from.
    let f = fleet(daskhub(&[]));
    assert_eq!(hub(&f).summary.chart_drift, None);
}

#[test]
fn drift_waits_for_the_cluster_to_be_listed() {
    let mut updates = healthy_hub("leap", "staging", &[]);
    updates.push(declare(Chart::Daskhub));
    updates.push(FleetUpdate::Status {
        cluster: ClusterId::new("leap"),
        status: ClusterStatus::Connecting,
    });
    let f = fleet(updates);
    assert_eq!(hub(&f).summary.chart_drift, None);
}

/// A second namespace's gateway and one cluster of `cy`, as its namespace's watches list them.
fn other_namespace() -> Vec<FleetUpdate> {
    fn in_other<T>(d: Delta<T>) -> Delta<T> {
        match d {
            Delta::Replace(all) => Delta::ReplaceIn("other".into(), all),
            other => other,
        }
    }
    dask_gateway("leap", "other", &[("cy", 2)])
        .into_iter()
        .map(|u| match u {
            FleetUpdate::Dask {
                cluster,
                delta: DaskDelta::Pods(d),
            } => dask_in(cluster, DaskDelta::Pods(in_other(d))),
            FleetUpdate::Dask {
                cluster,
                delta: DaskDelta::Clusters(d),
            } => dask_in(cluster, DaskDelta::Clusters(in_other(d))),
            other => other,
        })
        .collect()
}

fn dask_in(cluster: ClusterId, delta: DaskDelta) -> FleetUpdate {
    FleetUpdate::Dask { cluster, delta }
}

#[test]
fn a_narrower_scope_drops_the_dask_objects_outside_it() {
    let mut updates = daskhub(&[("ada", 1)]);
    updates.extend(other_namespace());
    let mut f = fleet(updates);
    assert_eq!(f.cluster("leap").map(|c| c.dask.pods().count()), Some(11));
    f.apply(
        FleetUpdate::Scope {
            cluster: ClusterId::new("leap"),
            scope: Scope::Namespaces(vec!["staging".into()]),
        },
        t0(),
    );
    let c = f.cluster("leap").expect("cluster");
    assert!(c.dask.pods().all(|p| &*p.key.namespace == "staging"));
    assert_eq!(c.dask.clusters().count(), 1);
}

#[test]
fn a_namespace_list_replaces_only_that_namespace() {
    let mut updates = daskhub(&[("ada", 1)]);
    updates.extend(other_namespace());
    let mut f = fleet(updates);
    f.apply(
        dask(DaskDelta::Clusters(Delta::ReplaceIn(
            "other".into(),
            Vec::new(),
        ))),
        t0(),
    );
    f.refresh(t0());
    let c = f.cluster("leap").expect("cluster");
    let users: Vec<&str> = c.dask.clusters().map(|k| &*k.user).collect();
    assert_eq!(users, ["ada"]);
    let ada = server("staging", "staging", "ada");
    assert_eq!(
        hub(&f).dask_of(&ada).map(|d| d.cell()).as_deref(),
        Some("dask 1/1")
    );
}

#[test]
fn a_resent_unchanged_object_is_not_a_change() {
    let mut f = fleet(daskhub(&[("ada", 1)]));
    let same = dask_cluster("staging", &format!("{:032x}", 0), "ada");
    assert!(!f.apply(dask(DaskDelta::Clusters(Delta::Upsert(same))), t0()));
}

#[test]
fn the_snapshot_rebuilds_the_dask_counts() {
    let f = fleet(daskhub(&[("ada", 3)]));
    let again = fleet(f.snapshot());
    let ada = server("staging", "staging", "ada");
    assert_eq!(hub(&again).dask_of(&ada), hub(&f).dask_of(&ada));
    assert_eq!(hub(&again).summary.dask, hub(&f).summary.dask);
}
