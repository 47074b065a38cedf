//! Bad input gets one clear line naming the file, line or object, and the documented exit code.

mod common;

use std::path::Path;
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

#[test]
fn a_zero_or_huge_timeout_is_a_usage_error_not_a_panic_or_an_empty_success() {
    let dir = tempfile::tempdir().unwrap();
    for t in ["0", "9223372036854775807", "18446744073709551616"] {
        let out = hubdeck_with(
            &dir.path().join("none"),
            dir.path(),
            &["--timeout", t, "get", "hubs"],
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "--timeout {t}: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("--timeout"), "{}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
}

#[test]
fn a_kubeconfig_variable_naming_no_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = hubdeck_with(
        Path::new("/nonexistent/kubeconfig"),
        dir.path(),
        &["get", "hubs"],
    );
    assert_eq!(out.status.code(), Some(1));
    let line = one_line(&stderr(&out)).to_string();
    assert!(
        line.contains("KUBECONFIG names /nonexistent/kubeconfig"),
        "{line}"
    );
}

#[test]
fn an_empty_kubeconfig_or_fleet_file_is_named_not_an_empty_cluster_name() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty-kubeconfig");
    std::fs::write(&empty, "").unwrap();
    let out = hubdeck_with(&empty, dir.path(), &["get", "hubs"]);
    assert_eq!(out.status.code(), Some(1));
    let line = one_line(&stderr(&out)).to_string();
    assert!(
        line.contains("empty-kubeconfig") && line.contains("no contexts"),
        "{line}"
    );
    assert!(!line.contains("unknown cluster \"\""), "{line}");

    let fleet = dir.path().join("fleet.toml");
    std::fs::write(&fleet, "").unwrap();
    let out = hubdeck_with(
        &empty,
        dir.path(),
        &["--fleet", fleet.to_str().unwrap(), "get", "hubs"],
    );
    assert_eq!(out.status.code(), Some(1));
    let line = one_line(&stderr(&out)).to_string();
    assert!(
        line.contains("fleet.toml") && line.contains("no clusters"),
        "{line}"
    );
}

#[test]
fn a_huge_bad_theme_name_is_not_echoed_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let name = "x".repeat(100_000);
    let out = Command::new(env!("CARGO_BIN_EXE_hubdeck"))
        .args(["--demo", "--theme", &name])
        .env("HUBDECK_CONFIG_DIR", dir.path().join("config"))
        .env("HUBDECK_STATE_DIR", dir.path().join("state"))
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let line = one_line(&stderr(&out)).to_string();
    assert!(line.len() < 400, "{} bytes", line.len());
    assert!(line.contains("no such theme"), "{line}");
}

#[test]
fn the_console_without_a_terminal_says_what_to_use_instead() {
    let dir = tempfile::tempdir().unwrap();
    let out = hubdeck_with(&dir.path().join("none"), dir.path(), &["--demo"]);
    assert_eq!(out.status.code(), Some(1));
    let line = one_line(&stderr(&out)).to_string();
    assert!(
        line.contains("needs a terminal") && line.contains("hubdeck get"),
        "{line}"
    );
}

#[test]
fn every_kubernetes_request_says_it_is_hubdeck() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster: {{server: 'http://127.0.0.1:{port}'}}\n\
             users:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: leap\n  context: {{cluster: c1, user: u}}\n"
        ),
    )
    .unwrap();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = conn.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let _ = conn.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
        String::from_utf8_lossy(&head).to_ascii_lowercase()
    });
    let _ = hubdeck_with(&kc, dir.path(), &["--timeout", "2", "get", "clusters"]);
    let head = server.join().unwrap();
    let expected = format!("user-agent: hubdeck/{}", env!("CARGO_PKG_VERSION"));
    assert!(head.contains(&expected), "{head}");
}
