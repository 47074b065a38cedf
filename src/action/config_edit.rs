//! The files a hub config edit leaves behind: the recovery copy of an edit that failed and the
//! diff file for the deployment repository (validation and the diff itself are the core's).
//! Shared by the console editor and `hubdeck config edit|apply`.

use std::path::{Path, PathBuf};

use jiff::Timestamp;

pub use hubdeck_core::action::values::{InvalidYaml, diff, validate};

use hubdeck_core::secrets::redact;

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

/// Keeps an edit that could not be applied, in a new private file; returns where. Its
/// credentials are kept as placeholders (they restore on apply while the Secret still holds
/// them); a credential typed anew is not kept on disk and must be typed again.
pub fn save_recovery(state_dir: &Path, hub: &HubId, values: &str) -> std::io::Result<PathBuf> {
    let stem = file_stem(hub, Timestamp::now());
    let safe = for_disk(values);
    write_new(
        &state_dir.join("recovery"),
        &stem,
        "values.yaml",
        safe.as_bytes(),
    )
}

/// `values` with every credential as a placeholder. Text that is not YAML cannot be parsed
/// for them, so every `key: value` line whose key reads like a credential is masked instead.
pub fn for_disk(values: &str) -> String {
    match redact(values) {
        Ok(r) => r.text,
        Err(_) => values.split_inclusive('\n').map(mask_line).collect(),
    }
}

fn mask_line(line: &str) -> String {
    let Some((key, value)) = line.split_once(':') else {
        return line.to_string();
    };
    let name = key
        .trim()
        .trim_start_matches('-')
        .trim()
        .to_ascii_lowercase();
    let credential = ["token", "secret", "password", "passwd", "key", "credential"]
        .iter()
        .any(|w| name.contains(w));
    if !credential || value.trim().is_empty() {
        return line.to_string();
    }
    let end = if line.ends_with('\n') { "\n" } else { "" };
    format!("{key}: \"<redacted>\"{end}")
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

    fn hub() -> HubId {
        crate::fleet::fixtures::hub_id("leap", "prod")
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

    #[test]
    fn recovery_copies_keep_no_credential() {
        let dir = tempfile::tempdir().unwrap();
        let p = save_recovery(
            dir.path(),
            &hub(),
            "proxy:\n  secretToken: s3cr3t-abc\nhub:\n  db: {type: sqlite-pvc}\n",
        )
        .unwrap();
        let kept = std::fs::read_to_string(p).unwrap();
        assert!(!kept.contains("s3cr3t-abc"), "{kept}");
        assert!(kept.contains("<redacted proxy.secretToken"), "{kept}");
        let broken = save_recovery(
            dir.path(),
            &hub(),
            "proxy:\n  secretToken: s3cr3t-abc\n  x: [\n",
        )
        .unwrap();
        let kept = std::fs::read_to_string(broken).unwrap();
        assert!(
            !kept.contains("s3cr3t-abc"),
            "invalid YAML is masked by line: {kept}"
        );
    }
}
