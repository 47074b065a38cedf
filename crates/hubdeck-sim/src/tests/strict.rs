//! What the sim refuses, and how it reads what it accepts, as kube-apiserver does: raw HTTP, so
//! that the status codes and messages are the ones on the wire.

use super::*;

async fn raw(c: &SimCluster, path_and_query: &str) -> (u16, String) {
    let resp = reqwest::Client::new()
        .get(format!("{}{path_and_query}", c.url()))
        .bearer_auth(c.token(&Identity::Admin))
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

#[tokio::test]
async fn bad_selectors_are_400_and_bad_labels_or_names_422() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let (code, body) = raw(
        &c,
        &format!("/api/v1/namespaces/{ns}/pods?labelSelector=bad%20key!"),
    )
    .await;
    assert_eq!(code, 400);
    let st: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            st["kind"].as_str(),
            st["reason"].as_str(),
            st["code"].as_u64()
        ),
        (Some("Status"), Some("BadRequest"), Some(400))
    );
    assert_eq!(
        st["message"],
        "unable to parse requirement: found 'key', expected: in, notin, =, ==, !=, gt, lt"
    );
    let (code, _) = raw(
        &c,
        &format!("/api/v1/namespaces/{ns}/pods?watch=1&labelSelector=app%3Dx%20y"),
    )
    .await;
    assert_eq!(code, 400, "a watch checks its selector too");

    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let bad_label: Pod = serde_json::from_value(json!({"metadata": {"name": "p1",
        "labels": {"bad key!": "v"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}))
    .unwrap();
    let kube::Error::Api(e) = pods
        .create(&PostParams::default(), &bad_label)
        .await
        .unwrap_err()
    else {
        panic!("expected a Status")
    };
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert!(
        e.message
            .starts_with(r#"Pod "p1" is invalid: metadata.labels: Invalid value: "bad key!": name part must consist of"#),
        "{}",
        e.message
    );
    let hub = c
        .deployments()
        .into_iter()
        .find_map(|d| (d.metadata.namespace.as_deref() == Some(ns.as_str())).then_some(d))
        .and_then(|d| d.metadata.name)
        .unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client, &ns);
    let upper: Deployment = serde_json::from_value(json!({"metadata": {"name": "Hub"}})).unwrap();
    let err = deployments
        .create(&PostParams::default(), &upper)
        .await
        .unwrap_err();
    assert_eq!(api_code(err), 422);
    let relabel = Patch::Merge(json!({"metadata": {"labels": {"hub.jupyter.org/x": "a b"}}}));
    let err = deployments
        .patch(&hub, &PatchParams::default(), &relabel)
        .await
        .unwrap_err();
    assert_eq!(
        api_code(err),
        422,
        "a patch that makes a label invalid is refused"
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn unknown_fields_warn_by_default_fail_when_strict_and_are_never_stored() {
    let (fleet, c, _client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let post = |name: &str, query: &str| {
        reqwest::Client::new()
            .post(format!(
                "{}/api/v1/namespaces/{ns}/configmaps{query}",
                c.url()
            ))
            .bearer_auth(c.token(&Identity::Admin))
            .json(&json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name}, "data": {"k": "v"}, "dta": {"typo": "x"}}))
            .send()
    };
    let warned = post("warned", "").await.unwrap();
    assert_eq!(warned.status(), 201);
    assert_eq!(
        warned.headers()["warning"],
        r#"299 - "unknown field \"dta\"""#
    );
    let stored: serde_json::Value = warned.json().await.unwrap();
    assert!(stored.get("dta").is_none(), "{stored}");
    assert_eq!(stored["data"]["k"], "v");
    let strict = post("strict", "?fieldValidation=Strict").await.unwrap();
    assert_eq!(strict.status(), 400);
    let st: serde_json::Value = strict.json().await.unwrap();
    assert_eq!(
        st["message"],
        r#"ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "dta""#
    );
    let ignored = post("ignored", "?fieldValidation=Ignore").await.unwrap();
    assert_eq!(ignored.status(), 201);
    assert!(ignored.headers().get("warning").is_none());
    let odd = post("odd", "?fieldValidation=Loud").await.unwrap();
    assert_eq!(odd.status(), 422);
    fleet.shutdown().await;
}
