//! Cluster actions from the console's keys, through the real kube path against a sim fleet:
//! what the dialog shows, what the fake API server receives, what the audit log says, and what
//! the console shows once the watch delivers the change.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::console::{Console, hub_with_servers, mutating};
use hubdeck::fleet::{Component, HubId};
use hubdeck_sim::{FleetSpec, SimFleet};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;

/// Hub pods the model shows for a hub.
fn hub_pods(console: &Console, hub: &HubId) -> Vec<String> {
    console
        .app
        .fleet()
        .hub(hub)
        .map(|h| {
            h.pods
                .values()
                .filter(|p| p.component == Component::Hub)
                .map(|p| p.key.name.to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_sends_exactly_the_planned_patch_and_audits_it() {
    let sim = SimFleet::start(FleetSpec::small()).await.unwrap();
    let mut console = Console::start(&sim, false).await;
    let (hub, cluster) = hub_with_servers(&console.app, &sim, 0);
    let (hub, cluster) = (hub.id.clone(), cluster.clone());
    let deployment = console
        .app
        .fleet()
        .hub(&hub)
        .unwrap()
        .workload(Component::Hub)
        .unwrap()
        .key
        .name
        .to_string();
    let ns = hub.key.namespace.to_string();
    let before = hub_pods(&console, &hub);

    console.select_hub(&hub);
    cluster.clear_requests();
    console.press("R");
    let s = console.screen();
    assert!(s.contains(&format!("Confirm: restart hub {hub}")), "{s}");
    assert!(
        s.contains(&format!("patch apps/deployments {ns}/{deployment}")),
        "{s}"
    );
    assert!(mutating(&cluster).is_empty(), "the dialog sends nothing");

    console.press("y");
    assert!(console.screen().contains(&format!("restart hub {hub}…")));
    console.wait_for_outcome().await;
    let s = console.screen();
    assert!(s.contains(&format!("✔ restart hub {hub}")), "{s}");

    let path = format!("/apis/apps/v1/namespaces/{ns}/deployments/{deployment}");
    assert_eq!(mutating(&cluster), [("PATCH".to_string(), path.clone())]);
    let requests = cluster.requests();
    let patch_at = requests.iter().position(|r| r.method == "PATCH").unwrap();
    let checked: Vec<_> = requests[..patch_at]
        .iter()
        .filter(|r| r.path == path || r.path.ends_with("/selfsubjectaccessreviews"))
        .map(|r| r.method.as_str())
        .collect();
    assert!(
        checked.contains(&"GET") && checked.contains(&"POST"),
        "{checked:?}"
    );

    let audit = console.audit();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(
        (audit[0].action.as_str(), audit[0].outcome.as_str()),
        ("restart-hub", "ok")
    );

    let replaced = console
        .wait_until(Duration::from_secs(20), |app| {
            app.fleet().hub(&hub).is_some_and(|h| {
                h.pods.values().any(|p| {
                    p.component == Component::Hub && !before.contains(&p.key.name.to_string())
                })
            })
        })
        .await;
    assert!(replaced, "no new hub pod in the model");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_the_hub_to_zero_needs_yes_and_shows_it_down() {
    let sim = SimFleet::start(FleetSpec::small()).await.unwrap();
    let mut console = Console::start(&sim, false).await;
    let (hub, cluster) = hub_with_servers(&console.app, &sim, 0);
    let (hub, cluster) = (hub.id.clone(), cluster.clone());
    console.select_hub(&hub);
    cluster.clear_requests();
    console.press("M");
    assert!(
        console
            .screen()
            .contains("replicas (0 = maintenance, 1 = up)")
    );
    console.press("<backspace>0<enter>y<enter>");
    let s = console.screen();
    assert!(s.contains("to confirm"), "y is not enough: {s}");
    assert!(mutating(&cluster).is_empty());
    console.press("<backspace>yes<enter>");
    console.wait_for_outcome().await;
    assert!(
        console
            .screen()
            .contains(&format!("✔ scale hub {hub} to 0"))
    );
    assert_eq!(mutating(&cluster).len(), 1, "{:?}", mutating(&cluster));
    let down = console
        .wait_until(Duration::from_secs(20), |app| {
            app.fleet()
                .hub(&hub)
                .and_then(|h| h.summary.hub)
                .is_some_and(|r| r.desired == 0)
        })
        .await;
    assert!(down);
    console.press("1");
    let s = console.screen();
    let row = s
        .lines()
        .find(|l| l.contains(hub.key.namespace.as_ref()) && l.contains(hub.cluster.as_str()))
        .unwrap_or_else(|| panic!("no row for {hub}:\n{s}"));
    assert!(
        row.contains("DOWN") && row.contains("hub scaled to 0"),
        "{row}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_two_marked_servers_removes_both_pods() {
    let sim = SimFleet::start(FleetSpec::small()).await.unwrap();
    let mut console = Console::start(&sim, false).await;
    let (hub, cluster) = hub_with_servers(&console.app, &sim, 3);
    let (hub, cluster) = (hub.id.clone(), cluster.clone());
    let mut users: Vec<(String, String)> = console
        .app
        .fleet()
        .hub(&hub)
        .unwrap()
        .servers()
        .map(|p| {
            let user = p.owner.as_ref().unwrap().user.to_string();
            (user.to_lowercase(), p.key.name.to_string())
        })
        .collect();
    users.sort();
    let marked = &users[..2];

    console.press(&format!(":hub {hub}<enter>"));
    console.press("<space><space>");
    let s = console.screen();
    assert!(s.contains("2 marked"), "{s}");
    cluster.clear_requests();
    console.press("X");
    let s = console.screen();
    assert!(s.contains("Confirm: stop 2 servers"), "{s}");
    for (_, pod) in marked {
        assert!(
            s.contains(&format!("delete pods {}/{pod}", hub.key.namespace)),
            "{s}"
        );
    }
    console.press("yes<enter>");
    console.wait_for_outcome().await;
    let deletes: Vec<_> = mutating(&cluster);
    assert_eq!(deletes.len(), 2, "{deletes:?}");
    assert!(deletes.iter().all(|(m, _)| m == "DELETE"), "{deletes:?}");

    let gone = console
        .wait_until(Duration::from_secs(30), |app| {
            app.fleet().hub(&hub).is_some_and(|h| {
                marked
                    .iter()
                    .all(|(_, pod)| !h.pods.contains_key(pod.as_str()))
            })
        })
        .await;
    assert!(gone, "the model still has the pods");
    let live: Vec<String> = cluster
        .pods()
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    for (_, pod) in marked {
        assert!(!live.contains(pod), "{pod} still in the sim");
    }
    let s = console.screen();
    assert!(!s.contains("marked"), "marks are gone with the rows: {s}");
    for (user, _) in marked {
        assert!(
            !s.lines().any(|l| l.contains(&format!(" {user} "))),
            "{user} still listed:\n{s}"
        );
    }
    let attempts = console.runner.audit_log().attempts().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].intent.as_ref().unwrap().target, "2 servers");
    let mut targets: Vec<String> = attempts[0]
        .outcomes
        .iter()
        .map(|r| r.target.clone())
        .collect();
    targets.sort();
    let mut expected: Vec<String> = marked
        .iter()
        .map(|(user, _)| format!("{hub}/{user}"))
        .collect();
    expected.sort();
    assert_eq!(targets, expected, "one outcome line per stopped server");
}

/// Opens the editor on `hub`'s values.yaml and waits for it.
async fn open_editor(console: &mut Console, hub: &HubId) {
    console.select_hub(hub);
    console.press("E");
    let title = format!("values.yaml · {hub}");
    console.wait_for_outcome().await;
    let s = console.screen();
    assert!(s.contains(&title), "editor not open:\n{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_yaml_keeps_the_text_and_names_the_line() {
    let sim = SimFleet::start(FleetSpec::small()).await.unwrap();
    let mut console = Console::start(&sim, false).await;
    let (hub, cluster) = hub_with_servers(&console.app, &sim, 0);
    let (hub, cluster) = (hub.id.clone(), cluster.clone());
    open_editor(&mut console, &hub).await;
    cluster.clear_requests();
    console.press("]]<ctrl-s>");
    let s = console.screen();
    assert!(s.contains("values.yaml:1:"), "{s}");
    assert!(s.contains("]]"), "the text is kept: {s}");
    assert!(!s.contains("Confirm:"), "{s}");
    assert!(mutating(&cluster).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_edit_is_kept_and_the_secret_is_left_alone() {
    let sim = SimFleet::start(FleetSpec::small()).await.unwrap();
    let mut console = Console::start(&sim, false).await;
    let (hub, cluster) = hub_with_servers(&console.app, &sim, 0);
    let (hub, cluster) = (hub.id.clone(), cluster.clone());
    let read = console.runner.read_config(&hub).await.unwrap();
    open_editor(&mut console, &hub).await;
    console.press("# ours<enter><ctrl-s>");
    assert!(console.screen().contains("Confirm: edit config"));

    // Someone else changes values.yaml between our read and our save.
    let theirs = format!("# theirs\n{}", read.values);
    let ns = hub.key.namespace.to_string();
    assert!(cluster.mutate::<Secret>(&ns, &read.secret, |s| {
        let mut data = s.data.clone().unwrap_or_default();
        data.insert(
            "values.yaml".into(),
            ByteString(theirs.clone().into_bytes()),
        );
        s.data = Some(data);
    }));
    cluster.clear_requests();
    console.press("y");
    console.wait_for_outcome().await;

    let s = console.screen();
    assert!(s.contains("conflict"), "{s}");
    assert!(s.contains("# ours"), "the edit is still in the editor: {s}");
    assert!(s.contains("changed meanwhile"), "{s}");
    assert!(
        !mutating(&cluster)
            .iter()
            .any(|(_, p)| p.contains("/secrets/")),
        "{:?}",
        mutating(&cluster)
    );
    let now = cluster.secret(&ns, &read.secret).unwrap();
    let values: BTreeMap<_, _> = now.data.unwrap_or_default();
    assert_eq!(
        values["values.yaml"].0,
        theirs.as_bytes(),
        "their version stays"
    );

    let recovery: Vec<_> = std::fs::read_dir(console.state.path().join("recovery"))
        .expect("a recovery dir")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(recovery.len(), 1);
    let kept = std::fs::read_to_string(&recovery[0]).unwrap();
    assert!(kept.starts_with("# ours\n"), "{kept}");
    assert_eq!(console.audit()[0].outcome, "conflict");

    console.press("<ctrl-o>");
    let side = console
        .wait_until(Duration::from_secs(20), |app| !app.actions_running())
        .await;
    assert!(side);
    let s = console.screen();
    assert!(s.contains("current in the cluster"), "{s}");
    assert!(s.contains("# theirs"), "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applied_edit_writes_the_diff_and_offers_a_hub_restart() {
    let sim = SimFleet::start(FleetSpec::small()).await.unwrap();
    let mut console = Console::start(&sim, false).await;
    let (hub, cluster) = hub_with_servers(&console.app, &sim, 0);
    let (hub, cluster) = (hub.id.clone(), cluster.clone());
    open_editor(&mut console, &hub).await;
    console.press("# reviewed<enter><ctrl-s>");
    let s = console.screen();
    assert!(s.contains("+# reviewed"), "the diff is in the dialog: {s}");
    cluster.clear_requests();
    console.press("y");
    console.wait_for_outcome().await;

    let s = console.screen();
    assert!(s.contains(&format!("Confirm: restart hub {hub}")), "{s}");
    assert!(s.contains("restart it now?"), "{s}");
    let secret_patches: Vec<_> = mutating(&cluster)
        .into_iter()
        .filter(|(m, p)| m == "PATCH" && p.contains("/secrets/"))
        .collect();
    assert_eq!(secret_patches.len(), 1, "{secret_patches:?}");
    let diffs: Vec<_> = std::fs::read_dir(console.state.path().join("diffs"))
        .expect("a diffs dir")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(diffs.len(), 1);
    let diff = std::fs::read_to_string(&diffs[0]).unwrap();
    assert!(diff.contains("+# reviewed"), "{diff}");
    assert!(s.contains("diffs"), "the path is shown: {s}");

    console.press("n");
    assert!(console.screen().contains("cancelled: nothing was sent"));
    assert!(
        !mutating(&cluster)
            .iter()
            .any(|(_, p)| p.contains("/deployments/"))
    );
    let now = console.runner.read_config(&hub).await.unwrap();
    assert!(now.values.starts_with("# reviewed\n"));
    let audit = console.audit();
    assert_eq!(audit.len(), 1, "the declined restart is not audited");
    assert_eq!(
        (audit[0].action.as_str(), audit[0].outcome.as_str()),
        ("edit-config", "ok")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readonly_refuses_before_any_request() {
    let sim = SimFleet::start(FleetSpec::small()).await.unwrap();
    let mut console = Console::start(&sim, true).await;
    let (hub, _) = hub_with_servers(&console.app, &sim, 0);
    let hub = hub.id.clone();
    console.select_hub(&hub);
    for c in sim.clusters() {
        c.clear_requests();
    }
    console.press("R");
    let s = console.screen();
    assert!(
        s.contains(&format!("read-only: restart-hub on hub {hub} refused")),
        "{s}"
    );
    assert!(!s.contains("Confirm:"));
    console.press("E");
    tokio::time::sleep(Duration::from_millis(300)).await;
    for c in sim.clusters() {
        assert!(mutating(c).is_empty(), "{:?}", mutating(c));
    }
    assert!(console.audit().is_empty());
}

/// Time from confirm to the change being in the model, on the demo fleet (a figure, not a test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "prints timings; run with --ignored --nocapture"]
async fn confirm_to_visible_times_on_the_demo_fleet() {
    let sim = SimFleet::start(FleetSpec::demo()).await.unwrap();
    let mut console = Console::start(&sim, false).await;
    let (hub, _) = hub_with_servers(&console.app, &sim, 0);
    let hub = hub.id.clone();
    let before = hub_pods(&console, &hub);

    console.select_hub(&hub);
    console.press("R");
    let t = Instant::now();
    console.press("y");
    console.wait_for_outcome().await;
    let answered = t.elapsed();
    let seen = console
        .wait_until(Duration::from_secs(30), |app| {
            app.fleet().hub(&hub).is_some_and(|h| {
                h.pods.values().any(|p| {
                    p.component == Component::Hub && !before.contains(&p.key.name.to_string())
                })
            })
        })
        .await;
    assert!(seen);
    println!(
        "restart hub {hub}: outcome after {:?}, new hub pod in the model after {:?}",
        answered,
        t.elapsed()
    );

    console.press("M<backspace>0<enter>yes");
    let t = Instant::now();
    console.press("<enter>");
    console.wait_for_outcome().await;
    let answered = t.elapsed();
    let replicas = |app: &hubdeck::tui::App| app.fleet().hub(&hub).and_then(|h| h.summary.hub);
    let seen = console
        .wait_until(Duration::from_secs(30), |app| {
            replicas(app).is_some_and(|r| r.desired == 0)
        })
        .await;
    assert!(seen);
    let desired = t.elapsed();
    let seen = console
        .wait_until(Duration::from_secs(30), |app| {
            replicas(app).is_some_and(|r| r.ready == 0)
        })
        .await;
    assert!(seen);
    println!(
        "scale hub {hub} to 0: outcome after {answered:?}, desired 0 in the model after \
         {desired:?}, ready 0 (pod gone) after {:?}",
        t.elapsed()
    );
}
