//! Every parser of hubdeck's input (settings, fleet file, themes, keymaps, runbooks, kubeconfig,
//! selectors, durations) is driven with generated input: each answer is either a value or one
//! line naming the file (and, for file formats, the line), never a panic and never the whole
//! input echoed back. Seeds come from `tests/corpus/parsers/`, mutated by proptest; the run is
//! bounded (`PROPTEST_CASES`, 64 per parser by default) so CI stays fast.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use hubdeck::config::fleet_file::FleetFile;
use hubdeck::config::keymap::Keymap;
use hubdeck::config::settings::Settings;
use hubdeck::config::theme::Theme;
use hubdeck::headless::runbook;
use hubdeck::headless::selector::Selector;
use hubdeck::kube::targets;

fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/parsers");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// A seed from the corpus with a few bytes changed, cut or repeated, or plain noise.
fn input() -> impl Strategy<Value = String> {
    let seeds = corpus();
    prop_oneof![
        (0..seeds.len(), any::<u64>(), 0usize..6)
            .prop_map(move |(i, salt, edits)| { mutate(&seeds[i], salt, edits) }),
        ".{0,200}",
        "[\\[\\]{}=:\"'#a-z0-9_. \\n-]{0,300}",
    ]
}

fn mutate(seed: &str, mut salt: u64, edits: usize) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    let noise = [
        '[', ']', '{', '}', '=', ':', '"', '\'', '\n', '#', '-', '\u{1b}', '9', ' ',
    ];
    for _ in 0..edits {
        if chars.is_empty() {
            break;
        }
        salt = salt.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let at = (salt >> 33) as usize % chars.len();
        match salt % 4 {
            0 => {
                chars.remove(at);
            }
            1 => chars.insert(at, noise[(salt >> 8) as usize % noise.len()]),
            2 => chars.truncate(at),
            _ => {
                let dup: Vec<char> = chars[at..].iter().take(40).copied().collect();
                chars.splice(at..at, dup);
            }
        }
    }
    chars.into_iter().collect()
}

/// An error a person can act on: one line, naming `file`, and not the input pasted back.
fn check_error(err: &str, file: &str, input: &str) -> Result<(), TestCaseError> {
    prop_assert!(!err.contains('\n'), "more than one line: {err}");
    prop_assert!(err.contains(file), "does not name {file}: {err}");
    prop_assert!(
        err.len() <= 600 || err.len() < input.len() / 2 + 200,
        "echoes too much ({} bytes): {err}",
        err.len()
    );
    Ok(())
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn settings_never_panic(text in input()) {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "settings.toml", &text);
        if let Err(e) = Settings::load(&p) {
            let e = e.to_string();
            check_error(&e, "settings.toml", &text)?;
            prop_assert!(e.contains("settings.toml:"), "names a line: {e}");
        }
    }

    #[test]
    fn fleet_files_never_panic(text in input()) {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "fleet.toml", &text);
        if let Err(e) = FleetFile::load(&p) {
            check_error(&e.to_string(), "fleet.toml", &text)?;
        }
    }

    #[test]
    fn themes_never_panic(text in input()) {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "mine.toml", &text);
        if let Err(e) = Theme::load(p.to_str(), None, false) {
            check_error(&e.to_string(), "mine.toml", &text)?;
        }
    }

    #[test]
    fn keymaps_never_panic(text in input()) {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "keys.toml", &text);
        if let Err(e) = Keymap::load(p.to_str(), None) {
            check_error(&e.to_string(), "keys.toml", &text)?;
        }
    }

    #[test]
    fn runbooks_never_panic(text in input()) {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "book.yaml", &text);
        if let Err(e) = runbook::load(&p) {
            check_error(&e, "book.yaml", &text)?;
        }
    }

    #[test]
    fn kubeconfigs_never_panic(text in input()) {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "kubeconfig", &text);
        if let Err(e) = targets::read_kubeconfig(&p) {
            check_error(&e.to_string(), "kubeconfig", &text)?;
        }
    }

    #[test]
    fn selectors_never_panic(text in ".{0,120}") {
        if let Err(e) = text.parse::<Selector>() {
            prop_assert!(!e.contains('\n'), "{e}");
            prop_assert!(e.len() < 400 + text.len(), "{e}");
        }
    }

    #[test]
    fn durations_never_panic(text in ".{0,80}|[0-9]{1,30}[smhdw]") {
        if let Err(e) = hubdeck_core::duration::parse(&text) {
            let e = e.to_string();
            prop_assert!(!e.contains('\n') && e.len() < 600, "{e}");
        }
    }
}
