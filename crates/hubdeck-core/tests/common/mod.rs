//! Shared checks of the secrets tests: an independent reading of the redacted text.

use serde_yaml_ng::Value;

/// Reads `original` and `redacted` with another YAML parser (libyaml, through
/// serde_yaml_ng) and checks that they differ only where a string became a placeholder.
/// Returns the original strings that were replaced (aliases expanded, so a credential an
/// alias points at counts once per alias), or `None` when that parser does not read the
/// original (it is a YAML 1.1 parser and refuses some 1.2 documents).
pub fn replaced_strings(original: &str, redacted: &str) -> Option<Vec<String>> {
    let a: Value = serde_yaml_ng::from_str(original).ok()?;
    let b: Value = serde_yaml_ng::from_str(redacted)
        .unwrap_or_else(|e| panic!("the redacted text does not parse: {e}\n{redacted}"));
    let mut out = Vec::new();
    diff(&a, &b, &mut out);
    Some(out)
}

fn diff(a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Mapping(x), Value::Mapping(y)) => {
            assert_eq!(x.len(), y.len(), "a mapping changed size");
            for ((ka, va), (kb, vb)) in x.iter().zip(y.iter()) {
                assert_eq!(ka, kb, "a key changed");
                diff(va, vb, out);
            }
        }
        (Value::Sequence(x), Value::Sequence(y)) => {
            assert_eq!(x.len(), y.len(), "a list changed length");
            for (va, vb) in x.iter().zip(y) {
                diff(va, vb, out);
            }
        }
        (Value::Tagged(x), Value::Tagged(y)) => {
            assert_eq!(x.tag, y.tag);
            diff(&x.value, &y.value, out);
        }
        (a, b) if a == b => {}
        (a, Value::String(p)) => {
            assert!(
                p.starts_with("<redacted ") && p.ends_with('>'),
                "{a:?} became {p:?}, not a placeholder"
            );
            match a {
                Value::String(s) => out.push(s.clone()),
                // A YAML 1.1 reader takes some 1.2 strings for other types (`0o17`, `1:20`).
                other => out.push(format!("{other:?}")),
            }
        }
        (a, b) => panic!("{a:?} became {b:?}"),
    }
}
