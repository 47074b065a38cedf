//! The HTTP stack under each cluster's client (`kube::stack`), where the sim and loopback
//! sockets can show it: what a failing exec plugin looks like to a person, and that a server
//! which never completes a connection is given up on at the connect timeout. Token auth and the
//! User-Agent are covered by every other test (`cli_errors`, `get`); exec plugins that work by
//! `exec_plugin`.

mod common;

use std::time::{Duration, Instant};

use common::fleet::{TestFleet, stderr};
use hubdeck::fleet::ClusterId;
use hubdeck::kube::{ClientCache, targets};
use hubdeck_sim::Identity;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_exec_plugin_is_one_line_naming_the_context_and_why() {
    let fleet = TestFleet::small().await;
    let plugin = fleet.home.path().join("not-logged-in.sh");
    std::fs::write(
        &plugin,
        "#!/bin/sh\necho 'looking up credentials' >&2\n\
         echo 'error: not logged in; run: gcloud auth login' >&2\nexit 1\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let kubeconfig = fleet.home.path().join("exec.kubeconfig");
    fleet
        .sim
        .write_exec_kubeconfig(&kubeconfig, Identity::Admin, &plugin)
        .unwrap();
    let home = fleet.home.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        common::fleet::hubdeck_with(&kubeconfig, &home, &["get", "servers"])
    })
    .await
    .unwrap();
    let err = stderr(&out);
    let cluster = fleet.cluster(0).name();
    let line = err
        .lines()
        .find(|l| l.contains(cluster))
        .unwrap_or_else(|| panic!("no line names {cluster}: {err}"));
    assert!(
        line.contains("not-logged-in.sh") && line.contains("not logged in; run: gcloud auth login"),
        "{line}"
    );
    assert!(
        !err.contains("looking up credentials"),
        "only the last line: {err}"
    );
    assert!(
        !err.contains(&fleet.cluster(0).token(&Identity::Admin)),
        "no token in: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_completes_the_handshake_is_given_up_at_the_connect_timeout() {
    // A listener with a backlog of 0 that never accepts: once its queue holds a connection the
    // kernel drops further SYNs, so a connect hangs as it does to a firewalled API server.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) = tokio::time::timeout(
            Duration::from_millis(300),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            held.push(s);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'http://{addr}'}}\n\
             users:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: hung\n  context: {{cluster: c, user: u}}\n"
        ),
    )
    .unwrap();
    let list = targets::from_kubeconfig(targets::read_kubeconfig(&kc).unwrap(), &[]).unwrap();
    let clients = ClientCache::new(&list);
    let client = clients.client(&ClusterId::new("hung")).await.unwrap();
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(30), client.apiserver_version()).await;
    let took = started.elapsed();
    assert!(matches!(answer, Ok(Err(_))), "{answer:?}");
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(10),
        "gave up after {took:?}, not at the 5 s connect timeout"
    );
    drop(held);
}
