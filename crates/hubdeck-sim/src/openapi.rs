//! `/openapi/v3`: the discovery document and one OpenAPI 3.0 document per group-version, the
//! way kube-apiserver publishes them and client-go reads them. kubectl looks here before
//! `create`/`apply`/`replace` with validation on: when the PATCH operation of a kind lists the
//! `fieldValidation` parameter, it sends `?fieldValidation=Strict` and leaves the checking to the
//! server (`field_validation`); `kubectl explain` reads the schemas.
//!
//! The schemas are `openapi/schemas.json`, generated from k8s-openapi's types by `openapi/gen`
//! (see `openapi/README.md`); the paths are built here from the kinds the sim serves.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use super::resources::Kind;

/// Every schema the sim knows, by OpenAPI name (`io.k8s.api.apps.v1.Deployment`).
static SCHEMAS: LazyLock<Map<String, Value>> = LazyLock::new(|| {
    let mut all: Map<String, Value> =
        serde_json::from_str(include_str!("../openapi/schemas.json")).unwrap_or_default();
    // k8s-openapi has no schema for its generic `List<T>`; lists are written as the server's.
    // `kubectl explain` finds a kind's schema by this extension.
    let gvks = Kind::ALL
        .into_iter()
        .map(|k| (schema_name(k), gvk(k)))
        .chain([(
            "io.k8s.api.autoscaling.v1.Scale".to_string(),
            json!({"group": "autoscaling", "version": "v1", "kind": "Scale"}),
        )])
        .chain(REVIEWS.iter().map(|kind| {
            (
                format!("io.k8s.api.authorization.v1.{kind}"),
                json!({"group": "authorization.k8s.io", "version": "v1", "kind": kind}),
            )
        }));
    for (name, gvk) in gvks {
        if let Some(Value::Object(s)) = all.get_mut(&name) {
            s.insert("x-kubernetes-group-version-kind".into(), json!([gvk]));
        }
    }
    for kind in Kind::ALL {
        let items = reference(&schema_name(kind));
        all.insert(
            format!("{}List", schema_name(kind)),
            json!({"type": "object", "required": ["items"], "properties": {
                "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                "items": {"type": "array", "items": items},
                "metadata": reference("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")}}),
        );
    }
    all
});

/// The group-versions published, by their discovery path, each with its document and hash.
static DOCS: LazyLock<BTreeMap<&'static str, (String, String)>> = LazyLock::new(|| {
    [
        ("api/v1", group_version_doc("/api/v1", "")),
        ("apis/apps/v1", group_version_doc("/apis/apps/v1", "apps")),
        ("apis/authorization.k8s.io/v1", authorization_doc()),
    ]
    .into_iter()
    .map(|(path, doc)| {
        let body = doc.to_string();
        let hash = format!("{:016X}", fnv1a(body.as_bytes()));
        (path, (body, hash))
    })
    .collect()
});

const REF: &str = "#/components/schemas/";

/// The schemas by name.
pub(crate) fn schemas() -> &'static Map<String, Value> {
    &SCHEMAS
}

/// The OpenAPI name of a kind's schema.
pub(crate) fn schema_name(kind: Kind) -> String {
    let group = match kind.group() {
        "" => "core",
        g => g,
    };
    format!("io.k8s.api.{group}.v1.{}", kind.kind())
}

/// `GET /openapi/v3`: where each group-version's document is. client-go fetches them with
/// `RequestURI`, which drops the kubeconfig's base path, so `base` (the `/_token/...` prefix the
/// request came with, or "") is written into each URL.
pub(crate) fn discovery(base: &str) -> Value {
    let paths: Map<String, Value> = DOCS
        .iter()
        .map(|(path, (_, hash))| {
            let url = format!("{base}/openapi/v3/{path}?hash={hash}");
            ((*path).to_string(), json!({"serverRelativeURL": url}))
        })
        .collect();
    json!({"paths": paths})
}

