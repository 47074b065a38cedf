//! A wave's hubs acted on a few at a time against the sim: the request log shows the second
//! hub's requests arriving before the first hub's write while a third waits for a free slot,
//! and after a hub's action fails no further hub is started, those already out finish, and
//! the rollout names the failed hub and why.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::fleet::{TestFleet, cli, hub_values, set_hub_values, stderr, stdout};
use hubdeck::action::AuditLog;
use hubdeck::headless::rollout;
use hubdeck_core::rollout::{self as core, Ending, HubAction, Pace, WaveRules};
use hubdeck_sim::{FleetSpec, RecordedRequest, SimCluster};

/// Whether a request is one of a hub action's in `namespace`: the access review before it, or
/// its write.
fn about(r: &RecordedRequest, namespace: &str) -> bool {
    (r.path.ends_with("selfsubjectaccessreviews")
        && r.body.contains(&format!("\"namespace\":\"{namespace}\"")))
        || (r.method == "PATCH" && r.path.contains(&format!("/namespaces/{namespace}/")))
}

/// Index in the log of the first request about `ns`, and of its first write.
fn first_and_write(log: &[RecordedRequest], ns: &str) -> (Option<usize>, Option<usize>) {
    let first = log.iter().position(|r| about(r, ns));
    let write = log
        .iter()
        .position(|r| r.method == "PATCH" && r.path.contains(&format!("/namespaces/{ns}/")));
    (first, write)
}

/// The namespaces of `c` that hold one hub each, sorted as a wave orders their hubs.
fn lone_hubs(c: &SimCluster) -> Vec<String> {
    let all = c.hub_namespaces();
    let mut lone: Vec<String> = all
        .iter()
        .filter(|ns| all.iter().filter(|n| n == ns).count() == 1)
        .cloned()
        .collect();
    lone.sort();
    lone
}

/// Those of them outside the staging wave.
fn prod_hubs(c: &SimCluster) -> Vec<String> {
    lone_hubs(c)
        .into_iter()
        .filter(|ns| !(ns == "staging" || ns.starts_with("staging-") || ns.ends_with("-staging")))
        .collect()
}

/// Two clusters of ten hubs or so each, so that a wave has hubs to spare.
async fn ten_hubs_a_cluster() -> TestFleet {
    TestFleet::start(FleetSpec {
        clusters: 2,
        hubs: 20,
        servers: 40,
        ..FleetSpec::small()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waves_hubs_are_restarted_two_at_a_time_with_parallel_2() {
    let fleet = ten_hubs_a_cluster().await;
    let c = fleet.cluster(0).clone();
    let prod = prod_hubs(&c);
    assert!(prod.len() >= 3, "{prod:?}");
    // Slow answers, so that a hub's action is still out when the next could start.
    c.set_latency(Duration::from_millis(150));
    c.clear_requests();
    let selector = format!("cluster={}", c.name());
    let out = cli(
        &fleet,
        &[
            "restart",
            "hub",
            "-l",
            &selector,
            "--parallel",
            "2",
            "--settle",
            "1s",
            "--yes",
        ],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let log = c.requests();
    let spans: Vec<_> = prod.iter().map(|ns| first_and_write(&log, ns)).collect();
    let (first, second, third) = (spans[0], spans[1], spans[2]);
    let (Some(first_write), Some(second_start), Some(second_write), Some(third_start)) =
        (first.1, second.0, second.1, third.0)
    else {
        panic!("every prod hub is restarted: {spans:?}")
    };
    assert!(
        second_start < first_write,
        "the second hub started before the first was written: {spans:?}"
    );
    assert!(
        third_start > first_write.min(second_write),
        "the third waited for a free slot: {spans:?}"
    );
    for ns in &prod {
        let writes = log
            .iter()
            .filter(|r| r.method == "PATCH" && r.path.contains(&format!("/namespaces/{ns}/")))
            .count();
        assert_eq!(writes, 1, "{ns} restarted once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_failed_hub_no_other_starts_and_the_one_out_finishes() {
    let fleet = ten_hubs_a_cluster().await;
    // The wave orders hubs by cluster, then name.
    let mut clusters = fleet.sim.clusters().to_vec();
    clusters.sort_by(|a, b| a.name().cmp(b.name()));
    let (fast, slow) = (clusters[0].clone(), clusters[1].clone());
    let mut session = fleet.session().await;
    let runner = session.runner(false, AuditLog::new(fleet.home.path().join("audit.jsonl")));
    // One wave: the fast cluster's first hub, then three of the slow one's, in that order.
    // Hubs the model shows whose values live in their namespace's `hub` Secret, in order.
    let usable = |c: &SimCluster| -> Vec<hubdeck::fleet::HubId> {
        let mut ids: Vec<_> = session
            .fleet
            .hubs()
            .filter(|h| h.id.cluster.as_str() == c.name() && h.runs())
            .filter(|h| lone_hubs(c).contains(&h.id.key.namespace.to_string()))
            .filter(|h| c.secret(&h.id.key.namespace, "hub").is_some())
            .map(|h| h.id.clone())
            .collect();
        ids.sort();
        ids
    };
    let mut hubs = usable(&fast);
    hubs.truncate(1);
    hubs.extend(usable(&slow).into_iter().take(3));
    assert_eq!(hubs.len(), 4, "{hubs:?}");
    let failing = hubs[0].key.namespace.to_string();
    let others: Vec<String> = hubs[1..]
        .iter()
        .map(|h| h.key.namespace.to_string())
        .collect();
    let configs = rollout::read_configs(&runner, &hubs).await;
    let one_wave = WaveRules {
        order: vec!["all".into()],
        patterns: BTreeMap::new(),
        parallel: 2,
    };
    let pace = Pace {
        waves: None,
        settle: Duration::from_secs(1),
        timeout: Duration::from_secs(30),
        parallel: 2,
    };
    let what = HubAction::MergeValues {
        patch: serde_json::json!({"cull": {"timeout": 7200}}),
    };
    let plan = core::plan(
        &session.fleet,
        &one_wave,
        &hubs,
        &what,
        &pace,
        &configs,
        jiff::Timestamp::now(),
    )
    .unwrap();
    assert_eq!(plan.waves[0].hubs[0].hub, hubs[0]);
    // The first hub's values change after the plan: its write is refused at once, while the
    // second hub's answers are slow.
    let theirs = hub_values(&fast, &failing).replace("limit: 4G", "limit: 6G");
    set_hub_values(&fast, &failing, &theirs);
    slow.set_latency(Duration::from_millis(300));
    let mut log = Vec::new();
    let report = rollout::drive(&mut session, &runner, plan, &mut log)
        .await
        .unwrap();
    let log = String::from_utf8_lossy(&log);
    let Ending::Failed {
        hub, why, error, ..
    } = &report.ending
    else {
        panic!("{:?}\n{log}", report.ending)
    };
    assert_eq!(hub, &hubs[0], "{log}");
    assert!(
        matches!(error, Some(hubdeck::action::ActionError::Conflict(_))),
        "{error:?}"
    );
    assert!(
        report
            .failure()
            .unwrap()
            .starts_with(&format!("wave all failed: {hub}: ")),
        "{why}"
    );
    assert_eq!(hub_values(&fast, &failing), theirs, "theirs kept");
    assert!(
        hub_values(&slow, &others[0]).contains("timeout: 7200"),
        "the hub already out finished its write"
    );
    for ns in &others[1..] {
        assert!(
            hub_values(&slow, ns).contains("timeout: 3600"),
            "{ns} was started after the failure:\n{log}"
        );
    }
    assert!(log.contains("not touched: "), "{log}");
}
