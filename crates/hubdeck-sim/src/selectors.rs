//! Field selectors, and the filter of a list or watch: namespace, labels (see `label_selector`)
//! and fields, matched against stored objects by reading only the few fields they need from the
//! stored JSON.

use std::collections::BTreeMap;

use serde::Deserialize;

pub(crate) use super::label_selector::LabelSelector;
use super::resources::Kind;
use super::store::Obj;

/// A parsed `fieldSelector`: (field, wanted value, negated).
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldSelector(Vec<(String, String, bool)>);

fn field_supported(kind: Kind, field: &str) -> bool {
    match field {
        "metadata.name" | "metadata.namespace" => true,
        "status.phase" | "spec.nodeName" => kind == Kind::Pod,
        "spec.unschedulable" => kind == Kind::Node,
        "type" | "reason" | "source" | "reportingComponent" => kind == Kind::Event,
        f if f.starts_with("involvedObject.") => kind == Kind::Event,
        _ => false,
    }
}

impl FieldSelector {
    /// Parses `metadata.name=x,status.phase!=Running`; unsupported fields are an error (400).
    pub fn parse(kind: Kind, s: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, value, neg) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, true)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, v, false)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, v, false)
            } else {
                return Err(format!("invalid field selector: {part:?}"));
            };
            let field = field.trim();
            if !field_supported(kind, field) {
                return Err(format!("field label not supported: {field}"));
            }
            reqs.push((field.to_string(), value.trim().to_string(), neg));
        }
        Ok(FieldSelector(reqs))
    }

    fn matches(&self, view: &View) -> bool {
        self.0.iter().all(|(f, want, neg)| {
            let have = view.field(f).unwrap_or("");
            (have == want) != *neg
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ViewMeta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ViewInvolved {
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    field_path: Option<String>,
    api_version: Option<String>,
    resource_version: Option<String>,
}

#[derive(Deserialize, Default)]
struct ViewStatus {
    phase: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ViewSpec {
    node_name: Option<String>,
    unschedulable: Option<bool>,
}

#[derive(Deserialize, Default)]
struct ViewSource {
    component: Option<String>,
}

/// The fields selectors look at; everything else in the JSON is skipped while parsing.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct View {
    #[serde(default)]
    metadata: ViewMeta,
    #[serde(default)]
    status: Option<ViewStatus>,
    #[serde(default)]
    spec: Option<ViewSpec>,
    #[serde(default, rename = "type")]
    type_: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    source: Option<ViewSource>,
    #[serde(default)]
    reporting_component: Option<String>,
    #[serde(default)]
    involved_object: Option<ViewInvolved>,
}

impl View {
    fn field(&self, f: &str) -> Option<&str> {
        if f == "spec.unschedulable" {
            // The node registry's field set: a node without the field is "false".
            let on = self.spec.as_ref().and_then(|s| s.unschedulable) == Some(true);
            return Some(if on { "true" } else { "false" });
        }
        let io = self.involved_object.as_ref();
        match f {
            "metadata.name" => Some(&self.metadata.name),
            "metadata.namespace" => Some(&self.metadata.namespace),
            "status.phase" => self.status.as_ref()?.phase.as_deref(),
            "spec.nodeName" => self.spec.as_ref()?.node_name.as_deref(),
            "type" => self.type_.as_deref(),
            "reason" => self.reason.as_deref(),
            // The event registry's field set: `source` is the reporting controller when the
            // reporter (an events.k8s.io one) left `source` empty.
            "source" => self
                .source
                .as_ref()
                .and_then(|s| s.component.as_deref())
                .filter(|c| !c.is_empty())
                .or(self.reporting_component.as_deref()),
            "reportingComponent" => self.reporting_component.as_deref(),
            "involvedObject.kind" => io?.kind.as_deref(),
            "involvedObject.name" => io?.name.as_deref(),
            "involvedObject.namespace" => io?.namespace.as_deref(),
            "involvedObject.uid" => io?.uid.as_deref(),
            "involvedObject.fieldPath" => io?.field_path.as_deref(),
            "involvedObject.apiVersion" => io?.api_version.as_deref(),
            "involvedObject.resourceVersion" => io?.resource_version.as_deref(),
            _ => None,
        }
    }
}

/// What a list or watch asked for: namespace plus selectors.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Filter {
    /// Whether a stored object is selected.
    pub fn matches(&self, obj: &Obj) -> bool {
        if let Some(ns) = &self.namespace
            && *obj.namespace != **ns
        {
            return false;
        }
        if self.labels.is_empty() && self.fields.0.is_empty() {
            return true;
        }
        let view: View = serde_json::from_slice(&obj.json).unwrap_or_default();
        self.labels.matches(&view.metadata.labels) && self.fields.matches(&view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_field_selector_is_rejected() {
        assert!(FieldSelector::parse(Kind::Pod, "status.phase=Running").is_ok());
        assert!(FieldSelector::parse(Kind::Pod, "spec.bogus=x").is_err());
        assert!(FieldSelector::parse(Kind::Event, "involvedObject.name=hub,type=Warning").is_ok());
        assert!(
            FieldSelector::parse(Kind::Event, "reportingComponent=kubelet,reason!=Started").is_ok()
        );
        assert!(FieldSelector::parse(Kind::Secret, "type=Opaque").is_err());
    }
}
