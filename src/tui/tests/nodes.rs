//! The Nodes pane: clusters, their pools and the pools' nodes, trouble marked in words and
//! colour, drill-down to the servers on a node, and a server's detail linking back to its node.

use super::*;
use crate::config::theme::Role;
use crate::fleet::fixtures::{node, server};

/// The test fleet plus nodes: leap has `core-1` (core-pool) and `node-a`, `node-b` (nb-user,
/// node-b NotReady, running eve's server); nasa has its own `node-a` in pool `user`.
fn nodes_app() -> App {
    let mut f = fleet();
    let mut sick = node("node-b", "nb-user");
    sick.ready = false;
    let mut core = node("core-1", "core-pool");
    core.purpose = "core".into();
    let mut eve = server("prod", "prod", "eve");
    eve.node = Some("node-b".into());
    f.apply_all(
        [
            FleetUpdate::Nodes {
                cluster: ClusterId::new("leap"),
                delta: Delta::Replace(vec![node("node-a", "nb-user"), sick, core]),
            },
            FleetUpdate::Nodes {
                cluster: ClusterId::new("nasa"),
                delta: Delta::Replace(vec![node("node-a", "user")]),
            },
            FleetUpdate::Pods {
                cluster: ClusterId::new("leap"),
                delta: Delta::Upsert(eve),
            },
        ],
        now(),
    );
    App::new(opts(), f)
}

/// The text under a column's heading in the first line containing `row`.
fn column(screen: &str, row: &str, heading: &str) -> String {
    let head: Vec<char> = line_with(screen, "POOL / NODE").chars().collect();
    let at = (0..head.len())
        .find(|&i| head[i..].iter().collect::<String>().starts_with(heading))
        .unwrap_or_else(|| panic!("no column {heading} in\n{screen}"));
    line_with(screen, row)
        .chars()
        .skip(at)
        .take_while(|c| *c != ' ')
        .collect()
}

#[test]
fn pools_are_listed_per_cluster_each_followed_by_its_nodes() {
    let mut app = nodes_app();
    press(&mut app, "6");
    assert_eq!(app.breadcrumb(), "Nodes");
    let s = screen(&mut app);
    assert!(
        s.contains("Nodes (9)"),
        "leap: itself, 2 pools, 3 nodes; nasa: itself, 1 pool, 1 node:\n{s}"
    );
    let order = [
        "│leap ",
        "│ core-pool ",
        "core-1",
        "│ nb-user ",
        "node-a",
        "node-b",
        "│nasa ",
        "│ user ",
    ];
    let rows: Vec<usize> = order.iter().map(|n| row_of(&s, n)).collect();
    assert!(
        rows.windows(2).all(|w| w[0] < w[1]),
        "{order:?} at {rows:?}:\n{s}"
    );
    assert!(line_with(&s, "│ nb-user ").contains("1/2 ready"), "{s}");
    assert_eq!(
        column(&s, "│ nb-user ", "SRV"),
        "4",
        "ada, grace, dora, eve"
    );
    assert_eq!(column(&s, "node-b", "SRV"), "1", "eve runs on node-b");
    assert_eq!(column(&s, "│ core-pool ", "SRV"), "0");
    let leap = line_with(&s, "│leap ");
    assert!(leap.contains("2/3 ready") && leap.contains("gcp"), "{leap}");
    assert_eq!(column(&s, "│leap ", "SRV"), "4");
    // Eve's 500m of node-b's 3.92 allocatable cores.
    assert_eq!(column(&s, "node-b", "CPU REQ/ALL"), "0.5/3.9");
    assert!(
        line_with(&s, "core-1").contains("core"),
        "purpose shown: {s}"
    );
}

