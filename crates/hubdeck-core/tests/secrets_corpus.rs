//! Every file of `tests/corpus/values/` redacts without error and restores byte for byte;
//! a file's `# redacts: a.b, c[0]` header lines name exactly the paths it must redact.

mod common;

use std::path::PathBuf;

use hubdeck_core::secrets::{has_placeholder, redact, restore};

fn corpus() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/values");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "the corpus is missing files");
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

fn expected_paths(text: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut any = false;
    for line in text.lines() {
        let line = line.trim_start_matches('\u{feff}');
        if let Some(list) = line.strip_prefix("# redacts:") {
            any = true;
            out.extend(
                list.split(", ")
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty()),
            );
        }
    }
    any.then_some(out)
}

#[test]
fn corpus_round_trips_exactly() {
    for (name, text) in corpus() {
        let r = redact(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let back = restore(&r.text, &text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back.text, text, "{name}: restore is not byte for byte");
        assert!(back.changed.is_empty(), "{name}: {:?}", back.changed);
        assert_eq!(has_placeholder(&r.text), !r.secrets.is_empty(), "{name}");
        assert!(!has_placeholder(&back.text), "{name}");
        if let Some(mut want) = expected_paths(&text) {
            let mut got: Vec<String> = r.secrets.iter().map(|s| s.path.clone()).collect();
            want.sort();
            got.sort();
            assert_eq!(got, want, "{name}: redacted paths");
        }
    }
}

#[test]
fn corpus_redactions_read_the_same_to_another_parser() {
    for (name, text) in corpus() {
        let r = redact(&text).unwrap();
        let Some(replaced) = common::replaced_strings(&text, &r.text) else {
            continue;
        };
        assert!(replaced.len() >= r.secrets.len(), "{name}");
        for s in &replaced {
            if s.trim().len() >= 6 {
                assert!(
                    !r.text.contains(s.as_str()),
                    "{name}: {s:?} is still in sight"
                );
            }
        }
    }
}

#[test]
fn corpus_edits_elsewhere_keep_every_credential() {
    for (name, text) in corpus() {
        let r = redact(&text).unwrap();
        let sep = if r.text.is_empty() || r.text.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        let edited = format!("{}{sep}# reviewed\n", r.text);
        let back = restore(&edited, &text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back.text, format!("{text}{sep}# reviewed\n"), "{name}");
        assert!(back.changed.is_empty(), "{name}");
    }
}
