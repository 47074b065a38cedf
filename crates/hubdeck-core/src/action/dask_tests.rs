//! Stopping a user's dask clusters: bound to the clusters the model shows running, planned as
//! one `DaskCluster` patch each.

use super::*;
use crate::fleet::fixtures::{dask_cluster, dask_gateway, healthy_hub, t0};
use crate::fleet::{ClusterId, DaskDelta, Delta, Fleet, FleetUpdate, HubRef, Thresholds};

fn fleet(users: &[(&str, u32)]) -> Fleet {
    let mut u = healthy_hub("leap", "prod", &["ada", "bob"]);
    u.extend(dask_gateway("leap", "prod", users));
    let mut f = Fleet::new(Thresholds::default());
    f.apply_all(u, t0());
    f
}

fn stop(user: &str) -> Request {
    Request::StopDask {
        hub: "leap/prod".parse::<HubRef>().unwrap(),
        user: user.into(),
    }
}

#[test]
fn each_running_cluster_of_the_user_is_one_patch_of_spec_active() {
    let f = fleet(&[("ada", 2), ("bob", 1), ("ada", 0)]);
    let a = resolve(&f, &stop("ada"), t0()).unwrap();
    let Action::StopDaskClusters { clusters, user, .. } = &a else {
        panic!("not a dask stop: {a:?}");
    };
    assert_eq!(user, "ada");
    assert_eq!(clusters, &[format!("{:032x}", 0), format!("{:032x}", 2)]);
    let plan = a.plan(false);
    assert_eq!(plan.summary, "stop 2 dask clusters of leap/prod/ada");
    assert_eq!(plan.confirm, Confirm::Explicit);
    let calls: Vec<String> = plan
        .steps
        .iter()
        .map(|s| match &s.via {
            Via::Kubernetes { call } => format!(
                "{} {}/{} {}/{}",
                call.verb, call.group, call.resource, call.namespace, call.name
            ),
            other => panic!("not a Kubernetes step: {other:?}"),
        })
        .collect();
    assert_eq!(
        calls,
        [
            format!("patch gateway.dask.org/daskclusters prod/{:032x}", 0),
            format!("patch gateway.dask.org/daskclusters prod/{:032x}", 2),
        ]
    );
    assert!(plan.warnings.iter().any(|w| w.contains("lost")));
    assert_eq!(a.name(), "stop-dask-clusters");
    assert_eq!(a.target(), "leap/prod/ada");
}

#[test]
fn a_user_without_running_clusters_is_nothing_to_do() {
    let f = fleet(&[("bob", 1)]);
    let err = resolve(&f, &stop("ada"), t0()).unwrap_err();
    assert_eq!(
        err,
        ResolveError::NothingToDo("ada has no running dask cluster on leap/prod".into())
    );
}

#[test]
fn the_effect_shows_once_the_clusters_stop_running() {
    let mut f = fleet(&[("ada", 1)]);
    let a = resolve(&f, &stop("ada"), t0()).unwrap();
    assert!(!effect_visible(&f, &a, t0()));
    let mut c = dask_cluster("prod", &format!("{:032x}", 0), "ada");
    c.active = false;
    f.apply(
        FleetUpdate::Dask {
            cluster: ClusterId::new("leap"),
            delta: DaskDelta::Clusters(Delta::Upsert(c)),
        },
        t0(),
    );
    assert!(effect_visible(&f, &a, t0()));
}
