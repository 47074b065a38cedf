//! `hubdeck logs` against sim fleets, through the real binary: a server's log, the previous
//! run of a restarted container, kubelet's 400 when there is none, and hub components.

mod common;

use common::fleet::{TestFleet, a_running_server, cli, hubdeck_command, stderr, stdout};

/// (cluster, namespace, pod, user) of the first running default server the sim has.
fn a_server(fleet: &TestFleet) -> (String, String, String, String) {
    let s = a_running_server(&fleet.sim);
    (s.cluster.name().to_string(), s.namespace, s.pod, s.user)
}

async fn run(fleet: &TestFleet, args: Vec<String>) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cli(fleet, &args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_log_goes_to_stdout() {
    let fleet = TestFleet::small().await;
    let (c, ns, _pod, user) = a_server(&fleet);
    let target = format!("{c}/{ns}/{user}");
    let out = run(
        &fleet,
        vec!["logs".into(), target, "--tail".into(), "5".into()],
    )
    .await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(
        text.contains("ServerApp"),
        "a notebook server's log:\n{text}"
    );
    assert!(!text.contains('\u{1b}'), "sanitized:\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previous_shows_the_run_before_a_crash() {
    let fleet = TestFleet::small().await;
    let (c, ns, pod, user) = a_server(&fleet);
    let target = format!("{c}/{ns}/{user}");
    let now = run(&fleet, vec!["logs".into(), target.clone()]).await;
    assert!(now.status.success(), "stderr: {}", stderr(&now));
    assert!(!stdout(&now).contains("RuntimeError"));
    let cluster = fleet.sim.clusters().iter().find(|x| x.name() == c).unwrap();
    assert!(cluster.crash_loop_pod(&ns, &pod, 3));
    let before = run(
        &fleet,
        vec![
            "logs".into(),
            target,
            "--previous".into(),
            "--tail".into(),
            "50".into(),
        ],
    )
    .await;
    assert!(before.status.success(), "stderr: {}", stderr(&before));
    let text = stdout(&before);
    assert!(
        text.trim_end()
            .ends_with("RuntimeError: exiting after a fatal error"),
        "the previous run ends with its last words:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previous_of_a_container_never_restarted_is_one_line_and_fails() {
    let fleet = TestFleet::small().await;
    let (c, ns, pod, user) = a_server(&fleet);
    let out = run(
        &fleet,
        vec!["logs".into(), format!("{c}/{ns}/{user}"), "-p".into()],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "stdout: {}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(&format!("cluster {c}")), "{err}");
    assert!(err.contains(&format!("{ns}/{pod}")), "{err}");
    assert!(err.contains("previous terminated container"), "{err}");
    assert!(stdout(&out).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_hub_reads_the_hub_pod() {
    let fleet = TestFleet::small().await;
    let (c, ns, _pod, _user) = a_server(&fleet);
    let out = run(
        &fleet,
        vec![
            "logs".into(),
            format!("{c}/{ns}"),
            "--component".into(),
            "hub".into(),
            "--since".into(),
            "10m".into(),
        ],
    )
    .await;
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("JupyterHub"), "the hub's log:\n{text}");
    assert!(!text.contains("ServerApp"), "not a server's log:\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_user_is_one_line_naming_it() {
    let fleet = TestFleet::small().await;
    let (c, ns, _pod, _user) = a_server(&fleet);
    let out = run(&fleet, vec!["logs".into(), format!("{c}/{ns}/nobody-here")]).await;
    assert_eq!(out.status.code(), Some(5));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("nobody-here"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_into_a_closed_pipe_exits_zero() {
    use std::io::BufRead;
    let fleet = TestFleet::small().await;
    let (c, ns, _pod, user) = a_server(&fleet);
    let mut command = hubdeck_command(fleet.sim.kubeconfig_path(), fleet.home.path());
    let status = tokio::task::spawn_blocking(move || {
        let mut child = command
            .args(["logs", &format!("{c}/{ns}/{user}"), "-f", "--tail", "1"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap());
        lines.read_line(&mut first).unwrap();
        assert!(first.contains("ServerApp"), "{first}");
        // What `| head -1` does: read, then close the pipe while the log still follows.
        drop(lines);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                return s;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("hubdeck kept following into a closed pipe");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(0));
}
