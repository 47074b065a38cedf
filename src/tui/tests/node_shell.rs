//! A shell from the Nodes pane: on a node, a picker of the pods the model knows there (user
//! servers first, then hub components; never a placeholder's pause container), whose pick goes
//! to the same exec plan and confirm dialog as a server row's shell; a server listed from a
//! node takes `s` as any server row does.

use super::actions::acting_app_over;
use super::*;
use crate::fleet::fixtures::{node, pod};

/// leap's nodes: `core-1` runs prod's hub, proxy and placeholder; `node-a` (where the
/// fixtures put every pod) the rest: prod's dora and eve, staging's ada, grace, hub, proxy and
/// placeholder; `node-b` runs nothing of the fleet's.
fn noded_fleet() -> Fleet {
    let mut f = fleet();
    let on = |mut p: crate::fleet::PodInfo, n: &str| {
        p.node = Some(n.into());
        FleetUpdate::Pods {
            cluster: ClusterId::new("leap"),
            delta: Delta::Upsert(p),
        }
    };
    f.apply_all(
        [
            FleetUpdate::Nodes {
                cluster: ClusterId::new("leap"),
                delta: Delta::Replace(vec![
                    node("core-1", "core-pool"),
                    node("node-a", "nb-user"),
                    node("node-b", "nb-user"),
                ]),
            },
            on(
                pod("prod", "prod", Component::Hub, "hub-7d9f-abcde"),
                "core-1",
            ),
            on(
                pod("prod", "prod", Component::Proxy, "proxy-5c4b-fghij"),
                "core-1",
            ),
            on(
                pod(
                    "prod",
                    "prod",
                    Component::UserPlaceholder,
                    "user-placeholder-0",
                ),
                "core-1",
            ),
        ],
        now(),
    );
    f
}

/// Selects the Nodes pane's row of `name` (rows: leap, core-pool, core-1, nb-user, node-a,
/// node-b).
fn select_node(app: &mut App, name: &str) {
    press(app, "6");
    for _ in 0..6 {
        if selected_row(app).contains(name) {
            return;
        }
        press(app, "<down>");
    }
    panic!("no node {name}:\n{}", screen(app));
}

#[test]
fn shell_on_a_node_lists_its_hub_pods_and_opens_the_picked_one() {
    let (mut app, _feeds, dir) = acting_app_over(false, noded_fleet());
    select_node(&mut app, "core-1");
    press(&mut app, "s");
    let s = screen(&mut app);
    assert!(s.contains("Shell on node core-1 of leap"), "{s}");
    let hub = line_with(&s, "hub-7d9f-abcde");
    assert!(hub.contains("hub") && hub.contains("prod"), "{s}");
    assert!(
        row_of(&s, "hub-7d9f-abcde") < row_of(&s, "proxy-5c4b-fghij"),
        "{s}"
    );
    assert!(
        !s.contains("user-placeholder-0"),
        "a placeholder runs only pause:\n{s}"
    );
    assert!(s.contains("shell in this pod"), "{s}");
    press(&mut app, "<down><enter>");
    let s = screen(&mut app);
    assert!(
        s.contains("Confirm: shell in proxy pod of leap/prod"),
        "{s}"
    );
    assert!(s.contains("create pods/exec prod/proxy-5c4b-fghij"), "{s}");
    press(&mut app, "n");
    assert!(screen(&mut app).contains("cancelled: nothing was sent"));
    assert!(app.take_shell().is_none());
    assert!(!dir.path().join("audit.jsonl").exists());
}

#[test]
fn a_nodes_user_servers_come_first_and_esc_closes_the_picker() {
    let (mut app, _feeds, _dir) = acting_app_over(false, noded_fleet());
    select_node(&mut app, "node-a");
    press(&mut app, "s");
    let s = screen(&mut app);
    assert!(line_with(&s, "jupyter-ada").contains("server ada"), "{s}");
    assert!(line_with(&s, "jupyter-ada").contains("staging"), "{s}");
    let rows: Vec<usize> = [
        "jupyter-dora",
        "jupyter-eve",
        "jupyter-ada",
        "jupyter-grace",
    ]
    .iter()
    .map(|p| row_of(&s, p))
    .collect();
    assert!(
        rows.windows(2).all(|w| w[0] < w[1]),
        "by hub, then pod: {s}"
    );
    assert!(rows[3] < row_of(&s, "hub-7d9f-abcde"), "servers first: {s}");
    assert!(!s.contains("user-placeholder-0"), "{s}");
    press(&mut app, "<down><enter>");
    let s = screen(&mut app);
    assert!(s.contains("Confirm: shell in server leap/prod/eve"), "{s}");
    assert!(s.contains("create pods/exec prod/jupyter-eve"), "{s}");
    press(&mut app, "<esc>");
    select_node(&mut app, "node-a");
    press(&mut app, "s<esc>");
    let s = screen(&mut app);
    assert!(!s.contains("Shell on node"), "{s}");
    assert!(s.contains("cancelled: nothing was sent"), "{s}");
}

#[test]
fn a_node_without_fleet_pods_says_so_and_pools_say_what_to_select() {
    let (mut app, _feeds, _dir) = acting_app_over(false, noded_fleet());
    select_node(&mut app, "node-b");
    press(&mut app, "s");
    let s = screen(&mut app);
    assert!(!s.contains("Shell on node"), "{s}");
    assert!(
        s.contains("shell: no user server or hub pod of the fleet runs on node node-b"),
        "{s}"
    );
    select_node(&mut app, "core-pool");
    press(&mut app, "s");
    let s = screen(&mut app);
    assert!(
        s.contains("shell: select a user server, a hub or a node"),
        "{s}"
    );
}

#[test]
fn a_server_listed_from_its_node_takes_the_shell_key() {
    let (mut app, _feeds, _dir) = acting_app_over(false, noded_fleet());
    select_node(&mut app, "node-a");
    press(&mut app, "<enter>");
    assert!(app.breadcrumb().contains("node-a"), "{}", app.breadcrumb());
    let row = selected_row(&mut app);
    let (hub, user) = [
        ("prod", "dora"),
        ("prod", "eve"),
        ("staging", "ada"),
        ("staging", "grace"),
    ]
    .into_iter()
    .find(|(_, u)| row.contains(u))
    .unwrap_or_else(|| panic!("a server of node-a selected: {row}"));
    press(&mut app, "s");
    let s = screen(&mut app);
    assert!(
        s.contains(&format!("Confirm: shell in server leap/{hub}/{user}")),
        "{s}"
    );
}

#[test]
fn read_only_refuses_a_nodes_shell_before_the_picker() {
    let (mut app, _feeds, _dir) = acting_app_over(true, noded_fleet());
    select_node(&mut app, "core-1");
    press(&mut app, "s");
    let s = screen(&mut app);
    assert!(!s.contains("Shell on node"), "{s}");
    assert!(
        s.contains("read-only: shell on node core-1 of leap refused"),
        "{s}"
    );
}
