//! The raw wire, as kubectl and curl see it: status objects, discovery, watch lines.

use super::*;

#[tokio::test]
async fn raw_http_speaks_status_discovery_and_expired_watches() {
    let (fleet, c, _client) = small().await;
    let http = reqwest::Client::new();
    let token = c.token(Identity::Admin).to_string();
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
