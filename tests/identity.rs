//! An identity that may read only some namespaces (a RoleBinding to `edit` per hub namespace):
//! hubdeck finds what it may read, watches it namespace by namespace, says so, and acts there.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::fleet::{TestFleet, hubdeck_with, stderr, stdout};
use hubdeck_sim::{FleetSpec, Identity, KubeconfigOptions, SimCluster};

/// A fleet whose first cluster has at least two hubs, and that cluster with two of them.
async fn fleet_with_two_hubs() -> (TestFleet, SimCluster, String, String) {
    let fleet = TestFleet::start(FleetSpec {
        clusters: 2,
        hubs: 4,
        ..FleetSpec::small()
    })
    .await;
    let c = fleet
        .sim
        .clusters()
        .iter()
        .find(|c| c.hub_namespaces().len() >= 2)
        .expect("a cluster with two hubs")
        .clone();
    let ns = c.hub_namespaces();
    let (mine, other) = (ns[0].clone(), ns[1].clone());
    (fleet, c, mine, other)
}

/// A kubeconfig for `identity`, the contexts' namespace set to `context_ns`.
fn kubeconfig(fleet: &TestFleet, identity: &Identity, context_ns: Option<&str>) -> PathBuf {
    let path = fleet.home.path().join("editor.kubeconfig");
    let opts = KubeconfigOptions {
        context_namespace: context_ns.map(str::to_string),
        ..KubeconfigOptions::default()
    };
    fleet
        .sim
        .write_kubeconfig_with(&path, identity, &opts)
        .unwrap();
    path
}

/// A fleet.toml with the one cluster and its `namespaces`.
fn fleet_file(fleet: &TestFleet, cluster: &str, namespaces: &[&str]) -> PathBuf {
    let path = fleet.home.path().join("fleet.toml");
    let list: Vec<String> = namespaces.iter().map(|n| format!("{n:?}")).collect();
    std::fs::write(
        &path,
        format!(
            "[[cluster]]\nname = {cluster:?}\nnamespaces = [{}]\n",
            list.join(", ")
        ),
    )
    .unwrap();
    path
}

async fn run(kc: &Path, home: &Path, args: &[&str]) -> Output {
    let (kc, home) = (kc.to_path_buf(), home.to_path_buf());
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        hubdeck_with(&kc, &home, &refs)
    })
    .await
    .unwrap()
}

/// Hub names (`CLUSTER/HUB`) of a `get hubs -o json`.
fn hubs_of(out: &Output) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(&stdout(out)).expect("JSON");
    doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{}/{}",
                h["cluster"].as_str().unwrap(),
                h["namespace"].as_str().unwrap()
            )
        })
        .collect()
}

