//! Actions in the console: the prompt, the confirm dialog showing the plan, explicit
//! confirmation, the editor's validation — as a person sees them. Nothing here reaches a cluster:
//! the runner has no clusters, so a confirmed action answers "unknown cluster".

use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;

use crate::action::AuditLog;
use crate::action::HubConfig;
use crate::fleet::{ClusterId, HubId};
use crate::kube::ClientCache;

use super::super::actions::editor::Editor;
use super::super::event_loop::Feeds;
use super::*;

/// A console whose runner knows no clusters, and the feeds its tasks answer on.
pub(super) fn acting_app(readonly: bool) -> (App, Feeds, tempfile::TempDir) {
    acting_app_over(readonly, fleet())
}

/// The same over another fleet.
pub(super) fn acting_app_over(
    readonly: bool,
    fleet: crate::fleet::Fleet,
) -> (App, Feeds, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let runner = crate::kube::executor::runner(
        ClientCache::new(&[]),
        readonly,
        AuditLog::new(dir.path().join("audit.jsonl")),
    );
    let (_tx, rx) = mpsc::channel(1);
    let feeds = Feeds::new(rx);
    let opts = ConsoleOptions {
        readonly,
        state_dir: dir.path().to_path_buf(),
        ..opts()
    };
    let app = App::new(opts, fleet).with_actions(Some(Arc::new(runner)), feeds.action_sender());
    (app, feeds, dir)
}

fn prod() -> HubId {
    crate::fleet::fixtures::hub_id("leap", "prod")
}

#[test]
fn restart_dialog_shows_every_step_with_its_api_call_and_cancel_sends_nothing() {
    let (mut app, _feeds, dir) = acting_app(false);
    press(&mut app, "R");
    let s = screen(&mut app);
    assert!(s.contains("Confirm: restart hub leap/prod"), "{s}");
    assert!(s.contains("cluster leap"), "{s}");
    assert!(
        s.contains("1. rollout restart Deployment hub (set restartedAt annotation)"),
        "{s}"
    );
    assert!(s.contains("patch apps/deployments prod/hub"), "{s}");
    assert!(s.contains("y/enter: run it"), "{s}");
    press(&mut app, "n");
    let s = screen(&mut app);
    assert!(!s.contains("Confirm:"), "{s}");
    assert!(s.contains("cancelled: nothing was sent"), "{s}");
    assert!(!app.actions_running());
    assert!(
        !dir.path().join("audit.jsonl").exists(),
        "a cancel is not audited"
    );
}

#[test]
fn scale_prompt_is_prefilled_and_refuses_more_than_one_hub_replica() {
    let (mut app, _feeds, _dir) = acting_app(false);
    press(&mut app, "M");
    let s = screen(&mut app);
    assert!(s.contains("scale hub leap/prod"), "{s}");
    assert!(
        line_with(&s, "replicas (0 = maintenance, 1 = up)").contains(" 1"),
        "{s}"
    );
    press(&mut app, "<backspace>5<enter>");
    let s = screen(&mut app);
    assert!(
        s.contains("the hub runs 0 (maintenance) or 1 replica"),
        "{s}"
    );
    assert!(!s.contains("Confirm:"), "{s}");
    press(&mut app, "<backspace>0<enter>");
    let s = screen(&mut app);
    assert!(s.contains("Confirm: scale hub leap/prod to 0"), "{s}");
    assert!(s.contains("patch apps/deployments/scale prod/hub"), "{s}");
    assert!(s.contains("⚠ scaling the hub to 0 stops logins"), "{s}");
}

#[test]
fn scale_to_zero_needs_the_typed_word_not_y() {
    let (mut app, _feeds, _dir) = acting_app(false);
    press(&mut app, "M<backspace>0<enter>");
    assert!(screen(&mut app).contains("type \"yes\" or \"prod\" and press enter"));
    press(&mut app, "y<enter>");
    let s = screen(&mut app);
    assert!(s.contains("Confirm: scale hub"), "still open: {s}");
    assert!(s.contains("type \"yes\" or \"prod\" to confirm"), "{s}");
    assert!(!app.actions_running(), "nothing ran on a plain y");
    press(&mut app, "<esc>");
    assert!(!screen(&mut app).contains("Confirm:"));
}

