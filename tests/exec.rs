//! `hubdeck exec` against sim fleets, through the real binary: a command's output and exit
//! status, a shell fed from a pipe, the fallback to sh where the image has no bash, refusals
//! (read-only, RBAC) that open nothing, and the audit's opened and closed lines.

mod common;

use std::process::Output;

use common::fleet::{TestFleet, a_running_server, cli_at, stderr, stdout};
use hubdeck::action::{AuditLog, AuditRecord};
use hubdeck_sim::{Identity, SimCluster};

/// (cluster, namespace, user) of the first running default server.
fn a_server(fleet: &TestFleet) -> (SimCluster, String, String) {
    let s = a_running_server(&fleet.sim);
    (s.cluster, s.namespace, s.user)
}

/// Runs `hubdeck ARGS` with `input` on its stdin (a pipe, not a terminal).
async fn run(
    fleet: &TestFleet,
    kubeconfig: Option<&std::path::Path>,
    args: &[&str],
    input: &str,
) -> Output {
    let kc = kubeconfig.unwrap_or(fleet.sim.kubeconfig_path());
    cli_at(kc, fleet.home.path(), args, Some(input)).await
}

fn audit(fleet: &TestFleet) -> Vec<AuditRecord> {
    AuditLog::new(fleet.audit_path()).read().unwrap()
}

/// Exec requests the sim's API server received.
fn exec_requests(c: &SimCluster) -> usize {
    c.requests()
        .iter()
        .filter(|r| r.path.ends_with("/exec"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_prints_its_output_and_exits_with_its_status() {
    let fleet = TestFleet::small().await;
    let (c, ns, user) = a_server(&fleet);
    let target = format!("{}/{ns}/{user}", c.name());
    let out = run(&fleet, None, &["exec", &target, "--", "echo", "hi"], "").await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), "hi\n");

    let out = run(
        &fleet,
        None,
        &["exec", &target, "--", "sh", "-c", "echo x; exit 3"],
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), "x\n");

    let out = run(&fleet, None, &["exec", &target, "--", "nosuch"], "").await;
    assert_eq!(out.status.code(), Some(127), "stdout: {}", stdout(&out));
    assert!(stderr(&out).contains("could not start"), "{}", stderr(&out));

    let r = audit(&fleet);
    let first: Vec<(&str, &str)> = r
        .iter()
        .take(3)
        .map(|r| (r.outcome.as_str(), r.detail.as_str()))
        .collect();
    assert_eq!(first[0].0, "pending", "{first:?}");
    assert_eq!(
        first[1],
        ("opened", "exec opened: echo hi in container notebook")
    );
    assert!(
        first[2].1.starts_with("exec closed: exit status 0 after"),
        "{first:?}"
    );
    assert!(r.iter().all(|x| x.action == "exec"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shell_reads_its_commands_from_a_pipe_and_exits_with_the_last_status() {
    let fleet = TestFleet::small().await;
    let (c, ns, user) = a_server(&fleet);
    let target = format!("{}/{ns}/{user}", c.name());
    let out = run(&fleet, None, &["exec", &target], "echo piped\nls\nwhoami\n").await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "piped\nanalysis.ipynb\ndata\nenvironment.yml\nshared\njovyan\n"
    );
    let out = run(
        &fleet,
        None,
        &["exec", &target],
        "echo bye\nexit 3\necho never\n",
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), "bye\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_without_bash_gets_sh_and_one_without_a_shell_says_so() {
    let fleet = TestFleet::small().await;
    let (c, ns, _) = a_server(&fleet);
    let hub = format!("{}/{ns}", c.name());
    let out = run(
        &fleet,
        None,
        &["exec", &hub, "--component", "proxy"],
        "pwd\n",
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), "/srv/configurable-http-proxy\n");
    let closed = audit(&fleet).pop().unwrap();
    assert_eq!(closed.outcome, "closed");
    assert!(
        closed.detail.contains("bash could not start")
            && closed.detail.contains("executable file not found in $PATH"),
        "{}",
        closed.detail
    );

    // kube-scheduler's image is distroless: neither bash nor sh.
    let out = run(
        &fleet,
        None,
        &["exec", &hub, "--component", "user-scheduler"],
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(127), "stdout: {}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("\"sh\": executable file not found"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_and_rbac_refusals_open_nothing() {
    let fleet = TestFleet::small().await;
    let (c, ns, user) = a_server(&fleet);
    let target = format!("{}/{ns}/{user}", c.name());
    c.clear_requests();
    let out = run(
        &fleet,
        None,
        &["--readonly", "exec", &target, "--", "echo", "hi"],
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(4), "stdout: {}", stdout(&out));
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("read-only"), "{err}");

    let kc = fleet.home.path().join("readonly-kubeconfig");
    fleet.sim.write_kubeconfig(&kc, Identity::ReadOnly).unwrap();
    let out = run(
        &fleet,
        Some(&kc),
        &["exec", &target, "--", "echo", "hi"],
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(4), "stdout: {}", stdout(&out));
    assert!(
        stderr(&out).contains(&format!("missing permission: create pods/exec {ns}/")),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        exec_requests(&c),
        0,
        "a refusal never reaches the exec endpoint"
    );
    let outcomes: Vec<String> = audit(&fleet)
        .into_iter()
        .filter(|r| r.phase == hubdeck::action::audit::Phase::Outcome)
        .map(|r| r.outcome)
        .collect();
    assert_eq!(outcomes, ["refused", "refused"]);

    let out = run(&fleet, None, &["exec", &target, "--dry-run"], "").await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("create pods/exec {ns}/")),
        "{}",
        stdout(&out)
    );
    assert_eq!(exec_requests(&c), 0, "a dry run opens nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_container_is_one_line_naming_the_pods_containers() {
    let fleet = TestFleet::small().await;
    let (c, ns, user) = a_server(&fleet);
    let target = format!("{}/{ns}/{user}", c.name());
    let out = run(
        &fleet,
        None,
        &["exec", &target, "-c", "sidecar", "--", "ls"],
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(5), "stdout: {}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("has no container sidecar; its containers: notebook"),
        "{err}"
    );
}
