//! Tables following the fleet: rows that change, appear or vanish between frames are shown at
//! their new place, and the selection, marks and filter hold.

use super::*;
use crate::fleet::PodPhase;
use crate::fleet::fixtures::server;

fn pods(app: &mut App, cluster: &str, delta: Delta<crate::fleet::PodInfo>) {
    app.apply_updates(
        vec![FleetUpdate::Pods {
            cluster: ClusterId::new(cluster),
            delta,
        }],
        now(),
    );
}

/// Rows of the screen that name one of `users`, top to bottom.
fn order_of(screen: &str, users: &[&str]) -> Vec<String> {
    screen
        .lines()
        .filter_map(|l| {
            users
                .iter()
                .find(|u| l.split_whitespace().any(|w| w == **u))
                .map(|u| u.to_string())
        })
        .collect()
}

const USERS: &[&str] = &["ada", "bea", "carl", "dora", "eve", "grace"];

#[test]
fn a_started_server_appears_among_its_hubs_servers_in_user_order() {
    let mut app = app();
    press(&mut app, "3");
    assert_eq!(
        order_of(&screen(&mut app), USERS),
        ["dora", "eve", "ada", "grace", "carl"]
    );
    pods(
        &mut app,
        "leap",
        Delta::Upsert(server("staging", "staging", "bea")),
    );
    let s = screen(&mut app);
    assert_eq!(
        order_of(&s, USERS),
        ["dora", "eve", "ada", "bea", "grace", "carl"]
    );
    assert!(s.contains("Servers (6)"), "{s}");
}

#[test]
fn an_oom_killed_server_not_ready_says_how_it_ended_in_the_table_and_detail() {
    let mut app = app();
    press(&mut app, "3");
    let mut carl = server("science", "science", "carl");
    carl.ready = false;
    carl.restarts = 1;
    carl.last_termination = Some(Box::new(crate::fleet::Termination {
        reason: "OOMKilled".into(),
        exit_code: 137,
        finished_at: Some(now() - jiff::SignedDuration::from_mins(4)),
    }));
    pods(&mut app, "nasa", Delta::Upsert(carl.clone()));
    let s = screen(&mut app);
    assert!(
        line_with(&s, "carl").contains("OOMKilled 137, 4m ago"),
        "{s}"
    );
    assert!(!line_with(&s, "dora").contains("OOMKilled"), "{s}");
    while !selected_row(&mut app).contains("carl") {
        press(&mut app, "<down>");
    }
    press(&mut app, "<enter>");
    let s = screen(&mut app);
    assert!(
        line_with(&s, "Last termination").contains("OOMKilled 137, 4m ago"),
        "{s}"
    );
    // Ready again: the table shows its phase; the detail still says how the last run ended.
    carl.ready = true;
    pods(&mut app, "nasa", Delta::Upsert(carl));
    press(&mut app, "<esc>");
    let s = screen(&mut app);
    assert!(!line_with(&s, "carl").contains("OOMKilled"), "{s}");
}

