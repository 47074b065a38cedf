//! What the sim refuses, and how it reads what it accepts, as kube-apiserver does: raw HTTP, so
//! that the status codes and messages are the ones on the wire.

use super::*;

async fn raw(c: &SimCluster, path_and_query: &str) -> (u16, String) {
    let resp = reqwest::Client::new()
        .get(format!("{}{path_and_query}", c.url()))
        .bearer_auth(c.token(Identity::Admin))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn booleans_and_integers_in_the_query_read_as_on_a_real_server() {
    let (fleet, c, _client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    // Python's client sends `watch=True`; any value but 0/false (any case) watches.
    for v in ["True", "1", "t", "yes", ""] {
        let (code, body) = raw(
            &c,
            &format!("/api/v1/namespaces/{ns}/pods?watch={v}&timeoutSeconds=1"),
        )
        .await;
        assert_eq!(code, 200, "watch={v}");
        let first: serde_json::Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
        assert_eq!(
            first["type"], "ADDED",
            "watch={v} must be a watch: {body:.200}"
        );
    }
    for v in ["false", "False", "0"] {
        let (_, body) = raw(&c, &format!("/api/v1/namespaces/{ns}/pods?watch={v}")).await;
        let list: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(list["kind"], "PodList", "watch={v}");
    }
    for q in ["limit=ten", "watch=1&timeoutSeconds=soon"] {
        let (code, body) = raw(&c, &format!("/api/v1/namespaces/{ns}/pods?{q}")).await;
        assert_eq!(code, 400, "{q}");
        let st: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(st["reason"], "BadRequest");
        assert!(
            st["message"]
                .as_str()
                .unwrap()
                .starts_with("strconv.ParseInt: parsing \""),
            "{st}"
        );
    }
    fleet.shutdown().await;
}
