//! Rollouts over marked hubs in the console: marks shown in the rows and cleared with a key,
//! the prompt for waves and settle time, the wave plan in the dialog, the typed confirmation,
//! the progress line while it runs and its end as a person reads it.

use std::sync::Arc;
use std::time::Duration;

use crate::action::AuditLog;
use crate::kube::ClientCache;

use super::super::event_loop::Feeds;
use super::*;

/// A console whose runner knows no clusters (a confirmed hub action fails at once, unknown
/// cluster, before anything is sent), and the feeds its tasks answer on.
fn acting_app() -> (App, Feeds, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let runner = crate::kube::executor::runner(
        ClientCache::new(&[]),
        false,
        AuditLog::new(dir.path().join("audit.jsonl")),
    );
    let (_tx, rx) = mpsc::channel(1);
    let feeds = Feeds::new(rx);
    let opts = ConsoleOptions {
        state_dir: dir.path().to_path_buf(),
        ..opts()
    };
    let app = App::new(opts, fleet()).with_actions(Some(Arc::new(runner)), feeds.action_sender());
    (app, feeds, dir)
}

#[test]
fn marked_hubs_show_in_their_rows_and_one_key_clears_the_marks() {
    let (mut app, _feeds, _dir) = acting_app();
    press(&mut app, "1<space><space>");
    let s = screen(&mut app);
    assert!(s.contains("Hubs (3) 2 marked"), "{s}");
    let marked = s.lines().filter(|l| l.contains("│* ")).count();
    assert_eq!(marked, 2, "{s}");
    press(&mut app, "u");
    let s = screen(&mut app);
    assert!(!s.contains("marked"), "{s}");
    assert!(!s.contains("│* "), "{s}");
}

#[test]
fn restarting_marked_hubs_shows_the_wave_plan_staging_first() {
    let (mut app, _feeds, dir) = acting_app();
    press(&mut app, "1<space><space><space>R");
    let s = screen(&mut app);
    assert!(s.contains("restart hub on 3 marked hubs, in waves"), "{s}");
    assert!(line_with(&s, "│ waves").contains("staging,prod"), "{s}");
    assert!(line_with(&s, "│ settle").contains("2m"), "{s}");
    press(&mut app, "<enter><backspace><backspace>30s<enter>");
    let s = screen(&mut app);
    assert!(s.contains("Confirm rollout: restart hub on 3 hubs"), "{s}");
    assert!(s.contains("for 30s (within 10m)"), "{s}");
    let staging = row_of(&s, "wave 1/2 staging — 1 hubs");
    let prod = row_of(&s, "wave 2/2 prod — 2 hubs");
    assert!(staging < row_of(&s, "restart hub leap/staging"), "{s}");
    assert!(row_of(&s, "restart hub leap/staging") < prod, "{s}");
    assert!(prod < row_of(&s, "restart hub leap/prod"), "{s}");
    assert!(prod < row_of(&s, "restart hub nasa/science"), "{s}");
    assert!(
        line_with(&s, "restart hub leap/staging").contains("│   restart hub leap/staging"),
        "each hub indented under its wave: {s}"
    );
    assert!(
        s.contains("│       rollout restart Deployment hub"),
        "its steps under it: {s}"
    );
    assert!(s.contains("type \"yes\""), "{s}");
    press(&mut app, "y<enter>");
    let s = screen(&mut app);
    assert!(
        s.contains("Confirm rollout"),
        "a plain y does not start it: {s}"
    );
    assert!(!app.actions_running());
    press(&mut app, "<esc>");
    let s = screen(&mut app);
    assert!(!s.contains("Confirm rollout"), "{s}");
    assert!(s.contains("cancelled: nothing was sent"), "{s}");
    assert!(!dir.path().join("audit.jsonl").exists());
}

