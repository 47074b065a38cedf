use std::collections::BTreeMap;

use super::fixtures::{healthy_hub, node, server, t0};
use super::*;

fn nodes(cluster: &str, delta: Delta<NodeInfo>) -> FleetUpdate {
    FleetUpdate::Nodes {
        cluster: ClusterId::new(cluster),
        delta,
    }
}

#[test]
fn the_pool_is_the_first_label_set_in_provider_order() {
    let labels = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| pairs.iter().find(|(l, _)| *l == k).map(|(_, v)| *v)
    };
    assert_eq!(
        pool_of(labels(&[("cloud.google.com/gke-nodepool", "user-pool")])),
        "user-pool"
    );
    assert_eq!(
        pool_of(labels(&[
            ("alpha.eksctl.io/nodegroup-name", "ng-eksctl"),
            ("eks.amazonaws.com/nodegroup", "ng-managed"),
        ])),
        "ng-managed",
        "the managed node group label comes before eksctl's"
    );
    assert_eq!(pool_of(labels(&[("agentpool", "legacy")])), "legacy");
    assert_eq!(
        pool_of(labels(&[
            ("agentpool", "legacy"),
            ("kubernetes.azure.com/agentpool", "new")
        ])),
        "new"
    );
    assert_eq!(
        pool_of(labels(&[("karpenter.sh/nodepool", "default")])),
        "default"
    );
    assert_eq!(pool_of(labels(&[("kubernetes.io/hostname", "n1")])), "");
}

#[test]
fn nodes_are_kept_per_cluster_and_sorted_and_replaced_by_a_list() {
    let mut f = Fleet::new(Thresholds::default());
    f.apply_all(healthy_hub("leap", "prod", &[]), t0());
    let v = f.version();
    f.apply(nodes("leap", Delta::Upsert(node("n-b", "user"))), t0());
    f.apply(nodes("leap", Delta::Upsert(node("n-a", "core"))), t0());
    assert!(f.version() > v);
    assert!(
        !f.apply(nodes("leap", Delta::Upsert(node("n-a", "core"))), t0()),
        "an unchanged node costs no redraw"
    );
    let names = |f: &Fleet| -> Vec<String> {
        f.cluster("leap")
            .map(|c| c.nodes.values().map(|n| n.name.to_string()).collect())
            .unwrap_or_default()
    };
    assert_eq!(names(&f), ["n-a", "n-b"]);
    f.apply(nodes("leap", Delta::Remove(node("n-a", "core"))), t0());
    assert_eq!(names(&f), ["n-b"]);
    f.apply(
        nodes(
            "leap",
            Delta::Replace(vec![node("n-z", "user"), node("n-c", "user")]),
        ),
        t0(),
    );
    assert_eq!(names(&f), ["n-c", "n-z"]);
    assert!(
        !f.apply(nodes("nowhere", Delta::Upsert(node("x", ""))), t0()),
        "nodes of an unknown cluster are dropped"
    );
}

#[test]
fn pools_count_nodes_ready_servers_and_requests_against_allocatable() {
    let mut f = Fleet::new(Thresholds::default());
    // fixtures put every pod on node-a.
    f.apply_all(healthy_hub("leap", "prod", &["ada", "bob"]), t0());
    let mut down = node("node-b", "user");
    down.ready = false;
    f.apply_all(
        [nodes(
            "leap",
            Delta::Replace(vec![node("node-a", "user"), down, node("core-1", "core")]),
        )],
        t0(),
    );
    let c = f.cluster("leap").expect("cluster");
    let loads = node_loads(c.hubs.values());
    assert_eq!(loads.get("node-a").map(|l| l.servers), Some(2));
    let pools = pool_summaries(&c.nodes, &loads);
    let by_name: BTreeMap<&str, &PoolSummary> = pools.iter().map(|p| (&*p.name, p)).collect();
    let user = by_name["user"];
    assert_eq!((user.nodes, user.ready, user.servers), (2, 1, 2));
    // hub, proxy, placeholder and two servers at 500m each.
    assert_eq!(user.requested.cpu_milli, 2_500);
    assert_eq!(user.allocatable.cpu_milli, 7_840);
    assert_eq!((by_name["core"].nodes, by_name["core"].servers), (1, 0));
}

#[test]
fn a_not_ready_node_raises_an_alert_per_hub_with_servers_there() {
    let mut f = Fleet::new(Thresholds::default());
    let mut updates = healthy_hub("leap", "prod", &["ada"]);
    // A second hub's server on the same node (a second fixture hub would re-list the pods).
    updates.push(FleetUpdate::Pods {
        cluster: ClusterId::new("leap"),
        delta: Delta::Upsert(server("staging", "staging", "bob")),
    });
    f.apply_all(updates, t0());
    f.apply_all(
        [nodes("leap", Delta::Replace(vec![node("node-a", "user")]))],
        t0(),
    );
    assert!(f.alerts().next().is_none(), "a ready node raises nothing");

    let mut sick = node("node-a", "user");
    sick.ready = false;
    f.apply_all([nodes("leap", Delta::Upsert(sick.clone()))], t0());
    let alerts: Vec<&AlertInfo> = f.alerts().map(|(_, a)| a).collect();
    let releases: Vec<&str> = alerts
        .iter()
        .filter(|a| &*a.name == "NodeNotReady")
        .filter_map(|a| a.release.as_deref())
        .collect();
    assert_eq!(releases, ["prod", "staging"]);
    let a = alerts[0];
    assert_eq!(a.severity, Severity::Critical);
    assert!(
        a.summary.contains("node node-a") && a.summary.contains("leap/prod"),
        "{}",
        a.summary
    );
    assert!(
        a.labels
            .contains(&("node".to_string(), "node-a".to_string()))
    );

    sick.ready = true;
    sick.pressure.memory = true;
    f.apply_all([nodes("leap", Delta::Upsert(sick))], t0());
    let names: Vec<&str> = f.alerts().map(|(_, a)| &*a.name).collect();
    assert_eq!(names, ["NodePressure", "NodePressure"]);
    assert!(
        f.alerts()
            .all(|(_, a)| a.summary.contains("MemoryPressure"))
    );
}

#[test]
fn a_sick_node_without_servers_raises_one_alert_for_the_node() {
    let mut f = Fleet::new(Thresholds::default());
    f.apply_all(healthy_hub("leap", "prod", &["ada"]), t0());
    let mut empty = node("node-z", "user");
    empty.pressure.disk = true;
    f.apply_all([nodes("leap", Delta::Upsert(empty))], t0());
    let alerts: Vec<&AlertInfo> = f.alerts().map(|(_, a)| a).collect();
    assert_eq!(alerts.len(), 1);
    assert_eq!(&*alerts[0].name, "NodePressure");
    assert!(alerts[0].release.is_none());
    assert_eq!(alerts[0].summary, "node node-z: under DiskPressure");
    // The server moving onto it ties the alert to its hub.
    let mut moved = server("prod", "prod", "ada");
    moved.node = Some("node-z".into());
    f.apply_all(
        [FleetUpdate::Pods {
            cluster: ClusterId::new("leap"),
            delta: Delta::Upsert(moved),
        }],
        t0(),
    );
    let releases: Vec<Option<&str>> = f.alerts().map(|(_, a)| a.release.as_deref()).collect();
    assert_eq!(releases, [Some("prod")]);
}
