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
    diff_between(
        old,
        new,
        &format!("a/{hub}/values.yaml"),
        &format!("b/{hub}/values.yaml"),
    )
}

/// A unified diff from `old` to `new` under the given file labels.
pub fn diff_between(old: &str, new: &str, from: &str, to: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(from, to)
        .to_string()
}

/// The first line `config show` writes above a hub's values: which Secret and version the
/// text was read at. `config apply -f` applies such a file only over that version, so a
/// change someone else made meanwhile is a conflict, never silently undone.
const BASE_MARK: &str = "# hubdeck-base:";

/// What a values file says it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    /// The hub (`cluster/hub`) it was shown for.
    pub hub: String,
    /// The hub Secret's name.
    pub secret: String,
    /// Its resourceVersion then.
    pub resource_version: String,
}

/// The line recording where values were read (ends with a newline).
pub fn base_line(hub: &HubId, secret: &str, resource_version: &str) -> String {
    format!(
        "{BASE_MARK} hub={hub} secret={secret} resourceVersion={resource_version} \
         (keep this line: `hubdeck config apply -f` applies this file only over that version)\n"
    )
}

/// Splits a values file into the base it records (if its first line is one) and the values.
pub fn split_base(text: &str) -> Result<(Option<Base>, &str), InvalidYaml> {
    let Some(rest) = text.strip_prefix(BASE_MARK) else {
        return Ok((None, text));
    };
    let (line, values) = rest.split_once('\n').unwrap_or((rest, ""));
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
            .map(str::to_string)
    };
    match (field("hub"), field("secret"), field("resourceVersion")) {
        (Some(hub), Some(secret), Some(resource_version)) => Ok((
            Some(Base {
                hub,
                secret,
                resource_version,
            }),
            values,
        )),
        _ => Err(InvalidYaml {
            line: 1,
            message: "the hubdeck-base line lacks hub=, secret= or resourceVersion=".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::HubId;

    fn hub() -> HubId {
        crate::fleet::fixtures::hub_id("leap", "prod")
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

    #[test]
    fn a_shown_file_records_its_base_and_splits_back() {
        let text = format!("{}a: 1\n", base_line(&hub(), "hub", "4711"));
        let (base, values) = split_base(&text).unwrap();
        assert_eq!(
            base,
            Some(Base {
                hub: "leap/prod".into(),
                secret: "hub".into(),
                resource_version: "4711".into()
            })
        );
        assert_eq!(values, "a: 1\n");
        assert_eq!(split_base("a: 1\n").unwrap(), (None, "a: 1\n"));
        assert!(split_base("# hubdeck-base: hub=x\na: 1\n").is_err());
    }
}
