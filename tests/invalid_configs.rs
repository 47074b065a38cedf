//! Every file in tests/invalid_configs/ is a bad configuration a person could write. Each is
//! given to the real binary the way a user would; hubdeck must refuse it with exit code 1 and
//! one line naming the file and the line (the first line of each file says which, and what).

use std::path::Path;
use std::process::Command;

fn run(file: &Path, home: &Path) -> std::process::Output {
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    let config = home.join("config");
    std::fs::create_dir_all(&config).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hubdeck"));
    cmd.env("HUBDECK_CONFIG_DIR", &config)
        .env("HUBDECK_STATE_DIR", home.join("state"))
        .env("KUBECONFIG", home.join("none"))
        .env_remove("NO_COLOR");
    if name.starts_with("theme-") {
        cmd.args(["--demo", "--theme", file.to_str().unwrap()]);
    } else if name.starts_with("keymap-") {
        std::fs::copy(file, config.join("keymap.toml")).unwrap();
        cmd.args(["--demo"]);
    } else if name.starts_with("settings-") {
        std::fs::copy(file, config.join("settings.toml")).unwrap();
        cmd.args(["--demo", "get", "clusters"]);
    } else if name.starts_with("fleet-") {
        cmd.args(["--fleet", file.to_str().unwrap(), "get", "clusters"]);
    } else {
        panic!("{name}: unknown kind of config file");
    }
    cmd.output().unwrap()
}

#[test]
fn every_invalid_config_is_refused_with_file_and_line() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid_configs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 6, "the corpus is there");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# error: line "))
            .unwrap_or_else(|| {
                panic!(
                    "{}: first line says `# error: line N: what`",
                    file.display()
                )
            });
        let (line, what) = expect.split_once(": ").unwrap();
        let home = tempfile::tempdir().unwrap();
        let out = run(&file, home.path());
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{name}: one line, got: {err}");
        assert!(
            lines[0].contains(&format!(":{line}:")) && lines[0].contains(what),
            "{name}: expected line {line} and {what:?} in: {err}"
        );
        let base = if name.starts_with("keymap-") {
            "keymap.toml".to_string()
        } else if name.starts_with("settings-") {
            "settings.toml".to_string()
        } else {
            name.clone()
        };
        assert!(
            lines[0].contains(&base),
            "{name}: the file is named in: {err}"
        );
    }
}
