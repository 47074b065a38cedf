//! The flight recorder against sim fleets: what a replay shows at a moment is what the live
//! model held at that moment; `hubdeck record` interleaves actions; exports replay the same.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::fleet::{TestFleet, cli, hubdeck_with, stderr, stdout};
use hubdeck::fleet::{Fleet, HealthLevel};
use hubdeck::headless::get::{Kind, get};
use hubdeck::headless::output::Format;
use hubdeck::recorder::{Recorder, RecorderConfig, Target};
use hubdeck_sim::{FleetSpec, Scenario};
use jiff::{SignedDuration, Timestamp};

const KINDS: [(Kind, &str); 4] = [
    (Kind::Hubs, "hubs"),
    (Kind::Servers, "servers"),
    (Kind::Alerts, "alerts"),
    (Kind::Events, "events"),
];

/// What `get KIND -o json` prints of a fleet at `now`.
fn shown(fleet: &Fleet, kind: Kind, now: Timestamp) -> String {
    let mut out = Vec::new();
    get(
        fleet,
        kind,
        &Default::default(),
        Format::Json,
        &mut out,
        now,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

/// `hubdeck replay FILE ARGS...` (no cluster is contacted).
fn replay(fleet: &TestFleet, file: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["replay", file.to_str().unwrap()];
    all.extend_from_slice(args);
    hubdeck_with(fleet.sim.kubeconfig_path(), fleet.home.path(), &all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_at_t_prints_the_model_a_session_had_at_t_under_churn() {
    let spec = FleetSpec {
        scenario: Scenario::Churn {
            updates_per_sec: 300,
        },
        ..FleetSpec::small()
    };
    let fleet = TestFleet::start(spec).await;
    let mut session = fleet.session().await;
    let path = fleet.home.path().join("churn.hdrec");
    let (tap, recorder) = Recorder::start(RecorderConfig {
        target: Target::File(path.clone()),
        snapshot_every: SignedDuration::from_secs(2),
        audit_log: None,
    })
    .unwrap();
    session.record_to(tap);
    let mut samples = Vec::new();
    for _ in 0..6 {
        let until = tokio::time::Instant::now() + Duration::from_millis(900);
        while tokio::time::Instant::now() < until {
            session.pump(until).await;
        }
        let t = Timestamp::now();
        session.drain_at(t);
        let views: Vec<String> = KINDS
            .iter()
            .map(|(k, _)| shown(&session.fleet, *k, t))
            .collect();
        samples.push((t, views));
    }
    session.stop_recording();
    assert_eq!(
        tokio::task::spawn_blocking(move || recorder.finish())
            .await
            .unwrap(),
        None
    );
    let mut moved = false;
    for (i, (t, views)) in samples.iter().enumerate() {
        let at = t.to_string();
        for ((_, word), view) in KINDS.iter().zip(views) {
            let out = replay(&fleet, &path, &["--at", &at, "get", word, "-o", "json"]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            assert_eq!(&stdout(&out), view, "get {word} at sample {i} ({at})");
        }
        moved |= i > 0 && samples[i - 1].1[1] != views[1];
    }
    assert!(moved, "the churn changed the servers between samples");
}

fn record(fleet: &TestFleet, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hubdeck"))
        .arg("record")
        .args(args)
        .env("KUBECONFIG", fleet.sim.kubeconfig_path())
        .env("HUBDECK_CONFIG_DIR", fleet.home.path().join("config"))
        .env("HUBDECK_STATE_DIR", fleet.home.path().join("state"))
        .env_remove("HUBDECK_FLEET")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hubdeck record starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hubdeck_record_keeps_the_fleet_before_and_after_an_action_and_the_action() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let ns = c.hub_namespaces()[0].clone();
    let hub = format!("{}/{ns}", c.name());
    let path = fleet.home.path().join("incident.hdrec");
    let child = record(&fleet, &["--for", "14s", "--out", path.to_str().unwrap()]);
    let mut session = fleet.session().await;
    // Both models settle on the quiet fleet; then it is sampled.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let before_t = Timestamp::now();
    session.drain_at(before_t);
    let before = shown(&session.fleet, Kind::Hubs, before_t);

    let out = cli(&fleet, &["scale", "hub", &hub, "--replicas", "0", "--yes"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let down = |f: &Fleet| {
        f.hubs()
            .any(|h| *h.id.key.namespace == *ns && h.summary.health.level == HealthLevel::Down)
    };
    assert!(session.wait_for(Duration::from_secs(10), down).await);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after_t = Timestamp::now();
    session.drain_at(after_t);
    let after = shown(&session.fleet, Kind::Hubs, after_t);
    assert_ne!(before, after);

    let done = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status.code(), Some(0), "{}", stderr(&done));
    for (t, view) in [(before_t, &before), (after_t, &after)] {
        let out = replay(
            &fleet,
            &path,
            &["--at", &t.to_string(), "get", "hubs", "-o", "json"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(&stdout(&out), view, "at {t}");
    }
    let window = [before_t.to_string(), after_t.to_string()];
    let out = replay(
        &fleet,
        &path,
        &["--between", &window[0], &window[1], "changes", "-o", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let changes: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let items = changes["items"].as_array().unwrap();
    let action = items
        .iter()
        .find(|i| i["kind"] == "action" && i["op"] == "ok")
        .unwrap_or_else(|| panic!("the scale is interleaved: {items:#?}"));
    assert_eq!(action["object"], hub.as_str());
    assert!(
        action["detail"]
            .as_str()
            .unwrap()
            .starts_with("scale-hub by "),
        "{action}"
    );
    assert!(
        items
            .iter()
            .any(|i| i["kind"] == "deployment" && i["object"] == format!("{ns}/hub")),
        "{items:#?}"
    );

    // A window exported replays as the original does over it.
    let small = fleet.home.path().join("window.hdrec");
    let out = replay(
        &fleet,
        &path,
        &[
            "--between",
            &window[0],
            &window[1],
            "--export",
            small.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(std::fs::metadata(&small).unwrap().len() < std::fs::metadata(&path).unwrap().len());
    let out = replay(
        &fleet,
        &small,
        &["--at", &window[1], "get", "hubs", "-o", "json"],
    );
    assert_eq!(stdout(&out), after);
    let out = replay(
        &fleet,
        &small,
        &["--at", &window[0], "get", "hubs", "-o", "json"],
    );
    assert_eq!(stdout(&out), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_errors_name_the_file_and_the_time() {
    let fleet = TestFleet::small().await;
    let missing = fleet.home.path().join("nope.hdrec");
    let out = replay(&fleet, &missing, &["get", "hubs"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("nope.hdrec"), "{}", stderr(&out));
    let junk = fleet.home.path().join("junk.hdrec");
    std::fs::write(&junk, "hello, not a recording").unwrap();
    let out = replay(&fleet, &junk, &["get", "hubs"]);
    assert!(
        stderr(&out).contains("junk.hdrec: not a hubdeck recording"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_console_shows_the_first_ones_fleet_as_stale_until_the_clusters_list() {
    use common::tmux::Tmux;
    let fleet = TestFleet::small().await;
    let bin = env!("CARGO_BIN_EXE_hubdeck");
    let cmd = format!(
        "env KUBECONFIG={kc} HUBDECK_CONFIG_DIR={home}/config HUBDECK_STATE_DIR={home}/state NO_COLOR=1 {bin}; echo EXIT=$?; sleep 60",
        kc = fleet.sim.kubeconfig_path().display(),
        home = fleet.home.path().display()
    );
    let first = Tmux::start(&cmd);
    let s = tokio::task::block_in_place(|| {
        first.wait_for("the live hubs", |s| {
            s.contains("Hubs (5)") && !s.contains("◌")
        })
    });
    assert!(!s.contains("stale"), "nothing recorded yet: {s}");
    // A few seconds of it recorded, then quit.
    tokio::time::sleep(Duration::from_secs(2)).await;
    first.keys(&["q"]);
    tokio::task::block_in_place(|| {
        first.wait_for("the first console to exit", |s| s.contains("EXIT=0"))
    });
    drop(first);

    // Slow API servers: the second console's lists take seconds, its recorded rows do not.
    for c in fleet.sim.clusters() {
        c.set_latency(Duration::from_millis(5000));
    }
    let second = Tmux::start(&cmd);
    let stale = tokio::task::block_in_place(|| {
        second.wait_for("the recorded hubs, marked stale", |s| {
            s.contains("Hubs (5)") && s.contains("stale: recorded")
        })
    });
    assert!(
        stale.contains("◷"),
        "stale clusters are marked in the status line: {stale}"
    );
    let live = tokio::task::block_in_place(|| {
        second.wait_for("the live lists to replace them", |s| {
            s.contains("Hubs (5)") && !s.contains("stale") && !s.contains("◷")
        })
    });
    assert!(live.contains("ok"), "{live}");
    second.keys(&["q"]);
}
