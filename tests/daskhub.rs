//! Daskhubs through the CLI: dask-gateway's components in a hub's health, each user's dask
//! clusters and workers beside their server, the declared chart against what runs, and
//! stopping a user's dask clusters through the action layer.

mod common;

use std::time::Duration;

use common::fleet::{TestFleet, cli, stderr, stdout};
use hubdeck::action::AuditLog;
use serde_json::Value;

fn items(out: &std::process::Output) -> Vec<Value> {
    assert!(out.status.success(), "{}", stderr(out));
    let doc: Value = serde_json::from_str(&stdout(out)).expect("JSON");
    doc["items"].as_array().expect("items").clone()
}

/// The sim's daskhub: its cluster, namespace and every user with a running dask cluster, with
/// how many clusters and workers they run.
fn daskhub(fleet: &TestFleet) -> (String, String, Vec<(String, u32, u32)>) {
    let c = fleet.cluster(0);
    let ns = c.daskhub().expect("the first cluster runs a daskhub");
    let mut users: Vec<(String, u32, u32)> = Vec::new();
    for d in c.dask_clusters() {
        if d["metadata"]["namespace"] != ns.as_str() || d["status"]["phase"] != "Running" {
            continue;
        }
        let user = d["spec"]["username"].as_str().unwrap().to_string();
        let workers = u32::try_from(d["spec"]["replicas"].as_u64().unwrap()).unwrap();
        match users.iter_mut().find(|(u, _, _)| *u == user) {
            Some(e) => {
                e.1 += 1;
                e.2 += workers;
            }
            None => users.push((user, 1, workers)),
        }
    }
    assert!(users.len() >= 2, "the sim's daskhub has two dask users");
    (c.name().to_string(), ns, users)
}

fn server_of<'a>(rows: &'a [Value], cluster: &str, ns: &str, user: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["cluster"] == cluster && r["hub"] == ns && r["user"] == user)
        .unwrap_or_else(|| panic!("no server of {user} on {cluster}/{ns}"))
}

