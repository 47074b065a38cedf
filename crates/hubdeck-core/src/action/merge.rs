//! A values change made the same way on many hubs: a JSON merge patch (RFC 7386) applied to
//! each hub's values.yaml. The patch is applied to the *redacted* values, so it never sees a
//! credential, and the placeholders it leaves untouched are put back afterwards; the diff is
//! between the values before and after in one canonical form (keys sorted, as helm's `toYaml`
//! writes the Secret), so it shows what changes and nothing of how the text was laid out.

use crate::fleet::{Fleet, HubRef};
use crate::secrets;

use super::error::ResolveError;
use super::model::Action;
use super::ports::HubConfig;
use super::resolve::find_hub;
use super::values;

/// Why a merge patch cannot be applied to a values text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// The patch is not a mapping (it would replace the whole values).
    #[error("a merge patch of values.yaml must be a mapping, not {0}")]
    NotAMapping(&'static str),
    /// The values cannot be read as JSON-like data (a non-string key, a tag).
    #[error("values.yaml cannot be patched: {0}")]
    Values(String),
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a mapping",
    }
}

/// Reads a merge patch written as JSON or YAML (YAML being a superset of JSON).
pub fn parse_patch(text: &str) -> Result<serde_json::Value, String> {
    let v: serde_json::Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let line = e.location().map_or(1, |l| l.line());
        let msg = e.to_string();
        format!(
            "line {line}: {}",
            crate::text::clip(msg.lines().next().unwrap_or_default(), 200)
        )
    })?;
    match &v {
        serde_json::Value::Object(_) => Ok(v),
        other => Err(MergeError::NotAMapping(kind(other)).to_string()),
    }
}

/// `text` as data, written back canonically.
fn canonical(text: &str) -> Result<(serde_json::Value, String), MergeError> {
    let bad = |e: &dyn std::fmt::Display| MergeError::Values(e.to_string());
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| bad(&e))?;
    let mut data = serde_json::to_value(&yaml).map_err(|e| bad(&e))?;
    if data.is_null() {
        data = serde_json::Value::Object(Default::default());
    }
    let text = serde_yaml_ng::to_string(&data).map_err(|e| bad(&e))?;
    Ok((data, text))
}

/// The redacted values before and after `patch`, both in canonical form.
pub fn merged(redacted: &str, patch: &serde_json::Value) -> Result<(String, String), MergeError> {
    if !patch.is_object() {
        return Err(MergeError::NotAMapping(kind(patch)));
    }
    let (mut data, before) = canonical(redacted)?;
    json_patch::merge(&mut data, patch);
    let after = serde_yaml_ng::to_string(&data).map_err(|e| MergeError::Values(e.to_string()))?;
    Ok((before, after))
}

/// The edit a merge patch makes to one hub's values (see the module comment).
pub(super) fn merge_values(
    fleet: &Fleet,
    hub: &HubRef,
    base: &HubConfig,
    patch: &serde_json::Value,
) -> Result<Action, ResolveError> {
    let invalid = |e: &dyn std::fmt::Display| ResolveError::Invalid(format!("{hub}: {e}"));
    let h = find_hub(fleet, hub)?;
    let redacted = secrets::redact(&base.values).map_err(|e| invalid(&e))?;
    let (before, after) = merged(&redacted.text, patch).map_err(|e| invalid(&e))?;
    if before == after {
        return Err(ResolveError::NothingToDo(format!(
            "values.yaml of {} already has these values",
            h.id
        )));
    }
    let restored = secrets::restore(&after, &base.values).map_err(|e| invalid(&e))?;
    values::validate(&restored.text).map_err(|e| invalid(&e))?;
    // A credential the patch sets is in `after` in the clear: the diff's side is the written
    // text redacted again, in the same canonical form as `before`.
    let shown = secrets::redact(&restored.text).map_err(|e| invalid(&e))?;
    let (_, shown) = canonical(&shown.text).map_err(|e| invalid(&e))?;
    let (_, layout) = canonical(&base.values).map_err(|e| invalid(&e))?;
    Ok(Action::EditHubConfig {
        hub: h.id.clone(),
        secret: base.secret.clone(),
        resource_version: base.resource_version.clone(),
        diff: values::diff(&h.id, &before, &shown),
        secrets_changed: restored.changed,
        rewritten: layout != base.values,
        values: secrets::Secret::new(restored.text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_patch_sets_adds_and_removes_keys_of_the_values() {
        let (before, after) = merged(
            "singleuser:\n  memory: {limit: 4G, guarantee: 2G}\ncull:\n  enabled: true\n",
            &json!({"singleuser": {"memory": {"limit": "8G"}}, "cull": null, "debug": {"enabled": true}}),
        )
        .unwrap();
        assert_eq!(
            before,
            "cull:\n  enabled: true\nsingleuser:\n  memory:\n    guarantee: 2G\n    limit: 4G\n"
        );
        assert_eq!(
            after,
            "debug:\n  enabled: true\nsingleuser:\n  memory:\n    guarantee: 2G\n    limit: 8G\n"
        );
    }

    #[test]
    fn a_patch_that_is_not_a_mapping_is_refused() {
        assert_eq!(
            merged("a: 1\n", &json!([1])).unwrap_err(),
            MergeError::NotAMapping("a list")
        );
        assert_eq!(
            parse_patch("- 1\n").unwrap_err(),
            "a merge patch of values.yaml must be a mapping, not a list"
        );
        assert_eq!(
            parse_patch("{\"hub\": {\"image\": {\"tag\": \"4.2\"}}}").unwrap(),
            json!({"hub": {"image": {"tag": "4.2"}}})
        );
        assert!(parse_patch("a: [1\n").unwrap_err().starts_with("line "));
    }
}
