//! The shell key through the console's action flow and the real kube path against a sim
//! fleet: the confirmed plan opens an audited session in the selected server's pod, which the
//! event loop would hand the terminal (here the test carries its bytes), and read-only
//! refuses it before anything is asked.

mod common;

use std::time::Duration;

use common::console::{Console, hub_with_servers};
use hubdeck::action::exec::{ExecEnd, ExecInput, ExecOutput, ExecSession};
use hubdeck_sim::{FleetSpec, SimFleet};

/// Output until `until` shows up (or the session ends), and the end if it came.
async fn read_until(s: &mut ExecSession, until: &str) -> (String, Option<ExecEnd>) {
    let mut out = String::new();
    while !out.contains(until) {
        let next = tokio::time::timeout(Duration::from_secs(20), s.output.recv())
            .await
            .unwrap_or_else(|_| panic!("no {until:?} in {out:?}"));
        match next {
            Some(ExecOutput::Stdout(b) | ExecOutput::Stderr(b)) => {
                out.push_str(&String::from_utf8_lossy(&b))
            }
            Some(ExecOutput::End(end)) => return (out, Some(end)),
            None => panic!("the session ended without an End: {out:?}"),
        }
    }
    (out, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_key_opens_an_audited_session_in_the_selected_server() {
    let sim = SimFleet::start(FleetSpec::small()).await.unwrap();
    let mut console = Console::start(&sim, false).await;
    let (hub, _) = hub_with_servers(&console.app, &sim, 1);
    let hub = hub.id.clone();
    console.select_hub(&hub);
    console.press("<enter>/Running<enter>");
    console.press("s");
    let s = console.screen();
    assert!(
        s.contains(&format!("Confirm: shell in server {hub}/")),
        "{s}"
    );
    assert!(s.contains("create pods/exec"), "{s}");
    console.press("y");
    console.wait_for_outcome().await;
    let mut session = console
        .app
        .take_shell()
        .unwrap_or_else(|| panic!("no session opened:\n{}", console.screen()));
    assert_eq!(session.container, "notebook");
    let (out, _) = read_until(&mut session, "$ ").await;
    assert!(out.contains("(base) jovyan@jupyter-"), "{out}");
    session
        .input
        .send(ExecInput::Stdin(b"echo marker\r".to_vec()))
        .await
        .unwrap();
    // The echoed line itself ends in "marker\r\n": wait for the answer after it.
    let (out, _) = read_until(&mut session, "\r\nmarker\r\n").await;
    assert!(out.contains("echo marker\r\nmarker\r\n"), "{out:?}");
    session
        .input
        .send(ExecInput::Stdin(b"exit 4\r".to_vec()))
        .await
        .unwrap();
    let (_, end) = read_until(&mut session, "\u{0}never").await;
    let end = end.expect("the shell ended");
    assert_eq!(end, ExecEnd::Exited(4));
    console.app.shell_ended(&session.summary, &end);
    let s = console.screen();
    assert!(s.contains("closed, exit status 4"), "{s}");
    assert!(console.runner.wait_idle(Duration::from_secs(10)).await);
    let audit = console.audit();
    let exec: Vec<(&str, &str)> = audit
        .iter()
        .filter(|r| r.action == "exec")
        .map(|r| (r.outcome.as_str(), r.detail.as_str()))
        .collect();
    assert_eq!(exec.len(), 2, "{exec:?}");
    assert_eq!(
        exec[0],
        ("opened", "exec opened: bash in container notebook")
    );
    assert!(
        exec[1].0 == "closed" && exec[1].1.starts_with("exec closed: exit status 4 after"),
        "{exec:?}"
    );
    assert!(
        audit.iter().all(|r| !r.detail.contains("marker")),
        "what was typed is not audited: {audit:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_the_shell_and_asks_nothing() {
    let sim = SimFleet::start(FleetSpec::small()).await.unwrap();
    let mut console = Console::start(&sim, true).await;
    let (hub, cluster) = hub_with_servers(&console.app, &sim, 1);
    let (hub, cluster) = (hub.id.clone(), cluster.clone());
    console.select_hub(&hub);
    console.press("<enter>/Running<enter>");
    cluster.clear_requests();
    console.press("s");
    let s = console.screen();
    assert!(!s.contains("Confirm:"), "{s}");
    assert!(s.contains("read-only: shell on server"), "{s}");
    assert!(console.app.take_shell().is_none());
    assert!(
        cluster
            .requests()
            .iter()
            .all(|r| !r.path.ends_with("/exec") && !r.path.ends_with("/selfsubjectaccessreviews")),
        "{:?}",
        cluster.requests()
    );
}
