//! PATCH bodies: JSON merge patch (RFC 7386), strategic merge treated as merge (enough for the
//! annotation and replica patches hubdeck sends), server-side apply approximated as a merge, and
//! a small JSON patch (RFC 6902) subset.

use serde_json::Value;

/// Applies an RFC 7386 merge patch in place.
pub(crate) fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(target_map) = target else {
        return;
    };
    for (k, v) in patch_map {
        if v.is_null() {
            target_map.remove(k);
        } else {
            merge(target_map.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// Applies `add`/`replace`/`remove` operations of an RFC 6902 JSON patch.
pub(crate) fn json_patch(target: &mut Value, ops: &Value) -> Result<(), String> {
    let ops = ops.as_array().ok_or("json patch must be an array")?;
    for op in ops {
        let kind = op["op"].as_str().ok_or("op missing")?;
        let path = op["path"].as_str().ok_or("path missing")?;
        let (parent_path, last) = path
            .rsplit_once('/')
            .ok_or_else(|| format!("bad path {path:?}"))?;
        let last = last.replace("~1", "/").replace("~0", "~");
        let parent = target
            .pointer_mut(parent_path)
            .ok_or_else(|| format!("path not found: {parent_path:?}"))?;
        match (kind, parent) {
            ("add" | "replace", Value::Object(m)) => {
                m.insert(last, op["value"].clone());
            }
            ("remove", Value::Object(m)) => {
                m.remove(&last)
                    .ok_or_else(|| format!("no such key {last:?}"))?;
            }
            ("add", Value::Array(a)) if last == "-" => a.push(op["value"].clone()),
            ("add" | "replace" | "remove", Value::Array(a)) => {
                let i: usize = last.parse().map_err(|_| format!("bad index {last:?}"))?;
                if i > a.len() || (kind != "add" && i == a.len()) {
                    return Err(format!("index out of range: {i}"));
                }
                match kind {
                    "add" => a.insert(i, op["value"].clone()),
                    "replace" => a[i] = op["value"].clone(),
                    _ => {
                        a.remove(i);
                    }
                }
            }
            ("test", _) => {}
            (other, _) => return Err(format!("unsupported json patch op {other:?}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc7386() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge(&mut t, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e"}}));
    }

    #[test]
    fn json_patch_replaces_and_adds() {
        let mut t = json!({"spec": {"replicas": 1}, "l": [1]});
        json_patch(
            &mut t,
            &json!([{"op": "replace", "path": "/spec/replicas", "value": 3},
                    {"op": "add", "path": "/l/-", "value": 2}]),
        )
        .unwrap();
        assert_eq!(t, json!({"spec": {"replicas": 3}, "l": [1, 2]}));
    }
}
