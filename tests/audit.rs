//! The write-ahead audit: no intent on disk, nothing sent; an intent with no outcome (hubdeck
//! killed while the request was out) shows as "unknown outcome" in `hubdeck audit`.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::fleet::{TestFleet, stderr, stdout};
use hubdeck::action::AuditLog;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_log_that_cannot_be_written_stops_the_action_before_any_request() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let hub = format!("{}/{}", c.name(), c.hub_namespaces()[0]);
    // A directory where the log file should be: no append can succeed, root or not.
    std::fs::create_dir_all(fleet.audit_path()).unwrap();
    c.clear_requests();
    let out = tokio::task::spawn_blocking({
        let (kc, home) = (
            fleet.sim.kubeconfig_path().to_path_buf(),
            fleet.home.path().to_path_buf(),
        );
        move || common::fleet::hubdeck_with(&kc, &home, &["restart", "hub", &hub, "--yes"])
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("audit.jsonl"), "names the audit file: {err}");
    assert!(err.contains("nothing was sent"), "{err}");
    let sent: Vec<String> = c
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        sent.is_empty(),
        "no access review, no change reached the cluster: {sent:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_intent_and_outcome_shows_as_unknown_outcome() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let hub = format!("{}/{}", c.name(), c.hub_namespaces()[0]);
    // Every answer takes a while, so the action is still out when the intent is on disk.
    c.set_latency(Duration::from_millis(400));
    let mut child = Command::new(env!("CARGO_BIN_EXE_hubdeck"))
        .args(["restart", "hub", &hub, "--yes"])
        .env("KUBECONFIG", fleet.sim.kubeconfig_path())
        .env("HUBDECK_CONFIG_DIR", fleet.home.path().join("config"))
        .env("HUBDECK_STATE_DIR", fleet.home.path().join("state"))
        .env_remove("HUBDECK_FLEET")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let log = AuditLog::new(fleet.audit_path());
    let deadline = Instant::now() + Duration::from_secs(30);
    while log.read().map(|r| r.is_empty()).unwrap_or(true) {
        assert!(Instant::now() < deadline, "no intent was written");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    c.set_latency(Duration::ZERO);
    let attempts = log.attempts().unwrap();
    assert_eq!(attempts.len(), 1);
    assert!(attempts[0].outcomes.is_empty(), "killed before the outcome");

    let out = fleet.hubdeck(&["audit"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.contains("unknown outcome"), "{table}");
    assert!(table.contains("restart-hub"), "{table}");
}
