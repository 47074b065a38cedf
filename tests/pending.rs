//! Why a server is pending, as its events tell it: through `hubdeck get` (the binary) and the
//! library's model, against sim clusters writing the events real ones write.

mod common;

use std::time::Duration;

use common::fleet::{TestFleet, stderr, stdout};
use hubdeck_sim::Pending;
use serde_json::Value;

/// `hubdeck get KIND -o json` against the fleet, in a blocking task.
async fn get_json(fleet: &TestFleet, kind: &str) -> Value {
    let out = tokio::task::spawn_blocking({
        let kc = fleet.sim.kubeconfig_path().to_path_buf();
        let home = fleet.home.path().to_path_buf();
        let kind = kind.to_string();
        move || common::fleet::hubdeck_with(&kc, &home, &["get", &kind, "-o", "json"])
    })
    .await
    .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("valid JSON")
}

fn row_of<'a>(doc: &'a Value, pod: &str) -> &'a Value {
    doc["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["pod"] == pod))
        .unwrap_or_else(|| panic!("{pod} not listed: {doc}"))
}

fn reasons(row: &Value) -> Vec<&str> {
    row["scheduling"]
        .as_array()
        .map(|s| s.iter().filter_map(|e| e["reason"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_waiting_for_a_scale_up_says_so_newest_step_first() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0);
    // The new node takes a minute to join: long enough to ask in between.
    c.set_timed(true);
    let ns = c.hub_namespaces()[0].clone();
    let pod = c.start_server_pending(&ns, "ada", "", Some(Pending::ScaleUp));
    let doc = get_json(&fleet, "servers").await;
    let row = row_of(&doc, &pod);
    assert_eq!(row["phase"], "Pending");
    assert_eq!(
        reasons(row),
        ["TriggeredScaleUp", "FailedScheduling"],
        "{row}"
    );
    let up = &row["scheduling"][0];
    // `scale-up triggered: GROUP 2->3`
    let summary = up["summary"].as_str().unwrap();
    let sizes: Vec<u32> = summary
        .strip_prefix("scale-up triggered: ")
        .and_then(|s| s.rsplit(' ').next())
        .map(|s| s.split("->").filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_default();
    assert!(sizes.len() == 2 && sizes[1] == sizes[0] + 1, "{up}");
    assert!(
        up["message"]
            .as_str()
            .unwrap()
            .starts_with("pod triggered scale-up: [{"),
        "{up}"
    );
    let failed = &row["scheduling"][1];
    let nodes = c.nodes().len();
    assert!(
        failed["summary"]
            .as_str()
            .unwrap()
            .starts_with(&format!("0/{nodes} nodes: ")),
        "{failed}"
    );
    assert!(failed["first_seen"].is_string() && failed["count"] == 1);
    // The table says the newest step where it says the phase.
    let out = fleet.hubdeck(&["get", "servers"]);
    let user = "ada";
    let line = stdout(&out)
        .lines()
        .find(|l| l.contains(&format!(" {user} ")))
        .map(str::to_string)
        .unwrap_or_default();
    assert!(
        line.contains("Pending (scale-up triggered: "),
        "{}",
        stdout(&out)
    );
    // Running servers have no story.
    let running = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["phase"] == "Running");
    assert!(running.clone().count() > 0);
    assert!(
        running
            .into_iter()
            .all(|i| i["scheduling"] == Value::Array(vec![]))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_at_its_maximum_says_so_in_the_server_and_the_pending_alert() {
    let fleet = TestFleet::small().await;
    std::fs::create_dir_all(fleet.home.path().join("config")).unwrap();
    std::fs::write(
        fleet.home.path().join("config/settings.toml"),
        "pending_after_secs = 1\n",
    )
    .unwrap();
    let c = fleet.cluster(0);
    let ns = c.hub_namespaces()[0].clone();
    let pod = c.start_server_pending(&ns, "bo", "", Some(Pending::PoolAtMax));
    // Pending longer than the threshold by the time hubdeck looks.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let doc = get_json(&fleet, "servers").await;
    let row = row_of(&doc, &pod);
    assert_eq!(reasons(row), ["NotTriggerScaleUp", "FailedScheduling"]);
    assert_eq!(
        row["scheduling"][0]["summary"],
        "no scale-up: max node group size reached"
    );
    let alerts = get_json(&fleet, "alerts").await;
    let pending = alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "UserServersPendingTooLong" && a["cluster"] == c.name())
        .unwrap_or_else(|| panic!("no pending alert: {alerts}"));
    assert!(
        pending["summary"]
            .as_str()
            .unwrap()
            .ends_with("(newest: no scale-up: max node group size reached)"),
        "{pending}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pulled_image_says_how_long_the_pull_took() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(1);
    let ns = c.hub_namespaces()[0].clone();
    let pod = c.start_server_pending(&ns, "cy", "", Some(Pending::MissingSecret));
    let doc = get_json(&fleet, "servers").await;
    let row = row_of(&doc, &pod);
    assert_eq!(
        reasons(row),
        ["Failed", "Pulled", "Pulling", "Scheduled"],
        "{row}"
    );
    let failed = &row["scheduling"][0]["summary"];
    assert!(
        failed
            .as_str()
            .unwrap()
            .starts_with("container not started: secret \""),
        "{failed}"
    );
    let pulled = &row["scheduling"][1];
    let secs = pulled["pull_seconds"].as_f64().expect("a pull time");
    assert!((3.0..=20.0).contains(&secs), "{pulled}");
    let said = pulled["message"].as_str().unwrap();
    let shown = pulled["summary"].as_str().unwrap();
    assert_eq!(shown, format!("image pulled in {secs:.1}s"), "{said}");
    assert!(row["scheduling"][2]["pull_seconds"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_story_is_watched_without_every_event_and_goes_when_the_server_runs() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0);
    let mut session = fleet.session().await;
    let ns = c.hub_namespaces()[0].clone();
    let pod = c.start_server_pending(&ns, "dee", "", Some(Pending::PoolAtMax));
    let story = |f: &hubdeck::fleet::Fleet| {
        f.hubs()
            .filter_map(|h| h.story(&pod))
            .map(|s| s.len())
            .next()
    };
    assert!(
        session
            .wait_for(Duration::from_secs(10), |f| story(f) == Some(2))
            .await,
        "the story reached the model"
    );
    let watches: Vec<String> = c
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/events") && r.query.contains("watch=true"))
        .map(|r| r.query)
        .collect();
    assert!(
        watches
            .iter()
            .any(|q| q.contains("involvedObject.kind%3DPod") && q.contains("reason%21%3DStarted")),
        "{watches:?}"
    );
    // Scheduled after all, and running: the model lets its story go.
    assert!(c.mutate::<k8s_openapi::api::core::v1::Pod>(&ns, &pod, |p| {
        let status = p.status.get_or_insert_with(Default::default);
        status.phase = Some("Running".into());
    }));
    assert!(
        session
            .wait_for(Duration::from_secs(10), |f| story(f).is_none()
                && f.hubs().any(|h| h.pods.contains_key(&pod)))
            .await,
        "the story went"
    );
}
