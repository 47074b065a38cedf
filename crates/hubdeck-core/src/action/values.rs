//! A hub's values.yaml as an edit sees it: validation with the line of the error and the diff
//! shown before applying. Pure; the files an edit leaves behind are the application's.

use crate::fleet::HubId;

/// Invalid YAML: the line (1-based) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("values.yaml:{line}: {message}")]
pub struct InvalidYaml {
    /// Line of the error.
    pub line: usize,
    /// The parser's message.
    pub message: String,
}

/// Checks that `text` is YAML whose top level is a mapping (chart values always are).
pub fn validate(text: &str) -> Result<(), InvalidYaml> {
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| InvalidYaml {
        line: e.location().map_or(1, |l| l.line()),
        message: e.to_string().lines().next().unwrap_or_default().to_string(),
    })?;
    match value {
        serde_yaml_ng::Value::Mapping(_) | serde_yaml_ng::Value::Null => Ok(()),
        _ => Err(InvalidYaml {
            line: 1,
            message: "chart values must be a mapping at the top level".into(),
        }),
    }
}

/// A unified diff from `old` to `new`, labelled with the hub.
pub fn diff(hub: &HubId, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{hub}/values.yaml"),
            &format!("b/{hub}/values.yaml"),
        )
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{ClusterId, HubKey};

    fn hub() -> HubId {
        HubId {
            cluster: ClusterId::new("leap"),
            key: HubKey {
                namespace: "prod".into(),
                release: "prod".into(),
            },
        }
    }

    #[test]
    fn invalid_yaml_names_its_line() {
        let err = validate("hub:\n  config:\n    x: [1, 2\n  y: 3\n").unwrap_err();
        assert!(err.line >= 3, "{err}");
        assert!(err.to_string().starts_with("values.yaml:"), "{err}");
        assert!(validate("hub:\n  config: {}\n").is_ok());
        assert!(validate("- a\n- b\n").is_err());
    }

    #[test]
    fn diff_shows_changed_lines_with_hub_paths() {
        let d = diff(&hub(), "a: 1\nb: 2\n", "a: 1\nb: 3\n");
        assert!(d.contains("--- a/leap/prod/values.yaml"));
        assert!(d.contains("-b: 2") && d.contains("+b: 3"), "{d}");
    }
}
