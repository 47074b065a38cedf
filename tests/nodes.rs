//! `hubdeck get nodes` through the CLI against a sim fleet: pools named as each cloud names
//! them, cordoned and NotReady nodes shown as kubectl shows them, servers counted on the node
//! they run on, selectors on the documented fields.

mod common;

use std::collections::BTreeMap;

use common::fleet::{TestFleet, cli, stderr, stdout};
use hubdeck_sim::NodeCondition;

/// The JSON items of `hubdeck get nodes -o json` plus `extra` arguments.
async fn nodes_json(fleet: &TestFleet, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["get", "nodes", "-o", "json"];
    args.extend_from_slice(extra);
    let out = cli(fleet, &args).await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    assert_eq!(doc["kind"], "NodeList");
    doc["items"].as_array().expect("items").clone()
}

fn text<'a>(item: &'a serde_json::Value, key: &str) -> &'a str {
    item[key].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_show_their_pools_state_and_the_servers_running_there() {
    let fleet = TestFleet::small().await;
    let (gke, eks) = (fleet.cluster(0), fleet.cluster(1));
    assert_eq!((gke.provider(), eks.provider()), ("gcp", "aws"));
    let cordoned = gke.node_names("user")[0].clone();
    let down = eks.node_names("user")[0].clone();
    assert!(gke.cordon_node(&cordoned, true));
    assert!(eks.set_node_conditions(&down, &[NodeCondition::NotReady]));

    let items = nodes_json(&fleet, &[]).await;
    // Every node of every cluster, once, in cluster, pool, name order.
    let listed: Vec<(String, String)> = items
        .iter()
        .map(|i| (text(i, "cluster").into(), text(i, "name").into()))
        .collect();
    let mut expected: Vec<(String, String)> = fleet
        .sim
        .clusters()
        .iter()
        .flat_map(|c| {
            c.nodes()
                .into_iter()
                .map(|n| (c.name().to_string(), n.metadata.name.unwrap_or_default()))
        })
        .collect();
    expected.sort();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
    let keys: Vec<(String, String, String)> = items
        .iter()
        .map(|i| {
            (
                text(i, "cluster").into(),
                text(i, "pool").into(),
                text(i, "name").into(),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "sorted: {keys:?}");

    // Pools as each cloud names them, with z2jh's purpose and the instance type.
    let pools = |cluster: &str| -> BTreeMap<String, String> {
        items
            .iter()
            .filter(|i| text(i, "cluster") == cluster)
            .map(|i| (text(i, "pool").to_string(), text(i, "purpose").to_string()))
            .collect()
    };
    let gke_pools = pools(gke.name());
    assert_eq!(
        gke_pools.get("core-pool").map(String::as_str),
        Some("core"),
        "{gke_pools:?}"
    );
    assert!(
        gke_pools.keys().any(|p| p.starts_with("nb-n2-highmem-")),
        "{gke_pools:?}"
    );
    let eks_pools = pools(eks.name());
    assert_eq!(
        eks_pools.get("core-a").map(String::as_str),
        Some("core"),
        "{eks_pools:?}"
    );
    assert!(
        eks_pools.keys().any(|p| p.starts_with("nb-r5-")),
        "{eks_pools:?}"
    );
    let aks_pools = pools(fleet.cluster(2).name());
    assert_eq!(
        aks_pools.get("nbuser").map(String::as_str),
        Some("user"),
        "{aks_pools:?}"
    );
    assert!(items.iter().all(|i| !text(i, "instance_type").is_empty()));

    // Cordoned and NotReady as kubectl shows them.
    let row = |name: &str| items.iter().find(|i| text(i, "name") == name).unwrap();
    assert_eq!(text(row(&cordoned), "status"), "Ready,SchedulingDisabled");
    assert_eq!(row(&cordoned)["cordoned"], true);
    assert_eq!(text(row(&down), "status"), "NotReady");
    assert_eq!(row(&down)["ready"], false);
    let healthy = items
        .iter()
        .filter(|i| text(i, "name") != cordoned && text(i, "name") != down);
    assert!(healthy.clone().all(|i| text(i, "status") == "Ready"));

    // Servers counted on the node the sim scheduled them on.
    let mut on_node: BTreeMap<(String, String), u64> = BTreeMap::new();
    for c in fleet.sim.clusters() {
        for p in c.pods() {
            let labels = p.metadata.labels.clone().unwrap_or_default();
            let server = labels.get("component").map(String::as_str) == Some("singleuser-server");
            let node = p.spec.as_ref().and_then(|s| s.node_name.clone());
            if let (true, Some(node)) = (server, node) {
                *on_node.entry((c.name().to_string(), node)).or_default() += 1;
            }
        }
    }
    assert!(!on_node.is_empty());
    for i in &items {
        let key = (text(i, "cluster").to_string(), text(i, "name").to_string());
        assert_eq!(
            i["servers"].as_u64(),
            Some(on_node.get(&key).copied().unwrap_or(0)),
            "{i}"
        );
        let hubs = i["hubs"].as_array().unwrap();
        assert_eq!(hubs.is_empty(), i["servers"] == 0, "{i}");
        assert!(i["cpu_allocatable_m"].as_u64().unwrap() > 0);
    }
    let busy = items
        .iter()
        .find(|i| i["servers"].as_u64() > Some(0))
        .unwrap();
    assert!(busy["cpu_requested_m"].as_u64() >= Some(500 * busy["servers"].as_u64().unwrap()));

    // A selector on a documented field; the table and its wide form.
    let user_pool = gke_pools
        .keys()
        .find(|p| p.starts_with("nb-"))
        .unwrap()
        .clone();
    let selected = nodes_json(&fleet, &["-l", &format!("pool={user_pool}")]).await;
    assert_eq!(selected.len(), gke.node_names("user").len());
    assert!(selected.iter().all(|i| text(i, "pool") == user_pool));
    let out = cli(&fleet, &["get", "nodes", "--cluster", gke.name()]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let head = table.lines().next().unwrap();
    assert!(head.starts_with("CLUSTER") && head.contains("PRESSURE") && !head.contains("HUBS"));
    let line = table.lines().find(|l| l.contains(&cordoned)).unwrap();
    assert!(
        line.contains("Ready,SchedulingDisabled") && line.contains(&user_pool),
        "{line}"
    );
    let out = cli(
        &fleet,
        &["get", "nodes", "-o", "wide", "--cluster", gke.name()],
    )
    .await;
    let wide = stdout(&out);
    assert!(
        wide.lines()
            .next()
            .unwrap()
            .ends_with("INSTANCE-TYPE  PURPOSE  HUBS"),
        "{wide}"
    );
    assert!(wide.contains("n2-highmem-"), "{wide}");

    // The NotReady node is an alert tied to the node.
    let out = cli(
        &fleet,
        &["get", "alerts", "-l", "name=NodeNotReady", "-o", "json"],
    )
    .await;
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let alerts = doc["items"].as_array().unwrap();
    assert!(!alerts.is_empty(), "{doc}");
    assert!(
        alerts.iter().all(|a| text(a, "summary").contains(&down)),
        "{doc}"
    );
}

#[test]
fn a_selector_on_a_field_nodes_lack_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let out = common::fleet::hubdeck_with(
        &home.path().join("none"),
        home.path(),
        &["get", "nodes", "-l", "poool=core"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with(
            "hubdeck: selector field \"poool\" is not a field of nodes; fields: cluster, pool, name,"
        ),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}