/// `GET /openapi/v3/<group-version path>`.
pub(crate) fn document(path: &str) -> Option<&'static str> {
    DOCS.get(path).map(|(body, _)| body.as_str())
}

fn fnv1a(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &c| {
        (h ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("{REF}{name}")})
}

fn query(name: &str, ty: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": ty, "uniqueItems": true}})
}

fn path_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true,
           "schema": {"type": "string", "uniqueItems": true}})
}

/// One operation on a kind, with the extensions client-go and kubectl look for.
fn operation(action: &str, gvk: &Value, body: Option<&str>, answer: &str) -> Value {
    let mut params = Vec::new();
    if matches!(action, "post" | "put" | "patch") {
        params.extend([
            query("dryRun", "string"),
            query("fieldManager", "string"),
            query("fieldValidation", "string"),
        ]);
    }
    if action == "patch" {
        params.push(query("force", "boolean"));
    }
    if matches!(action, "list" | "watchlist") {
        for (p, ty) in [
            ("allowWatchBookmarks", "boolean"),
            ("continue", "string"),
            ("fieldSelector", "string"),
            ("labelSelector", "string"),
            ("limit", "integer"),
            ("resourceVersion", "string"),
            ("timeoutSeconds", "integer"),
            ("watch", "boolean"),
        ] {
            params.push(query(p, ty));
        }
    }
    let mut op = json!({
        "parameters": params,
        "responses": {"200": {"description": "OK",
            "content": {"application/json": {"schema": reference(answer)}}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
    });
    match (action, body) {
        ("patch", _) => {
            let any = json!({"schema": {"type": "object"}});
            op["requestBody"] = json!({"required": true, "content": {
                "application/apply-patch+yaml": any, "application/json-patch+json": any,
                "application/merge-patch+json": any, "application/strategic-merge-patch+json": any}});
        }
        (_, Some(b)) => {
            op["requestBody"] = json!({"required": true,
                "content": {"application/json": {"schema": reference(b)}}});
        }
        _ => {}
    }
    op
}

fn gvk(kind: Kind) -> Value {
    json!({"group": kind.group(), "version": "v1", "kind": kind.kind()})
}

/// The paths of one kind under `prefix` (`/api/v1`, `/apis/apps/v1`).
fn kind_paths(prefix: &str, kind: Kind, paths: &mut Map<String, Value>) {
    let s = schema_name(kind);
    let g = gvk(kind);
    let p = kind.plural();
    let (collection, item) = if kind.namespaced() {
        (
            format!("{prefix}/namespaces/{{namespace}}/{p}"),
            format!("{prefix}/namespaces/{{namespace}}/{p}/{{name}}"),
        )
    } else {
        (format!("{prefix}/{p}"), format!("{prefix}/{p}/{{name}}"))
    };
    let scope: Vec<Value> = if kind.namespaced() {
        vec![path_param("namespace")]
    } else {
        vec![]
    };
    let list = format!("{s}List");
    paths.insert(
        collection.clone(),
        json!({"parameters": scope.clone(),
               "get": operation("list", &g, None, &list),
               "post": operation("post", &g, Some(&s), &s)}),
    );
    let mut item_params = scope.clone();
    item_params.push(path_param("name"));
    paths.insert(
        item.clone(),
        json!({"parameters": item_params.clone(),
               "get": operation("get", &g, None, &s),
               "put": operation("put", &g, Some(&s), &s),
               "patch": operation("patch", &g, None, &s),
               "delete": operation("delete", &g, None, "io.k8s.apimachinery.pkg.apis.meta.v1.Status")}),
    );
    if kind.namespaced() {
        paths.insert(
            format!("{prefix}/{p}"),
            json!({"get": operation("list", &g, None, &list)}),
        );
    }
    // The subresources the sim routes: status of pods and workloads, scale of workloads.
    let mut subs = Vec::new();
    if matches!(kind, Kind::Pod | Kind::Deployment | Kind::StatefulSet) {
        subs.push(("status", s.clone(), g.clone()));
    }
    if matches!(kind, Kind::Deployment | Kind::StatefulSet) {
        subs.push((
            "scale",
            "io.k8s.api.autoscaling.v1.Scale".to_string(),
            json!({"group": "autoscaling", "version": "v1", "kind": "Scale"}),
        ));
    }
    for (sub, schema, sg) in subs {
        paths.insert(
            format!("{item}/{sub}"),
            json!({"parameters": item_params.clone(),
                   "get": operation("get", &sg, None, &schema),
                   "put": operation("put", &sg, Some(&schema), &schema),
                   "patch": operation("patch", &sg, None, &schema)}),
        );
    }
}

/// The schema names `v` refers to.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(name) = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(REF))
            {
                out.push(name.to_string());
            }
            m.values().for_each(|c| refs(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| refs(c, out)),
        _ => {}
    }
}

/// Every schema `roots` refer to, directly or not.
fn closure(roots: &[String]) -> Map<String, Value> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.to_vec();
    let mut out = Map::new();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(s) = SCHEMAS.get(&name) {
            refs(s, &mut todo);
            out.insert(name, s.clone());
        }
    }
    out
}

