//! Exec credential plugins, as GKE, EKS and AKS kubeconfigs use them, against sim fleets whose
//! kubeconfig runs a counting plugin that takes its time: one run per cluster per token
//! lifetime, shared by every source of the cluster, never one cluster after another.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::console::Console;
use common::fleet::{TestFleet, hubdeck_with, stderr, stdout};
use hubdeck::fleet::ClusterId;
use hubdeck::kube::{ClientCache, targets};
use hubdeck_sim::exec_plugin::CountingPlugin;
use hubdeck_sim::{FleetSpec, Identity, Scenario};

fn spec(clusters: usize) -> FleetSpec {
    FleetSpec {
        clusters,
        hubs: clusters * 2,
        servers: clusters * 10,
        seed: 11,
        scenario: Scenario::Quiet,
    }
}

/// A fleet, its plugin and a kubeconfig that runs it for every cluster.
async fn fleet_with_plugin(
    clusters: usize,
    delay: Duration,
    lifetime: Duration,
) -> (TestFleet, CountingPlugin, PathBuf) {
    let fleet = TestFleet::start(spec(clusters)).await;
    let plugin = CountingPlugin::write(fleet.home.path(), delay, lifetime).unwrap();
    let kubeconfig = fleet.home.path().join("exec.kubeconfig");
    fleet
        .sim
        .write_exec_kubeconfig(&kubeconfig, Identity::Admin, plugin.command())
        .unwrap();
    (fleet, plugin, kubeconfig)
}

fn runs_per_cluster(fleet: &TestFleet, plugin: &CountingPlugin) -> Vec<(String, usize)> {
    fleet
        .sim
        .clusters()
        .iter()
        .map(|c| (c.name().to_string(), plugin.runs_for(c.name())))
        .collect()
}

fn once_each(fleet: &TestFleet) -> Vec<(String, usize)> {
    fleet
        .sim
        .clusters()
        .iter()
        .map(|c| (c.name().to_string(), 1))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_servers_runs_each_plugin_once_and_all_at_the_same_time() {
    let delay = Duration::from_millis(1500);
    let (fleet, plugin, kubeconfig) = fleet_with_plugin(4, delay, Duration::from_secs(900)).await;
    let home = fleet.home.path().to_path_buf();
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        hubdeck_with(&kubeconfig, &home, &["get", "servers", "-o", "json"])
    })
    .await
    .unwrap();
    let took = started.elapsed();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(
        doc["items"].as_array().map(Vec::len),
        Some(40),
        "every server"
    );
    assert_eq!(runs_per_cluster(&fleet, &plugin), once_each(&fleet));
    // Four clusters one after another would take 6 s, in pairs 3 s.
    assert!(
        took < delay * 2,
        "took {took:?} for plugins of {delay:?}: not all at once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_runs_each_plugin_once_for_watchers_pollers_and_the_runner() {
    let (fleet, plugin, kubeconfig) =
        fleet_with_plugin(3, Duration::from_millis(500), Duration::from_secs(900)).await;
    // Ready means every cluster's watchers listed and every hub's API answered through the
    // port-forward, so the watchers, the Alertmanager and hub API pollers all have asked.
    let console = Console::start_with(&fleet.sim, &kubeconfig, false).await;
    let client = console
        .clients
        .client(&ClusterId::new(fleet.cluster(0).name()))
        .await
        .unwrap();
    client.apiserver_version().await.unwrap();
    assert_eq!(runs_per_cluster(&fleet, &plugin), once_each(&fleet));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_lived_token_is_refreshed_by_one_more_run_not_one_per_request() {
    // Tokens valid 4 s (3–4 s once the plugin's whole-second timestamp is rounded): requests
    // for 5 s see the first token and one refreshed one.
    let (fleet, plugin, kubeconfig) =
        fleet_with_plugin(1, Duration::from_millis(100), Duration::from_secs(4)).await;
    let kc = targets::read_kubeconfig(&kubeconfig).unwrap();
    let clients = ClientCache::new(&targets::from_kubeconfig(kc, &[]).unwrap());
    let cluster = ClusterId::new(fleet.cluster(0).name());
    let started = Instant::now();
    let mut requests = 0;
    while started.elapsed() < Duration::from_secs(5) {
        let client = clients.client(&cluster).await.unwrap();
        client.apiserver_version().await.unwrap();
        requests += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(requests > 40, "{requests} requests");
    assert_eq!(plugin.runs_for(fleet.cluster(0).name()), 2);
}
