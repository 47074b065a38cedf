//! Usage from metrics.k8s.io against the sim, through the CLI and the library: what servers,
//! hubs and clusters show, one list per cluster (or per namespace), and a cluster without
//! metrics said so once.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::fleet::{TestFleet, cli, cli_at, stderr, stdout};
use hubdeck::fleet::{MetricsState, Thresholds};
use hubdeck::headless::session::Session;
use hubdeck::sources::Polls;
use hubdeck_sim::{FleetSpec, Identity, KubeconfigOptions, MetricsApi, SimCluster};
use serde_json::Value;

const METRICS: &str = "/apis/metrics.k8s.io/v1beta1";

/// What the sim's metrics API says each pod uses now: (namespace, pod) → (millicores, bytes),
/// summed over containers and rounded up once, read here by hand from the suffixes the sim
/// writes (`n`, `Ki`).
async fn sim_usage(c: &SimCluster) -> BTreeMap<(String, String), (u64, u64)> {
    let body: Value = reqwest::Client::new()
        .get(format!("{}{METRICS}/pods", c.url()))
        .bearer_auth(c.token(&Identity::Admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let num = |q: &str, suffix: &str| q.strip_suffix(suffix).unwrap().parse::<u64>().unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let (mut nanos, mut kib) = (0, 0);
            for c in m["containers"].as_array().unwrap() {
                nanos += num(c["usage"]["cpu"].as_str().unwrap(), "n");
                kib += num(c["usage"]["memory"].as_str().unwrap(), "Ki");
            }
            let key = (
                m["metadata"]["namespace"].as_str().unwrap().to_string(),
                m["metadata"]["name"].as_str().unwrap().to_string(),
            );
            (key, (nanos.div_ceil(1_000_000), kib * 1024))
        })
        .collect()
}

fn items(out: &std::process::Output) -> Vec<Value> {
    let doc: Value = serde_json::from_str(&stdout(out)).expect("JSON");
    doc["items"].as_array().expect("items").clone()
}

