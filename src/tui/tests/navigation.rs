//! Drill-down, breadcrumb, filter, sort, palette, mutations routing.

use super::*;
use crate::config::keymap::Command;
use crate::fleet::HubId;
use crate::tui::{Intent, Target};

#[test]
fn hubs_pane_is_fleet_wide_worst_health_first() {
    let mut app = app();
    let s = screen(&mut app);
    assert!(line_with(&s, "prod").contains("✖ DOWN"), "{s}");
    assert!(line_with(&s, "prod").contains("hub not ready"), "{s}");
    assert!(line_with(&s, "staging").contains("✔ ok"), "{s}");
    assert!(line_with(&s, "science").contains("nasa"), "{s}");
    assert!(row_of(&s, "prod") < row_of(&s, "staging"), "{s}");
    assert!(row_of(&s, "prod") < row_of(&s, "science"), "{s}");
}

#[test]
fn header_counts_the_fleet_at_a_glance() {
    let mut app = app();
    let s = text_of(&buffer(&mut app, 140, 40));
    let head = s.lines().next().unwrap();
    assert!(head.contains("clusters 2/2 ready"), "{head}");
    assert!(head.contains("hubs 2 ok 0 degraded 1 down"), "{head}");
    assert!(head.contains("servers 5 active 0 pending"), "{head}");
    assert!(head.contains("1 alerts firing"), "{head}");
    assert!(head.contains("updated 0s ago"), "{head}");
}

#[test]
fn enter_on_a_cluster_shows_only_its_hubs() {
    let mut app = app();
    press(&mut app, "2");
    assert_eq!(app.breadcrumb(), "Clusters");
    press(&mut app, "<down><enter>");
    assert_eq!(app.breadcrumb(), "Clusters › nasa › Hubs");
    let s = screen(&mut app);
    assert!(s.contains("science"), "{s}");
    assert!(!s.contains("staging") && !s.contains("prod"), "{s}");
}

#[test]
fn enter_on_a_hub_shows_its_servers_and_esc_returns_to_the_same_hub() {
    let mut app = app();
    press(&mut app, "<down>");
    assert!(selected_row(&mut app).contains("staging"));
    press(&mut app, "<enter>");
    assert_eq!(app.breadcrumb(), "Hubs › leap/staging › Servers");
    let s = screen(&mut app);
    assert!(s.contains("ada") && s.contains("grace"), "{s}");
    assert!(!s.contains("carl") && !s.contains("dora"), "{s}");
    press(&mut app, "<esc>");
    assert_eq!(app.breadcrumb(), "Hubs");
    assert!(selected_row(&mut app).contains("staging"));
}

#[test]
fn enter_on_a_server_shows_its_description() {
    let (mut app, services) = app_with(FakeServices {
        description: Description {
            sections: vec![(
                "Events".into(),
                vec![("Warning".into(), "BackOff pulling image".into())],
            )],
        },
        ..FakeServices::default()
    });
    press(&mut app, "<down><enter><enter>");
    assert_eq!(
        app.breadcrumb(),
        "Hubs › leap/staging › Servers › ada › Detail"
    );
    let s = screen(&mut app);
    assert!(
        s.contains("User server") && s.contains("jupyter-ada"),
        "{s}"
    );
    assert!(s.contains("BackOff pulling image"), "{s}");
    assert_eq!(
        services.asked.lock().unwrap().as_slice(),
        ["describe Pod staging/jupyter-ada"]
    );
}

#[test]
fn enter_on_an_alert_goes_to_what_it_concerns() {
    let mut app = app();
    press(&mut app, "4");
    let s = screen(&mut app);
    assert!(line_with(&s, "HubNotReady").contains("critical"), "{s}");
    press(&mut app, "<enter>");
    assert!(
        app.breadcrumb()
            .starts_with("Alerts › leap/prod › hub-7d9f-abcde"),
        "{}",
        app.breadcrumb()
    );
}

#[test]
fn filter_narrows_rows_as_you_type_and_esc_clears_it() {
    let mut app = app();
    press(&mut app, "/SCI");
    let s = screen(&mut app);
    assert!(s.contains("science") && !s.contains("staging"), "{s}");
    assert!(s.contains("Hubs (1)"), "{s}");
    press(&mut app, "<enter>");
    assert!(screen(&mut app).contains("/SCI"));
    press(&mut app, "<esc>");
    let s = screen(&mut app);
    assert!(s.contains("staging") && s.contains("Hubs (3)"), "{s}");
    press(&mut app, "/zzz");
    assert!(screen(&mut app).contains("no hubs match \"zzz\""));
}

