//! Usage from metrics.k8s.io as a person reads it: used next to requested, MEM% of the limit,
//! the fullest first on `%`, hubs' totals, `–` where there is no figure and the Clusters pane
//! saying once why.

use super::*;
use crate::config::theme::Role;
use crate::fleet::fixtures::usage;
use crate::fleet::{MetricsSource, MetricsState};

const GI: u64 = 1 << 30;

/// The test fleet with usage for every server but eve's: grace near her 4Gi limit, dora at half
/// of it, ada low, carl (another cluster) in the middle.
fn app_with_usage() -> App {
    let mut app = app();
    app.apply_updates(
        vec![
            usage(
                "leap",
                now(),
                &[
                    ("staging", "jupyter-ada", 120, GI / 2),
                    ("staging", "jupyter-grace", 1900, 3 * GI + 3 * GI / 4),
                    ("prod", "jupyter-dora", 5, 2 * GI),
                ],
            ),
            usage("nasa", now(), &[("science", "jupyter-carl", 700, 3 * GI)]),
        ],
        now(),
    );
    app
}

/// Users in screen order.
fn users_in_order(s: &str) -> Vec<&'static str> {
    s.lines()
        .filter_map(|l| {
            ["ada", "carl", "dora", "eve", "grace"]
                .into_iter()
                .find(|u| l.split_whitespace().any(|w| w == *u))
        })
        .collect()
}

#[test]
fn servers_show_used_next_to_requested_and_memory_as_a_share_of_the_limit() {
    let mut app = app_with_usage();
    press(&mut app, "3");
    let s = text_of(&buffer(&mut app, 160, 30));
    let header = line_with(&s, "USER");
    for col in ["CPU REQ", "CPU USED", "MEM REQ", "MEM USED", "MEM%"] {
        assert!(header.contains(col), "{col} in {header}");
    }
    assert_eq!(
        (header.matches("CPU").count(), header.matches("MEM").count()),
        (2, 3),
        "no bare CPU or MEM column is left: {header}"
    );
    let grace = line_with(&s, "grace");
    assert!(grace.contains("1900m"), "cpu used: {grace}");
    assert!(grace.contains("3.8Gi"), "memory used: {grace}");
    assert!(grace.contains("94%"), "of her 4Gi limit: {grace}");
    assert!(line_with(&s, "dora").contains("50%"));
    let eve = line_with(&s, "eve");
    assert!(eve.contains('–') && !eve.contains('%'), "no figure: {eve}");
}

#[test]
fn a_server_near_its_limit_is_coloured_as_trouble() {
    let mut app = app_with_usage();
    press(&mut app, "3");
    let buf = buffer(&mut app, 160, 30);
    let s = text_of(&buf);
    // The screen column of `needle` in the row of `user`.
    let at = |user: &str, needle: &str| {
        let line = line_with(&s, user);
        let col = crate::tui::text::width(&line[..line.find(needle).unwrap()]);
        (col as u16, row_of(&s, user) as u16)
    };
    let down = app.theme().style(Role::HealthDown);
    assert_eq!(
        Some(buf[at("grace", "94%")].fg),
        down.fg,
        "94% of the limit is near an OOM kill"
    );
    assert_ne!(Some(buf[at("dora", "50%")].fg), down.fg);
}

#[test]
fn percent_sorts_the_fullest_first_and_unknown_last() {
    let mut app = app_with_usage();
    press(&mut app, "3%");
    let s = screen(&mut app);
    assert_eq!(users_in_order(&s), ["grace", "carl", "dora", "ada", "eve"]);
    assert!(s.contains("sort:mem%▲"), "the title says so:\n{s}");
    press(&mut app, "?");
    assert!(
        screen(&mut app).contains("Sort by MEM%, fullest first"),
        "help lists the key"
    );
}

