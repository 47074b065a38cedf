//! The raw wire, as kubectl and curl see it: status objects, discovery, watch lines.

use super::*;

#[tokio::test]
async fn raw_http_speaks_status_discovery_and_expired_watches() {
    let (fleet, c, _client) = small().await;
    let http = reqwest::Client::new();
    let token = c.token(&Identity::Admin).to_string();
    let get = |path: &str| {
        http.get(format!("{}{path}", c.url()))
            .bearer_auth(&token)
            .send()
    };
    let anon = http
        .get(format!("{}/api/v1/pods", c.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    let v: serde_json::Value = get("/api/v1").await.unwrap().json().await.unwrap();
    let names: Vec<_> = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    for want in [
        "pods",
        "pods/log",
        "pods/portforward",
        "services/proxy",
        "secrets",
        "configmaps",
        "events",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    let missing = get("/api/v1/namespaces/nope/pods/nope").await.unwrap();
    assert_eq!(missing.status(), 404);
    let st: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(st["kind"], "Status");
    assert_eq!(st["reason"], "NotFound");
    c.start_server(&c.hub_namespaces()[0], "zed", "");
    c.restart_expiring();
    let body = get("/api/v1/pods?watch=true&resourceVersion=1001")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ev: serde_json::Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
    c.set_garbage(true);
    let g = get("/api/v1/pods").await.unwrap();
    assert_eq!(g.status(), 200);
    assert!(serde_json::from_str::<serde_json::Value>(&g.text().await.unwrap()).is_err());
    fleet.shutdown().await;
}

/// Reads watch lines from a raw HTTP watch.
struct Lines {
    resp: reqwest::Response,
    buf: String,
}

impl Lines {
    async fn open(c: &SimCluster, path_and_query: &str) -> Lines {
        let resp = reqwest::Client::new()
            .get(format!("{}{path_and_query}", c.url()))
            .bearer_auth(c.token(&Identity::Admin))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        Lines {
            resp,
            buf: String::new(),
        }
    }

    /// The next event, or None if none comes within `wait` (or the stream ends).
    async fn next(&mut self, wait: Duration) -> Option<serde_json::Value> {
        tokio::time::timeout(wait, async {
            loop {
                if let Some(i) = self.buf.find('\n') {
                    let line: String = self.buf.drain(..=i).collect();
                    return serde_json::from_str(&line).ok();
                }
                let chunk = self.resp.chunk().await.ok()??;
                self.buf.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .ok()
        .flatten()
    }
}

#[tokio::test]
async fn watch_sends_bookmarks_and_turns_unmatching_changes_into_deletes() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let rv = c.resource_version();
    let q = format!(
        "/api/v1/namespaces/{ns}/pods?watch=1&resourceVersion={rv}&allowWatchBookmarks=true\
         &labelSelector=component%3Dsingleuser-server,tier%21%3Dgone"
    );
    let mut w = Lines::open(&c, &q).await;
    let bm = w.next(Duration::from_secs(3)).await.unwrap();
    assert_eq!(bm["type"], "BOOKMARK");
    assert_eq!(bm["object"]["kind"], "Pod");
    assert_eq!(bm["object"]["metadata"]["resourceVersion"], rv.to_string());
    let pod = c.start_server(&ns, "mallory", "");
    let added = loop {
        let ev = w.next(Duration::from_secs(3)).await.unwrap();
        if ev["type"] != "BOOKMARK" {
            break ev;
        }
    };
    assert_eq!(added["type"], "ADDED");
    assert_eq!(added["object"]["metadata"]["name"], pod.as_str());
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    let relabel = Patch::Merge(json!({"metadata": {"labels": {"tier": "gone"}}}));
    pods.patch(&pod, &PatchParams::default(), &relabel)
        .await
        .unwrap();
    // In Quiet the pod turned Running at once (MODIFIED); the relabel then reads as DELETED.
    let gone = loop {
        let ev = w.next(Duration::from_secs(3)).await.unwrap();
        if ev["type"] != "BOOKMARK" && ev["type"] != "MODIFIED" {
            break ev;
        }
    };
    assert_eq!(gone["type"], "DELETED");
    assert_eq!(gone["object"]["metadata"]["name"], pod.as_str());
    fleet.shutdown().await;
}

#[tokio::test]
async fn stalled_watch_stays_silent_until_released() {
    let (fleet, c, _client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let rv = c.resource_version();
    let mut w = Lines::open(
        &c,
        &format!("/api/v1/namespaces/{ns}/pods?watch=true&resourceVersion={rv}"),
    )
    .await;
    c.stall_watches(true);
    let pod = c.start_server(&ns, "trent", "");
    assert!(w.next(Duration::from_millis(600)).await.is_none());
    c.stall_watches(false);
    let ev = w.next(Duration::from_secs(3)).await.unwrap();
    assert_eq!(ev["object"]["metadata"]["name"], pod.as_str());
    fleet.shutdown().await;
}

#[tokio::test]
async fn a_watch_opened_during_a_stall_holds_back_its_backlog_and_bookmarks() {
    let (fleet, c, _client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    c.set_bookmark_interval(Duration::from_millis(100));
    let rv = c.resource_version();
    let pod = c.start_server(&ns, "walter", "");
    c.stall_watches(true);
    let mut w = Lines::open(
        &c,
        &format!(
            "/api/v1/namespaces/{ns}/pods?watch=true&resourceVersion={rv}&allowWatchBookmarks=true"
        ),
    )
    .await;
    assert!(w.next(Duration::from_millis(600)).await.is_none());
    c.stall_watches(false);
    let ev = w.next(Duration::from_secs(3)).await.unwrap();
    assert_eq!(ev["type"], "ADDED");
    assert_eq!(ev["object"]["metadata"]["name"], pod.as_str());
    // Bookmarks come at the interval set: several within a few intervals.
    let t = std::time::Instant::now();
    let mut marks = 0;
    while marks < 3 {
        let ev = w.next(Duration::from_secs(1)).await.unwrap();
        if ev["type"] == "BOOKMARK" {
            marks += 1;
        }
    }
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    fleet.shutdown().await;
}

#[tokio::test]
async fn latency_delays_answers_and_tokens_in_the_path_authenticate() {
    let (fleet, c, _client) = small().await;
    c.set_latency(Duration::from_millis(300));
    let http = reqwest::Client::new();
    let t = std::time::Instant::now();
    let url = format!(
        "{}/_token/{}/api/v1/namespaces",
        c.url(),
        c.token(&Identity::ReadOnly)
    );
    let resp = http.get(url).send().await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.status(), 200);
    let last = c.requests().pop().unwrap();
    assert_eq!(
        (last.path.as_str(), last.identity.as_str()),
        ("/api/v1/namespaces", "readonly")
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn kubectl_reads_and_scales_through_the_kubectl_kubeconfig() {
    if std::process::Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("kubectl not installed; skipping");
        return;
    }
    let (fleet, c, _client) = small().await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubectl.kubeconfig");
    fleet
        .write_kubectl_kubeconfig(&kc, Identity::Admin)
        .unwrap();
    let ns = c.hub_namespaces()[0].clone();
    let kubectl = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new("kubectl");
        cmd.arg("--kubeconfig")
            .arg(&kc)
            .arg("--context")
            .arg(c.name())
            .args(args);
        cmd.env_remove("KUBECONFIG");
        async move {
            let out = cmd.output().await.unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                out.status.success(),
                "{text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            text
        }
    };
    let pods = kubectl(&["get", "pods", "-n", &ns, "-l", "component=hub"]).await;
    assert!(pods.contains("READY") && pods.contains("Running"), "{pods}");
    kubectl(&["scale", "-n", &ns, "deployment/hub", "--replicas=0"]).await;
    let deploy = kubectl(&[
        "get",
        "deployment",
        "hub",
        "-n",
        &ns,
        "-o",
        "jsonpath={.spec.replicas}",
    ])
    .await;
    assert_eq!(deploy, "0");
    let logs = kubectl(&["logs", "-n", &ns, "deploy/proxy", "--tail=2"]).await;
    assert_eq!(logs.lines().count(), 2, "{logs}");
    fleet.shutdown().await;
}

#[tokio::test]
async fn watch_ends_after_timeout_seconds() {
    let (fleet, c, _client) = small().await;
    let rv = c.resource_version();
    let mut w = Lines::open(
        &c,
        &format!("/api/v1/pods?watch=true&resourceVersion={rv}&timeoutSeconds=1"),
    )
    .await;
    let t = std::time::Instant::now();
    assert!(w.next(Duration::from_secs(5)).await.is_none());
    assert!(t.elapsed() < Duration::from_secs(3));
    fleet.shutdown().await;
}
