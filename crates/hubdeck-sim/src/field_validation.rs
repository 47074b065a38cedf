//! Unknown fields in request bodies, handled as kube-apiserver handles them: a real server
//! decodes a body into its Go type, so a field the type lacks never reaches storage. With
//! `?fieldValidation=Strict` (what kubectl sends when validation is on) such a field fails the
//! request with 400 and `strict decoding error: unknown field "spec.replicaz"`; with `Warn` (the
//! default) the server drops it and says so in a `Warning` header; with `Ignore` it drops it
//! silently. A value of the wrong JSON type (`"replicas": "3"`) fails decoding whatever the
//! directive, with `encoding/json`'s message. The sim checks against the schemas it publishes
//! under `/openapi/v3` (`openapi`).

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

/// What decoding a request body into the kind's type found: the first value of the wrong JSON
/// type (a hard error, as in Go's decoder) and the unknown fields, already removed.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    mismatch: Option<String>,
    unknown: Vec<String>,
}

impl Decoded {
    /// The 400 a real server answers: for a wrong type always, for unknown fields under Strict.
    pub fn check(&self, kind: Kind, directive: Directive) -> Result<(), ApiError> {
        let why = match &self.mismatch {
            Some(m) => m.clone(),
            None if directive == Directive::Strict && !self.unknown.is_empty() => {
                let list: Vec<String> = self
                    .unknown
                    .iter()
                    .map(|f| format!("unknown field {}", go_quote(f)))
                    .collect();
                format!("strict decoding error: {}", list.join(", "))
            }
            None => return Ok(()),
        };
        Err(ApiError::bad_request(format!(
            "{k} in version \"v1\" cannot be handled as a {k}: {why}",
            k = kind.kind()
        )))
    }

    /// Warn: one `Warning: 299 - "unknown field ..."` header per field on the answer.
    pub fn warn(&self, directive: Directive, mut resp: Response) -> Response {
        if directive != Directive::Warn {
            return resp;
        }
        for f in &self.unknown {
            let text = format!("unknown field {}", go_quote(f));
            if let Ok(v) = HeaderValue::from_str(&format!("299 - {}", go_quote(&text))) {
                resp.headers_mut().append("warning", v);
            }
        }
        resp
    }
}

/// Reads `body` as the kind's schema does: removes every field it does not declare and names
/// them (paths as Go's strict decoder writes them: `spec.template.spec.containers[0].imagee`),
/// and notes the first value of the wrong type in `encoding/json`'s words. With `patch`,
/// strategic-merge directives (`$patch`, `$setElementOrder/...`) are left alone.
pub(crate) fn decode(kind: Kind, body: &mut Value, patch: bool) -> Decoded {
    let mut out = Decoded::default();
    let root = serde_json::json!({"$ref": format!("{REF}{}", schema_name(kind))});
    let mut w = Walk {
        patch,
        out: &mut out,
    };
    w.value(&root, body, &Place::default());
    out
}

const REF: &str = "#/components/schemas/";

/// The schema name a node refers to, if it is a `$ref`.
fn ref_name(node: &Value) -> Option<&str> {
    node.get("$ref")?.as_str()?.strip_prefix(REF)
}

/// Follows `$ref`s to the schema they name.
fn resolve(mut node: &Value) -> &Value {
    for _ in 0..16 {
        let Some(name) = ref_name(node) else {
            return node;
        };
        match schemas().get(name) {
            Some(s) => node = s,
            None => return &Value::Null,
        }
    }
    node
}

/// Go's name for a schema's type (`int32`, `v1.DeploymentSpec`, `[]v1.Container`, ...).
fn go_type(node: &Value) -> String {
    if let Some(name) = ref_name(node) {
        let mut parts = name.rsplit('.');
        let ty = parts.next().unwrap_or(name);
        return format!("{}.{ty}", parts.next().unwrap_or("v1"));
    }
    match node["type"].as_str() {
        Some("string") if node["format"] == "byte" => "[]uint8".into(),
        Some("string") => "string".into(),
        Some("integer") => node["format"].as_str().unwrap_or("int").into(),
        Some("number") => "float64".into(),
        Some("boolean") => "bool".into(),
        Some("array") => format!("[]{}", go_type(&node["items"])),
        Some("object") => match node.get("additionalProperties") {
            Some(ap) if ap.is_object() => format!("map[string]{}", go_type(ap)),
            _ => "map[string]interface {}".into(),
        },
        _ => "interface {}".into(),
    }
}

/// Where a value sits: its path as strict errors write it, the path as type errors write it
/// (no indices), and the Go struct the field belongs to.
#[derive(Default, Clone)]
struct Place {
    strict: String,
    field: String,
    owner: String,
}

struct Walk<'a> {
    patch: bool,
    out: &'a mut Decoded,
}

