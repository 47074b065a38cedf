//! Rollouts in waves against the sim: staging hubs first, each wave gated on its hubs settling
//! healthy, stopping at the first wave that fails without touching the next one's hubs (the
//! sim's request log shows it), a values merge patch per hub with redacted diffs, and a hub
//! whose values changed since the plan failing as a conflict.

mod common;

use std::collections::BTreeMap;

use common::fleet::{TestFleet, cli, hub_values, set_hub_values, stderr, stdout};
use hubdeck::action::AuditLog;
use hubdeck::headless::rollout;
use hubdeck_core::rollout::{self as core, Ending, HubAction, Pace, WaveRules};
use hubdeck_sim::{RecordedRequest, SimCluster};

/// Requests that change something in `namespace` (access reviews are questions).
fn mutations_in(c: &SimCluster, namespace: &str) -> Vec<RecordedRequest> {
    let scope = format!("/namespaces/{namespace}/");
    c.requests()
        .into_iter()
        .filter(|r| matches!(r.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE"))
        .filter(|r| r.path.contains(&scope))
        .collect()
}

/// Hubs of the sim as (cluster, namespace).
type SimHubs = Vec<(SimCluster, String)>;

/// Every hub of the sim named `staging` (or `*-staging`), and every other one.
fn hubs_by_wave(fleet: &TestFleet) -> (SimHubs, SimHubs) {
    let mut staging = Vec::new();
    let mut prod = Vec::new();
    for c in fleet.sim.clusters() {
        for ns in c.hub_namespaces() {
            if ns == "staging" || ns.ends_with("-staging") {
                staging.push((c.clone(), ns));
            } else {
                prod.push((c.clone(), ns));
            }
        }
    }
    (staging, prod)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_staging_hub_stops_the_rollout_before_any_prod_hub_is_touched() {
    let fleet = TestFleet::small().await;
    let (staging, prod) = hubs_by_wave(&fleet);
    assert!(
        !staging.is_empty() && !prod.is_empty(),
        "{staging:?} {prod:?}"
    );
    let (broken, ns) = staging[0].clone();
    broken.crash_new_pods(&ns, "hub", true);
    for c in fleet.sim.clusters() {
        c.clear_requests();
    }
    let out = cli(
        &fleet,
        &[
            "restart",
            "hub",
            "-l",
            "health!=missing",
            "--settle",
            "2s",
            "--wave-timeout",
            "15s",
            "--yes",
        ],
    )
    .await;
    let (so, se) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{so}\n{se}");
    let failed = format!("hubdeck: wave staging failed: {}/{ns}: ", broken.name());
    assert!(se.contains(&failed), "{se}");
    assert!(se.contains("hub not ready"), "{se}");
    assert!(so.contains("wave 1/2 staging:"), "{so}");
    assert!(so.contains("not touched: "), "{so}");
    assert_eq!(
        mutations_in(&broken, &ns).len(),
        1,
        "the broken hub was restarted once"
    );
    for (c, ns) in &prod {
        let touched = mutations_in(c, ns);
        assert!(
            touched.is_empty(),
            "{}/{ns} was touched: {touched:?}",
            c.name()
        );
    }
    let audit = AuditLog::new(fleet.audit_path()).outcomes().unwrap();
    assert!(
        audit.iter().all(|r| staging
            .iter()
            .any(|(c, ns)| r.target == format!("{}/{ns}", c.name()))),
        "{audit:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_rollout_restarts_every_hub_staging_first() {
    let fleet = TestFleet::small().await;
    let (staging, prod) = hubs_by_wave(&fleet);
    let out = cli(
        &fleet,
        &[
            "restart",
            "hub",
            "-l",
            "health!=missing",
            "--settle",
            "1s",
            "--wave-timeout",
            "60s",
            "--yes",
        ],
    )
    .await;
    let so = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{so}\n{}", stderr(&out));
    assert!(so.contains("wave staging passed"), "{so}");
    assert!(so.contains("rollout done:"), "{so}");
    for (c, ns) in staging.iter().chain(&prod) {
        let patches = mutations_in(c, ns);
        assert_eq!(patches.len(), 1, "{}/{ns}: {patches:?}", c.name());
        assert!(
            patches[0]
                .body
                .contains("kubectl.kubernetes.io/restartedAt")
        );
    }
    let targets: Vec<String> = AuditLog::new(fleet.audit_path())
        .outcomes()
        .unwrap()
        .into_iter()
        .map(|r| r.target)
        .collect();
    let name = |(c, ns): &(SimCluster, String)| format!("{}/{ns}", c.name());
    let first_prod = targets
        .iter()
        .position(|t| prod.iter().any(|h| name(h) == *t))
        .unwrap();
    let last_staging = targets
        .iter()
        .rposition(|t| staging.iter().any(|h| name(h) == *t))
        .unwrap();
    assert!(last_staging < first_prod, "{targets:?}");
    assert_eq!(targets.len(), staging.len() + prod.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_values_patch_shows_each_hubs_redacted_diff_then_applies_it() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let dir = tempfile::tempdir().unwrap();
    let patch = dir.path().join("patch.yaml");
    std::fs::write(&patch, "singleuser:\n  memory:\n    limit: 8G\n").unwrap();
    let selector = format!("cluster={}", c.name());
    let patch_arg = patch.to_str().unwrap();
    let dry = cli(
        &fleet,
        &[
            "config",
            "patch",
            "-l",
            &selector,
            "--merge-patch",
            patch_arg,
            "--dry-run",
        ],
    )
    .await;
    let so = stdout(&dry);
    assert_eq!(dry.status.code(), Some(0), "{so}\n{}", stderr(&dry));
    for ns in c.hub_namespaces() {
        assert!(
            so.contains(&format!("--- a/{}/{ns}/values.yaml", c.name())),
            "{so}"
        );
        let values = hub_values(&c, &ns);
        assert!(values.contains("limit: 4G"), "unchanged by the dry run");
        let token = values
            .lines()
            .find_map(|l| l.trim().strip_prefix("secretToken: "))
            .unwrap()
            .trim_matches('"')
            .to_string();
        assert!(!so.contains(&token), "a credential in the plan: {so}");
    }
    assert!(so.contains("+    limit: 8G"), "{so}");
    let run = cli(
        &fleet,
        &[
            "config",
            "patch",
            "-l",
            &selector,
            "--merge-patch",
            patch_arg,
            "--settle",
            "1s",
            "--yes",
        ],
    )
    .await;
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&run),
        stderr(&run)
    );
    for ns in c.hub_namespaces() {
        let values = hub_values(&c, &ns);
        assert!(values.contains("limit: 8G"), "{values}");
        assert!(values.contains("secretToken:"), "credentials kept");
    }
    assert!(stderr(&run).contains("diff written to"), "{}", stderr(&run));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_whose_values_changed_since_the_plan_fails_as_a_conflict() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let mut session = fleet.session().await;
    let runner = session.runner(false, AuditLog::new(fleet.home.path().join("audit.jsonl")));
    let hubs: Vec<_> = session
        .fleet
        .hubs()
        .filter(|h| h.id.cluster.as_str() == c.name())
        .map(|h| h.id.clone())
        .collect();
    let configs = rollout::read_configs(&runner, &hubs).await;
    let what = HubAction::MergeValues {
        patch: serde_json::json!({"cull": {"timeout": 7200}}),
    };
    let pace = Pace {
        waves: None,
        settle: std::time::Duration::from_secs(1),
        timeout: std::time::Duration::from_secs(30),
        parallel: 1,
    };
    let plan = core::plan(
        &session.fleet,
        &WaveRules::default(),
        &hubs,
        &what,
        &pace,
        &configs,
        jiff::Timestamp::now(),
    )
    .unwrap();
    // Someone changes the first hub's values after the plan was shown.
    let first = &plan.waves[0].hubs[0].hub;
    let ns = first.key.namespace.to_string();
    let theirs = hub_values(&c, &ns).replace("limit: 4G", "limit: 6G");
    set_hub_values(&c, &ns, &theirs);
    let mut log = Vec::new();
    let report = rollout::drive(&mut session, &runner, plan.clone(), &mut log)
        .await
        .unwrap();
    let Ending::Failed { hub, error, .. } = &report.ending else {
        panic!("{:?}\n{}", report.ending, String::from_utf8_lossy(&log))
    };
    assert_eq!(hub, first);
    assert!(
        matches!(error, Some(hubdeck::action::ActionError::Conflict(_))),
        "{error:?}"
    );
    assert_eq!(report.code(), 5);
    assert_eq!(
        hub_values(&c, &ns),
        theirs,
        "their change is not overwritten"
    );
    let untouched: BTreeMap<_, _> = hubs
        .iter()
        .filter(|h| *h != first)
        .map(|h| (h.clone(), hub_values(&c, &h.key.namespace)))
        .collect();
    assert!(
        untouched.values().all(|v| v.contains("timeout: 3600")),
        "{untouched:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runbook_step_over_many_hubs_stops_at_the_failing_wave_too() {
    let fleet = TestFleet::small().await;
    let (staging, prod) = hubs_by_wave(&fleet);
    let (broken, ns) = staging[0].clone();
    broken.crash_new_pods(&ns, "hub", true);
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("rb.yaml");
    std::fs::write(
        &book,
        "steps:\n  - restart: {hubs: {selector: \"health!=missing\", settle: 1s, timeout: 15s}}\n  \
         - assert: {get: hubs, count: 0}\n",
    )
    .unwrap();
    for c in fleet.sim.clusters() {
        c.clear_requests();
    }
    let out = cli(&fleet, &["run", book.to_str().unwrap(), "--yes"]).await;
    let so = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{so}\n{}", stderr(&out));
    assert!(
        so.contains(&format!(
            "FAILED at step 1/2 (restart hub -l health!=missing in waves staging, prod): wave staging failed: {}/{ns}: ",
            broken.name()
        )),
        "{so}"
    );
    for (c, ns) in &prod {
        assert!(
            mutations_in(c, ns).is_empty(),
            "{}/{ns} was touched",
            c.name()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_plan_lists_each_wave_and_hub_with_its_plan() {
    let fleet = TestFleet::small().await;
    let out = cli(
        &fleet,
        &[
            "restart",
            "proxy",
            "-l",
            "health!=missing",
            "--dry-run",
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["kind"], "Rollout");
    assert_eq!(doc["outcome"], "dry-run");
    assert_eq!(doc["waves"][0]["name"], "staging");
    assert_eq!(doc["waves"][1]["name"], "prod");
    let hub = &doc["waves"][0]["hubs"][0];
    assert_eq!(hub["outcome"], "ok");
    assert_eq!(hub["plan"]["confirm"], "explicit");
    assert!(
        hub["plan"]["steps"][0]["what"]
            .as_str()
            .unwrap()
            .starts_with("rollout restart Deployment proxy"),
        "{hub}"
    );
}
