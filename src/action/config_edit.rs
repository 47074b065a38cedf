//! The files a hub config edit leaves behind: the recovery copy of an edit that failed and the
//! diff file for the deployment repository (validation and the diff itself are the core's).
//! Shared by the console editor and `hubdeck config edit|apply`.

use std::path::{Path, PathBuf};

use jiff::Timestamp;

pub use hubdeck_core::action::values::{InvalidYaml, diff, validate};

use crate::fleet::HubId;
use crate::private_files::write_new;

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

/// Keeps an edit that could not be applied, in a new private file; returns where.
pub fn save_recovery(state_dir: &Path, hub: &HubId, values: &str) -> std::io::Result<PathBuf> {
    let stem = file_stem(hub, Timestamp::now());
    write_new(
        &state_dir.join("recovery"),
        &stem,
        "values.yaml",
        values.as_bytes(),
    )
}

/// Writes the applied diff, in a new private file, where the person can commit it to the
/// deployment repository.
pub fn save_diff(dir: &Path, hub: &HubId, diff: &str) -> std::io::Result<PathBuf> {
    write_new(
        dir,
        &file_stem(hub, Timestamp::now()),
        "diff",
        diff.as_bytes(),
    )
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

    #[test]
    fn two_refusals_in_one_second_keep_two_recovery_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = save_recovery(dir.path(), &hub(), "first: 1\n").unwrap();
        let b = save_recovery(dir.path(), &hub(), "second: 2\n").unwrap();
        assert_ne!(a, b);
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "first: 1\n");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "second: 2\n");
    }
}
