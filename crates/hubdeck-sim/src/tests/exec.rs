//! Pod exec over the WebSocket channel protocol, through kube's `Api::exec` and kubectl.

use super::kubectl::{Kubectl, have_kubectl, text};
use super::*;
use kube::api::AttachParams;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn running_user_pod(c: &SimCluster, ns: &str) -> String {
    c.pods()
        .into_iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(ns))
        .filter_map(|p| p.metadata.name)
        .find(|n| n.starts_with("jupyter-"))
        .unwrap()
}

async fn read_all(r: Option<impl tokio::io::AsyncRead + Unpin>) -> String {
    let mut s = String::new();
    if let Some(mut r) = r {
        tokio::time::timeout(Duration::from_secs(10), r.read_to_string(&mut s))
            .await
            .unwrap_or_else(|_| panic!("output never ended; so far: {s:?}"))
            .unwrap();
    }
    s
}

#[tokio::test]
async fn kube_exec_runs_commands_and_reports_exit_codes() {
    // A session that hangs (kube's client loop has been seen to under load) fails the test
    // instead of stalling the suite.
    tokio::time::timeout(Duration::from_secs(60), exec_sessions())
        .await
        .expect("the exec sessions finished within 60 s");
}

async fn exec_sessions() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let pod = running_user_pod(&c, &ns);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let ap = AttachParams::default().container("notebook");
    let mut p = pods
        .exec(&pod, vec!["echo", "hello", "world"], &ap)
        .await
        .unwrap();
    let status = p.take_status().unwrap();
    let out = read_all(p.stdout()).await;
    assert_eq!(out, "hello world\n");
    let st = status.await.unwrap();
    assert_eq!(st.status.as_deref(), Some("Success"));
    p.join().await.unwrap();

    let mut p = pods
        .exec(&pod, vec!["sh", "-c", "df -h; nosuch; exit 3"], &ap)
        .await
        .unwrap();
    let status = p.take_status().unwrap();
    let (out, err) = (p.stdout(), p.stderr());
    let (out, err) = tokio::join!(read_all(out), read_all(err));
    assert!(
        out.starts_with("Filesystem      Size  Used Avail Use% Mounted on\n"),
        "{out}"
    );
    assert_eq!(err, "sh: nosuch: not found\n");
    let st = status.await.unwrap();
    assert_eq!(st.status.as_deref(), Some("Failure"));
    assert_eq!(st.reason.as_deref(), Some("NonZeroExitCode"));
    let cause = &st.details.unwrap().causes.unwrap()[0];
    assert_eq!(
        (cause.reason.as_deref(), cause.message.as_deref()),
        (Some("ExitCode"), Some("3"))
    );

    // A tty session: prompt, echo, resize, exit.
    let ap = AttachParams::interactive_tty();
    let mut p = pods.exec(&pod, vec!["/bin/bash"], &ap).await.unwrap();
    let mut resize = p.terminal_size().unwrap();
    futures::SinkExt::send(
        &mut resize,
        kube::api::TerminalSize {
            width: 132,
            height: 40,
        },
    )
    .await
    .unwrap();
    let mut stdin = p.stdin().unwrap();
    let status = p.take_status().unwrap();
    let mut stdout = p.stdout().unwrap();
    // Typing starts once the prompt is there, as a person's does: kube sends the resize and
    // stdin from one loop in either order, and a resize sent after the shell exited ends kube's
    // session with an error instead of the output.
    let mut out = String::new();
    let mut buf = [0u8; 256];
    while !out.contains("$ ") {
        let n = tokio::time::timeout(Duration::from_secs(10), stdout.read(&mut buf))
            .await
            .expect("a prompt")
            .unwrap();
        out.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stdin.write_all(b"stty size\rls\rexit 0\r").await.unwrap();
    out.push_str(&read_all(Some(stdout)).await);
    assert!(
        out.starts_with(&format!("(base) jovyan@{pod}:~$ ")),
        "{out}"
    );
    assert!(out.contains("40 132\r\n"), "{out}");
    assert!(out.contains("analysis.ipynb  data"), "{out}");
    assert_eq!(status.await.unwrap().status.as_deref(), Some("Success"));
    fleet.shutdown().await;
}

