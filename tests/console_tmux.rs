//! The real binary in a real terminal (tmux): start on the demo fleet, drill down to a hub's
//! servers, open a log, quit — and the terminal is back to normal afterwards.

mod common;

use std::process::Command;

use common::tmux::Tmux;

#[test]
fn console_drills_down_opens_logs_and_restores_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_hubdeck");
    let cmd = format!(
        "env HUBDECK_CONFIG_DIR={0}/config HUBDECK_STATE_DIR={0}/state {bin} --demo; \
         echo EXIT=$?; stty -a | tr ' ' '\\n' | grep -x -e echo -e -echo -e icanon -e -icanon | tr '\\n' ' '; \
         echo; sleep 60",
        home.path().display()
    );
    let t = Tmux::start(&cmd);
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
    let s = t.wait_for("hubdeck to exit and stty to report", |s| {
        s.contains("EXIT=") && s.contains("icanon")
    });
    assert!(s.contains("EXIT=0"), "{s}");
    let modes: Vec<&str> = s
        .lines()
        .find(|l| l.contains("icanon"))
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert!(
        modes.contains(&"echo") && modes.contains(&"icanon"),
        "terminal left in raw mode: {modes:?}\n{s}"
    );
}

/// The modes `stty -a` printed after the console exited.
fn tty_modes(s: &str) -> Vec<String> {
    s.lines()
        .find(|l| l.contains("icanon"))
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect()
}

#[test]
fn a_terminating_signal_restores_the_terminal_and_exits_128_plus_the_signal() {
    for (signal, code) in [("TERM", 143), ("HUP", 129), ("INT", 130)] {
        let home = tempfile::tempdir().unwrap();
        let bin = env!("CARGO_BIN_EXE_hubdeck");
        let cmd = format!(
            "env HUBDECK_CONFIG_DIR={0}/config HUBDECK_STATE_DIR={0}/state {bin} --demo; \
             echo EXIT=$?; stty -a | tr ' ' '\\n' | grep -x -e echo -e -echo -e icanon -e -icanon | tr '\\n' ' '; \
             echo; sleep 60",
            home.path().display()
        );
        let t = Tmux::start(&cmd);
        t.wait_for("the console", |s| s.contains("Hubs ("));
        let pid = t.child_pid();
        assert!(!pid.is_empty(), "found the console's pid");
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(ok.success());
        let s = t.wait_for("hubdeck to exit and stty to report", |s| {
            s.contains("EXIT=") && s.contains("icanon")
        });
        assert!(s.contains(&format!("EXIT={code}")), "SIG{signal}: {s}");
        let modes = tty_modes(&s);
        assert!(
            modes.iter().any(|m| m == "echo") && modes.iter().any(|m| m == "icanon"),
            "SIG{signal} left the terminal raw: {modes:?}\n{s}"
        );
    }
}
