//! What editing a hub's values.yaml needs besides the API call: validation with the line of
//! the error, the diff shown before applying, the recovery copy of an edit that failed, and
//! the diff file for the deployment repository. Shared by the console editor and
//! `hubdeck config edit|apply`.

use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::model::Action;
use crate::fleet::HubId;
use crate::kube::executor::HubConfig;

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

/// The action that applies `values` over what was read.
pub fn edit_action(hub: &HubId, read: &HubConfig, values: String) -> Action {
    Action::EditHubConfig {
        hub: hub.clone(),
        secret: read.secret.clone(),
        resource_version: read.resource_version.clone(),
        diff: diff(hub, &read.values, &values),
        values,
    }
}

fn file_stem(hub: &HubId, now: Timestamp) -> String {
    let safe: String = hub
        .to_string()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}-{}", now.strftime("%Y%m%dT%H%M%SZ"))
}

/// Keeps an edit that could not be applied; returns where.
pub fn save_recovery(state_dir: &Path, hub: &HubId, values: &str) -> std::io::Result<PathBuf> {
    let dir = state_dir.join("recovery");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{}.values.yaml", file_stem(hub, Timestamp::now())));
    std::fs::write(&path, values)?;
    Ok(path)
}

/// Writes the applied diff where the person can commit it to the deployment repository.
pub fn save_diff(dir: &Path, hub: &HubId, diff: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{}.diff", file_stem(hub, Timestamp::now())));
    std::fs::write(&path, diff)?;
    Ok(path)
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

    #[test]
    fn recovery_and_diff_files_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let p = save_recovery(dir.path(), &hub(), "x: 1\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "x: 1\n");
        let d = save_diff(dir.path(), &hub(), "diff").unwrap();
        assert!(
            d.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("leap_prod-")
        );
    }
}