#[test]
fn a_scale_of_marked_hubs_asks_the_replicas_and_says_which_hubs_need_nothing() {
    let (mut app, _feeds, _dir) = acting_app();
    press(&mut app, "1<space><space><space>U");
    let s = screen(&mut app);
    assert!(s.contains("scale placeholders on 3 marked hubs"), "{s}");
    press(&mut app, "x<enter>");
    press(&mut app, "<enter><enter>");
    let s = screen(&mut app);
    assert!(s.contains("\"x\" is not a replica count"), "{s}");
    press(&mut app, "<up><up><backspace>1<enter><enter><enter>");
    let s = screen(&mut app);
    assert!(
        s.contains("Confirm rollout: scale placeholders to 1"),
        "{s}"
    );
    assert!(s.contains("nothing to do"), "{s}");
}

#[tokio::test]
async fn a_confirmed_rollout_runs_and_stops_at_the_first_hub_that_fails() {
    let (mut app, mut feeds, dir) = acting_app();
    press(&mut app, "1<space><space><space>R<enter><enter>");
    press(&mut app, "yes<enter>");
    assert!(app.actions_running());
    let s = screen(&mut app);
    assert!(
        s.contains("rollout restart hub: wave 1/2 staging · 0/1 hubs done · leap/staging…"),
        "{s}"
    );
    assert!(s.contains("esc stops after the hubs out"), "{s}");
    tokio::time::timeout(Duration::from_secs(10), async {
        while app.actions_running() {
            feeds.apply_next(&mut app).await;
        }
    })
    .await
    .expect("the hub's task answers");
    let s = screen(&mut app);
    assert!(
        s.contains("✖ rollout restart hub: wave staging failed: leap/staging: precondition failed: unknown cluster leap"),
        "{s}"
    );
    let audit = AuditLog::new(dir.path().join("audit.jsonl"))
        .outcomes()
        .unwrap();
    let targets: Vec<&str> = audit.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets, ["leap/staging"], "prod hubs untouched");
    let s = screen(&mut app);
    assert!(
        !s.contains("marked"),
        "the marks went with the confirmation: {s}"
    );
}

#[tokio::test]
async fn the_rollout_progress_line_fits_an_80_by_24_terminal() {
    let (mut app, _feeds, _dir) = acting_app();
    press(&mut app, "1<space><space><space>R<enter><enter>yes<enter>");
    assert!(app.actions_running());
    let s = text_of(&buffer(&mut app, 80, 24));
    let status = s.lines().last().unwrap();
    assert!(
        status.contains("restart hub · wave 1/2 staging · 0/1 done · leap/staging… 0s"),
        "the short form, whole:\n{s}"
    );
}

#[test]
fn a_long_gate_reason_is_cut_last_and_the_line_never_passes_its_width() {
    use crate::tui::actions::rollout::progress_line;
    use hubdeck_core::rollout::{GateState, Status};
    let status = Status {
        wave: 2,
        waves: 3,
        name: "prod".into(),
        done: 12,
        acting: 14,
        failed: 0,
        running: Vec::new(),
        gate: Some(GateState::Waiting {
            hub: crate::fleet::fixtures::hub_id("leap", "climatematch"),
            why: "down (was ok): hub not ready; crash-looping: hub-7c9d-x2kfp".into(),
            left: Duration::from_secs(598),
        }),
        ended: None,
    };
    let wide = progress_line("restart hub", &status, Duration::ZERO, 200);
    assert_eq!(
        wide,
        "rollout restart hub: wave 2/3 prod · 12/14 hubs done · waiting for leap/climatematch \
         (9:58): down (was ok): hub not ready; crash-looping: hub-7c9d-x2kfp · esc stops after \
         the hubs out"
    );
    let narrow = progress_line("restart hub", &status, Duration::ZERO, 90);
    assert!(crate::tui::text::width(&narrow) <= 90, "{narrow}");
    assert!(
        narrow.starts_with(
            "restart hub · wave 2/3 prod · 12/14 done · waiting for leap/climatematch 9:58: down"
        ),
        "{narrow}"
    );
    assert!(narrow.ends_with('…'), "{narrow}");
    let two_out = Status {
        running: vec![
            crate::fleet::fixtures::hub_id("leap", "a"),
            crate::fleet::fixtures::hub_id("leap", "b"),
        ],
        gate: None,
        ..status
    };
    assert_eq!(
        progress_line("restart hub", &two_out, Duration::from_secs(3), 70),
        "restart hub · wave 2/3 prod · 12/14 done · leap/a +1… 3s · esc stops"
    );
}