#[test]
fn stopping_two_marked_servers_is_one_explicit_action_listing_both() {
    let (mut app, _feeds, _dir) = acting_app(false);
    press(&mut app, "3");
    press(&mut app, "<space><space>");
    let s = screen(&mut app);
    assert!(s.contains("2 marked"), "{s}");
    assert!(line_with(&s, "dora").contains("* "), "{s}");
    assert!(!line_with(&s, "carl").contains("* "), "{s}");
    press(&mut app, "X");
    let s = screen(&mut app);
    assert!(s.contains("Confirm: stop 2 servers"), "{s}");
    assert!(s.contains("delete pods prod/jupyter-dora"), "{s}");
    assert!(s.contains("delete pods prod/jupyter-eve"), "{s}");
    assert!(s.contains("explicit confirmation: type \"yes\""), "{s}");
}

#[test]
fn marks_on_two_clusters_are_refused_before_any_dialog() {
    let (mut app, _feeds, _dir) = acting_app(false);
    press(&mut app, "3");
    // Rows: leap/prod (dora, eve), leap/staging (ada, grace), nasa/science (carl).
    press(&mut app, "<space>GG<space>X");
    let s = screen(&mut app);
    assert!(!s.contains("Confirm:"), "{s}");
    assert!(s.contains("on 2 clusters"), "{s}");
}

#[test]
fn stop_idle_lists_the_idle_servers_of_the_selected_hub() {
    let (mut app, _feeds, _dir) = acting_app(false);
    app.tick(now() + SignedDuration::from_hours(9));
    press(&mut app, "1");
    press(&mut app, "<down>"); // leap/staging
    press(&mut app, ":stop-idle 8h<enter>");
    let s = screen(&mut app);
    assert!(
        s.contains("2 server(s) of leap/staging idle for more than 8h"),
        "{s}"
    );
    assert!(s.contains("stop server leap/staging/ada"), "{s}");
    assert!(s.contains("stop server leap/staging/grace"), "{s}");
    press(&mut app, "<esc>:stop-idle 10h<enter>");
    let s = screen(&mut app);
    assert!(
        s.contains("no server of leap/staging has been idle for more than 10h"),
        "{s}"
    );
}

#[test]
fn without_a_runner_the_console_says_why_actions_are_off() {
    let mut app = app();
    press(&mut app, "R");
    let s = screen(&mut app);
    assert!(!s.contains("Confirm:"), "{s}");
    assert!(s.contains("actions are off in this console"), "{s}");
}

#[tokio::test]
async fn a_confirmed_action_runs_on_a_task_and_its_outcome_comes_back_as_a_toast() {
    let (mut app, mut feeds, dir) = acting_app(false);
    press(&mut app, "R");
    press(&mut app, "y");
    assert!(app.actions_running());
    let s = screen(&mut app);
    assert!(s.contains("restart hub leap/prod…"), "spinner at once: {s}");
    tokio::time::timeout(Duration::from_secs(10), async {
        while app.actions_running() {
            feeds.apply_next(&mut app).await;
        }
    })
    .await
    .expect("the task answers");
    assert!(!app.actions_running());
    let s = screen(&mut app);
    assert!(
        s.contains("✖ restart hub leap/prod: conflict: precondition failed: unknown cluster leap"),
        "{s}"
    );
    let audit = AuditLog::new(dir.path().join("audit.jsonl"))
        .outcomes()
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "restart-hub");
}

fn editor_app(values: &str) -> (App, Feeds, tempfile::TempDir) {
    let (mut app, feeds, dir) = acting_app(false);
    let read = HubConfig {
        secret: "hub".into(),
        resource_version: "41".into(),
        values: values.into(),
    };
    app.actions.editor = Some(Editor::new(prod(), read));
    (app, feeds, dir)
}

#[test]
fn invalid_yaml_keeps_the_editor_open_names_the_line_and_moves_the_cursor_there() {
    let (mut app, _feeds, _dir) = editor_app("hub:\n  config:\n    x: 1\n");
    press(&mut app, "<down><down>]<up><up><ctrl-s>");
    let s = screen(&mut app);
    assert!(s.contains("values.yaml · leap/prod"), "{s}");
    assert!(s.contains("values.yaml:3:"), "{s}");
    assert!(!s.contains("Confirm:"), "{s}");
    let ed = app.actions.editor.as_ref().expect("still open");
    assert_eq!(ed.cursor().0, 2);
    assert_eq!(ed.text(), "hub:\n  config:\n]    x: 1\n");
}

