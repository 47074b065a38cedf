//! The action layer through the CLI and the library, against sim fleets: exactly the planned
//! requests reach the API server, refusals send nothing, conflicts never overwrite, every
//! attempt is audited.

mod common;

use common::fleet::{
    TestFleet, cli, config_apply, hub_values, hubdeck_with, set_hub_values, stderr, stdout,
};
use hubdeck::action::{ActionError, AuditLog, Mode, Request, resolve};
use hubdeck::fleet::HubRef;
use hubdeck_sim::{Identity, RecordedRequest, SimCluster};

/// Requests that change something (access reviews are questions, not changes).
fn mutations(c: &SimCluster) -> Vec<RecordedRequest> {
    c.requests()
        .into_iter()
        .filter(|r| matches!(r.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE"))
        .filter(|r| !r.path.contains("selfsubjectaccessreviews"))
        .collect()
}

fn audit(fleet: &TestFleet) -> Vec<hubdeck::action::AuditRecord> {
    AuditLog::new(fleet.audit_path()).outcomes().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_hub_sends_exactly_the_planned_patch() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let ns = c.hub_namespaces()[0].clone();
    let hub = format!("{}/{ns}", c.name());
    c.clear_requests();
    let out = cli(&fleet, &["restart", "hub", &hub, "--yes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("patch apps/deployments {ns}/hub")),
        "{}",
        stdout(&out)
    );
    let m = mutations(&c);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].method, "PATCH");
    assert_eq!(
        m[0].path,
        format!("/apis/apps/v1/namespaces/{ns}/deployments/hub")
    );
    assert!(
        m[0].body.contains("kubectl.kubernetes.io/restartedAt"),
        "{}",
        m[0].body
    );
    assert!(
        stderr(&out).contains("visible in the fleet model after"),
        "{}",
        stderr(&out)
    );
    let records = audit(&fleet);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, "ok");
    assert_eq!(records[0].action, "restart-hub");
    assert_eq!(records[0].target, hub);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unconfirmed_readonly_and_dry_run_change_nothing() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let hub = format!("{}/{}", c.name(), c.hub_namespaces()[0]);
    c.clear_requests();
    let unconfirmed = cli(&fleet, &["scale", "hub", &hub, "--replicas", "0"]).await;
    assert_eq!(
        unconfirmed.status.code(),
        Some(4),
        "{}",
        stderr(&unconfirmed)
    );
    assert!(stderr(&unconfirmed).contains("not confirmed"));
    let readonly = cli(
        &fleet,
        &[
            "--readonly",
            "scale",
            "hub",
            &hub,
            "--replicas",
            "0",
            "--yes",
        ],
    )
    .await;
    assert_eq!(readonly.status.code(), Some(4));
    assert!(
        stderr(&readonly).contains("read-only"),
        "{}",
        stderr(&readonly)
    );
    let dry = cli(
        &fleet,
        &["scale", "hub", &hub, "--replicas", "0", "--dry-run"],
    )
    .await;
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert!(stdout(&dry).contains("dry run"), "{}", stdout(&dry));
    assert!(mutations(&c).is_empty(), "{:?}", mutations(&c));
    let outcomes: Vec<String> = audit(&fleet).into_iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, ["refused", "refused", "dry-run"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_refusal_names_the_missing_permission_and_sends_nothing() {
    let fleet = TestFleet::small().await;
    let kc = fleet.home.path().join("readonly-kubeconfig");
    fleet.sim.write_kubeconfig(&kc, Identity::ReadOnly).unwrap();
    let c = fleet.cluster(0).clone();
    let hub = format!("{}/{}", c.name(), c.hub_namespaces()[0]);
    c.clear_requests();
    let home = fleet.home.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        hubdeck_with(
            &kc,
            &home,
            &["scale", "hub", &hub, "--replicas", "0", "--yes"],
        )
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("missing permission: patch apps/deployments/scale"),
        "{}",
        stderr(&out)
    );
    assert!(mutations(&c).is_empty(), "{:?}", mutations(&c));
    assert!(
        c.requests()
            .iter()
            .any(|r| r.path.contains("selfsubjectaccessreviews"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_to_zero_and_stop_server_show_in_the_fleet() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let ns = c.hub_namespaces()[0].clone();
    let hub = format!("{}/{ns}", c.name());
    let out = cli(&fleet, &["scale", "hub", &hub, "--replicas", "0", "--yes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let hubs = cli(&fleet, &["get", "hubs", "--hub", &hub, "-o", "json"]).await;
    let doc: serde_json::Value = serde_json::from_str(&stdout(&hubs)).unwrap();
    assert_eq!(doc["items"][0]["health"], "down");
    assert_eq!(doc["items"][0]["reason"], "hub scaled to 0");

    let servers = cli(&fleet, &["get", "servers", "--hub", &hub, "-o", "json"]).await;
    let doc: serde_json::Value = serde_json::from_str(&stdout(&servers)).unwrap();
    let user = doc["items"][0]["user"].as_str().unwrap().to_string();
    let pod = doc["items"][0]["pod"].as_str().unwrap().to_string();
    c.clear_requests();
    let out = cli(
        &fleet,
        &["stop", "server", &format!("{hub}/{user}"), "--yes"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let m = mutations(&c);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(
        (m[0].method.as_str(), m[0].path.as_str()),
        (
            "DELETE",
            format!("/api/v1/namespaces/{ns}/pods/{pod}").as_str()
        )
    );
    assert!(
        !c.pods()
            .iter()
            .any(|p| p.metadata.name.as_deref() == Some(pod.as_str()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_yaml_is_refused_with_its_line_and_kept() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let hub = format!("{}/{}", c.name(), c.hub_namespaces()[0]);
    let file = fleet.home.path().join("values.yaml");
    std::fs::write(&file, "hub:\n  config:\n    JupyterHub: [oops\n").unwrap();
    c.clear_requests();
    let out = config_apply(&fleet, &hub, &file, &["--force"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("values.yaml:"), "{err}");
    assert!(err.contains("your edit is kept in"), "{err}");
    let kept = err
        .rsplit("kept in ")
        .next()
        .unwrap()
        .trim_end_matches([')', '\n']);
    assert_eq!(
        std::fs::read_to_string(kept).unwrap(),
        "hub:\n  config:\n    JupyterHub: [oops\n"
    );
    assert!(mutations(&c).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_apply_writes_values_and_a_diff_file() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let ns = c.hub_namespaces()[0].clone();
    let hub = format!("{}/{ns}", c.name());
    let shown = cli(&fleet, &["config", "show", &hub]).await;
    assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
    let original = hub_values(&c, &ns);
    let mut values = stdout(&shown);
    assert!(values.contains("hub:"), "{values}");
    values.push_str("# raised for the workshop\n");
    let file = fleet.home.path().join("values.yaml");
    std::fs::write(&file, &values).unwrap();
    let out = config_apply(&fleet, &hub, &file, &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("+# raised for the workshop"),
        "{}",
        stdout(&out)
    );
    let (first, _) = values.split_once('\n').unwrap();
    assert!(first.starts_with("# hubdeck-base: "), "{first}");
    assert!(values.contains("<redacted proxy.secretToken"), "{values}");
    assert_eq!(
        hub_values(&c, &ns),
        format!("{original}# raised for the workshop\n"),
        "the edit applied, the credentials back in place, the base line not stored"
    );
    assert!(stderr(&out).contains("diff written to"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_a_shown_file_after_someone_else_changed_the_secret_is_a_conflict() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let ns = c.hub_namespaces()[0].clone();
    let hub = format!("{}/{ns}", c.name());
    set_hub_values(
        &c,
        &ns,
        "scheduling:\n  userPlaceholder:\n    replicas: 2\nhub: {}\n",
    );
    let shown = stdout(&cli(&fleet, &["config", "show", &hub]).await);
    // Someone else raises the placeholders meanwhile.
    set_hub_values(
        &c,
        &ns,
        "scheduling:\n  userPlaceholder:\n    replicas: 5\nhub: {}\n",
    );
    // The engineer edits the file they were shown.
    let mine = shown.replace("hub: {}", "hub: {config: {x: 1}}");
    let file = fleet.home.path().join("v.yaml");
    std::fs::write(&file, &mine).unwrap();
    c.clear_requests();
    let out = config_apply(&fleet, &hub, &file, &[]).await;
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("conflict"), "{err}");
    assert!(
        err.contains("theirs"),
        "a view of theirs against yours: {err}"
    );
    assert!(
        err.contains("-    replicas: 5") && err.contains("+    replicas: 2"),
        "shows the change the edit would undo: {err}"
    );
    assert!(err.contains("your edit is kept in"), "{err}");
    assert!(mutations(&c).is_empty(), "nothing was written");
    assert!(
        hub_values(&c, &ns).contains("replicas: 5"),
        "the other change stays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_with_no_recorded_base_is_refused_unless_forced() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let ns = c.hub_namespaces()[0].clone();
    let hub = format!("{}/{ns}", c.name());
    let file = fleet.home.path().join("v.yaml");
    std::fs::write(&file, "hub: {config: {y: 2}}\n").unwrap();
    c.clear_requests();
    let out = config_apply(&fleet, &hub, &file, &[]).await;
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert!(mutations(&c).is_empty());
    let out = config_apply(&fleet, &hub, &file, &["--force"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--force"),
        "the overwrite is said: {}",
        stderr(&out)
    );
    assert_eq!(hub_values(&c, &ns), "hub: {config: {y: 2}}\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_config_change_is_a_conflict_never_an_overwrite() {
    let fleet = TestFleet::small().await;
    let session = fleet.session().await;
    let c = fleet.cluster(0).clone();
    let ns = c.hub_namespaces()[0].clone();
    let hub = session
        .fleet
        .hubs()
        .find(|h| h.id.cluster.as_str() == c.name() && *h.id.key.namespace == *ns)
        .unwrap()
        .id
        .clone();
    let runner = session.runner(false, AuditLog::new(fleet.audit_path()));
    let read = runner.read_config(&hub).await.unwrap();
    // Someone else edits the Secret meanwhile.
    set_hub_values(&c, &ns, "theirs: true\n");
    let edit = Request::EditConfig {
        hub: HubRef::from(&hub),
        base: read.clone(),
        values: "mine: true\n".into(),
    };
    let action = resolve(&session.fleet, &edit, jiff::Timestamp::now()).unwrap();
    let outcome = runner.execute(&action, Mode::Run).await;
    assert!(
        matches!(outcome.result, Err(ActionError::Conflict(_))),
        "{:?}",
        outcome.result
    );
    let stored = c.secret(&ns, &read.secret).unwrap().data.unwrap()["values.yaml"]
        .0
        .clone();
    assert_eq!(stored, b"theirs: true\n");
    assert_eq!(audit(&fleet)[0].outcome, "conflict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_runbooks_run_against_the_demo_fleet() {
    let home = tempfile::tempdir().unwrap();
    for book in [
        "runbooks/hub-maintenance-restart.yaml",
        "runbooks/clear-idle-servers.yaml",
    ] {
        let path = format!("{}/{book}", env!("CARGO_MANIFEST_DIR"));
        let home = home.path().to_path_buf();
        let out = tokio::task::spawn_blocking(move || {
            hubdeck_with(
                &home.join("none"),
                &home,
                &["--demo", "run", &path, "--yes"],
            )
        })
        .await
        .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{book}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(stdout(&out).contains("runbook done"), "{}", stdout(&out));
    }
    let attempts = AuditLog::new(home.path().join("state/audit.jsonl"))
        .attempts()
        .unwrap();
    assert_eq!(attempts.len(), 3, "restart, stop idle, scale placeholders");
    for a in &attempts {
        assert!(a.intent.is_some(), "written ahead: {a:?}");
        assert!(!a.outcomes.is_empty());
        assert!(a.outcomes.iter().all(|r| r.outcome == "ok"), "{a:?}");
    }
    assert!(
        attempts[1].outcomes.len() > 1,
        "each stopped server has its own outcome line"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runbook_stops_at_the_first_failed_step_and_says_which() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let hub = format!("{}/{}", c.name(), c.hub_namespaces()[0]);
    let book = fleet.home.path().join("rb.yaml");
    std::fs::write(
        &book,
        format!(
            "steps:\n  - assert: {{get: hubs, hub: {hub}, count: 1}}\n  - assert: {{get: servers, hub: {hub}, count: 0}}\n  - restart: {{hub: {hub}}}\n"
        ),
    )
    .unwrap();
    c.clear_requests();
    let out = cli(&fleet, &["run", book.to_str().unwrap(), "--yes"]).await;
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("FAILED at step 2/3"),
        "{}",
        stdout(&out)
    );
    assert!(mutations(&c).is_empty(), "step 3 never ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runbook_is_checked_whole_before_step_one_in_dry_run_and_with_yes() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let hub = format!("{}/{}", c.name(), c.hub_namespaces()[0]);
    let book = fleet.home.path().join("rb.yaml");
    std::fs::write(
        &book,
        format!(
            "steps:\n  - restart: {{hub: {hub}}}\n  - restart: {{hub: {}/no-such-hub}}\n  - assert: {{get: servers, selector: \"phse=Pending\", count: 0}}\n",
            c.name()
        ),
    )
    .unwrap();
    c.clear_requests();
    for mode in ["--dry-run", "--yes"] {
        let out = cli(&fleet, &["run", book.to_str().unwrap(), mode]).await;
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(5), "{mode}: {text}{}", stderr(&out));
        assert!(
            text.contains("runbook not run: 2 invalid step(s)"),
            "{mode}: {text}"
        );
        assert!(text.contains("step 2/3 (restart hub"), "{mode}: {text}");
        assert!(
            text.contains(
                "step 3/3 (assert on get servers -l phse=Pending): selector field \"phse\""
            ),
            "{mode}: {text}"
        );
        assert!(
            !text.contains("step 1/3: restart"),
            "step 1 never started: {text}"
        );
    }
    assert!(mutations(&c).is_empty(), "nothing was sent");
    assert!(audit(&fleet).is_empty(), "nothing was attempted");
}
