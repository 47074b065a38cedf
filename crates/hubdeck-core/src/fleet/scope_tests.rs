//! Namespace-scoped watches: one namespace's (re-)list leaves the others' objects alone, and a
//! narrower scope drops what it no longer covers.

use super::fixtures::{healthy_hub, hub_id, server, t0, workload};
use super::*;

fn two_hubs() -> Fleet {
    let mut f = Fleet::new(Thresholds::default());
    f.apply_all(healthy_hub("leap", "a", &["ada"]), t0());
    // A second hub arrives by upserts, as from its own namespace's watch.
    let c = ClusterId::new("leap");
    f.apply_all(
        [
            FleetUpdate::Workloads {
                cluster: c.clone(),
                kind: WorkloadKind::Deployment,
                delta: Delta::Upsert(workload("b", "b", Component::Hub, "hub", 1)),
            },
            FleetUpdate::Pods {
                cluster: c,
                delta: Delta::Upsert(server("b", "b", "bea")),
            },
        ],
        t0(),
    );
    f
}

fn users(f: &Fleet, ns: &str) -> Vec<String> {
    f.hub(&hub_id("leap", ns))
        .map(|h| {
            h.servers()
                .filter_map(|p| p.owner.as_ref().map(|o| o.user.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_namespace_relist_replaces_only_that_namespace() {
    let mut f = two_hubs();
    let c = ClusterId::new("leap");
    f.apply_all(
        [
            FleetUpdate::Pods {
                cluster: c.clone(),
                delta: Delta::ReplaceIn("b".into(), vec![server("b", "b", "bo")]),
            },
            FleetUpdate::Workloads {
                cluster: c.clone(),
                kind: WorkloadKind::Deployment,
                delta: Delta::ReplaceIn(
                    "b".into(),
                    vec![workload("b", "b", Component::Hub, "hub", 1)],
                ),
            },
            FleetUpdate::Events {
                cluster: c,
                delta: Delta::ReplaceIn("b".into(), Vec::new()),
            },
        ],
        t0(),
    );
    assert_eq!(
        users(&f, "a"),
        ["ada"],
        "namespace a's pods survive b's list"
    );
    assert_eq!(users(&f, "b"), ["bo"]);
    assert!(
        f.hub(&hub_id("leap", "a"))
            .is_some_and(|h| h.summary.hub.is_some())
    );

    // An empty list of `a` empties `a` only.
    f.apply_all(
        [
            FleetUpdate::Pods {
                cluster: ClusterId::new("leap"),
                delta: Delta::ReplaceIn("a".into(), Vec::new()),
            },
            FleetUpdate::Workloads {
                cluster: ClusterId::new("leap"),
                kind: WorkloadKind::Deployment,
                delta: Delta::ReplaceIn("a".into(), Vec::new()),
            },
            FleetUpdate::Workloads {
                cluster: ClusterId::new("leap"),
                kind: WorkloadKind::StatefulSet,
                delta: Delta::ReplaceIn("a".into(), Vec::new()),
            },
        ],
        t0(),
    );
    assert!(f.hub(&hub_id("leap", "a")).is_none());
    assert_eq!(users(&f, "b"), ["bo"]);
}

#[test]
fn a_narrower_scope_drops_what_it_does_not_cover_and_says_so() {
    let mut f = two_hubs();
    let v = f.version();
    let scope = Scope::Namespaces(vec!["b".into()]);
    f.apply_all(
        [FleetUpdate::Scope {
            cluster: ClusterId::new("leap"),
            scope: scope.clone(),
        }],
        t0(),
    );
    assert!(f.version() > v);
    assert!(f.hub(&hub_id("leap", "a")).is_none());
    assert_eq!(users(&f, "b"), ["bea"]);
    let c = f.cluster("leap").unwrap();
    assert_eq!(c.scope, scope);
    assert_eq!(c.scope.to_string(), "namespaces b");
    assert_eq!(Scope::ClusterWide.to_string(), "cluster-wide");
    // Late news from the cluster-wide watches the scope replaced is not taken.
    let v = f.version();
    f.apply_all(
        [
            FleetUpdate::Pods {
                cluster: ClusterId::new("leap"),
                delta: Delta::Upsert(server("a", "a", "late")),
            },
            FleetUpdate::Pods {
                cluster: ClusterId::new("leap"),
                delta: Delta::Replace(vec![server("a", "a", "late")]),
            },
        ],
        t0(),
    );
    assert_eq!(f.version(), v);
    assert!(f.hub(&hub_id("leap", "a")).is_none());
    assert_eq!(users(&f, "b"), ["bea"]);
    let v = f.version();
    f.apply(
        FleetUpdate::Scope {
            cluster: ClusterId::new("leap"),
            scope,
        },
        t0(),
    );
    assert_eq!(f.version(), v, "the same scope again is no change");
}