#[test]
fn saving_valid_yaml_shows_the_coloured_diff_in_the_dialog() {
    let (mut app, _feeds, _dir) = editor_app("a: 1\nb: 2\n");
    press(&mut app, "c<ctrl-s>");
    let buf = buffer(&mut app, 120, 40);
    let s = text_of(&buf);
    assert!(s.contains("Confirm: edit config of leap/prod"), "{s}");
    assert!(
        s.contains("replace values.yaml of Secret hub if still at resourceVersion 41"),
        "{s}"
    );
    assert!(s.contains("patch secrets prod/hub"), "{s}");
    let y = row_of(&s, "+ca: 1") as u16;
    let x = s.lines().nth(usize::from(y)).unwrap().find("+ca").unwrap() as u16;
    let added = app.theme().style(crate::config::theme::Role::HealthOk);
    assert_eq!(buf[(x, y)].fg, added.fg.unwrap());
    assert!(s.contains("-a: 1"), "{s}");
}

#[test]
fn closing_an_edited_editor_asks_before_discarding() {
    let (mut app, _feeds, _dir) = editor_app("a: 1\n");
    press(&mut app, "x<esc>");
    assert!(screen(&mut app).contains("Discard your changes to values.yaml?"));
    press(&mut app, "n");
    assert!(app.actions.editor.is_some());
    press(&mut app, "<esc>y");
    assert!(app.actions.editor.is_none());
    assert!(screen(&mut app).contains("edit discarded"));
}

#[test]
fn readonly_refuses_before_any_dialog() {
    let (mut app, _feeds, dir) = acting_app(true);
    press(&mut app, "R");
    let s = screen(&mut app);
    assert!(!s.contains("Confirm:"), "{s}");
    assert!(
        s.contains("read-only: restart-hub on hub leap/prod refused"),
        "{s}"
    );
    press(&mut app, "3:stop-idle 1s<enter>");
    let s = screen(&mut app);
    assert!(
        s.contains("read-only: stop-server on servers of hub leap/prod idle for more than 1s"),
        "{s}"
    );
    assert!(!dir.path().join("audit.jsonl").exists());
}

fn with_alertmanager_alert(app: &mut App) {
    use crate::fleet::{AlertInfo, AlertOrigin, Severity, SourceState};
    let alert = AlertInfo {
        fingerprint: "f00d".into(),
        name: "KubePodCrashLooping".into(),
        severity: Severity::Warning,
        origin: AlertOrigin::Alertmanager,
        summary: "pod restarts".into(),
        namespace: Some("staging".into()),
        release: None,
        pod: Some("jupyter-ada".into()),
        since: Some(now()),
        silenced_by: Vec::new(),
        labels: vec![
            ("alertname".into(), "KubePodCrashLooping".into()),
            ("namespace".into(), "staging".into()),
            ("pod".into(), "jupyter-ada".into()),
            ("severity".into(), "warning".into()),
        ],
    };
    app.apply_updates(
        vec![FleetUpdate::Alerts {
            cluster: ClusterId::new("leap"),
            source: SourceState::Ok,
            alerts: vec![alert],
        }],
        now(),
    );
}

#[test]
fn silencing_asks_duration_and_comment_then_shows_the_matchers() {
    let (mut app, _feeds, _dir) = acting_app(false);
    with_alertmanager_alert(&mut app);
    press(&mut app, "4/KubePodCrash<enter>m");
    let s = screen(&mut app);
    assert!(s.contains("silence KubePodCrashLooping on leap"), "{s}");
    assert!(line_with(&s, "for ").contains("2h"), "{s}");
    press(&mut app, "<enter><enter>");
    assert!(screen(&mut app).contains("a silence needs a comment saying why"));
    press(&mut app, "deploying a fix<enter>");
    let s = screen(&mut app);
    assert!(
        s.contains("Confirm: silence KubePodCrashLooping on leap for 2h"),
        "{s}"
    );
    assert!(
        s.contains("create silence matching alertname=\"KubePodCrashLooping\""),
        "{s}"
    );
    assert!(s.contains("pod=\"jupyter-ada\""), "{s}");
    assert!(
        s.contains("severity=\"warning\""),
        "severity stays, so an escalation still pages: {s}"
    );
    assert!(s.contains("Alertmanager POST /api/v2/silences"), "{s}");
}