impl Walk<'_> {
    fn value(&mut self, node: &Value, value: &mut Value, at: &Place) {
        let schema = resolve(node);
        if value.is_null() || schema["x-kubernetes-preserve-unknown-fields"] == true {
            return;
        }
        if !self.fits(schema, value) {
            if self.out.mismatch.is_none() {
                let what = match value {
                    Value::String(_) => "string".to_string(),
                    Value::Bool(_) => "bool".into(),
                    Value::Array(_) => "array".into(),
                    Value::Object(_) => "object".into(),
                    Value::Number(n) if schema["type"] == "integer" => format!("number {n}"),
                    _ => "number".into(),
                };
                self.out.mismatch = Some(format!(
                    "json: cannot unmarshal {what} into Go struct field {}.{} of type {}",
                    at.owner,
                    at.field,
                    go_type(node)
                ));
            }
            return;
        }
        match value {
            Value::Object(map) => self.object(node, schema, map, at),
            Value::Array(items) => {
                if let Some(item) = schema.get("items") {
                    for (i, v) in items.iter_mut().enumerate() {
                        let place = Place {
                            strict: format!("{}[{i}]", at.strict),
                            ..at.clone()
                        };
                        self.value(item, v, &place);
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether the JSON type of `value` is one the schema's Go type decodes.
    fn fits(&self, schema: &Value, value: &Value) -> bool {
        match schema["type"].as_str() {
            Some("string") => value.is_string(),
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            Some("array") => value.is_array(),
            Some("object") => value.is_object(),
            // int-or-string and Quantity take either; a struct schema wants an object.
            _ if schema["x-kubernetes-int-or-string"] == true => {
                value.is_string() || value.is_number()
            }
            _ => !schema["properties"].is_object() || value.is_object(),
        }
    }

    fn object(
        &mut self,
        node: &Value,
        schema: &Value,
        map: &mut serde_json::Map<String, Value>,
        at: &Place,
    ) {
        let props = schema["properties"].as_object();
        let extra = schema.get("additionalProperties").filter(|a| a.is_object());
        if props.is_none() && extra.is_none() {
            return; // A free-form object (`FieldsV1`, `RawExtension`).
        }
        // Fields of a struct belong to it; values of a map to the struct holding the map.
        let owner = match (props, ref_name(node)) {
            (Some(_), Some(name)) => name.rsplit('.').next().unwrap_or(name).to_string(),
            _ => at.owner.clone(),
        };
        let keys: Vec<String> = map.keys().cloned().collect();
        for key in keys {
            if self.patch && key.starts_with('$') {
                continue;
            }
            let join = |p: &str| {
                if p.is_empty() {
                    key.clone()
                } else {
                    format!("{p}.{key}")
                }
            };
            let (field, sub) = match props.and_then(|p| p.get(&key)) {
                Some(sub) => (join(&at.field), Some(sub)),
                None => (at.field.clone(), extra),
            };
            let place = Place {
                strict: join(&at.strict),
                field,
                owner: owner.clone(),
            };
            match (sub, map.get_mut(&key)) {
                (Some(sub), Some(v)) => self.value(sub, v, &place),
                _ => {
                    map.remove(&key);
                    self.out.unknown.push(place.strict);
                }
            }
        }
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
        let unknown = decode(Kind::Deployment, &mut d, false);
        assert_eq!(
            unknown.unknown,
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
    fn values_of_the_wrong_type_fail_as_go_decoding_does() {
        let msg = |kind, mut v: Value| {
            decode(kind, &mut v, false)
                .check(kind, Directive::Ignore)
                .unwrap_err()
                .message
        };
        assert_eq!(
            msg(Kind::Deployment, json!({"spec": {"replicas": "3"}})),
            r#"Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"#
        );
        assert!(
            msg(Kind::Pod, json!({"metadata": {"labels": {"n": 1}}}))
                .ends_with("json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string")
        );
        assert!(
            msg(Kind::Deployment, json!({"spec": {"template": {"spec": {"containers": {}}}}}))
                .ends_with("cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container")
        );
        assert!(msg(Kind::Deployment, json!({"spec": []})).ends_with(
            "cannot unmarshal array into Go struct field Deployment.spec of type v1.DeploymentSpec"
        ));
        let mut ok = json!({"metadata": {"labels": null}, "spec": {"replicas": 2,
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
            "template": {"spec": {"containers": [{"name": "c",
                "resources": {"limits": {"cpu": 1, "memory": "1Gi"}}}]}}}});
        let d = decode(Kind::Deployment, &mut ok, false);
        assert!(
            d.check(Kind::Deployment, Directive::Strict).is_ok(),
            "{d:?}"
        );
    }

    #[test]
    fn secrets_configmaps_and_patch_directives_pass() {
        let mut s = json!({"metadata": {"name": "s"}, "type": "Opaque",
            "data": {"k": "dg=="}, "stringData": {"x": "y"}});
        assert!(decode(Kind::Secret, &mut s, false).unknown.is_empty());
        let mut c = json!({"metadata": {"name": "c"}, "data": {"k": "v"}, "binaryData": {}});
        assert!(decode(Kind::ConfigMap, &mut c, false).unknown.is_empty());
        let mut p = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "c"}],
            "containers": [{"name": "c", "$patch": "replace"}]}}}});
        assert!(decode(Kind::Deployment, &mut p, true).unknown.is_empty());
        let mut bad = json!({"data": {"k": "v"}, "dta": {}});
        assert_eq!(
            decode(Kind::ConfigMap, &mut bad, false).unknown,
            vec!["dta"]
        );
    }
}
