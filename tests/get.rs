//! `hubdeck get` and the live fleet model, against sim fleets, through the library and the CLI.

mod common;

use std::time::Duration;

use common::fleet::{TestFleet, model_server_pods, model_servers, sim_servers, stderr, stdout};
use hubdeck::fleet::{ClusterStatus, HealthLevel};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_servers_json_equals_the_sims_state() {
    let fleet = TestFleet::small().await;
    let out = tokio::task::spawn_blocking({
        let kc = fleet.sim.kubeconfig_path().to_path_buf();
        let home = fleet.home.path().to_path_buf();
        move || common::fleet::hubdeck_with(&kc, &home, &["get", "servers", "-o", "json"])
    })
    .await
    .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    assert_eq!(doc["kind"], "ServerList");
    let items = doc["items"].as_array().expect("items");
    let printed: std::collections::BTreeSet<_> = items
        .iter()
        .map(|i| {
            let hub = i["hub"].as_str().unwrap().to_string();
            let ns = hub.split('/').next().unwrap().to_string();
            (
                i["cluster"].as_str().unwrap().to_string(),
                ns,
                i["user"].as_str().unwrap().to_string(),
                i["server"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(items.len(), printed.len(), "no duplicates");
    assert_eq!(printed, sim_servers(&fleet.sim));
    assert!(!printed.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oom_killed_server_shows_its_last_termination_in_json() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0);
    let pod = c
        .pods()
        .into_iter()
        .find(|p| {
            let labels = p.metadata.labels.clone().unwrap_or_default();
            labels.get("component").map(String::as_str) == Some("singleuser-server")
                && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
        })
        .expect("a running server");
    let (ns, name) = (
        pod.metadata.namespace.clone().unwrap(),
        pod.metadata.name.clone().unwrap(),
    );
    assert!(c.oom_kill(&ns, &name));
    let out = tokio::task::spawn_blocking({
        let kc = fleet.sim.kubeconfig_path().to_path_buf();
        let home = fleet.home.path().to_path_buf();
        move || common::fleet::hubdeck_with(&kc, &home, &["get", "servers", "-o", "json"])
    })
    .await
    .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    let items = doc["items"].as_array().expect("items");
    let killed = items
        .iter()
        .find(|i| i["pod"] == name.as_str() && i["cluster"] == c.name())
        .expect("the killed server is listed");
    let t = &killed["last_termination"];
    assert_eq!(t["reason"], "OOMKilled", "{killed}");
    assert_eq!(t["exit_code"], 137, "{killed}");
    let finished: jiff::Timestamp = t["finished_at"].as_str().unwrap().parse().unwrap();
    assert!(jiff::Timestamp::now().duration_since(finished).as_secs() < 120);
    assert!(
        items
            .iter()
            .filter(|i| i["pod"] != name.as_str())
            .all(|i| i["last_termination"].is_null() || i["restarts"] != 0),
        "only restarted containers have one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_hubs_table_lists_every_hub_with_health() {
    let fleet = TestFleet::small().await;
    let out = tokio::task::spawn_blocking({
        let kc = fleet.sim.kubeconfig_path().to_path_buf();
        let home = fleet.home.path().to_path_buf();
        move || common::fleet::hubdeck_with(&kc, &home, &["get", "hubs"])
    })
    .await
    .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("CLUSTER"), "{text}");
    for c in fleet.sim.clusters() {
        for ns in c.hub_namespaces() {
            assert!(
                text.lines()
                    .any(|l| l.starts_with(c.name()) && l.contains(&ns)),
                "hub {}/{ns} missing from:\n{text}",
                c.name()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn started_and_stopped_servers_show_up_through_the_watch() {
    let fleet = TestFleet::small().await;
    let mut session = fleet.session().await;
    let c = fleet.cluster(0);
    let ns = c.hub_namespaces()[0].clone();
    let key = (
        c.name().to_string(),
        ns.clone(),
        "new.user@example.org".to_string(),
        String::new(),
    );

    c.start_server(&ns, "new.user@example.org", "");
    let appeared = session
        .wait_for(Duration::from_secs(10), |f| model_servers(f).contains(&key))
        .await;
    assert!(appeared, "started server reached the model");

    assert!(c.stop_server(&ns, "new.user@example.org", ""));
    let gone = session
        .wait_for(Duration::from_secs(10), |f| {
            !model_servers(f).contains(&key)
        })
        .await;
    assert!(gone, "stopped server left the model");
    assert_eq!(model_servers(&session.fleet), sim_servers(&fleet.sim));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relist_after_expired_resource_versions_has_no_duplicates_or_ghosts() {
    let fleet = TestFleet::small().await;
    let mut session = fleet.session().await;
    let c = fleet.cluster(0);
    let ns = c.hub_namespaces()[0].clone();

    // The API server restarts and forgets history; meanwhile the fleet moves on.
    c.restart_expiring();
    let ghost = sim_servers(&fleet.sim)
        .into_iter()
        .find(|s| s.0 == c.name() && s.1 == ns)
        .expect("a server to stop");
    assert!(c.stop_server(&ns, &ghost.2, &ghost.3));
    c.start_server(&ns, "late.arrival", "");

    let converged = session
        .wait_for(Duration::from_secs(20), |f| {
            model_servers(f) == sim_servers(&fleet.sim)
                && model_server_pods(f) == sim_servers(&fleet.sim).len()
        })
        .await;
    assert!(
        converged,
        "model {:?}\n!= sim {:?}",
        model_servers(&session.fleet),
        sim_servers(&fleet.sim)
    );
    assert!(!model_servers(&session.fleet).contains(&ghost));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_one_cluster_down_the_others_are_listed_and_exit_code_is_3() {
    let fleet = TestFleet::small().await;
    let down = fleet.cluster(1).clone();
    down.go_down().await;
    let out = tokio::task::spawn_blocking({
        let kc = fleet.sim.kubeconfig_path().to_path_buf();
        let home = fleet.home.path().to_path_buf();
        move || common::fleet::hubdeck_with(&kc, &home, &["get", "hubs", "--timeout", "10"])
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one stderr line per unread cluster: {err}");
    assert!(
        lines[0].contains(down.name()) && lines[0].contains("unreachable"),
        "{err}"
    );
    let text = stdout(&out);
    for (i, c) in fleet.sim.clusters().iter().enumerate() {
        if i != 1 {
            assert!(text.contains(c.name()), "{} listed:\n{text}", c.name());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_that_returns_is_ready_again() {
    let fleet = TestFleet::small().await;
    let mut session = fleet.session().await;
    let c = fleet.cluster(0).clone();
    let name = c.name().to_string();
    c.go_down().await;
    let down = session
        .wait_for(Duration::from_secs(30), |f| {
            matches!(
                f.cluster(&name).map(|c| &c.status),
                Some(ClusterStatus::Unreachable { .. })
            )
        })
        .await;
    assert!(down, "cluster marked unreachable");
    // Its hubs are kept, marked unknown (stale), not dropped.
    assert!(
        session
            .fleet
            .hubs()
            .filter(|h| h.id.cluster.as_str() == name)
            .all(|h| h.summary.health.level == HealthLevel::Unknown)
    );
    c.come_back().await;
    assert!(c.is_up(), "sim listens again");
    let addr = c
        .url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    assert!(
        std::net::TcpStream::connect(&addr).is_ok(),
        "port {addr} accepts connections"
    );
    let back = session
        .wait_for(Duration::from_secs(30), |f| {
            matches!(
                f.cluster(&name).map(|c| &c.status),
                Some(ClusterStatus::Ready)
            )
        })
        .await;
    assert!(
        back,
        "cluster ready again: {:?}",
        session.fleet.cluster(&name).map(|c| &c.status)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_server_answering_garbage_marks_its_cluster_degraded() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(2);
    c.set_garbage(true);
    let session = fleet.session().await;
    let status = &session.fleet.cluster(c.name()).expect("cluster").status;
    assert!(
        matches!(status, ClusterStatus::Degraded { .. }),
        "garbage gives degraded, got {status:?}"
    );
    // The other clusters are unaffected.
    assert!(matches!(
        session
            .fleet
            .cluster(fleet.cluster(0).name())
            .map(|c| &c.status),
        Some(ClusterStatus::Ready)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selector_fields_are_the_json_keys_and_an_unknown_one_is_a_usage_error() {
    use hubdeck::headless::get::Kind;
    let home = tempfile::tempdir().unwrap();
    for kind in [
        Kind::Clusters,
        Kind::Hubs,
        Kind::Servers,
        Kind::Alerts,
        Kind::Events,
        Kind::Nodes,
    ] {
        let out = common::fleet::hubdeck_with(
            &home.path().join("none"),
            home.path(),
            &["--demo", "get", kind.name(), "-o", "json"],
        );
        assert!(out.status.success(), "{}: {}", kind.name(), stderr(&out));
        let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let first = &doc["items"][0];
        let keys: Vec<&str> = first
            .as_object()
            .unwrap_or_else(|| panic!("demo has {}: {doc}", kind.name()))
            .keys()
            .map(String::as_str)
            .collect();
        let mut fields = kind.fields().to_vec();
        fields.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, fields, "{}", kind.name());
    }
    let out = common::fleet::hubdeck_with(
        &home.path().join("none"),
        home.path(),
        &["--demo", "get", "servers", "-l", "phse=Pending"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with(
            "hubdeck: selector field \"phse\" is not a field of servers; fields: cluster, hub,"
        ),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}
