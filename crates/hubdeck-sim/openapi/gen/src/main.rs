//! Prints the OpenAPI v3 schemas (components.schemas) of the kinds hubdeck-sim serves, generated
//! from k8s-openapi's types, trimmed to what validation and `kubectl explain` need: descriptions
//! dropped, `allOf: [$ref]` wrappers folded back into a plain `$ref`, keys sorted,
//! one schema a line.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::authorization::v1::{SelfSubjectAccessReview, SelfSubjectRulesReview};
use k8s_openapi::api::autoscaling::v1::Scale;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, Node, Pod, Secret, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{DeleteOptions, ListMeta, Status};
use schemars::generate::SchemaSettings;
use serde_json::Value;

fn trim(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("description");
            if let Some(Value::Array(all)) = m.get("allOf")
                && all.len() == 1
                && let Some(Value::Object(inner)) = all.first().cloned()
            {
                m.remove("allOf");
                m.extend(inner);
            }
            for (_, child) in m.iter_mut() {
                trim(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(trim),
        _ => {}
    }
}

fn main() {
    let mut generator = SchemaSettings::openapi3().into_generator();
    generator.subschema_for::<Pod>();
    generator.subschema_for::<Service>();
    generator.subschema_for::<Secret>();
    generator.subschema_for::<ConfigMap>();
    generator.subschema_for::<Event>();
    generator.subschema_for::<Namespace>();
    generator.subschema_for::<Node>();
    generator.subschema_for::<Deployment>();
    generator.subschema_for::<StatefulSet>();
    generator.subschema_for::<Scale>();
    generator.subschema_for::<SelfSubjectAccessReview>();
    generator.subschema_for::<SelfSubjectRulesReview>();
    generator.subschema_for::<DeleteOptions>();
    generator.subschema_for::<Status>();
    // k8s-openapi's generic `List<T>` has no schema; the sim builds `<Kind>List` on ListMeta.
    generator.subschema_for::<ListMeta>();
    let mut defs = Value::Object(generator.take_definitions(true));
    trim(&mut defs);
    let sorted: std::collections::BTreeMap<String, Value> =
        serde_json::from_value(defs).expect("definitions are an object");
    // One schema a line: small, and a regeneration diffs by type.
    let lines: Vec<String> = sorted
        .iter()
        .map(|(name, schema)| {
            let schema = serde_json::to_string(schema).expect("schema serializes");
            format!("{}: {schema}", Value::from(name.as_str()))
        })
        .collect();
    println!("{{\n{}\n}}", lines.join(",\n"));
}
