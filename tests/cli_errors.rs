//! Bad input gets one clear line naming the file, line or object, and the documented exit code.

mod common;

use std::process::Command;

use common::fleet::{hubdeck_with, stderr};

fn one_line(err: &str) -> &str {
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected, got: {err}");
    lines[0]
}

#[test]
fn malformed_kubeconfig_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("broken-kubeconfig");
    std::fs::write(&kc, "apiVersion: v1\nclusters: [ {name: a\n").unwrap();
    let out = hubdeck_with(&kc, dir.path(), &["get", "hubs"]);
    assert_eq!(out.status.code(), Some(1));
    let line = one_line(&stderr(&out)).to_string();
    assert!(line.starts_with("hubdeck: kubeconfig "), "{line}");
    assert!(line.contains("broken-kubeconfig"), "{line}");
}

#[test]
fn unknown_context_lists_the_available_ones() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(
        &kc,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster: {server: 'http://127.0.0.1:9'}\n\
         users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: leap\n  context: {cluster: c1, user: u}\n\
         - name: nasa\n  context: {cluster: c1, user: u}\n",
    )
    .unwrap();
    let out = hubdeck_with(&kc, dir.path(), &["get", "hubs", "--context", "lepa"]);
    assert_eq!(out.status.code(), Some(1));
    let line = one_line(&stderr(&out)).to_string();
    assert_eq!(
        line,
        "hubdeck: unknown context \"lepa\"; available: leap, nasa"
    );
}

#[test]
fn fleet_file_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join("fleet.toml");
    std::fs::write(&fleet, "[[cluster]]\nname = \"leap\"\nreadonly = \"yes\"\n").unwrap();
    let out = hubdeck_with(
        &dir.path().join("none"),
        dir.path(),
        &["get", "hubs", "--fleet", fleet.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let line = one_line(&stderr(&out)).to_string();
    assert!(
        line.starts_with(&format!("hubdeck: {}:3: ", fleet.display())),
        "{line}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_hubdeck"))
        .args(["get", "pods"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
