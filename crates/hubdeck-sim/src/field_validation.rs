//! Unknown fields in request bodies, handled as kube-apiserver handles them: a real server
//! decodes a body into its Go type, so a field the type lacks never reaches storage. With
//! `?fieldValidation=Strict` (what kubectl sends when validation is on) such a field fails the
//! request with 400 and `strict decoding error: unknown field "spec.replicaz"`; with `Warn` (the
//! default) the server drops it and says so in a `Warning` header; with `Ignore` it drops it
//! silently. The sim checks against the schemas it publishes under `/openapi/v3` (`openapi`).

use axum::http::HeaderValue;
use axum::response::Response;
use serde_json::Value;

use super::api::Call;
use super::openapi::{schema_name, schemas};
use super::resources::Kind;
use super::status::ApiError;
use super::validation::go_quote;

/// `?fieldValidation=`: what to do about unknown fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Directive {
    Ignore,
    Warn,
    Strict,
}

impl Directive {
    /// Reads the parameter; an unsupported value is the 422 the server gives the options object.
    pub fn of(call: &Call, verb: &str) -> Result<Self, ApiError> {
        match call.param("fieldValidation").unwrap_or("") {
            "" | "Warn" => Ok(Directive::Warn),
            "Ignore" => Ok(Directive::Ignore),
            "Strict" => Ok(Directive::Strict),
            other => {
                let options = match verb {
                    "create" => "CreateOptions",
                    "patch" => "PatchOptions",
                    _ => "UpdateOptions",
                };
                let msg = format!(
                    r#"{options}.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: {}: supported values: "", "Ignore", "Strict", "Warn""#,
                    go_quote(other)
                );
                Err(ApiError::invalid(msg))
            }
        }
    }
}

/// The unknown fields of one request body, already removed from it.
#[derive(Debug, Default)]
pub(crate) struct Unknown(Vec<String>);

impl Unknown {
    /// Strict: the 400 a real server answers when there are any.
    pub fn check(&self, kind: Kind, directive: Directive) -> Result<(), ApiError> {
        if directive != Directive::Strict || self.0.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = self
            .0
            .iter()
            .map(|f| format!("unknown field {}", go_quote(f)))
            .collect();
        Err(ApiError::bad_request(format!(
            "{k} in version \"v1\" cannot be handled as a {k}: strict decoding error: {}",
            list.join(", "),
            k = kind.kind()
        )))
    }

    /// Warn: one `Warning: 299 - "unknown field ..."` header per field on the answer.
    pub fn warn(&self, directive: Directive, mut resp: Response) -> Response {
        if directive != Directive::Warn {
            return resp;
        }
        for f in &self.0 {
            let text = format!("unknown field {}", go_quote(f));
            if let Ok(v) = HeaderValue::from_str(&format!("299 - {}", go_quote(&text))) {
                resp.headers_mut().append("warning", v);
            }
        }
        resp
    }
}

/// Removes from `body` every field the kind's schema does not declare and names them (paths as
/// Go's strict decoder writes them: `spec.template.spec.containers[0].imagee`). With `patch`,
/// strategic-merge directives (`$patch`, `$setElementOrder/...`) are left alone.
pub(crate) fn prune(kind: Kind, body: &mut Value, patch: bool) -> Unknown {
    let mut out = Vec::new();
    let root = Value::String(format!("#/components/schemas/{}", schema_name(kind)));
    let root = serde_json::json!({"$ref": root});
    walk(&root, body, "", patch, &mut out);
    Unknown(out)
}

/// Follows `$ref`s to the schema they name.
fn resolve(mut node: &Value) -> &Value {
    for _ in 0..16 {
        let Some(name) = node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        else {
            return node;
        };
        match schemas().get(name) {
            Some(s) => node = s,
            None => return &Value::Null,
        }
    }
    node
}

fn walk(schema: &Value, value: &mut Value, path: &str, patch: bool, out: &mut Vec<String>) {
    let schema = resolve(schema);
    if schema["x-kubernetes-preserve-unknown-fields"] == true {
        return;
    }
    match value {
        Value::Object(map) => {
            let props = schema["properties"].as_object();
            let extra = schema.get("additionalProperties").filter(|a| a.is_object());
            if props.is_none() && extra.is_none() {
                return; // A free-form object (`FieldsV1`, `RawExtension`).
            }
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                if patch && key.starts_with('$') {
                    continue;
                }
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let sub = props.and_then(|p| p.get(&key)).or(extra);
                match (sub, map.get_mut(&key)) {
                    (Some(sub), Some(v)) => walk(sub, v, &child, patch, out),
                    _ => {
                        map.remove(&key);
                        out.push(child);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = schema.get("items") {
                for (i, v) in items.iter_mut().enumerate() {
                    walk(item, v, &format!("{path}[{i}]"), patch, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_named_and_dropped_known_ones_kept() {
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "hub", "labels": {"a": "b"}, "annotations": {"x": "y"}},
            "spec": {"replicaz": 2, "replicas": 1, "selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [
                    {"name": "c", "image": "i", "imagee": "typo",
                     "resources": {"limits": {"cpu": "1"}}, "ports": [{"containerPort": 80}]}]}}},
            "status": {}});
        let unknown = prune(Kind::Deployment, &mut d, false);
        assert_eq!(
            unknown.0,
            vec!["spec.replicaz", "spec.template.spec.containers[0].imagee"]
        );
        assert!(d["spec"].get("replicaz").is_none());
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"],
            "1"
        );
        let e = unknown
            .check(Kind::Deployment, Directive::Strict)
            .unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            r#"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicaz", unknown field "spec.template.spec.containers[0].imagee""#
        );
        assert!(unknown.check(Kind::Deployment, Directive::Warn).is_ok());
    }

    #[test]
    fn secrets_configmaps_and_patch_directives_pass() {
        let mut s = json!({"metadata": {"name": "s"}, "type": "Opaque",
            "data": {"k": "dg=="}, "stringData": {"x": "y"}});
        assert!(prune(Kind::Secret, &mut s, false).0.is_empty());
        let mut c = json!({"metadata": {"name": "c"}, "data": {"k": "v"}, "binaryData": {}});
        assert!(prune(Kind::ConfigMap, &mut c, false).0.is_empty());
        let mut p = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "c"}],
            "containers": [{"name": "c", "$patch": "replace"}]}}}});
        assert!(prune(Kind::Deployment, &mut p, true).0.is_empty());
        let mut bad = json!({"data": {"k": "v"}, "dta": {}});
        assert_eq!(prune(Kind::ConfigMap, &mut bad, false).0, vec!["dta"]);
    }
}
