//! The fleet as a deployment repository declares it: clusters matched to contexts, drift both
//! ways in `get hubs -o json`, derived alerts for missing hubs, one-line errors for bad files.

mod common;

use common::fleet::{TestFleet, cli, stderr, stdout};
use serde_json::Value;

fn items(out: &std::process::Output) -> Vec<Value> {
    let doc: Value = serde_json::from_str(&stdout(out)).expect("JSON");
    doc["items"].as_array().expect("items").clone()
}

fn hub<'a>(rows: &'a [Value], id: &str) -> &'a Value {
    let (cluster, name) = id.split_once('/').unwrap();
    rows.iter()
        .find(|r| r["cluster"] == cluster && r["namespace"] == name)
        .unwrap_or_else(|| panic!("no row for {id} in {rows:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hubs_show_drift_against_the_repository_both_ways() {
    let fleet = TestFleet::small().await;
    fleet.no_outside_checks();
    let repo = tempfile::tempdir().unwrap();
    let drift = hubdeck_sim::deploy_repo::write(&fleet.sim, repo.path()).unwrap();
    let dir = repo.path().to_str().unwrap();

    let out = cli(&fleet, &["--fleet-repo", dir, "get", "hubs", "-o", "json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = items(&out);
    let missing = hub(&rows, &drift.missing);
    assert_eq!(missing["declared"], "missing");
    assert_eq!(missing["health"], "missing");
    assert!(missing["domain"].as_str().unwrap().starts_with("workshop."));
    assert_eq!(hub(&rows, &drift.undeclared)["declared"], "undeclared");
    assert_eq!(hub(&rows, &drift.undeclared)["chart"], Value::Null);
    let dask = hub(&rows, &drift.daskhub);
    assert_eq!(dask["declared"], "declared");
    assert_eq!(dask["chart"], "daskhub");
    assert!(dask["display_name"].as_str().is_some());
    let declared = rows.iter().filter(|r| r["declared"] == "declared").count();
    assert_eq!(
        declared + 2,
        rows.len(),
        "every other hub is declared: {rows:#?}"
    );

    let out = cli(
        &fleet,
        &["--fleet-repo", dir, "get", "alerts", "-o", "json"],
    )
    .await;
    let alerts = items(&out);
    let (cluster, name) = drift.missing.split_once('/').unwrap();
    assert!(
        alerts.iter().any(|a| a["name"] == "HubMissing"
            && a["cluster"] == cluster
            && a["hub"].as_str().unwrap().starts_with(name)),
        "{alerts:#?}"
    );

    // Without a repository nothing is said about declarations.
    let out = cli(&fleet, &["get", "hubs", "-o", "json"]).await;
    assert!(items(&out).iter().all(|r| r["declared"].is_null()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_cluster_no_context_matches_is_shown_with_why_not_dropped() {
    let fleet = TestFleet::small().await;
    fleet.no_outside_checks();
    let repo = tempfile::tempdir().unwrap();
    hubdeck_sim::deploy_repo::write(&fleet.sim, repo.path()).unwrap();
    let ghost = repo.path().join("config/clusters/ghost");
    std::fs::create_dir_all(&ghost).unwrap();
    std::fs::write(
        ghost.join("cluster.yaml"),
        "name: ghost\nprovider: aws\naws: {clusterName: ghost-eks}\nhubs:\n  - {name: prod, helm_chart: basehub}\n",
    )
    .unwrap();
    let dir = repo.path().to_str().unwrap();
    let out = cli(
        &fleet,
        &["--fleet-repo", dir, "get", "clusters", "-o", "json"],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "a cluster could not be read");
    let rows = items(&out);
    let g = rows
        .iter()
        .find(|r| r["name"] == "ghost")
        .expect("ghost listed");
    assert_eq!(g["status"], "unreachable");
    let reason = g["reason"].as_str().unwrap();
    assert!(
        reason.contains("ghost/cluster.yaml: no kubeconfig context for cluster \"ghost\" (looked for contexts or clusters named ghost, ghost-eks)"),
        "{reason}"
    );
    assert_eq!(rows.len(), fleet.sim.clusters().len() + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_cluster_file_is_one_line_naming_file_and_line_and_nothing_is_listed() {
    let fleet = TestFleet::small().await;
    fleet.no_outside_checks();
    let repo = tempfile::tempdir().unwrap();
    hubdeck_sim::deploy_repo::write(&fleet.sim, repo.path()).unwrap();
    let c = fleet.cluster(0).name().to_string();
    let file = repo
        .path()
        .join(format!("config/clusters/{c}/cluster.yaml"));
    let text = std::fs::read_to_string(&file).unwrap();
    let chart = if text.contains("helm_chart: basehub") {
        "helm_chart: basehub"
    } else {
        "helm_chart: daskhub"
    };
    std::fs::write(&file, text.replacen(chart, "helm_chart: bighub", 1)).unwrap();
    let line = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .position(|l| l.contains("bighub"))
        .unwrap()
        + 1;
    let dir = repo.path().to_str().unwrap();
    let out = cli(&fleet, &["--fleet-repo", dir, "get", "hubs"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("hubdeck: {}:{line}: ", file.display())),
        "{err}"
    );
    assert!(err.contains("bighub") && err.lines().count() == 1, "{err}");
    assert!(stdout(&out).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_toml_points_at_the_repository_and_adds_settings_by_cluster_name() {
    let fleet = TestFleet::small().await;
    fleet.no_outside_checks();
    let repo = tempfile::tempdir().unwrap();
    hubdeck_sim::deploy_repo::write(&fleet.sim, repo.path()).unwrap();
    let c = fleet.cluster(0).name().to_string();
    let config = fleet.home.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("fleet.toml"),
        format!(
            "fleet_repo = {:?}\n\n[[cluster]]\nname = \"{c}\"\nreadonly = true\n",
            repo.path()
        ),
    )
    .unwrap();
    let out = cli(&fleet, &["get", "hubs", "-o", "json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(items(&out).iter().any(|r| r["declared"] == "missing"));
    let hub = format!("{c}/{}", fleet.cluster(0).hub_namespaces()[0]);
    let out = cli(&fleet, &["restart", "hub", &hub, "--yes"]).await;
    assert_eq!(
        out.status.code(),
        Some(4),
        "read-only from fleet.toml: {}",
        stderr(&out)
    );
}
