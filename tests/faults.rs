//! Fault scenarios with figures: how soon the model tells the truth after an outage. Each test
//! prints what it measured (`cargo test --test faults -- --nocapture`) and fails past the
//! target: a hung API server shows unreachable within 6 s; after a cluster returns, or its API
//! server restarts and expires every resourceVersion (410), the model is correct (no ghosts,
//! nothing missing) within 2 s of it answering again.

mod common;

use std::time::{Duration, Instant};

use common::fleet::{TestFleet, model_server_pods, model_servers, sim_servers};
use hubdeck::fleet::ClusterStatus;

fn status<'a>(f: &'a hubdeck::fleet::Fleet, name: &str) -> Option<&'a ClusterStatus> {
    f.cluster(name).map(|c| &c.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_api_server_shows_unreachable_within_6s() {
    let fleet = TestFleet::small().await;
    let mut session = fleet.session().await;
    let c = fleet.cluster(0).clone();
    let name = c.name().to_string();
    // Accepts connections, answers nothing.
    c.set_latency(Duration::from_secs(600));
    let clock = Instant::now();
    let shown = session
        .wait_for(Duration::from_secs(20), |f| {
            matches!(status(f, &name), Some(ClusterStatus::Unreachable { .. }))
        })
        .await;
    let took = clock.elapsed();
    println!("figure: hung API server shown unreachable after {took:.1?}");
    c.set_latency(Duration::ZERO);
    assert!(shown, "never shown unreachable");
    assert!(took <= Duration::from_secs(6), "took {took:?}");
    let others_ready = fleet
        .sim
        .clusters()
        .iter()
        .filter(|o| o.name() != name)
        .all(|o| matches!(status(&session.fleet, o.name()), Some(ClusterStatus::Ready)));
    assert!(others_ready, "the other clusters stay ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_outage_the_model_is_right_within_2s_of_the_cluster_answering() {
    let fleet = TestFleet::small().await;
    let mut session = fleet.session().await;
    let c = fleet.cluster(0).clone();
    let name = c.name().to_string();
    let ns = c.hub_namespaces()[0].clone();
    c.go_down().await;
    assert!(
        session
            .wait_for(Duration::from_secs(20), |f| matches!(
                status(f, &name),
                Some(ClusterStatus::Unreachable { .. })
            ))
            .await
    );
    // Long enough for every watch's retry delay to reach its maximum.
    tokio::time::sleep(Duration::from_secs(10)).await;
    // While away, a server stops and another starts (their events are never seen).
    let gone = sim_servers(&fleet.sim)
        .into_iter()
        .find(|s| s.0 == name && s.1 == ns)
        .expect("a server");
    assert!(c.stop_server(&ns, &gone.2, &gone.3));
    c.start_server(&ns, "arrived.while.away", "");
    c.come_back().await;
    let clock = Instant::now();
    let right = session
        .wait_for(Duration::from_secs(20), |f| {
            model_servers(f) == sim_servers(&fleet.sim)
                && model_server_pods(f) == sim_servers(&fleet.sim).len()
                && matches!(status(f, &name), Some(ClusterStatus::Ready))
        })
        .await;
    let took = clock.elapsed();
    println!("figure: model correct and cluster ready {took:.1?} after it answered again");
    assert!(
        right,
        "model never converged: status {:?}; model-only {:?}; sim-only {:?}",
        status(&session.fleet, &name),
        model_servers(&session.fleet)
            .difference(&sim_servers(&fleet.sim))
            .collect::<Vec<_>>(),
        sim_servers(&fleet.sim)
            .difference(&model_servers(&session.fleet))
            .collect::<Vec<_>>()
    );
    assert!(took <= Duration::from_secs(2), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_api_server_restart_expires_versions_the_model_is_right_within_2s() {
    let fleet = TestFleet::small().await;
    let mut session = fleet.session().await;
    let c = fleet.cluster(0).clone();
    let ns = c.hub_namespaces()[0].clone();
    let gone = sim_servers(&fleet.sim)
        .into_iter()
        .find(|s| s.0 == c.name() && s.1 == ns)
        .expect("a server");
    c.restart_expiring();
    assert!(c.stop_server(&ns, &gone.2, &gone.3));
    c.start_server(&ns, "after.restart", "");
    let clock = Instant::now();
    let right = session
        .wait_for(Duration::from_secs(20), |f| {
            model_servers(f) == sim_servers(&fleet.sim)
                && model_server_pods(f) == sim_servers(&fleet.sim).len()
        })
        .await;
    let took = clock.elapsed();
    println!("figure: model correct {took:.1?} after an API server restart (410 on resume)");
    assert!(right, "model never converged");
    assert!(took <= Duration::from_secs(2), "took {took:?}");
}
