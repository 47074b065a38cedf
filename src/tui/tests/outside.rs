//! The Hubs pane and the hub detail show each hub's check from outside: status and latency of
//! a healthy one, what failed of a broken one, and its alert.

use std::time::Duration;

use crate::fleet::{Chart, ClusterId, DeclaredHub, FleetUpdate, OutsideCheck, Probe, fixtures::t0};

use super::{app, buffer, line_with, press, screen, selected_row, text_of};

fn declared(name: &str) -> DeclaredHub {
    DeclaredHub {
        name: name.into(),
        display_name: None,
        domain: Some(format!("{name}.leap.example.org").into()),
        chart: Chart::Basehub,
        expected_status: 200,
    }
}

fn checked(hub: &str, probe: Probe, detail: Option<&str>) -> FleetUpdate {
    let latency = matches!(probe, Probe::Answered(_)).then(|| Duration::from_millis(84));
    FleetUpdate::Outside {
        cluster: ClusterId::new("leap"),
        hub: hub.into(),
        check: OutsideCheck::after(None, probe, detail.map(str::to_string), latency, t0(), 200),
    }
}

fn checked_app() -> super::App {
    let mut app = app();
    app.apply_updates(
        vec![
            FleetUpdate::Declared {
                cluster: ClusterId::new("leap"),
                hubs: vec![declared("staging"), declared("prod")],
            },
            checked("staging", Probe::Answered(200), None),
            checked(
                "prod",
                Probe::Tls,
                Some("invalid peer certificate: Expired"),
            ),
        ],
        t0(),
    );
    app
}

#[test]
fn hubs_pane_shows_each_hubs_check_from_outside() {
    let mut app = checked_app();
    let s = screen(&mut app);
    assert!(s.contains("OUTSIDE"), "{s}");
    assert!(line_with(&s, " staging ").contains("200 84ms"), "{s}");
    assert!(line_with(&s, " prod ").contains("tls"), "{s}");
    assert!(!line_with(&s, " science ").contains("tls"), "{s}");
    // The alert pane lists the derived alert with its reason.
    press(&mut app, "4");
    let s = screen(&mut app);
    let alert = line_with(&s, "HubUnreachableOutside");
    assert!(alert.contains("leap"), "{s}");
}

#[test]
fn hub_detail_says_why_the_check_failed() {
    let mut app = checked_app();
    // The Hubs pane, worst first: move until the selected row is leap's prod.
    for _ in 0..5 {
        if selected_row(&mut app).contains(" prod ") {
            break;
        }
        press(&mut app, "j");
    }
    assert!(selected_row(&mut app).contains(" prod "));
    press(&mut app, "d");
    let s = text_of(&buffer(&mut app, 120, 40));
    assert!(s.contains("Expired"), "the detail gives the reason:\n{s}");
}