#[test]
fn capital_s_sorts_by_the_next_column_and_capital_i_inverts() {
    let mut app = app();
    press(&mut app, "3SS");
    let s = screen(&mut app);
    assert!(s.contains("sort:user▲"), "{s}");
    let order: Vec<usize> = ["ada", "carl", "dora", "eve", "grace"]
        .iter()
        .map(|u| row_of(&s, &format!(" {u} ")))
        .collect();
    assert!(order.is_sorted(), "{order:?}\n{s}");
    press(&mut app, "I");
    let s = screen(&mut app);
    assert!(row_of(&s, " grace ") < row_of(&s, " ada "), "{s}");
}

#[test]
fn palette_jumps_to_a_hub_by_name() {
    let mut app = app();
    press(&mut app, ":scien<enter>");
    assert_eq!(app.breadcrumb(), "Hubs › nasa/science › Servers");
    assert!(screen(&mut app).contains("carl"));
    press(&mut app, "<esc>");
    assert!(selected_row(&mut app).contains("science"));
}

#[test]
fn palette_completes_and_switches_theme() {
    let mut app = app();
    press(&mut app, ":theme li<tab>");
    assert!(screen(&mut app).contains("theme light"));
    press(&mut app, "<enter>");
    assert_eq!(app.theme().name, "light");
}

#[test]
fn mutation_keys_are_routed_to_the_action_layer_with_their_target() {
    let mut app = app();
    let prod = HubId {
        cluster: ClusterId::new("leap"),
        key: crate::fleet::HubKey {
            namespace: "prod".into(),
            release: "prod".into(),
        },
    };
    let intent = app.handle_key(key(KeyCode::Char('R')));
    assert_eq!(
        intent,
        Intent::Mutation {
            command: Command::RestartHub,
            target: Target::Hub(prod)
        }
    );
    let intent = app.handle_key(key(KeyCode::Char('X')));
    assert_eq!(intent, Intent::Redraw);
    assert!(screen(&mut app).contains("stop-server: select a user server"));
}

#[test]
fn readonly_console_refuses_mutations() {
    let mut app = App::new(
        ConsoleOptions {
            readonly: true,
            ..opts()
        },
        fleet(),
    );
    assert_eq!(app.handle_key(key(KeyCode::Char('R'))), Intent::Redraw);
    let s = screen(&mut app);
    assert!(
        s.contains("read-only: restart-hub on hub leap/prod refused"),
        "{s}"
    );
    assert!(s.contains("[read-only]"), "{s}");
}

#[test]
fn quit_key_asks_the_loop_to_quit() {
    let mut app = app();
    assert_eq!(app.handle_key(key(KeyCode::Char('q'))), Intent::Quit);
}

#[test]
fn the_first_screen_names_every_pane_with_its_key_and_marks_the_current_one() {
    let mut app = app();
    for (w, h) in [(120, 36), (80, 24)] {
        let buf = buffer(&mut app, w, h);
        let s = text_of(&buf);
        let strip = s.lines().nth(1).unwrap();
        for tab in [
            "1 Hubs",
            "2 Clusters",
            "3 Servers",
            "4 Alerts",
            "5 Events",
            "6 Nodes",
        ] {
            assert!(strip.contains(tab), "{w}x{h}: {tab} missing from {strip:?}");
        }
        let current = app.theme().style(crate::config::theme::Role::Selection);
        let x = strip.find("1 Hubs").unwrap() as u16;
        assert_eq!(buf[(x, 1)].style().bg, current.bg, "Hubs is current");
        let other = strip.find("2 Clusters").unwrap() as u16;
        assert_ne!(buf[(other, 1)].style().bg, current.bg);
    }
    press(&mut app, "2");
    let buf = buffer(&mut app, 80, 24);
    let s = text_of(&buf);
    let strip = s.lines().nth(1).unwrap();
    let x = strip.find("2 Clusters").unwrap() as u16;
    let current = app.theme().style(crate::config::theme::Role::Selection);
    assert_eq!(
        buf[(x, 1)].style().bg,
        current.bg,
        "Clusters is current now"
    );
    press(&mut app, "<enter>");
    let s = screen(&mut app);
    let strip = s.lines().nth(1).unwrap();
    assert!(
        strip.contains("6 Nodes │ leap › Hubs") && strip.trim_end().ends_with("leap › Hubs"),
        "the path below the tabs follows them: {strip:?}"
    );
}

#[test]
fn remapped_pane_keys_show_in_the_tab_strip() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("keymap.toml"),
        "[[global]]\non = \"H\"\nrun = \"pane-hubs\"\n\n[[global]]\non = \"1\"\nrun = \"noop\"\n",
    )
    .unwrap();
    let keymap = crate::config::keymap::Keymap::load(None, Some(dir.path())).unwrap();
    let mut app = App::new(ConsoleOptions { keymap, ..opts() }, fleet());
    let s = screen(&mut app);
    let strip = s.lines().nth(1).unwrap();
    assert!(
        strip.contains("H Hubs") && !strip.contains("1 Hubs"),
        "{strip:?}"
    );
}
