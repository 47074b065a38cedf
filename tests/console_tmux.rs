//! The real binary in a real terminal (tmux): start on the demo fleet, drill down to a hub's
//! servers, open a log, quit — and the terminal is back to normal afterwards.

mod common;

use std::process::Command;

use common::tmux::{Tmux, console_command, cooked};

#[test]
fn console_drills_down_opens_logs_and_restores_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let t = Tmux::start(&console_command(home.path(), "", "--demo", "sleep 60"));
    // The table's title counts hubs as they are listed (18 running and the demo repository's
    // missing one); rows fill in as clusters answer.
    t.wait_for("the fleet-wide hubs table with leap's hubs", |s| {
        s.contains("Hubs (19)") && s.contains("leap")
    });

    // Filter to one cluster's hubs and open the first: its user servers.
    t.keys(&["/", "leap", "Enter", "Enter"]);
    let s = t.wait_for("the servers of a leap hub", |s| {
        s.contains("Servers") && s.contains("Running")
    });
    assert!(s.contains("leap"), "{s}");

    // Logs of the selected server stream in.
    t.keys(&["l"]);
    t.wait_for("log lines", |s| {
        s.contains("› logs") && s.contains("ServerApp")
    });

    t.keys(&["q"]);
    let (s, code, modes) = t.console_exit();
    assert_eq!(code, Some(0), "{s}");
    assert!(cooked(&modes), "terminal left in raw mode: {modes:?}\n{s}");
}

#[test]
fn a_terminating_signal_restores_the_terminal_and_exits_128_plus_the_signal() {
    for (signal, code) in [("TERM", 143), ("HUP", 129), ("INT", 130)] {
        let home = tempfile::tempdir().unwrap();
        let t = Tmux::start(&console_command(home.path(), "", "--demo", "sleep 60"));
        t.wait_for("the console", |s| s.contains("Hubs ("));
        let pid = t.child_pid();
        assert!(!pid.is_empty(), "found the console's pid");
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(ok.success());
        let (s, exit, modes) = t.console_exit();
        assert_eq!(exit, Some(code), "SIG{signal}: {s}");
        assert!(
            cooked(&modes),
            "SIG{signal} left the terminal raw: {modes:?}\n{s}"
        );
    }
}
