//! Names and labels checked as kube-apiserver checks them, with its words: apimachinery's
//! `pkg/util/validation/validation.go` (`IsQualifiedName`, `IsValidLabelValue`,
//! `IsDNS1123Subdomain`, `IsDNS1123Label`, `IsDNS1035Label`) and `field.Error`'s rendering
//! (`metadata.labels: Invalid value: "x": ...`). The selector parser and the object verbs both use
//! them, so that a client that gets a bad label or name past the sim would get it past nothing.

use serde_json::Value;

use super::resources::Kind;
use super::status::ApiError;

const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";

/// Go's `RegexError`, double spaces before "or" included.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let mut out = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push_str(&format!("'{e}', "));
    }
    out.push_str(&format!("regex used for validation is '{fmt}')"));
    out
}

fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`
fn is_qualified(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: u8| c.is_ascii_alphanumeric();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => {
            edge(f)
                && edge(l)
                && b.iter()
                    .all(|&c| edge(c) || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => edge(f) && edge(l) && b.iter().all(|&c| edge(c) || c == b'-'),
        _ => false,
    }
}

/// `IsDNS1123Subdomain`: at most 253 characters of dot-separated RFC 1123 labels.
pub(crate) fn dns1123_subdomain(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 253 {
        errs.push(max_len_error(253));
    }
    if !s.split('.').all(is_dns_label) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// `IsDNS1123Label`: at most 63 lowercase alphanumerics or '-'.
pub(crate) fn dns1123_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !is_dns_label(s) {
        errs.push(regex_error(
            DNS1123_LABEL_MSG,
            DNS1123_LABEL_FMT,
            &["my-name", "123-abc"],
        ));
    }
    errs
}

/// `IsDNS1035Label`: an RFC 1123 label that starts with a letter (Service names).
pub(crate) fn dns1035_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !(is_dns_label(s) && s.starts_with(|c: char| c.is_ascii_lowercase())) {
        errs.push(regex_error(
            DNS1035_LABEL_MSG,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// `IsQualifiedName`: a label key, `[prefix/]name`.
pub(crate) fn qualified_name(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = s.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                errs.extend(
                    dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(
                    QUALIFIED_NAME_MSG,
                    QUALIFIED_NAME_FMT,
                    &["MyName", "my.name", "123-abc"]
                )
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        errs.push(format!("name part {}", max_len_error(63)));
    }
    if !is_qualified(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_MSG,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// `IsValidLabelValue`: empty, or at most 63 characters of a qualified name.
pub(crate) fn label_value(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !s.is_empty() && !is_qualified(s) {
        errs.push(regex_error(
            LABEL_VALUE_MSG,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// A `field.Error` of type Invalid for a string value, as Go renders it.
pub(crate) fn invalid(field: &str, value: &str, detail: &str) -> String {
    format!("{field}: Invalid value: {}: {detail}", go_quote(value))
}

/// Go's `%q` for the strings a client may send (printable ASCII as is, the rest escaped).
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The name rule of a kind: Namespaces are RFC 1123 labels, Services RFC 1035 labels, the rest
/// RFC 1123 subdomains (`ValidateNamespaceName`, `ValidateServiceName`, `NameIsDNSSubdomain`).
fn name_errors(kind: Kind, name: &str) -> Vec<String> {
    match kind {
        Kind::Namespace => dns1123_label(name),
        Kind::Service => dns1035_label(name),
        _ => dns1123_subdomain(name),
    }
}

/// `ValidateObjectMeta`'s name and label checks for an object the sim is asked to store; the
/// error is the 422 Invalid a real server answers (`Pod "x" is invalid: metadata.labels: ...`).
pub(crate) fn check_object(kind: Kind, obj: &Value) -> Result<(), ApiError> {
    let meta = &obj["metadata"];
    let name = meta["name"].as_str().unwrap_or("");
    let mut errs: Vec<(String, String)> = Vec::new();
    let mut push = |field: &str, value: &str, detail: String| {
        errs.push((field.to_string(), invalid(field, value, &detail)));
    };
    if name.is_empty() {
        // Create fills in a generated name first; an update without one is refused earlier.
    } else {
        for m in name_errors(kind, name) {
            push("metadata.name", name, m);
        }
    }
    if let Some(labels) = meta["labels"].as_object() {
        for (k, v) in labels {
            for m in qualified_name(k) {
                push("metadata.labels", k, m);
            }
            let v = v.as_str().unwrap_or("");
            for m in label_value(v) {
                push("metadata.labels", v, m);
            }
        }
    }
    if errs.is_empty() {
        return Ok(());
    }
    let causes = errs
        .iter()
        .map(|(field, msg)| {
            let body = msg.strip_prefix(&format!("{field}: ")).unwrap_or(msg);
            serde_json::json!({"reason": "FieldValueInvalid", "message": body, "field": field})
        })
        .collect();
    let messages: Vec<&str> = errs.iter().map(|(_, m)| m.as_str()).collect();
    Err(ApiError::invalid_object(kind, name, &messages, causes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME_PART: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    #[test]
    fn label_keys_follow_is_qualified_name() {
        for ok in [
            "app",
            "hub.jupyter.org/username",
            "a",
            "A_b.c-D",
            &"x".repeat(63),
        ] {
            assert!(qualified_name(ok).is_empty(), "{ok}");
        }
        assert_eq!(qualified_name("bad key!"), vec![NAME_PART.to_string()]);
        assert_eq!(
            qualified_name("/x"),
            vec!["prefix part must be non-empty".to_string()]
        );
        assert_eq!(
            qualified_name(&"x".repeat(64)),
            vec!["name part must be no more than 63 characters".to_string()]
        );
        assert!(qualified_name("app.kubernetes_io/name")[0].starts_with(
            "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric"
        ));
        assert!(qualified_name("a/b/c")[0].starts_with("a qualified name must consist of"));
        assert_eq!(
            qualified_name("x/"),
            vec![
                "name part must be non-empty".to_string(),
                NAME_PART.to_string()
            ]
        );
    }

    #[test]
    fn label_values_may_be_empty_but_not_odd() {
        assert!(label_value("").is_empty());
        assert!(label_value("jupyterhub").is_empty());
        assert_eq!(label_value("a b").len(), 1);
        assert_eq!(label_value("-a").len(), 1);
        assert_eq!(label_value(&"v".repeat(64)), vec![max_len_error(63)]);
    }

    #[test]
    fn names_follow_their_kind() {
        assert!(dns1123_subdomain("jupyter-alice.x").is_empty());
        assert_eq!(dns1123_subdomain("Alice").len(), 1);
        assert_eq!(dns1123_subdomain("a..b").len(), 1);
        assert!(dns1123_label("prod").is_empty());
        assert_eq!(dns1123_label("a.b").len(), 1);
        assert!(dns1035_label("proxy-public").is_empty());
        assert_eq!(dns1035_label("1proxy").len(), 1);
        assert_eq!(
            dns1123_subdomain(&"a".repeat(254)),
            vec![max_len_error(253)]
        );
    }

    #[test]
    fn objects_get_a_422_naming_the_field() {
        let pod = serde_json::json!({"metadata": {"name": "p", "labels": {"bad key!": "v"}}});
        let e = check_object(Kind::Pod, &pod).unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            format!(
                r#"Pod "p" is invalid: metadata.labels: Invalid value: "bad key!": {NAME_PART}"#
            )
        );
        let d = serde_json::json!({"metadata": {"name": "Hub"}});
        let e = check_object(Kind::Deployment, &d).unwrap_err();
        assert!(
            e.message.starts_with(
                r#"Deployment.apps "Hub" is invalid: metadata.name: Invalid value: "Hub": a lowercase RFC 1123 subdomain"#
            ),
            "{}",
            e.message
        );
        let two = serde_json::json!({"metadata": {"name": "X", "labels": {"a": "b c"}}});
        let e = check_object(Kind::Secret, &two).unwrap_err();
        assert!(
            e.message
                .starts_with(r#"Secret "X" is invalid: [metadata.name: Invalid value: "X": "#),
            "{}",
            e.message
        );
        assert!(check_object(Kind::Pod, &serde_json::json!({"metadata": {"name": "ok"}})).is_ok());
    }
}
