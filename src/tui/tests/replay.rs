//! The console on a recording: the timeline moves the fleet shown, and actions are refused.

use super::*;
use crate::action::audit::{AuditRecord, Phase};
use crate::recorder::{Recorder, RecorderConfig, Recording, Target};
use crate::tui::replay::ReplayControl;

fn at(secs: i64) -> Timestamp {
    t0() + jiff::SignedDuration::from_secs(secs)
}

/// leap/prod is down from 0 s, an engineer scales it at 30 s, it is ready at 60 s.
fn recording(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("incident.hdrec");
    let audit = dir.join("audit.jsonl");
    std::fs::write(&audit, "").unwrap();
    let (mut tap, recorder) = Recorder::start(RecorderConfig {
        target: Target::File(path.clone()),
        snapshot_every: jiff::SignedDuration::from_mins(10),
        audit_log: Some(audit.clone()),
    })
    .unwrap();
    let mut live = Fleet::new(Thresholds::default());
    tap.after_apply(&live, at(0));
    let first = fleet_updates();
    tap.batch(&live, &first, at(0));
    live.apply_all(first, at(0));
    let mut hub = workload("prod", "prod", Component::Hub, "hub", 1);
    hub.ready = 1;
    let fixed = vec![FleetUpdate::Workloads {
        cluster: ClusterId::new("leap"),
        kind: crate::fleet::WorkloadKind::Deployment,
        delta: Delta::Upsert(hub),
    }];
    tap.batch(&live, &fixed, at(60));
    live.apply_all(fixed, at(60));
    let record = AuditRecord {
        time: at(30),
        id: "a1".into(),
        phase: Phase::Outcome,
        os_user: "alice".into(),
        identity: "admin".into(),
        cluster: "leap".into(),
        context: "leap".into(),
        action: "restart-hub".into(),
        target: "leap/prod".into(),
        plan: vec![],
        outcome: "ok".into(),
        detail: String::new(),
    };
    crate::action::AuditLog::new(&audit)
        .append(&record)
        .unwrap();
    drop(tap);
    assert_eq!(recorder.finish(), None);
    path
}

/// The table row of leap/prod (the timeline may name it too).
fn prod_row(screen: &str) -> String {
    screen
        .lines()
        .find(|l| l.starts_with("│leap") && l.contains(" prod "))
        .unwrap_or_default()
        .to_string()
}

fn replay_app(path: &std::path::Path, from: Timestamp) -> App {
    let rec = Recording::open(path).unwrap();
    let (control, fleet) = ReplayControl::open(rec, from).unwrap();
    App::new(opts(), fleet).with_replay(control)
}

#[test]
fn the_timeline_keys_move_the_fleet_shown_through_the_recording() {
    let dir = tempfile::tempdir().unwrap();
    let path = recording(dir.path());
    let mut app = replay_app(&path, at(10));
    let s = screen(&mut app);
    assert!(
        s.contains("replay ") && s.contains("[replay: read-only]"),
        "{s}"
    );
    assert!(prod_row(&s).contains("DOWN"), "{s}");
    assert!(
        s.contains("next") && s.contains("restart-hub leap/prod ok by alice"),
        "{s}"
    );

    press(&mut app, ".");
    assert_eq!(app.replay_at(), Some(at(60)), "the next change");
    let s = screen(&mut app);
    assert!(!prod_row(&s).contains("DOWN"), "{s}");

    press(&mut app, ",");
    assert_eq!(app.replay_at(), Some(at(0)), "the change before");
    assert!(prod_row(&screen(&mut app)).contains("DOWN"));

    press(&mut app, "]");
    assert_eq!(app.replay_at(), Some(at(30)), "the next action");
    let s = screen(&mut app);
    assert!(s.contains("last") && s.contains("restart-hub"), "{s}");

    press(&mut app, "<");
    assert_eq!(
        app.replay_at(),
        Some(at(0)),
        "a minute back, within the recording"
    );

    press(&mut app, "t");
    assert!(screen(&mut app).contains("go to time"));
    press(&mut app, &at(60).to_string());
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.replay_at(), Some(at(60)), "a typed time");
    assert!(!prod_row(&screen(&mut app)).contains("DOWN"));
}

#[test]
fn every_action_is_refused_in_a_replay() {
    let dir = tempfile::tempdir().unwrap();
    let path = recording(dir.path());
    let mut app = replay_app(&path, at(10));
    press(&mut app, "/prod");
    app.handle_key(key(KeyCode::Enter));
    let intent = app.handle_key(key(KeyCode::Char('R')));
    assert!(!matches!(intent, Intent::Mutation { .. }), "{intent:?}");
    let s = screen(&mut app);
    assert!(
        s.contains("replay: read-only: restart-hub on hub leap/prod refused"),
        "{s}"
    );
}

#[test]
fn help_in_a_replay_lists_every_timeline_key_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = recording(dir.path());
    let mut app = replay_app(&path, at(10));
    press(&mut app, "?");
    let s = screen(&mut app);
    let section = row_of(&s, "│replay");
    for (key, name, desc) in [
        (".", "replay-next-change", "the next change of the fleet"),
        (
            ",",
            "replay-prev-change",
            "the previous change of the fleet",
        ),
        (">", "replay-minute-on", "a minute on"),
        ("<", "replay-minute-back", "a minute back"),
        ("]", "replay-next-mark", "the next alert change or action"),
        (
            "[",
            "replay-prev-mark",
            "the previous alert change or action",
        ),
        ("t", "replay-type-time", "go to a typed time"),
    ] {
        let line = line_with(&s, name);
        assert!(line.contains(&format!("│  {key} ")), "{key}: {line}");
        assert!(line.contains(desc), "{line}");
        assert!(row_of(&s, name) > section, "{s}");
    }
    assert!(
        section < row_of(&s, "│global"),
        "the replay's keys come first: {s}"
    );
}

#[test]
fn the_timeline_keys_follow_the_keymap() {
    let dir = tempfile::tempdir().unwrap();
    let path = recording(dir.path());
    let file = dir.path().join("keys.toml");
    std::fs::write(
        &file,
        "[[replay]]\non = \"n\"\nrun = \"replay-next-change\"\n\n\
         [[replay]]\non = \".\"\nrun = \"noop\"\n",
    )
    .unwrap();
    let keymap = Keymap::load(Some(file.to_str().unwrap()), None).unwrap();
    let rec = Recording::open(&path).unwrap();
    let (control, fleet) = ReplayControl::open(rec, at(0)).unwrap();
    let mut app = App::new(ConsoleOptions { keymap, ..opts() }, fleet).with_replay(control);
    let wide = text_of(&buffer(&mut app, 220, 30));
    assert!(
        wide.contains("  n, change  <> minute  [] alert/action  t time"),
        "{wide}"
    );
    press(&mut app, ".");
    assert_eq!(app.replay_at(), Some(at(0)), "unbound");
    press(&mut app, "n");
    assert_eq!(app.replay_at(), Some(at(60)), "the next change");
}
