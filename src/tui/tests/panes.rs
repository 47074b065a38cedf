//! Pane contents: logs, detail, events, clusters, narrow terminals, hostile strings.

use jiff::SignedDuration;

use super::*;
use crate::config::theme::Role;
use crate::fleet::fixtures::server;
use crate::fleet::{ClusterMeta, ClusterStatus, EventInfo, ObjectKey};

fn logs_app(lines: &[&str]) -> App {
    let (mut app, _) = app_with(FakeServices {
        log_lines: lines.iter().map(|l| l.to_string()).collect(),
        ..FakeServices::default()
    });
    press(&mut app, "<down><enter>l");
    app
}

#[test]
fn log_pane_shows_lines_with_escape_garbage_sanitized() {
    let mut app = logs_app(&[
        "\u{1b}[31mERROR\u{1b}[0m kernel died \u{1b}]0;pwned\u{7}",
        "plain line\r with \u{8}backspace",
        "\u{1b}[2J\u{1b}[Hcleared?",
    ]);
    assert_eq!(
        app.breadcrumb(),
        "Hubs › leap/staging › Servers › jupyter-ada › logs"
    );
    let buf = buffer(&mut app, 120, 40);
    let s = text_of(&buf);
    assert!(s.contains("ERROR kernel died"), "{s}");
    assert!(s.contains("plain line with backspace"), "{s}");
    assert!(s.contains("cleared?"), "{s}");
    assert!(!s.contains('\u{1b}') && !s.contains("pwned"), "{s}");
    assert!(s.contains("● following"), "{s}");
}

#[test]
fn p_switches_the_log_pane_to_the_previous_run_and_back() {
    let (mut app, services) = app_with(FakeServices {
        log_lines: vec!["now serving".into()],
        previous_lines: vec!["Traceback (most recent call last):".into()],
        ..FakeServices::default()
    });
    press(&mut app, "<down><enter>l");
    let s = screen(&mut app);
    assert!(
        s.contains("now serving") && !s.contains("previous run"),
        "{s}"
    );
    press(&mut app, "p");
    let s = screen(&mut app);
    assert!(s.contains("previous run"), "the title says which run:\n{s}");
    assert!(s.contains("Traceback") && !s.contains("now serving"), "{s}");
    assert_eq!(
        app.breadcrumb(),
        "Hubs › leap/staging › Servers › jupyter-ada › logs (previous run)",
        "replaced, not stacked"
    );
    press(&mut app, "p");
    let s = screen(&mut app);
    assert!(
        s.contains("now serving") && !s.contains("previous run"),
        "{s}"
    );
    let asked = services.asked.lock().unwrap().clone();
    let logs: Vec<_> = asked.iter().filter(|a| a.starts_with("logs ")).collect();
    assert_eq!(logs.len(), 3, "{asked:?}");
    assert!(logs[1].ends_with(" previous") && !logs[2].ends_with(" previous"));
    press(&mut app, "?");
    let s = screen(&mut app);
    assert!(s.contains("Previous container run"), "help lists it:\n{s}");
}

#[test]
fn log_search_highlights_matches_and_n_moves_between_them() {
    let mut app = logs_app(&["starting", "Traceback: boom", "ok", "boom again"]);
    press(&mut app, "/boom<enter>");
    let buf = buffer(&mut app, 120, 40);
    let s = text_of(&buf);
    let mark = app.theme().style(Role::SearchMatch).bg;
    let y = row_of(&s, "boom again") as u16;
    let x = line_with(&s, "boom again")
        .chars()
        .position(|c| c == 'b')
        .unwrap() as u16;
    assert_eq!(buf[(x, y)].bg, mark.unwrap());
    assert_ne!(
        buf[(x + 5, y)].bg,
        mark.unwrap(),
        "only the match is highlighted"
    );
    assert!(s.contains("‖ paused") && s.contains("/boom"), "{s}");
    press(&mut app, "n");
    press(&mut app, "G");
    assert!(screen(&mut app).contains("● following"));
}

#[test]
fn log_pane_pauses_wraps_and_keeps_a_bounded_buffer() {
    let long = "x".repeat(300);
    let mut app = logs_app(&[&long]);
    press(&mut app, "w");
    let s = screen(&mut app);
    assert!(s.contains("wrap"), "{s}");
    assert!(
        s.lines().filter(|l| l.contains("xxxxxxxxxx")).count() >= 3,
        "{s}"
    );
    press(&mut app, "f");
    assert!(screen(&mut app).contains("‖ paused"));
    let many: Vec<String> = (0..super::super::panes::logs::MAX_LINES + 50)
        .map(|i| format!("line {i}"))
        .collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let mut app = logs_app(&refs);
    while app.poll_io() {}
    let s = screen(&mut app);
    assert!(
        s.contains(&format!(
            "line {}",
            super::super::panes::logs::MAX_LINES + 49
        )),
        "{s}"
    );
}

#[test]
fn hub_detail_shows_summary_trend_and_deployment_description() {
    let (mut app, services) = app_with(FakeServices {
        description: Description {
            sections: vec![(
                "Conditions".into(),
                vec![("Available".into(), "False".into())],
            )],
        },
        ..FakeServices::default()
    });
    press(&mut app, "d");
    let s = screen(&mut app);
    assert!(s.contains("✖ DOWN hub not ready"), "{s}");
    assert!(
        s.contains("active servers 2 now, peak 2 in the last 10s"),
        "{s}"
    );
    assert!(s.contains("Conditions") && s.contains("Available"), "{s}");
    assert_eq!(
        services.asked.lock().unwrap().as_slice(),
        ["describe Deployment prod/hub"]
    );
}

