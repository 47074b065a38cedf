//! The shell key as a person meets it: on a server row, a hub row and in a server's detail
//! it shows the exec plan in the confirm dialog; read-only refuses it; the console says how a
//! session ended once the terminal is back.

use super::actions::acting_app;
use super::*;
use crate::action::exec::ExecEnd;

#[test]
fn shell_on_a_server_row_shows_the_exec_plan_and_cancel_opens_nothing() {
    let (mut app, _feeds, dir) = acting_app(false);
    press(&mut app, "3");
    let first = selected_row(&mut app);
    assert!(first.contains("dora"), "{first}");
    press(&mut app, "s");
    let s = screen(&mut app);
    assert!(s.contains("Confirm: shell in server leap/prod/dora"), "{s}");
    assert!(
        s.contains("open a shell (bash, else sh) in pod prod/jupyter-dora"),
        "{s}"
    );
    assert!(s.contains("create pods/exec prod/jupyter-dora"), "{s}");
    assert!(s.contains("never what is typed"), "{s}");
    press(&mut app, "n");
    let s = screen(&mut app);
    assert!(s.contains("cancelled: nothing was sent"), "{s}");
    assert!(app.take_shell().is_none());
    assert!(!dir.path().join("audit.jsonl").exists());
}

#[test]
fn shell_on_a_hub_row_opens_in_its_hub_pod() {
    let (mut app, _feeds, _dir) = acting_app(false);
    press(&mut app, "1");
    assert!(selected_row(&mut app).contains("prod"));
    press(&mut app, "s");
    let s = screen(&mut app);
    assert!(s.contains("Confirm: shell in hub pod of leap/prod"), "{s}");
    assert!(s.contains("create pods/exec prod/hub-7d9f-abcde"), "{s}");
}

#[test]
fn shell_from_a_servers_detail_opens_in_that_server() {
    let (mut app, _feeds, _dir) = acting_app(false);
    press(&mut app, "3<down><enter>");
    let s = screen(&mut app);
    assert!(s.contains("eve › Detail"), "{s}");
    press(&mut app, "s");
    let s = screen(&mut app);
    assert!(s.contains("Confirm: shell in server leap/prod/eve"), "{s}");
}

#[test]
fn shell_on_a_cluster_row_says_what_to_select() {
    let (mut app, _feeds, _dir) = acting_app(false);
    press(&mut app, "2s");
    let s = screen(&mut app);
    assert!(!s.contains("Confirm:"), "{s}");
    assert!(
        s.contains("shell: select a user server, a hub or a node"),
        "{s}"
    );
}

#[test]
fn read_only_refuses_the_shell_before_any_dialog() {
    let (mut app, _feeds, _dir) = acting_app(true);
    press(&mut app, "3s");
    let s = screen(&mut app);
    assert!(!s.contains("Confirm:"), "{s}");
    assert!(
        s.contains("read-only: shell on server leap/prod/dora refused"),
        "{s}"
    );
}

#[test]
fn the_console_says_how_a_shell_ended_once_it_is_back() {
    let mut app = app();
    app.shell_ended("shell in server leap/prod/dora", &ExecEnd::Exited(0));
    let s = screen(&mut app);
    assert!(
        s.contains("✔ shell in server leap/prod/dora: closed, exit status 0"),
        "{s}"
    );
    app.shell_ended(
        "shell in server leap/prod/dora",
        &ExecEnd::Lost("failed to receive a WebSocket message".into()),
    );
    let s = screen(&mut app);
    assert!(
        s.contains("✖ shell in server leap/prod/dora: connection lost: failed to receive"),
        "{s}"
    );
}

#[test]
fn help_lists_the_shell_key_and_sorting_moved_to_capital_s() {
    let mut app = app();
    press(&mut app, "?");
    let s = screen(&mut app);
    assert!(
        line_with(&s, "Shell in the selected server").contains('s'),
        "{s}"
    );
    assert!(
        line_with(&s, "Sort by the next column").contains('S'),
        "{s}"
    );
}