fn metrics_requests(c: &SimCluster, resource: &str) -> Vec<hubdeck_sim::RecordedRequest> {
    c.requests()
        .into_iter()
        .filter(|r| r.path.starts_with(METRICS) && r.path.ends_with(resource))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_servers_shows_each_running_servers_usage_as_the_metrics_api_reports_it() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    c.clear_requests();
    let before = sim_usage(&c).await;
    let out = cli(
        &fleet,
        &["get", "servers", "-o", "json", "--cluster", c.name()],
    )
    .await;
    let after = sim_usage(&c).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let servers = items(&out);
    let mut measured = 0;
    for s in &servers {
        let key = (
            s["hub"]
                .as_str()
                .unwrap()
                .split('/')
                .next()
                .unwrap()
                .to_string(),
            s["pod"].as_str().unwrap().to_string(),
        );
        let Some(expected) = before.get(&key) else {
            assert!(
                s["cpu_used_millis"].is_null() && s["memory_percent"].is_null(),
                "{s}"
            );
            assert_ne!(s["phase"], "Running", "a running server has metrics: {s}");
            continue;
        };
        measured += 1;
        // The sim's figures move with each 15 s scrape: the CLI saw one of the two around it.
        let got = (
            s["cpu_used_millis"].as_u64().unwrap(),
            s["memory_used_bytes"].as_u64().unwrap(),
        );
        assert!(
            got == *expected || Some(&got) == after.get(&key),
            "{key:?}: {got:?}, the API said {expected:?}"
        );
        assert_eq!(s["memory_limit_bytes"], 4u64 << 30, "{s}");
        assert_eq!(s["cpu_limit_m"], 2000, "{s}");
        assert_eq!(s["memory_percent_of"], "limit", "{s}");
        let share = got.1 as f64 * 100.0 / f64::from(4u32 << 20) / 1024.0;
        let printed = s["memory_percent"].as_f64().unwrap();
        assert!((printed - share).abs() <= 0.05, "{printed} vs {share}: {s}");
        assert!(printed > 0.0 && printed < 100.0, "{s}");
    }
    assert!(measured > 0, "no running server: {}", stdout(&out));
    // One pods list (of z2jh pods only) and one nodes list for the cluster, not one per pod.
    let pods = metrics_requests(&c, "/pods");
    let from_hubdeck: Vec<_> = pods
        .iter()
        .filter(|r| r.query.contains("labelSelector"))
        .collect();
    assert_eq!(from_hubdeck.len(), 1, "{pods:?}");
    assert_eq!(from_hubdeck[0].path, format!("{METRICS}/pods"));
    assert!(
        from_hubdeck[0].query.contains("singleuser-server"),
        "{:?}",
        from_hubdeck[0]
    );
    assert_eq!(metrics_requests(&c, "/nodes").len(), 1);

    let table = cli(&fleet, &["get", "servers", "--cluster", c.name()]).await;
    let text = stdout(&table);
    let header = text.lines().next().unwrap();
    for col in ["CPU-REQ", "MEM-REQ", "CPU-USED", "MEM-USED", "MEM%"] {
        assert!(header.contains(col), "{col}: {header}");
    }
    let hubs = cli(
        &fleet,
        &["get", "hubs", "-o", "json", "--cluster", c.name()],
    )
    .await;
    let hub_items = items(&hubs);
    assert!(
        hub_items
            .iter()
            .any(|h| h["memory_used_bytes"].as_u64() > Some(0)),
        "hubs sum their pods' usage: {}",
        stdout(&hubs)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_without_metrics_says_not_served_once_and_its_servers_have_no_usage() {
    let fleet = TestFleet::small().await;
    let (absent, down, served) = (fleet.cluster(0), fleet.cluster(1), fleet.cluster(2));
    absent.set_metrics_api(MetricsApi::NotInstalled);
    down.set_metrics_api(MetricsApi::Unavailable);

    let out = cli(&fleet, &["get", "clusters", "-o", "json"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "not served is no failure: {}",
        stderr(&out)
    );
    let by_name: BTreeMap<String, String> = items(&out)
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["metrics"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(by_name[absent.name()], "not served");
    assert_eq!(by_name[down.name()], "not served");
    assert_eq!(by_name[served.name()], "served");

    let table = cli(&fleet, &["get", "clusters"]).await;
    assert!(stdout(&table).lines().next().unwrap().contains("METRICS"));
    assert!(
        stdout(&table)
            .lines()
            .any(|l| l.starts_with(absent.name()) && l.contains("not served")),
        "{}",
        stdout(&table)
    );

    let out = cli(&fleet, &["get", "servers", "-o", "json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("metrics"),
        "no per-row (or any) noise: {}",
        stderr(&out)
    );
    let servers = items(&out);
    for s in &servers {
        if s["cluster"] == absent.name() || s["cluster"] == down.name() {
            assert!(
                s["cpu_used_millis"].is_null() && s["memory_percent"].is_null(),
                "{s}"
            );
        }
    }
    assert!(
        servers
            .iter()
            .any(|s| s["cluster"] == served.name() && !s["memory_used_bytes"].is_null()),
        "the other clusters still show usage"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unserved_cluster_is_asked_again_only_minutes_later_and_a_served_one_every_interval() {
    let fleet = TestFleet::small().await;
    let (absent, served) = (fleet.cluster(0).clone(), fleet.cluster(1).clone());
    absent.set_metrics_api(MetricsApi::NotInstalled);
    let targets = fleet.targets();
    let settings = hubdeck::config::settings::Settings::defaults();
    let poll = Polls {
        metrics: Some(Duration::from_secs(1)),
        ..Polls::from_settings(&settings)
    };
    let mut s = Session::start_polling(targets, Thresholds::default(), poll);
    s.settle(Duration::from_secs(20)).await;
    let first = s
        .fleet
        .cluster(served.name())
        .and_then(|c| c.hubs.values().find_map(|h| h.usage.sampled_at()))
        .expect("a sample of the served cluster");
    // Generous: the machine may be loaded.
    let later = s
        .wait_for(Duration::from_secs(30), |f| {
            f.cluster(served.name())
                .and_then(|c| c.hubs.values().find_map(|h| h.usage.sampled_at()))
                .is_some_and(|t| t > first)
        })
        .await;
    assert!(later, "the served cluster is polled again");
    let state = &s.fleet.cluster(absent.name()).unwrap().metrics;
    assert!(
        matches!(state.pods, MetricsState::NotServed { .. }),
        "{state:?}"
    );
    assert!(
        state.pods.detail().unwrap().contains("404"),
        "{:?}",
        state.pods
    );
    assert_eq!(
        metrics_requests(&absent, "/pods").len(),
        1,
        "not asked every interval"
    );
    assert!(metrics_requests(&served, "/pods").len() >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_scoped_identity_lists_metrics_namespace_by_namespace() {
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
    let mine = ns[0].clone();
    let kc = fleet.home.path().join("editor.kubeconfig");
    let editor = Identity::namespace_editor("hub-ops", &[&mine]);
    fleet
        .sim
        .write_kubeconfig_with(&kc, &editor, &KubeconfigOptions::default())
        .unwrap();
    let file = fleet.home.path().join("fleet.toml");
    std::fs::write(
        &file,
        format!(
            "[[cluster]]\nname = {:?}\nnamespaces = [{mine:?}]\n",
            c.name()
        ),
    )
    .unwrap();
    let get = |kind: &'static str| {
        let (kc, home, file) = (kc.clone(), fleet.home.path().to_path_buf(), file.clone());
        async move {
            let file = file.to_str().unwrap();
            cli_at(
                &kc,
                &home,
                &["--fleet", file, "get", kind, "-o", "json"],
                None,
            )
            .await
        }
    };
    let out = get("servers").await;
    assert!(out.status.success(), "{}", stderr(&out));
    let servers = items(&out);
    assert!(
        servers
            .iter()
            .any(|s| s["phase"] == "Running" && !s["memory_used_bytes"].is_null()),
        "{}",
        stdout(&out)
    );
    let pods = metrics_requests(&c, "/pods");
    assert!(
        pods.iter()
            .any(|r| r.identity == "hub-ops"
                && r.path == format!("{METRICS}/namespaces/{mine}/pods")),
        "{pods:?}"
    );
    assert!(
        !pods
            .iter()
            .any(|r| r.identity == "hub-ops" && r.path == format!("{METRICS}/pods")),
        "no cluster-wide list it may not make: {pods:?}"
    );
    let clusters = get("clusters").await;
    assert_eq!(
        items(&clusters)[0]["metrics"],
        "served",
        "{}",
        stdout(&clusters)
    );
}
