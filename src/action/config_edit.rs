//! The files a hub config edit leaves behind: the recovery copy of an edit that failed and the
//! diff file for the deployment repository (validation and the diff itself are the core's).
//! Shared by the console editor and `hubdeck config edit|apply`.

use std::path::{Path, PathBuf};

use jiff::Timestamp;

pub use hubdeck_core::action::values::{InvalidYaml, diff, validate};

use crate::fleet::HubId;

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
