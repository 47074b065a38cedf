//! Fleet shapes and scenarios.

use super::*;

#[tokio::test]
async fn scenario_names_parse() {
    assert_eq!("quiet".parse::<Scenario>().unwrap(), Scenario::Quiet);
    assert_eq!("GameDay".parse::<Scenario>().unwrap(), Scenario::GameDay);
    assert_eq!(
        "churn".parse::<Scenario>().unwrap(),
        Scenario::Churn {
            updates_per_sec: 2000
        }
    );
    assert_eq!(
        "churn:50".parse::<Scenario>().unwrap(),
        Scenario::Churn {
            updates_per_sec: 50
        }
    );
    assert!("chaos".parse::<Scenario>().is_err());
}

#[tokio::test]
async fn demo_fleet_has_three_clouds_and_visible_trouble() {
    let fleet = SimFleet::start(FleetSpec::demo()).await.unwrap();
    let providers: std::collections::BTreeSet<_> = fleet
        .clusters()
        .iter()
        .map(|c| c.provider().to_string())
        .collect();
    assert_eq!(providers.len(), 3);
    let pods: Vec<Pod> = fleet.clusters().iter().flat_map(|c| c.pods()).collect();
    let servers = pods
        .iter()
        .filter(|p| {
            p.metadata
                .labels
                .as_ref()
                .unwrap()
                .get("component")
                .map(String::as_str)
                == Some("singleuser-server")
        })
        .count();
    assert!(servers >= 600, "{servers}");
    let crash = pods.iter().any(|p| {
        p.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.state
                        .as_ref()
                        .and_then(|s| s.waiting.as_ref())
                        .and_then(|w| w.reason.as_deref())
                        == Some("CrashLoopBackOff")
                })
            })
    });
    assert!(crash);
    let events: Vec<Event> = fleet.clusters().iter().flat_map(|c| c.events()).collect();
    for reason in ["BackOff", "FailedScheduling"] {
        assert!(
            events.iter().any(|e| e.reason.as_deref() == Some(reason)),
            "{reason}"
        );
    }
    let with_support = fleet.clusters().iter().filter(|c| {
        c.inner
            .state()
            .store
            .get(resources::Kind::Service, "support", "support-alertmanager")
            .is_some()
    });
    assert!(with_support.count() >= fleet.clusters().len() - 1);
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "heavy: 100k pods; run in release to see real figures"]
async fn large_fleet_starts_and_lists_quickly() {
    let spec = FleetSpec {
        clusters: 30,
        hubs: 600,
        servers: 100_000,
        seed: 1,
        scenario: Scenario::Quiet,
    };
    let t = std::time::Instant::now();
    let fleet = SimFleet::start(spec).await.unwrap();
    eprintln!("start: {:?}", t.elapsed());
    let c = fleet.clusters()[0].clone();
    let client = client_for(fleet.kubeconfig_path(), c.name()).await;
    let pods: Api<Pod> = Api::all(client);
    let t = std::time::Instant::now();
    let n = pods.list(&ListParams::default()).await.unwrap().items.len();
    eprintln!("list {n} pods: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let n = pods
        .list(&ListParams::default().labels("component=singleuser-server"))
        .await
        .unwrap()
        .items
        .len();
    eprintln!("list {n} pods by label: {:?}", t.elapsed());
    let http = reqwest::Client::new();
    let t = std::time::Instant::now();
    let body = http
        .get(format!("{}/api/v1/pods", c.url()))
        .bearer_auth(c.token(&Identity::Admin))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    eprintln!("raw list {} bytes: {:?}", body.len(), t.elapsed());
    fleet.shutdown().await;
}

#[tokio::test]
#[ignore = "manual: serves a fleet for poking with kubectl"]
async fn hold() {
    let out = std::env::var("HUBDECK_SIM_HOLD").unwrap();
    let spec = FleetSpec {
        scenario: Scenario::Steady,
        ..FleetSpec::small()
    };
    let fleet = SimFleet::start(spec).await.unwrap();
    fleet
        .write_kubectl_kubeconfig(Path::new(&out), Identity::Admin)
        .unwrap();
    tokio::time::sleep(Duration::from_secs(600)).await;
    fleet.shutdown().await;
}

fn moving_small() -> FleetSpec {
    FleetSpec {
        scenario: Scenario::Steady,
        ..FleetSpec::small()
    }
}

#[tokio::test]
async fn steady_fleet_moves_on_its_own() {
    let fleet = SimFleet::start(moving_small()).await.unwrap();
    let before: u64 = fleet
        .clusters()
        .iter()
        .map(SimCluster::resource_version)
        .sum();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let after: u64 = fleet
        .clusters()
        .iter()
        .map(SimCluster::resource_version)
        .sum();
    assert!(after > before, "nothing happened in 2.5s");
    fleet.shutdown().await;
}

#[tokio::test]
async fn started_server_is_pending_until_its_image_is_pulled() {
    let fleet = SimFleet::start(moving_small()).await.unwrap();
    let c = &fleet.clusters()[0];
    let ns = c.hub_namespaces()[0].clone();
    let name = c.start_server(&ns, "patient.user@example.org", "");
    let phase = |c: &SimCluster| {
        let p = c
            .pods()
            .into_iter()
            .find(|p| p.metadata.name.as_deref() == Some(&name));
        let s = p.and_then(|p| p.status).unwrap();
        let waiting = s.container_statuses.unwrap()[0]
            .state
            .clone()
            .unwrap()
            .waiting;
        (s.phase.unwrap(), waiting.and_then(|w| w.reason))
    };
    assert_eq!(
        phase(c),
        ("Pending".to_string(), Some("ContainerCreating".to_string()))
    );
    c.inner
        .state()
        .tick(std::time::Instant::now() + Duration::from_secs(60));
    let (p, waiting) = phase(c);
    assert!(
        p == "Running" || waiting.as_deref() == Some("ImagePullBackOff"),
        "{p} {waiting:?}"
    );
    // A graceful stop leaves the pod Terminating for a moment.
    assert!(c.stop_server(&ns, "patient.user@example.org", ""));
    let terminating = c
        .pods()
        .into_iter()
        .find(|p| p.metadata.name.as_deref() == Some(&name));
    assert!(terminating.unwrap().metadata.deletion_timestamp.is_some());
    c.inner
        .state()
        .tick(std::time::Instant::now() + Duration::from_secs(60));
    assert!(
        !c.pods()
            .iter()
            .any(|p| p.metadata.name.as_deref() == Some(&name))
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn churn_updates_pods_at_roughly_the_asked_rate() {
    let spec = FleetSpec {
        scenario: Scenario::Churn {
            updates_per_sec: 500,
        },
        ..FleetSpec::small()
    };
    let fleet = SimFleet::start(spec).await.unwrap();
    let total = |f: &SimFleet| {
        f.clusters()
            .iter()
            .map(SimCluster::resource_version)
            .sum::<u64>()
    };
    // Each update changes what a console shows: a restart or a readiness flip.
    let restarts = |f: &SimFleet| {
        f.clusters()
            .iter()
            .flat_map(SimCluster::pods)
            .filter_map(|p| p.status?.container_statuses)
            .flatten()
            .map(|c| i64::from(c.restart_count))
            .sum::<i64>()
    };
    let (before, restarts_before) = (total(&fleet), restarts(&fleet));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let done = total(&fleet) - before;
    assert!((250..=750).contains(&done), "{done} updates in 1s");
    let restarted = restarts(&fleet) - restarts_before;
    assert!(
        (100..=400).contains(&restarted),
        "{restarted} restarts in {done} updates"
    );
    fleet.shutdown().await;
}