fn doc(paths: Map<String, Value>) -> Value {
    let mut roots = Vec::new();
    let paths = Value::Object(paths);
    refs(&paths, &mut roots);
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": super::resources::version()["gitVersion"]},
        "paths": paths,
        "components": {
            "schemas": closure(&roots),
            "securitySchemes": {"BearerToken": {"type": "apiKey", "name": "authorization",
                "in": "header", "description": "Bearer Token authentication"}},
        },
    })
}

fn group_version_doc(prefix: &str, group: &str) -> Value {
    let mut paths = Map::new();
    for kind in Kind::ALL.into_iter().filter(|k| k.group() == group) {
        kind_paths(prefix, kind, &mut paths);
    }
    doc(paths)
}

/// The access reviews the sim answers (`authorization.k8s.io/v1`, create only).
const REVIEWS: [&str; 2] = ["SelfSubjectAccessReview", "SelfSubjectRulesReview"];

fn authorization_doc() -> Value {
    let mut paths = Map::new();
    for kind in REVIEWS {
        let s = format!("io.k8s.api.authorization.v1.{kind}");
        let g = json!({"group": "authorization.k8s.io", "version": "v1", "kind": kind});
        paths.insert(
            format!(
                "/apis/authorization.k8s.io/v1/{}s",
                kind.to_ascii_lowercase()
            ),
            json!({"post": operation("post", &g, Some(&s), &s)}),
        );
    }
    doc(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_schema_and_the_documents_are_whole() {
        for kind in Kind::ALL {
            assert!(
                SCHEMAS.contains_key(&schema_name(kind)),
                "{} missing from openapi/schemas.json",
                schema_name(kind)
            );
        }
        for kind in REVIEWS {
            let name = format!("io.k8s.api.authorization.v1.{kind}");
            assert!(SCHEMAS.contains_key(&name), "{name} missing");
        }
        for (path, (body, _)) in DOCS.iter() {
            let d: Value = serde_json::from_str(body).unwrap();
            let schemas = d["components"]["schemas"].as_object().unwrap();
            let mut found = Vec::new();
            refs(&d, &mut found);
            for r in found {
                assert!(schemas.contains_key(&r), "{path}: dangling $ref {r}");
            }
        }
    }

    #[test]
    fn discovery_carries_the_base_path_and_a_hash() {
        let d = discovery("/_token/abc");
        let url = d["paths"]["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .unwrap();
        assert!(
            url.starts_with("/_token/abc/openapi/v3/apis/apps/v1?hash="),
            "{url}"
        );
        let doc: Value = serde_json::from_str(document("apis/apps/v1").unwrap()).unwrap();
        let patch =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"],
            "Deployment"
        );
        assert!(
            patch["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation")
        );
    }
}