#[test]
fn a_pending_server_says_why_in_the_table_and_tells_its_story_in_the_detail() {
    use crate::fleet::Step;
    use crate::fleet::fixtures::{pending_server, pod_event};
    let mut app = app();
    press(&mut app, "3");
    pods(
        &mut app,
        "nasa",
        Delta::Upsert(pending_server("science", "science", "carl")),
    );
    let story = |steps: &[(&str, Step, &str, i64)]| {
        steps
            .iter()
            .map(|(name, step, said, at)| FleetUpdate::PodEvents {
                cluster: ClusterId::new("nasa"),
                delta: Delta::Upsert(pod_event("science", "jupyter-carl", name, *step, said, *at)),
            })
            .collect::<Vec<_>>()
    };
    let fit = "0/12 nodes are available: 3 Insufficient memory, 9 node(s) didn't match Pod's node affinity/selector. preemption: 0/12 nodes are available: 3 No preemption victims found for incoming pod, 9 Preemption is not helpful for scheduling.";
    let up = "pod triggered scale-up: [{nb-pool 2->3 (max: 10)}]";
    app.apply_updates(
        story(&[
            ("c.1", Step::FailedScheduling, fit, -100),
            ("c.2", Step::TriggeredScaleUp, up, -98),
        ]),
        now(),
    );
    // The phase column takes the width left over: on a wide terminal the whole reason.
    let wide = |app: &mut App| text_of(&buffer(app, 180, 40));
    let s = wide(&mut app);
    assert!(
        line_with(&s, "carl").contains("scale-up triggered: nb-pool 2->3"),
        "{s}"
    );
    assert!(!line_with(&s, "dora").contains("scale-up"), "{s}");
    // At 120 columns the usage columns take their share: the reason is cut, not dropped.
    let s = screen(&mut app);
    assert!(line_with(&s, "carl").contains("scale-up triggered"), "{s}");
    // The node joined; the image has been pulling for 40 seconds.
    let on = "Successfully assigned science/jupyter-carl to nb-pool-3";
    let pulling = "Pulling image \"quay.io/2i2c/pangeo:2024.10\"";
    app.apply_updates(
        story(&[
            ("c.3", Step::Scheduled, on, -41),
            ("c.4", Step::Pulling, pulling, -40),
        ]),
        now(),
    );
    let s = wide(&mut app);
    assert!(line_with(&s, "carl").contains("pulling image 40s"), "{s}");
    while !selected_row(&mut app).contains("carl") {
        press(&mut app, "<down>");
    }
    press(&mut app, "<enter>");
    let s = screen(&mut app);
    assert!(s.contains("Why it is pending"), "{s}");
    let rows: Vec<&str> = [
        "Pulling",
        "Scheduled",
        "TriggeredScaleUp",
        "FailedScheduling",
    ]
    .iter()
    .map(|step| line_with(&s, &format!(" {step} ")))
    .collect();
    assert!(rows[0].contains("40s ago: Pulling image"), "{s}");
    assert!(rows[2].contains("98s ago: pod triggered scale-up"), "{s}");
    // All the scheduler said, over a few lines, not clipped to one.
    assert!(
        rows[3].contains("100s ago: 0/12 nodes are available"),
        "{s}"
    );
    assert!(s.contains("scheduling."), "{s}");
    let order: Vec<usize> = rows.iter().map(|r| row_of(&s, r)).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "newest first: {s}");
    // Running: the table shows its phase again, with no story.
    press(&mut app, "<esc>");
    pods(
        &mut app,
        "nasa",
        Delta::Upsert(server("science", "science", "carl")),
    );
    let s = screen(&mut app);
    assert!(!line_with(&s, "carl").contains("pulling"), "{s}");
}

#[test]
fn a_server_whose_phase_changes_moves_when_sorted_by_phase() {
    let mut app = app();
    press(&mut app, "3SSSS");
    assert!(screen(&mut app).contains("sort:phase▲"));
    let mut carl = server("science", "science", "carl");
    carl.phase = PodPhase::Pending;
    carl.ready = false;
    pods(&mut app, "nasa", Delta::Upsert(carl.clone()));
    let s = screen(&mut app);
    assert_eq!(order_of(&s, USERS), ["carl", "dora", "eve", "ada", "grace"]);
    assert!(line_with(&s, "carl").contains("Pending"), "{s}");
    carl.phase = PodPhase::Running;
    pods(&mut app, "nasa", Delta::Upsert(carl));
    assert_eq!(
        order_of(&screen(&mut app), USERS),
        ["dora", "eve", "ada", "grace", "carl"],
        "running again: back at its place in the default order among equal phases"
    );
}

#[test]
fn the_selection_stays_on_the_same_server_when_rows_above_it_come_and_go() {
    let mut app = app();
    press(&mut app, "3<down><down><down>");
    assert!(selected_row(&mut app).contains("grace"));
    pods(
        &mut app,
        "leap",
        Delta::Upsert(server("staging", "staging", "bea")),
    );
    pods(
        &mut app,
        "leap",
        Delta::Remove(server("prod", "prod", "dora")),
    );
    let s = screen(&mut app);
    assert!(s.contains("bea") && !s.contains("dora"), "{s}");
    assert!(selected_row(&mut app).contains("grace"));
}

#[test]
fn a_marked_server_that_stops_loses_its_mark() {
    let mut app = app();
    press(&mut app, "3<down><down><space><space>");
    assert!(screen(&mut app).contains("2 marked"));
    assert!(line_with(&screen(&mut app), "ada").contains("* "));
    pods(
        &mut app,
        "leap",
        Delta::Remove(server("staging", "staging", "ada")),
    );
    let s = screen(&mut app);
    assert!(s.contains("1 marked") && !s.contains("ada"), "{s}");
    assert!(line_with(&s, "grace").contains("* "), "{s}");
}