#[test]
fn derived_alerts_cannot_be_silenced() {
    let (mut app, _feeds, _dir) = acting_app(false);
    press(&mut app, "4m");
    let s = screen(&mut app);
    assert!(!s.contains("Confirm:"), "{s}");
    assert!(s.contains("nothing to silence"), "{s}");
}

#[test]
fn help_lists_the_action_and_dialog_keys() {
    let mut app = app();
    press(&mut app, "?");
    let text = {
        let buf = buffer(&mut app, 120, 80);
        text_of(&buf)
    };
    for needle in [
        "restart-hub",
        "stop-server",
        "mark",
        "edit-config",
        "silence-alert",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    press(&mut app, "G");
    let s = screen(&mut app);
    assert!(s.contains("dialog"), "{s}");
    assert!(s.contains("Run the action shown"), "{s}");
}

/// What `hubdeck ARGS` resolves to over the console's own fleet: the CLI's parser, then the
/// one resolver.
fn cli_action(app: &App, args: &[&str]) -> crate::action::Action {
    use clap::Parser;
    let cli =
        crate::cli::Cli::try_parse_from(std::iter::once("hubdeck").chain(args.iter().copied()))
            .unwrap();
    let (request, _) = crate::app::request(cli.command.as_ref().unwrap())
        .unwrap()
        .unwrap();
    crate::action::resolve(app.fleet(), &request, app.now).unwrap()
}

#[test]
fn console_and_cli_silence_an_alert_with_the_same_matchers() {
    let (mut app, _feeds, _dir) = acting_app(false);
    with_alertmanager_alert(&mut app);
    press(&mut app, "4/KubePodCrash<enter>m<enter>on it<enter>");
    let s = screen(&mut app);
    let cli = cli_action(
        &app,
        &[
            "silence",
            "leap",
            "KubePodCrashLooping",
            "--for",
            "2h",
            "-m",
            "on it",
        ],
    );
    let crate::action::Action::SilenceAlert { matchers, .. } = &cli else {
        panic!("{cli:?}")
    };
    assert_eq!(matchers.len(), 4, "every label, severity included");
    for m in matchers {
        let shown = format!("{}={:?}", m.name, m.value);
        assert!(
            s.contains(&shown),
            "the console's dialog lacks {shown}: {s}"
        );
    }
    assert!(s.contains(&cli.plan(false).summary), "{s}");
}

#[test]
fn console_and_cli_choose_the_same_idle_servers_in_the_same_order() {
    let (mut app, _feeds, _dir) = acting_app(false);
    app.tick(now() + SignedDuration::from_hours(9));
    press(&mut app, "1<down>:stop-idle 8h<enter>");
    let s = screen(&mut app);
    let cli = cli_action(
        &app,
        &["stop", "server", "leap/staging", "--idle-for", "8h"],
    );
    let crate::action::Action::StopServers { servers } = &cli else {
        panic!("{cli:?}")
    };
    assert_eq!(servers.len(), 2, "{cli:?}");
    let at: Vec<usize> = servers
        .iter()
        .map(|t| {
            s.find(&format!("stop server {}", t.id))
                .unwrap_or_else(|| panic!("the console's dialog lacks {}: {s}", t.id))
        })
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "same order: {s}");
}

#[tokio::test]
async fn quitting_with_an_action_in_flight_waits_for_it_and_a_second_quit_leaves() {
    let (mut app, mut feeds, _dir) = acting_app(false);
    press(&mut app, "Ry");
    assert!(app.actions_running());
    assert_eq!(app.quit(), Intent::Redraw, "the first quit waits");
    let s = screen(&mut app);
    assert!(
        s.contains("waiting for 1 action(s) in flight"),
        "says why it does not quit: {s}"
    );
    assert!(!app.quit_ready());
    tokio::time::timeout(Duration::from_secs(10), async {
        while app.actions_running() {
            feeds.apply_next(&mut app).await;
        }
    })
    .await
    .expect("the task answers");
    assert!(app.quit_ready(), "leaves once the action answered");

    let (mut app, _feeds, _dir) = acting_app(false);
    press(&mut app, "Ry");
    assert_eq!(app.quit(), Intent::Redraw);
    assert_eq!(app.quit(), Intent::Quit, "a second quit leaves at once");
}

#[test]
fn quitting_with_nothing_in_flight_leaves_at_once() {
    let (mut app, _feeds, _dir) = acting_app(false);
    assert_eq!(app.quit(), Intent::Quit);
}