fn assert_no_debug_dump(text: &str) {
    for dump in ["Status {", "ErrorResponse", "Api(", "Some(", "code: 403"] {
        assert!(!text.contains(dump), "a Debug dump ({dump}) in: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_file_namespaces_find_exactly_the_readable_hub_and_show_the_scope() {
    let (fleet, c, mine, other) = fleet_with_two_hubs().await;
    let editor = Identity::namespace_editor("hub-ops", &[&mine]);
    let kc = kubeconfig(&fleet, &editor, None);
    // `other` is listed too, but the identity may not read it: it is tried and left out.
    let file = fleet_file(&fleet, c.name(), &[&mine, &other]);
    let file = file.to_str().unwrap();
    let home = fleet.home.path();

    let hubs = run(&kc, home, &["--fleet", file, "get", "hubs", "-o", "json"]).await;
    assert_eq!(hubs.status.code(), Some(0), "{}", stderr(&hubs));
    assert_eq!(hubs_of(&hubs), [format!("{}/{mine}", c.name())]);
    assert_no_debug_dump(&stderr(&hubs));

    let clusters = run(
        &kc,
        home,
        &["--fleet", file, "get", "clusters", "-o", "json"],
    )
    .await;
    assert_eq!(clusters.status.code(), Some(0), "{}", stderr(&clusters));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&clusters)).unwrap();
    let item = &doc["items"][0];
    assert_eq!(item["status"], "ready", "{item}");
    assert_eq!(item["scope"], format!("namespaces {mine}"));
    assert_eq!(item["namespaces"], serde_json::json!([mine]));

    let table = run(&kc, home, &["--fleet", file, "get", "clusters"]).await;
    assert!(
        stdout(&table).contains(&format!("namespaces {mine}")),
        "{}",
        stdout(&table)
    );

    // It really asked the server, as the editor, and listed nothing cluster-wide after the 403.
    let reqs = c.requests();
    assert!(
        reqs.iter().any(|r| r.identity == "hub-ops"
            && r.path == "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"),
        "no rules review"
    );
    assert!(
        reqs.iter()
            .any(|r| r.identity == "hub-ops" && r.path == format!("/api/v1/namespaces/{mine}/pods")),
        "no namespaced pod list"
    );
    assert!(
        !reqs
            .iter()
            .any(|r| r.path == format!("/api/v1/namespaces/{other}/pods")),
        "a namespace the rules review refused was listed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_context_namespace_alone_is_enough_and_a_restart_there_works() {
    let (fleet, c, mine, other) = fleet_with_two_hubs().await;
    let editor = Identity::namespace_editor("hub-ops", &[&mine]);
    let kc = kubeconfig(&fleet, &editor, Some(&mine));
    let home = fleet.home.path();

    let hubs = run(
        &kc,
        home,
        &["--context", c.name(), "get", "hubs", "-o", "json"],
    )
    .await;
    assert_eq!(hubs.status.code(), Some(0), "{}", stderr(&hubs));
    assert_eq!(hubs_of(&hubs), [format!("{}/{mine}", c.name())]);

    let hub = format!("{}/{mine}", c.name());
    c.clear_requests();
    let restart = run(
        &kc,
        home,
        &["--context", c.name(), "restart", "hub", &hub, "--yes"],
    )
    .await;
    assert_eq!(restart.status.code(), Some(0), "{}", stderr(&restart));
    assert!(
        c.requests().iter().any(|r| r.identity == "hub-ops"
            && r.method == "PATCH"
            && r.path
                .starts_with(&format!("/apis/apps/v1/namespaces/{mine}/deployments/"))),
        "no restart patch by the editor"
    );

    // The hub it may not read is out of reach for actions too, in one plain line.
    let refused = run(
        &kc,
        home,
        &[
            "--context",
            c.name(),
            "restart",
            "hub",
            &format!("{}/{other}", c.name()),
            "--yes",
        ],
    )
    .await;
    assert_ne!(refused.status.code(), Some(0));
    let err = stderr(&refused);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_no_debug_dump(&err);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_readable_degrades_the_cluster_with_one_line_saying_what_was_tried() {
    let (fleet, c, mine, _) = fleet_with_two_hubs().await;
    let editor = Identity::namespace_editor("hub-ops", &["elsewhere"]);
    let kc = kubeconfig(&fleet, &editor, None);
    let file = fleet_file(&fleet, c.name(), &[&mine]);
    let hubs = run(
        &kc,
        fleet.home.path(),
        &["--fleet", file.to_str().unwrap(), "get", "hubs"],
    )
    .await;
    assert_eq!(hubs.status.code(), Some(3), "{}", stderr(&hubs));
    let err = stderr(&hubs);
    let line = err
        .lines()
        .find(|l| l.contains(c.name()))
        .unwrap_or_else(|| panic!("no line for {}: {err}", c.name()));
    assert!(line.contains("forbidden"), "{line}");
    assert!(line.contains(&format!("({mine})")), "{line}");
    assert!(line.len() < 400, "{line}");
    assert_no_debug_dump(&err);
}
