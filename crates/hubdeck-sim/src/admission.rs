//! What kube-apiserver does to an accepted object before it stores it, where a client can see
//! the difference: a Secret's `stringData` is folded into `data` (base64) and is never stored or
//! returned (`Convert_v1_Secret_To_core_Secret`: `stringData` wins over `data` key by key).

use k8s_openapi::ByteString;
use serde_json::Value;

use super::resources::Kind;

/// Applies the server's conversions to an object about to be stored.
pub(crate) fn prepare(kind: Kind, obj: &mut Value) {
    if kind != Kind::Secret {
        return;
    }
    let Some(Value::Object(strings)) = obj.as_object_mut().and_then(|o| o.remove("stringData"))
    else {
        return;
    };
    if !obj["data"].is_object() {
        obj["data"] = Value::Object(Default::default());
    }
    for (k, v) in strings {
        let bytes = ByteString(v.as_str().unwrap_or("").as_bytes().to_vec());
        obj["data"][k] = serde_json::to_value(bytes).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn string_data_becomes_data() {
        let mut s = json!({"data": {"a": "eA==", "b": "eQ=="}, "stringData": {"b": "hunter2"}});
        prepare(Kind::Secret, &mut s);
        assert_eq!(s, json!({"data": {"a": "eA==", "b": "aHVudGVyMg=="}}));
        let mut c = json!({"stringData": {"b": "x"}});
        prepare(Kind::ConfigMap, &mut c);
        assert_eq!(c, json!({"stringData": {"b": "x"}}));
    }
}