#[test]
fn a_filter_keeps_applying_to_servers_that_start_and_stop() {
    let mut app = app();
    press(&mut app, "3/gr<enter>");
    assert_eq!(order_of(&screen(&mut app), USERS), ["grace"]);
    pods(
        &mut app,
        "nasa",
        Delta::Upsert(server("science", "science", "greta")),
    );
    pods(
        &mut app,
        "leap",
        Delta::Upsert(server("staging", "staging", "bea")),
    );
    let s = screen(&mut app);
    assert!(s.contains("greta") && !s.contains("bea"), "{s}");
    pods(
        &mut app,
        "leap",
        Delta::Remove(server("staging", "staging", "grace")),
    );
    let s = screen(&mut app);
    assert!(s.contains("greta") && !s.contains("grace "), "{s}");
    assert!(s.contains("Servers (1)"), "{s}");
}

#[test]
fn a_hub_that_goes_down_moves_up_among_the_worst() {
    let mut app = app();
    let hubs = ["prod", "staging", "science"];
    let rows = |app: &mut App| order_of(&screen(app), &hubs);
    assert_eq!(rows(&mut app), ["prod", "staging", "science"]);
    let mut hub = workload("science", "science", Component::Hub, "hub", 1);
    hub.ready = 0;
    app.apply_updates(
        vec![FleetUpdate::Workloads {
            cluster: ClusterId::new("nasa"),
            kind: crate::fleet::WorkloadKind::Deployment,
            delta: Delta::Upsert(hub),
        }],
        now(),
    );
    assert_eq!(rows(&mut app), ["prod", "science", "staging"]);
    assert!(line_with(&screen(&mut app), "science").contains("DOWN"));
}

#[test]
fn a_relisted_cluster_shows_exactly_what_the_list_holds() {
    let mut app = app();
    press(&mut app, "3");
    pods(
        &mut app,
        "leap",
        Delta::Replace(vec![
            server("staging", "staging", "ada"),
            server("staging", "staging", "bea"),
        ]),
    );
    assert_eq!(order_of(&screen(&mut app), USERS), ["ada", "bea", "carl"]);
}

#[test]
fn a_pane_under_another_catches_up_when_shown_again() {
    let mut app = app();
    press(&mut app, "3<enter>");
    assert!(app.breadcrumb().ends_with("Detail"), "{}", app.breadcrumb());
    pods(
        &mut app,
        "leap",
        Delta::Upsert(server("staging", "staging", "bea")),
    );
    pods(
        &mut app,
        "leap",
        Delta::Remove(server("prod", "prod", "eve")),
    );
    press(&mut app, "<esc>");
    assert_eq!(
        order_of(&screen(&mut app), USERS),
        ["dora", "ada", "bea", "grace", "carl"]
    );
}

#[test]
fn events_alerts_and_clusters_panes_follow_their_own_changes_through_pod_churn() {
    use crate::fleet::{EventInfo, ObjectKey};
    let mut app = app();
    press(&mut app, "5");
    assert!(screen(&mut app).contains("no events"));
    pods(
        &mut app,
        "leap",
        Delta::Upsert(server("staging", "staging", "bea")),
    );
    let event = EventInfo {
        key: ObjectKey {
            namespace: "staging".into(),
            name: "e1".into(),
        },
        object: "Pod/jupyter-bea".into(),
        reason: "FailedScheduling".into(),
        message: "0/3 nodes are available".into(),
        count: 1,
        last_seen: Some(now()),
    };
    app.apply_updates(
        vec![FleetUpdate::Events {
            cluster: ClusterId::new("leap"),
            delta: Delta::Upsert(event),
        }],
        now(),
    );
    assert!(line_with(&screen(&mut app), "FailedScheduling").contains("jupyter-bea"));

    press(&mut app, "2");
    assert!(line_with(&screen(&mut app), "leap").contains("ready"));
    pods(
        &mut app,
        "nasa",
        Delta::Upsert(server("science", "science", "dan")),
    );
    app.apply_updates(
        vec![FleetUpdate::Status {
            cluster: ClusterId::new("leap"),
            status: crate::fleet::ClusterStatus::Degraded {
                reason: "pods watch failing".into(),
            },
        }],
        now(),
    );
    let s = screen(&mut app);
    assert!(line_with(&s, "leap").contains("pods watch failing"), "{s}");
    assert!(
        line_with(&s, "nasa").contains(" 2 "),
        "two servers on nasa now: {s}"
    );
}
