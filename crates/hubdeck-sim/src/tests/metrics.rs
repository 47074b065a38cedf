//! metrics.k8s.io through kube's raw requests and `kubectl top`.

use super::kubectl::{Kubectl, have_kubectl, text};
use super::*;

async fn get(client: &Client, path: &str) -> Result<serde_json::Value, kube::Error> {
    let req = http::Request::get(path).body(Vec::new()).unwrap();
    client.request::<serde_json::Value>(req).await
}

fn quantity(q: &str) -> f64 {
    let (n, f) = if let Some(n) = q.strip_suffix('n') {
        (n, 1e-9)
    } else if let Some(n) = q.strip_suffix("Ki") {
        (n, 1024.0)
    } else {
        (q, 1.0)
    };
    n.parse::<f64>().unwrap() * f
}

#[tokio::test]
async fn pod_and_node_metrics_are_served_as_metrics_server_serves_them() {
    let (fleet, c, client) = small().await;
    let groups = get(&client, "/apis").await.unwrap();
    assert!(
        groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "metrics.k8s.io")
    );
    let res = get(&client, "/apis/metrics.k8s.io/v1beta1").await.unwrap();
    let names: Vec<_> = res["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].clone())
        .collect();
    assert_eq!(names, vec![json!("NodeMetrics"), json!("PodMetrics")]);

    let all = get(&client, "/apis/metrics.k8s.io/v1beta1/pods")
        .await
        .unwrap();
    assert_eq!(all["kind"], "PodMetricsList");
    let items = all["items"].as_array().unwrap();
    let running = c
        .pods()
        .iter()
        .filter(|p| p.status.as_ref().unwrap().phase.as_deref() == Some("Running"))
        .count();
    assert_eq!(items.len(), running, "one PodMetrics per running pod");
    let ns = c.hub_namespaces()[0].clone();
    for m in items {
        let cs = m["containers"].as_array().unwrap();
        let pod = c
            .pods()
            .into_iter()
            .find(|p| p.metadata.name.as_deref() == m["metadata"]["name"].as_str())
            .unwrap();
        let spec = pod.spec.unwrap();
        for (cm, cspec) in cs.iter().zip(&spec.containers) {
            assert_eq!(cm["name"], cspec.name.as_str());
            let cpu = cm["usage"]["cpu"].as_str().unwrap();
            let mem = cm["usage"]["memory"].as_str().unwrap();
            assert!(cpu.ends_with('n') && mem.ends_with("Ki"), "{cm}");
            if let Some(limit) = cspec
                .resources
                .as_ref()
                .and_then(|r| r.limits.as_ref())
                .and_then(|l| l.get("memory"))
            {
                let limit = hubdeck_quantity(&limit.0);
                assert!(
                    quantity(mem) < limit * 0.8,
                    "{} under its limit",
                    m["metadata"]["name"]
                );
            }
        }
        assert!(m["timestamp"].is_string() && m["window"].is_string());
    }
    let in_ns = get(
        &client,
        &format!("/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods"),
    )
    .await
    .unwrap();
    assert!(
        in_ns["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["metadata"]["namespace"] == ns.as_str())
    );
    let sel = get(
        &client,
        "/apis/metrics.k8s.io/v1beta1/pods?labelSelector=component%3Dhub",
    )
    .await
    .unwrap();
    assert_eq!(
        sel["items"].as_array().unwrap().len(),
        c.hub_namespaces().len()
    );
    let one = &in_ns["items"][0];
    let name = one["metadata"]["name"].as_str().unwrap();
    let got = get(
        &client,
        &format!("/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods/{name}"),
    )
    .await
    .unwrap();
    assert_eq!(got["kind"], "PodMetrics");
    let missing = get(
        &client,
        &format!("/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods/nope"),
    )
    .await
    .unwrap_err();
    let kube::Error::Api(s) = missing else {
        panic!()
    };
    assert_eq!(
        (s.code, s.message.as_str()),
        (
            404,
            format!("podmetrics.metrics.k8s.io \"{ns}/nope\" not found").as_str()
        )
    );

    let nodes = get(&client, "/apis/metrics.k8s.io/v1beta1/nodes")
        .await
        .unwrap();
    assert_eq!(nodes["items"].as_array().unwrap().len(), c.nodes().len());
    for n in nodes["items"].as_array().unwrap() {
        let node = c
            .nodes()
            .into_iter()
            .find(|x| x.metadata.name.as_deref() == n["metadata"]["name"].as_str())
            .unwrap();
        let alloc = node.status.unwrap().allocatable.unwrap();
        let mem = quantity(n["usage"]["memory"].as_str().unwrap());
        assert!(
            mem > 0.0 && mem < hubdeck_quantity(&alloc["memory"].0),
            "{n}"
        );
    }
    // A node whose kubelet is silent has no metrics.
    let silent = c.node_names("user")[0].clone();
    c.set_node_conditions(&silent, &[NodeCondition::NotReady]);
    let err = get(
        &client,
        &format!("/apis/metrics.k8s.io/v1beta1/nodes/{silent}"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, kube::Error::Api(s) if s.code == 404));
    fleet.shutdown().await;
}

fn hubdeck_quantity(q: &str) -> f64 {
    let (n, f) = if let Some(n) = q.strip_suffix("Ki") {
        (n, 1024.0)
    } else if let Some(n) = q.strip_suffix("Gi") {
        (n, 1024.0 * 1024.0 * 1024.0)
    } else if let Some(n) = q.strip_suffix("Mi") {
        (n, 1024.0 * 1024.0)
    } else {
        (q, 1.0)
    };
    n.parse::<f64>().unwrap() * f
}

#[tokio::test]
async fn a_cluster_without_metrics_server_or_with_it_down_answers_as_the_aggregator_does() {
    let (fleet, c, client) = small().await;
    let http = reqwest::Client::new();
    let raw = |path: &str| {
        http.get(format!("{}{path}", c.url()))
            .bearer_auth(c.token(&crate::Identity::Admin))
            .send()
    };
    let groups = |v: serde_json::Value| -> Vec<String> {
        v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap().to_string())
            .collect()
    };
    c.set_metrics_api(crate::MetricsApi::NotInstalled);
    assert!(!groups(get(&client, "/apis").await.unwrap()).contains(&"metrics.k8s.io".into()));
    let e = get(&client, "/apis/metrics.k8s.io/v1beta1/pods")
        .await
        .unwrap_err();
    assert_eq!(api_code(e), 404);
    assert_eq!(
        raw("/apis/metrics.k8s.io/v1beta1").await.unwrap().status(),
        404,
        "discovery too"
    );

    c.set_metrics_api(crate::MetricsApi::Unavailable);
    assert!(groups(get(&client, "/apis").await.unwrap()).contains(&"metrics.k8s.io".into()));
    for path in [
        "/apis/metrics.k8s.io/v1beta1",
        "/apis/metrics.k8s.io/v1beta1/pods",
        "/apis/metrics.k8s.io/v1beta1/nodes",
    ] {
        let r = raw(path).await.unwrap();
        assert_eq!(r.status(), 503, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        assert_eq!(r.text().await.unwrap(), "service unavailable\n");
    }

    c.set_metrics_api(crate::MetricsApi::Served);
    assert!(
        get(&client, "/apis/metrics.k8s.io/v1beta1/pods")
            .await
            .is_ok()
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn a_namespace_editor_may_read_its_namespaces_pod_metrics_but_not_nodes() {
    let fleet = SimFleet::start(FleetSpec::small()).await.unwrap();
    let c = fleet.clusters()[0].clone();
    let ns = c.hub_namespaces()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kc");
    let editor = crate::Identity::namespace_editor("hub-ops", &[&ns]);
    fleet
        .write_kubeconfig_with(&path, &editor, &crate::KubeconfigOptions::default())
        .unwrap();
    let client = client_for(&path, c.name()).await;
    let mine = get(
        &client,
        &format!("/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods"),
    )
    .await
    .unwrap();
    assert!(!mine["items"].as_array().unwrap().is_empty());
    let all = get(&client, "/apis/metrics.k8s.io/v1beta1/pods")
        .await
        .unwrap_err();
    assert_eq!(api_code(all), 403);
    let nodes = get(&client, "/apis/metrics.k8s.io/v1beta1/nodes")
        .await
        .unwrap_err();
    assert_eq!(api_code(nodes), 403, "nodes are cluster-scoped");
    fleet.shutdown().await;
}

#[tokio::test]
async fn kubectl_top_pods_and_nodes_work() {
    if !have_kubectl() {
        eprintln!("kubectl not installed; skipping");
        return;
    }
    let (fleet, c, _client) = small().await;
    let k = Kubectl::new(&fleet, &c);
    let out = k.run(&["top", "pods", "-A"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let header: Vec<_> = stdout.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAMESPACE", "NAME", "CPU(cores)", "MEMORY(bytes)"]);
    let ns = &c.hub_namespaces()[0];
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with(ns.as_str()) && l.contains("jupyter-")),
        "{stdout}"
    );
    let out = k.run(&["top", "nodes"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("NAME"), "{stdout}");
    assert!(
        stdout.contains("CPU%") && stdout.contains("MEMORY%"),
        "{stdout}"
    );
    for n in c.node_names("user") {
        assert!(stdout.contains(&n), "{n} in {stdout}");
    }
    let out = k
        .run(&["get", "nodes", "-l", "hub.jupyter.org/node-purpose=user"])
        .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.lines().skip(1).all(|l| l.contains(" Ready ")),
        "{stdout}"
    );
    c.cordon_node(&c.node_names("user")[0], true);
    let out = k.run(&["get", "nodes"]).await;
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Ready,SchedulingDisabled"),
        "{}",
        text(&out)
    );
    fleet.shutdown().await;
}