#[test]
fn events_pane_lists_warnings_newest_first() {
    let mut app = app();
    let ev = |name: &str, msg: &str, secs: i64| EventInfo {
        key: ObjectKey {
            namespace: "staging".into(),
            name: name.into(),
        },
        object: "Pod/jupyter-ada".into(),
        reason: "BackOff".into(),
        message: msg.into(),
        count: 3,
        last_seen: Some(now() - SignedDuration::from_secs(secs)),
    };
    let updates = [
        ev("e1", "older \u{1b}[1mthing", 600),
        ev("e2", "newer thing", 5),
    ]
    .into_iter()
    .map(|e| FleetUpdate::Events {
        cluster: ClusterId::new("leap"),
        delta: Delta::Upsert(e),
    })
    .collect();
    app.apply_updates(updates, now());
    press(&mut app, "5");
    let s = screen(&mut app);
    assert!(row_of(&s, "newer thing") < row_of(&s, "older thing"), "{s}");
    assert!(line_with(&s, "older thing").contains("10m"), "{s}");
}

#[test]
fn unreachable_cluster_is_named_in_the_status_line_with_since_when() {
    let mut app = app();
    let since = now() - SignedDuration::from_secs(300);
    let status = ClusterStatus::Unreachable {
        error: "dial tcp: i/o timeout".into(),
        since,
    };
    app.apply_updates(
        vec![FleetUpdate::Status {
            cluster: ClusterId::new("nasa"),
            status,
        }],
        now(),
    );
    let s = screen(&mut app);
    let last = s.lines().last().unwrap();
    assert!(last.contains("✖ nasa down 5m"), "{last}");
    assert!(line_with(&s, "science").contains("? unknown"), "{s}");
    press(&mut app, "2");
    assert!(line_with(&screen(&mut app), "nasa").contains("unreachable"));
}

#[test]
fn renders_at_80x24_with_the_hub_table_and_condensed_header() {
    let mut app = app();
    let s = text_of(&buffer(&mut app, 80, 24));
    let head = s.lines().next().unwrap();
    assert!(
        head.contains("clu 2/2") && head.contains("1 down"),
        "{head}"
    );
    assert!(line_with(&s, "prod").contains("✖ DOWN"), "{s}");
    assert!(s.contains("HEALTH") && s.contains("SERVERS"), "{s}");
    for keys in ["2", "3", "4", "5", "1?", "<esc>:"] {
        press(&mut app, keys);
        text_of(&buffer(&mut app, 80, 24));
        text_of(&buffer(&mut app, 20, 5));
    }
}

#[test]
fn long_wide_and_hostile_names_are_cut_to_their_column() {
    let mut app = app();
    let ns = "漢字-namespace-with-a-very-long-name-that-goes-on-and-on-forever";
    let mut updates = vec![FleetUpdate::ClusterAdded {
        cluster: ClusterId::new("evil\u{1b}[2Jcluster"),
        meta: ClusterMeta::default(),
    }];
    updates.extend(as_upserts(healthy_hub(
        "evil\u{1b}[2Jcluster",
        ns,
        &["user\u{7}\u{1b}]0;x\u{7}"],
    )));
    app.apply_updates(updates, now());
    let s = text_of(&buffer(&mut app, 80, 24));
    assert!(s.contains("漢字-namespace"), "{s}");
    assert!(s.contains('…'), "{s}");
    assert!(!s.contains('\u{1b}') && !s.contains('\u{7}'), "{s}");
    assert!(s.contains("evilcluster"), "{s}");
    assert!(s.lines().all(|l| crate::tui::text::width(l) == 80), "{s}");
    let col = |l: &str| crate::tui::text::width(&l[..l.find('✔').unwrap()]);
    assert_eq!(
        col(line_with(&s, "evilcluster")),
        col(line_with(&s, "staging")),
        "columns stay aligned"
    );
}

#[test]
fn stopped_server_disappears_from_hub_view() {
    let mut app = app();
    press(&mut app, "<down><enter>");
    assert!(screen(&mut app).contains("grace"));
    let gone = server("staging", "staging", "grace");
    app.apply_updates(
        vec![FleetUpdate::Pods {
            cluster: ClusterId::new("leap"),
            delta: Delta::Remove(gone),
        }],
        now(),
    );
    let s = screen(&mut app);
    assert!(!s.contains("grace") && s.contains("ada"), "{s}");
}

#[test]
fn clusters_pane_says_a_cluster_is_watched_only_in_some_namespaces() {
    let mut app = app();
    app.apply_updates(
        vec![FleetUpdate::Scope {
            cluster: ClusterId::new("leap"),
            scope: crate::fleet::Scope::Namespaces(vec!["prod".into(), "staging".into()]),
        }],
        now(),
    );
    press(&mut app, "2");
    let s = text_of(&buffer(&mut app, 160, 30));
    assert!(
        line_with(&s, "leap").contains("scope: namespaces prod, staging"),
        "{s}"
    );
    assert!(!line_with(&s, "nasa").contains("scope:"), "{s}");
}