#[test]
fn a_server_without_a_memory_limit_is_a_share_of_its_request_marked_and_ranked_after() {
    let mut app = app_with_usage();
    let mut ada = crate::fleet::fixtures::server("staging", "staging", "ada");
    ada.limits = crate::fleet::Requests::default();
    app.apply_updates(
        vec![FleetUpdate::Pods {
            cluster: ClusterId::new("leap"),
            delta: Delta::Upsert(ada),
        }],
        now(),
    );
    // The pod changed: its figure waits for the next list.
    app.apply_updates(
        vec![usage(
            "leap",
            now(),
            &[
                ("staging", "jupyter-ada", 120, 3 * GI),
                ("staging", "jupyter-grace", 1900, 3 * GI + 3 * GI / 4),
                ("prod", "jupyter-dora", 5, 2 * GI),
            ],
        )],
        now(),
    );
    press(&mut app, "3%");
    let s = text_of(&buffer(&mut app, 160, 30));
    assert!(
        line_with(&s, "ada").contains("150%r"),
        "3 of a 2Gi request: {}",
        line_with(&s, "ada")
    );
    assert_eq!(
        users_in_order(&s),
        ["grace", "carl", "dora", "ada", "eve"],
        "no limit: not about to be OOM-killed"
    );
}

#[test]
fn at_80_columns_mem_percent_stays_and_lesser_columns_go() {
    let mut app = app_with_usage();
    press(&mut app, "3");
    let s = text_of(&buffer(&mut app, 80, 24));
    let header = line_with(&s, "USER");
    assert!(
        header.contains("MEM%") && header.contains("PHASE"),
        "{header}"
    );
    assert!(
        !header.contains("CPU REQ") && !header.contains("NODE"),
        "{header}"
    );
    assert!(line_with(&s, "grace").contains("94%"));
    assert!(s.lines().all(|l| crate::tui::text::width(l) <= 80));
}

#[test]
fn stale_usage_shows_as_unknown() {
    let mut app = app_with_usage();
    press(&mut app, "3");
    let later = now() + jiff::SignedDuration::from_secs(600);
    app.tick(later);
    let s = text_of(&buffer(&mut app, 160, 30));
    let grace = line_with(&s, "grace");
    assert!(!grace.contains("94%") && grace.contains('–'), "{grace}");
}

#[test]
fn the_server_detail_says_used_of_limit() {
    let mut app = app_with_usage();
    // Sorting keeps the selected row: `g` goes to the fullest.
    press(&mut app, "3%g<enter>");
    let s = screen(&mut app);
    assert!(s.contains("grace › Detail"), "{s}");
    assert!(
        line_with(&s, "Memory used").contains("3.8Gi of 4.0Gi limit (94%)"),
        "{s}"
    );
    assert!(line_with(&s, "CPU used").contains("of 2 limit"), "{s}");
}

#[test]
fn hubs_show_their_pods_usage_summed() {
    let mut app = app_with_usage();
    let s = text_of(&buffer(&mut app, 160, 30));
    let header = line_with(&s, "HEALTH");
    assert!(
        header.contains("CPU USED") && header.contains("MEM USED"),
        "{header}"
    );
    // leap/staging: ada and grace.
    let staging = line_with(&s, " staging ");
    assert!(
        staging.contains("2020m") && staging.contains("4.2Gi"),
        "{staging}"
    );
    press(&mut app, "%");
    let s = text_of(&buffer(&mut app, 160, 30));
    let order: Vec<usize> = [" staging ", " science ", " prod "]
        .iter()
        .map(|h| row_of(&s, h))
        .collect();
    assert!(
        order[0] < order[1] && order[1] < order[2],
        "heaviest first:\n{s}"
    );
}

#[test]
fn a_cluster_without_metrics_says_so_once_and_its_rows_show_no_figure() {
    let mut app = app();
    app.apply_updates(
        vec![FleetUpdate::Metrics {
            cluster: ClusterId::new("nasa"),
            source: MetricsSource {
                pods: MetricsState::NotServed {
                    note: "HTTP 404 NotFound: the server could not find the requested resource"
                        .into(),
                },
                nodes: MetricsState::NotServed {
                    note: "HTTP 404 NotFound".into(),
                },
            },
        }],
        now(),
    );
    press(&mut app, "2");
    let s = screen(&mut app);
    assert!(line_with(&s, "nasa").contains("metrics: not served"), "{s}");
    assert!(!line_with(&s, "leap").contains("metrics"), "{s}");
    assert_eq!(s.matches("not served").count(), 1, "once:\n{s}");
    press(&mut app, "3");
    let s = text_of(&buffer(&mut app, 160, 30));
    assert!(line_with(&s, "carl").contains('–'));
    assert!(!s.contains("not served"), "not on every row:\n{s}");
    press(&mut app, "/carl<enter><enter>");
    let s = screen(&mut app);
    assert!(
        line_with(&s, "Memory used").contains("metrics not served on this cluster"),
        "the detail says why:\n{s}"
    );
}