#[test]
fn a_not_ready_node_says_so_in_the_error_style() {
    let mut app = nodes_app();
    press(&mut app, "6");
    let buf = buffer(&mut app, 120, 40);
    let s = text_of(&buf);
    let line = line_with(&s, "node-b");
    assert!(line.contains("NotReady"), "{line}");
    assert!(line_with(&s, "node-a").contains("Ready"), "{s}");
    let y = row_of(&s, "node-b") as u16;
    let col = line.chars().collect::<Vec<_>>();
    let at = (0..col.len())
        .find(|&i| col[i..].iter().collect::<String>().starts_with("NotReady"))
        .unwrap() as u16;
    assert_eq!(
        buf[(at, y)].style().fg,
        app.theme().style(Role::HealthDown).fg,
        "NotReady in the error style"
    );
}

#[test]
fn cordoned_and_pressured_nodes_are_named_in_words_and_counted_on_their_pool() {
    let mut app = nodes_app();
    let mut cordoned = node("node-a", "nb-user");
    cordoned.cordoned = true;
    let mut pressed = node("core-1", "core-pool");
    pressed.pressure.memory = true;
    app.apply_updates(
        vec![
            FleetUpdate::Nodes {
                cluster: ClusterId::new("leap"),
                delta: Delta::Upsert(cordoned),
            },
            FleetUpdate::Nodes {
                cluster: ClusterId::new("leap"),
                delta: Delta::Upsert(pressed),
            },
        ],
        now(),
    );
    press(&mut app, "6");
    let s = screen(&mut app);
    assert_eq!(column(&s, "node-a", "CONDITIONS"), "cordoned", "{s}");
    assert_eq!(column(&s, "core-1", "CONDITIONS"), "MemoryPressure", "{s}");
    assert!(line_with(&s, "│ nb-user ").contains("1 cordoned"), "{s}");
    assert!(line_with(&s, "│ core-pool ").contains("1 pressure"), "{s}");
    assert!(line_with(&s, "│leap ").contains("1 cordoned,"), "{s}");
    assert!(
        s.contains("leap: 2 pools, 3 nodes, 2 ready, 1 cordoned, 1 under pressure"),
        "the selected cluster row in full below the table:\n{s}"
    );
}

#[test]
fn enter_on_a_node_shows_only_its_servers() {
    let mut app = nodes_app();
    press(&mut app, "6/node-b<enter>");
    let s = screen(&mut app);
    assert!(
        s.contains("Nodes (1)"),
        "the filter keeps node-b alone:\n{s}"
    );
    press(&mut app, "<enter>");
    assert_eq!(app.breadcrumb(), "Nodes › node-b › Servers");
    let s = screen(&mut app);
    assert!(s.contains("Servers (1)") && s.contains("eve"), "{s}");
    for other in ["ada", "grace", "dora", "carl"] {
        assert!(!s.contains(other), "{other} runs elsewhere:\n{s}");
    }
}

#[test]
fn enter_on_a_pool_shows_the_servers_on_its_nodes() {
    let mut app = nodes_app();
    press(&mut app, "6<down><down><down><enter>");
    assert_eq!(app.breadcrumb(), "Nodes › leap › nb-user › Servers");
    let s = screen(&mut app);
    assert!(s.contains("Servers (4)"), "{s}");
    assert!(
        !s.contains("carl"),
        "nasa's server is another cluster's:\n{s}"
    );
}

#[test]
fn a_servers_detail_shows_its_node_and_enter_opens_that_node() {
    let mut app = nodes_app();
    press(&mut app, "6/node-b<enter><enter><enter>");
    assert_eq!(app.breadcrumb(), "Nodes › node-b › Servers › eve › Detail");
    let s = screen(&mut app);
    let status = line_with(&s, "Node status");
    assert!(
        status.contains("NotReady") && status.contains("pool nb-user (n2-standard-4)"),
        "{s}"
    );
    assert!(line_with(&s, "Node ").contains("node-b"), "{s}");
    press(&mut app, "<enter>");
    assert!(
        app.breadcrumb().ends_with("Detail › leap › Nodes"),
        "{}",
        app.breadcrumb()
    );
    assert!(
        selected_row(&mut app).contains("node-b"),
        "{}",
        selected_row(&mut app)
    );
}