#[tokio::test]
async fn exec_is_refused_as_the_api_server_refuses_it() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let pod = running_user_pod(&c, &ns);
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    let ap = AttachParams::default().container("sidecar");
    let Err(err) = pods.exec(&pod, vec!["ls"], &ap).await else {
        panic!("a container the pod does not have")
    };
    assert!(format!("{err:?}").contains("400"), "{err:?}");

    let ro = tempfile::NamedTempFile::new().unwrap();
    fleet
        .write_kubeconfig(ro.path(), Identity::ReadOnly)
        .unwrap();
    let ro_pods: Api<Pod> = Api::namespaced(client_for(ro.path(), c.name()).await, &ns);
    let Err(err) = ro_pods
        .exec(&pod, vec!["ls"], &AttachParams::default())
        .await
    else {
        panic!("read-only may not exec")
    };
    assert!(format!("{err:?}").contains("403"), "{err:?}");
    // The body says who may not do what, in the API server's words.
    let resp = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/namespaces/{ns}/pods/{pod}/exec?command=ls",
            c.url()
        ))
        .bearer_auth(c.token(&Identity::ReadOnly))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body["message"],
        format!(
            "pods \"{pod}\" is forbidden: User \"readonly\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"{ns}\""
        )
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn kubectl_exec_runs_commands_and_reads_piped_stdin() {
    if !have_kubectl() {
        eprintln!("kubectl not installed; skipping");
        return;
    }
    let (fleet, c, _client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let pod = running_user_pod(&c, &ns);
    let k = Kubectl::new(&fleet, &c);
    let out = k.run(&["exec", "-n", &ns, &pod, "--", "echo", "hi"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n");

    let out = k
        .run(&["exec", "-n", &ns, &pod, "--", "sh", "-c", "exit 4"])
        .await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(
        text(&out).contains("command terminated with exit code 4"),
        "{}",
        text(&out)
    );

    let mut child = tokio::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(k.dir.path().join("kubeconfig"))
        .args(["--context", &k.context, "--cache-dir"])
        .arg(k.dir.path().join("cache"))
        .args(["exec", "-i", "-n", &ns, &pod, "--", "sh"])
        .env_remove("KUBECONFIG")
        .env("HOME", k.dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"echo piped\nls\nwhoami\n").await.unwrap();
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("kubectl exec -i ends when its stdin does")
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "piped\nanalysis.ipynb\ndata\nenvironment.yml\nshared\njovyan\n"
    );
    fleet.shutdown().await;
}

fn component_pod(c: &SimCluster, ns: &str, component: &str) -> String {
    c.pods()
        .into_iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(ns))
        .find(|p| {
            p.metadata
                .labels
                .as_ref()
                .is_some_and(|l| l.get("component").map(String::as_str) == Some(component))
        })
        .and_then(|p| p.metadata.name)
        .unwrap()
}

#[tokio::test]
async fn a_container_without_bash_fails_it_as_runc_does_and_runs_sh() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (fleet, c, client) = small().await;
        let ns = c.hub_namespaces()[0].clone();
        let proxy = component_pod(&c, &ns, "proxy");
        let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
        let ap = AttachParams::default().stdin(true);
        let mut p = pods.exec(&proxy, vec!["bash"], &ap).await.unwrap();
        let status = p.take_status().unwrap();
        let st = status.await.unwrap();
        assert_eq!(st.status.as_deref(), Some("Failure"));
        assert!(
            st.message
                .as_deref()
                .unwrap_or_default()
                .contains("exec: \"bash\": executable file not found in $PATH"),
            "{st:?}"
        );
        let mut p = pods
            .exec(&proxy, vec!["sh", "-c", "pwd; whoami"], &ap)
            .await
            .unwrap();
        let status = p.take_status().unwrap();
        let out = read_all(p.stdout()).await;
        assert_eq!(out, "/srv/configurable-http-proxy\nnobody\n");
        assert_eq!(status.await.unwrap().status.as_deref(), Some("Success"));
        // A distroless container has no shell at all.
        let sched = component_pod(&c, &ns, "user-scheduler");
        let mut p = pods.exec(&sched, vec!["sh"], &ap).await.unwrap();
        let st = p.take_status().unwrap().await.unwrap();
        assert!(
            st.message
                .unwrap_or_default()
                .contains("\"sh\": executable file not found")
        );
        fleet.shutdown().await;
    })
    .await
    .expect("the sessions finished within 60 s");
}

#[tokio::test]
async fn dropped_exec_sessions_end_without_a_status_and_new_ones_work() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (fleet, c, client) = small().await;
        let ns = c.hub_namespaces()[0].clone();
        let pod = running_user_pod(&c, &ns);
        let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
        let mut p = pods
            .exec(&pod, vec!["bash"], &AttachParams::interactive_tty())
            .await
            .unwrap();
        let status = p.take_status().unwrap();
        let mut stdout = p.stdout().unwrap();
        let mut buf = [0u8; 256];
        let n = tokio::time::timeout(Duration::from_secs(10), stdout.read(&mut buf))
            .await
            .expect("a prompt")
            .unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).contains("$ "));
        c.drop_exec_sessions();
        assert!(
            tokio::time::timeout(Duration::from_secs(10), status)
                .await
                .expect("the session ends")
                .is_none(),
            "a cut-off session has no exit status"
        );
        let err = p
            .join()
            .await
            .expect_err("kube reports the broken connection");
        assert!(format!("{err}").contains("WebSocket"), "{err}");
        let mut p = pods
            .exec(&pod, vec!["echo", "again"], &AttachParams::default())
            .await
            .unwrap();
        assert_eq!(read_all(p.stdout()).await, "again\n");
        fleet.shutdown().await;
    })
    .await
    .expect("the sessions finished within 60 s");
}
