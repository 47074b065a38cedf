//! The shell hand-over in a real terminal (tmux), against a sim fleet in this test's process
//! so the test can cut sessions off: `s` on a server opens its shell on the main screen, what
//! is typed reaches it, and when it exits — or its connection drops — the console comes back
//! on the alternate screen, redrawn, and the terminal works after quitting.

mod common;

use common::fleet::TestFleet;
use common::tmux::{Tmux, console_command, cooked};

/// A line of the screen that is exactly `text` (output, not the echo of the command typed).
fn has_line(s: &str, text: &str) -> bool {
    s.lines().any(|l| l.trim() == text)
}

#[test]
fn a_shell_takes_the_terminal_and_gives_it_back_intact() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fleet = rt.block_on(TestFleet::small());
    let env = format!(
        "KUBECONFIG={} NO_COLOR=1",
        fleet.sim.kubeconfig_path().display()
    );
    let after = "read line; echo \"got:$line\"; sleep 60";
    let cmd = console_command(fleet.home.path(), &env, "", after);
    let t = Tmux::start(&cmd);
    t.wait_for("the hubs table", |s| s.contains("Hubs ("));
    assert!(t.alternate_on(), "the console is on the alternate screen");

    // A running server, then its shell.
    t.keys(&["3", "/", "Running", "Enter"]);
    t.wait_for("running servers", |s| s.contains("/Running"));
    t.keys(&["s"]);
    t.wait_for("the exec plan", |s| {
        s.contains("Confirm: shell in server") && s.contains("create pods/exec")
    });
    t.keys(&["y"]);
    let s = t.wait_for("the remote prompt", |s| {
        s.contains("[hubdeck] shell in server") && s.contains("(base) jovyan@")
    });
    assert!(!t.alternate_on(), "the shell is on the main screen:\n{s}");
    t.keys(&["echo hubdeck-marker", "Enter"]);
    t.wait_for("the shell's answer", |s| has_line(s, "hubdeck-marker"));
    t.keys(&["stty size", "Enter"]);
    t.wait_for("the remote tty has the pane's size", |s| {
        has_line(s, "36 120")
    });
    t.keys(&["exit", "Enter"]);
    let s = t.wait_for("the console back", |s| {
        s.contains("Servers (") && s.contains("closed, exit status 0")
    });
    assert!(
        t.alternate_on(),
        "the console is back on the alternate screen:\n{s}"
    );
    assert!(
        s.contains("/Running"),
        "the pane as it was left, filter included:\n{s}"
    );
    assert!(
        !s.contains("jovyan@"),
        "redrawn, no shell output left over:\n{s}"
    );

    // Keys are the console's again: the help opens and closes.
    t.keys(&["?"]);
    t.wait_for("the help", |s| s.contains("keymap default"));
    t.keys(&["Escape"]);
    t.wait_for("the help closed", |s| !s.contains("keymap default"));

    // The connection drops mid-session: the console comes back all the same.
    t.keys(&["s"]);
    t.wait_for("the exec plan", |s| s.contains("Confirm: shell in server"));
    t.keys(&["y"]);
    t.wait_for("the remote prompt", |s| s.contains("(base) jovyan@"));
    for c in fleet.sim.clusters() {
        c.drop_exec_sessions();
    }
    let s = t.wait_for("the console back after the drop", |s| {
        s.contains("Servers (") && s.contains("connection lost")
    });
    assert!(t.alternate_on(), "{s}");

    t.keys(&["q"]);
    let (s, code, modes) = t.console_exit();
    assert_eq!(code, Some(0), "{s}");
    assert!(!t.alternate_on(), "{s}");
    assert!(cooked(&modes), "terminal left in raw mode: {modes:?}\n{s}");
    // The shell reads a line as a terminal in cooked mode delivers it.
    t.keys(&["after-check", "Enter"]);
    t.wait_for("the shell usable", |s| has_line(s, "got:after-check"));
    drop(t);
    rt.block_on(fleet.sim.shutdown());
}