#[test]
fn a_not_ready_node_alert_opens_the_node() {
    let mut app = nodes_app();
    press(&mut app, "4/NodeNotReady<enter>");
    let s = screen(&mut app);
    assert!(line_with(&s, "node node-b").contains("critical"), "{s}");
    press(&mut app, "<enter>");
    assert_eq!(app.breadcrumb(), "Alerts › leap › Nodes");
    assert!(selected_row(&mut app).contains("node-b"));
}

#[test]
fn a_filter_on_a_pool_keeps_its_nodes() {
    let mut app = nodes_app();
    press(&mut app, "6/nb-user");
    let s = screen(&mut app);
    assert!(s.contains("Nodes (3)"), "{s}");
    assert!(s.contains("node-b") && !s.contains("core-1"), "{s}");
}

#[test]
fn a_stopped_server_leaves_its_node_and_pool_counts_at_once() {
    let mut app = nodes_app();
    press(&mut app, "6");
    let s = screen(&mut app);
    assert_eq!(column(&s, "node-b", "SRV"), "1");
    let mut eve = server("prod", "prod", "eve");
    eve.node = Some("node-b".into());
    app.apply_updates(
        vec![FleetUpdate::Pods {
            cluster: ClusterId::new("leap"),
            delta: Delta::Remove(eve),
        }],
        now(),
    );
    let s = screen(&mut app);
    assert_eq!(column(&s, "node-b", "SRV"), "0", "{s}");
    assert_eq!(column(&s, "│ nb-user ", "SRV"), "3", "{s}");
    assert_eq!(column(&s, "│leap ", "SRV"), "3", "{s}");
    assert_eq!(column(&s, "node-b", "CPU REQ/ALL"), "0/3.9", "{s}");
}

#[test]
fn at_80x24_the_nodes_pane_keeps_names_status_and_conditions() {
    let mut app = nodes_app();
    let s = text_of(&buffer(&mut app, 80, 24));
    assert!(s.lines().nth(1).unwrap().contains("6 Nodes"), "{s}");
    press(&mut app, "6");
    let s = text_of(&buffer(&mut app, 80, 24));
    for heading in ["POOL / NODE", "STATUS", "CONDITIONS", "SRV", "CPU REQ/ALL"] {
        assert!(s.contains(heading), "{heading}:\n{s}");
    }
    assert!(line_with(&s, "node-b").contains("NotReady"), "{s}");
    assert!(line_with(&s, "│ nb-user ").contains("1/2 ready"), "{s}");
    // The selected row in full below the table.
    assert!(s.contains("requested of allocatable"), "{s}");
}

#[test]
fn long_node_names_keep_the_end_that_tells_them_apart() {
    let mut app = nodes_app();
    let names = [
        "gke-leap-nb-n2-highmem-4-1a2b3c4d-x9z2",
        "gke-leap-nb-n2-highmem-4-1a2b3c4d-q7k1",
        "ip-192-168-3-41.us-west-2.compute.internal",
    ];
    app.apply_updates(
        names
            .iter()
            .map(|n| FleetUpdate::Nodes {
                cluster: ClusterId::new("nasa"),
                delta: Delta::Upsert(node(n, "user")),
            })
            .collect(),
        now(),
    );
    press(&mut app, "6");
    let s = text_of(&buffer(&mut app, 80, 24));
    assert!(
        line_with(&s, "1a2b3c4d-x9z2").contains("…") && s.contains("1a2b3c4d-q7k1"),
        "{s}"
    );
    assert!(
        s.contains("   ip-192-168-3-41 "),
        "the region's domain is left out:\n{s}"
    );
    press(&mut app, "/compute.internal");
    let s = text_of(&buffer(&mut app, 80, 24));
    assert!(
        s.contains("Nodes (1)"),
        "a filter still matches the whole name:\n{s}"
    );
}