fn hub_row<'a>(rows: &'a [Value], cluster: &str, ns: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["cluster"] == cluster && r["namespace"] == ns)
        .unwrap_or_else(|| panic!("no row for {cluster}/{ns} in {rows:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_carry_their_users_dask_clusters_and_workers() {
    let fleet = TestFleet::small().await;
    let (cluster, ns, users) = daskhub(&fleet);
    let rows = items(&cli(&fleet, &["get", "servers", "-o", "json"]).await);
    for (user, clusters, workers) in &users {
        let row = server_of(&rows, &cluster, &ns, user);
        assert_eq!(row["dask_clusters"], *clusters, "{row:#}");
        assert_eq!(row["dask_workers"], *workers, "{row:#}");
    }
    let others = rows
        .iter()
        .filter(|r| !users.iter().any(|(u, _, _)| r["user"] == u.as_str()) || r["hub"] != ns)
        .collect::<Vec<_>>();
    assert!(!others.is_empty());
    assert!(
        others.iter().all(|r| r["dask_clusters"] == 0),
        "only the daskhub's dask users run dask clusters"
    );
    // The gateway's own pods and the dask pods are not user servers.
    assert!(
        rows.iter()
            .all(|r| !r["pod"].as_str().unwrap().starts_with("dask-")),
        "a dask pod listed as a user server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_gateway_component_degrades_the_hub() {
    let fleet = TestFleet::small().await;
    let (cluster, ns, _) = daskhub(&fleet);
    let rows = items(&cli(&fleet, &["get", "hubs", "-o", "json"]).await);
    assert_eq!(hub_row(&rows, &cluster, &ns)["health"], "ok");

    assert!(fleet.cluster(0).break_dask_component(&ns, "controller"));
    let rows = items(&cli(&fleet, &["get", "hubs", "-o", "json"]).await);
    let row = hub_row(&rows, &cluster, &ns);
    assert_eq!(row["health"], "degraded", "{row:#}");
    assert!(
        row["reason"]
            .as_str()
            .unwrap()
            .contains("dask-gateway controller down"),
        "{row:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_declared_chart_is_checked_against_what_runs_both_ways() {
    let fleet = TestFleet::small().await;
    fleet.no_outside_checks();
    let (cluster, ns, _) = daskhub(&fleet);
    let repo = tempfile::tempdir().unwrap();
    hubdeck_sim::deploy_repo::write(&fleet.sim, repo.path()).unwrap();
    let dir = repo.path().to_str().unwrap();

    let rows = items(&cli(&fleet, &["--fleet-repo", dir, "get", "hubs", "-o", "json"]).await);
    assert!(
        rows.iter().all(|r| r["chart_drift"].is_null()),
        "the written repository matches the fleet: {rows:#?}"
    );

    // Swap the charts: the daskhub declared as a basehub, a basehub of the next cluster
    // declared as a daskhub.
    let set_chart = |cluster: &str, pick: &dyn Fn(&str) -> bool, chart: &str| -> String {
        let file = repo
            .path()
            .join("config/clusters")
            .join(cluster)
            .join("cluster.yaml");
        let mut doc: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let h = doc["hubs"]
            .as_sequence_mut()
            .unwrap()
            .iter_mut()
            .find(|h| pick(h["name"].as_str().unwrap()))
            .expect("a declared hub to change");
        h["helm_chart"] = chart.into();
        let name = h["name"].as_str().unwrap().to_string();
        std::fs::write(&file, serde_yaml_ng::to_string(&doc).unwrap()).unwrap();
        name
    };
    set_chart(&cluster, &|name| name == ns, "basehub");
    let other = fleet.cluster(1).name().to_string();
    let basehub = set_chart(&other, &|name| name != "workshop", "daskhub");

    let rows = items(&cli(&fleet, &["--fleet-repo", dir, "get", "hubs", "-o", "json"]).await);
    assert_eq!(
        hub_row(&rows, &cluster, &ns)["chart_drift"],
        "declared basehub, runs dask-gateway"
    );
    assert_eq!(
        hub_row(&rows, &other, &basehub)["chart_drift"],
        "declared daskhub, runs no dask-gateway"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_dask_stops_one_users_clusters_through_the_action_layer() {
    let fleet = TestFleet::small().await;
    let (cluster, ns, users) = daskhub(&fleet);
    let (user, _, _) = &users[0];
    let (other, other_clusters, _) = &users[1];
    let target = format!("{cluster}/{ns}/{user}");

    let refused = cli(&fleet, &["--readonly", "stop", "dask", &target, "--yes"]).await;
    assert_eq!(refused.status.code(), Some(4), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("read-only"),
        "{}",
        stderr(&refused)
    );

    let out = cli(&fleet, &["stop", "dask", &target, "--yes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let c = fleet.cluster(0);
    let mut stopped = 0;
    for d in c.dask_clusters() {
        if d["metadata"]["namespace"] != ns.as_str() {
            continue;
        }
        if d["spec"]["username"] == user.as_str() {
            assert_eq!(d["spec"]["active"], false, "{d:#}");
            assert_eq!(d["status"]["phase"], "Stopped", "{d:#}");
            stopped += 1;
        } else {
            assert_ne!(
                d["spec"]["active"], false,
                "another user's cluster stopped: {d:#}"
            );
        }
    }
    assert!(stopped >= 1);

    // The model follows: the user runs none, the other user still runs theirs.
    let mut rows = Vec::new();
    for _ in 0..20 {
        rows = items(&cli(&fleet, &["get", "servers", "-o", "json"]).await);
        if server_of(&rows, &cluster, &ns, user)["dask_clusters"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(server_of(&rows, &cluster, &ns, user)["dask_clusters"], 0);
    assert_eq!(
        server_of(&rows, &cluster, &ns, other)["dask_clusters"],
        *other_clusters
    );

    let records = AuditLog::new(fleet.audit_path()).outcomes().unwrap();
    let outcomes: Vec<(String, String)> = records
        .iter()
        .map(|r| (r.target.clone(), r.outcome.clone()))
        .collect();
    assert!(
        outcomes.contains(&(target.clone(), "ok".to_string())),
        "{outcomes:?}"
    );
}
