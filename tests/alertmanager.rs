//! hubdeck's Alertmanager client against a real `prometheus-alertmanager`.

mod common;

use std::time::Duration;

use common::real_servers::Alertmanager;
use hubdeck::alerts::{AlertmanagerClient, AlertsError, SilenceSpec, SilenceState};
use hubdeck::fleet::{ClusterId, Severity};
use serde_json::json;

fn cluster() -> ClusterId {
    ClusterId::new("leap")
}

async fn firing(am: &Alertmanager) {
    am.post_alerts(json!([
        {
            "labels": {"alertname": "HubPodCrashLooping", "namespace": "staging",
                       "pod": "hub-6d5b9c", "release": "staging", "severity": "critical"},
            "annotations": {"summary": "hub pod restarts repeatedly"}
        },
        {
            "labels": {"alertname": "VolumeAlmostFull", "namespace": "prod",
                       "persistentvolumeclaim": "hub-db-dir", "helm_release": "prod",
                       "severity": "warning"},
            "annotations": {"description": "hub-db-dir is 93% full"}
        }
    ]))
    .await;
}

#[tokio::test]
async fn firing_alerts_are_attached_to_hub_and_object() {
    let am = Alertmanager::start().await;
    firing(&am).await;
    let client = AlertmanagerClient::at_url(&cluster(), &am.url).unwrap();
    let alerts = client.alerts().await.unwrap();
    assert_eq!(alerts.len(), 2, "{alerts:?}\n{}", am.log());

    let crash = &alerts[0];
    assert_eq!(&*crash.name, "HubPodCrashLooping");
    assert_eq!(crash.severity, Severity::Critical);
    assert_eq!(crash.namespace.as_deref(), Some("staging"));
    assert_eq!(crash.release.as_deref(), Some("staging"));
    assert_eq!(crash.pod.as_deref(), Some("hub-6d5b9c"));
    assert_eq!(crash.summary, "hub pod restarts repeatedly");
    assert!(crash.since.is_some());
    assert!(crash.silenced_by.is_empty());
    assert_eq!(
        crash.fingerprint.len(),
        16,
        "Alertmanager fingerprints are 16 hex digits"
    );

    let volume = &alerts[1];
    assert_eq!(volume.release.as_deref(), Some("prod"));
    assert_eq!(volume.pod, None);
    assert_eq!(volume.summary, "hub-db-dir is 93% full");
    assert!(
        volume
            .labels
            .contains(&("persistentvolumeclaim".into(), "hub-db-dir".into()))
    );
}

#[tokio::test]
async fn silenced_alert_stays_visible_until_silence_expires() {
    let am = Alertmanager::start().await;
    firing(&am).await;
    let client = AlertmanagerClient::at_url(&cluster(), &format!("{}/api/v2/", am.url)).unwrap();
    let alerts = client.alerts().await.unwrap();
    let target = alerts
        .iter()
        .find(|a| &*a.name == "VolumeAlmostFull")
        .unwrap();

    let spec = SilenceSpec::for_alert(
        target,
        Duration::from_secs(2 * 3600),
        "oncall@example.org",
        "resizing the disk",
    );
    let id = client.create_silence(&spec).await.unwrap();

    let silences = client.silences().await.unwrap();
    let silence = silences.iter().find(|s| s.id == id).unwrap();
    assert_eq!(silence.state, SilenceState::Active);
    assert_eq!(silence.created_by, "oncall@example.org");
    assert_eq!(silence.comment, "resizing the disk");
    assert_eq!(silence.matchers.len(), target.labels.len());
    let window = silence.ends.duration_since(silence.starts);
    assert!((window.as_secs() - 7200).abs() <= 1, "{window:?}");

    let alerts = client.alerts().await.unwrap();
    let muted = alerts
        .iter()
        .find(|a| a.fingerprint == target.fingerprint)
        .unwrap();
    assert_eq!(muted.silenced_by, vec![id.clone()]);
    let other = alerts
        .iter()
        .find(|a| a.fingerprint != target.fingerprint)
        .unwrap();
    assert!(
        other.silenced_by.is_empty(),
        "the silence mutes only its alert"
    );

    client.expire_silence(&id).await.unwrap();
    let silences = client.silences().await.unwrap();
    assert_eq!(
        silences.iter().find(|s| s.id == id).unwrap().state,
        SilenceState::Expired
    );
    let alerts = client.alerts().await.unwrap();
    assert_eq!(alerts.len(), 2);
    assert!(alerts.iter().all(|a| a.silenced_by.is_empty()));
}

#[tokio::test]
async fn unknown_silence_and_bad_silence_are_distinct_errors() {
    let am = Alertmanager::start().await;
    let client = AlertmanagerClient::at_url(&cluster(), &am.url).unwrap();
    let err = client
        .expire_silence("00000000-0000-0000-0000-000000000000")
        .await
        .unwrap_err();
    assert!(matches!(err, AlertsError::SilenceNotFound { .. }), "{err}");
    // Alertmanager checks an id's UUID form before looking it up (422), yet it names no
    // silence all the same.
    let err = client.expire_silence("no-such-silence").await.unwrap_err();
    assert!(matches!(err, AlertsError::SilenceNotFound { .. }), "{err}");

    let empty = SilenceSpec {
        matchers: Vec::new(),
        starts: None,
        duration: Duration::from_secs(60),
        created_by: "me".into(),
        comment: "no matchers".into(),
    };
    let err = client.create_silence(&empty).await.unwrap_err();
    match &err {
        AlertsError::Http { status, body, .. } => {
            assert!((400..500).contains(status), "{err}");
            assert!(body.contains("matchers"), "{err}");
        }
        other => panic!("expected an HTTP error, got {other}"),
    }
    assert!(err.to_string().contains("leap"), "{err}");
}

#[tokio::test]
async fn stopped_alertmanager_is_unreachable_naming_the_url() {
    let am = Alertmanager::start().await;
    let url = am.url.clone();
    drop(am);
    let client = AlertmanagerClient::at_url(&cluster(), &url).unwrap();
    let err = client.alerts().await.unwrap_err();
    assert!(err.is_unreachable(), "{err}");
    let line = err.to_string();
    assert!(line.contains(&url) && line.contains("leap"), "{line}");
    assert!(!line.contains('\n'), "{line}");
}

/// The whole path a person takes, against the real Alertmanager: `get alerts` shows it, the
/// SilenceAlert action (CLI) silences it, `silences --expire` (ExpireSilence) ends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_silences_and_expires_through_the_action_layer() {
    let am = Alertmanager::start().await;
    firing(&am).await;
    let fleet = common::fleet::TestFleet::small().await;
    let cluster = fleet.cluster(0).name().to_string();
    let fleet_file = fleet.home.path().join("fleet.toml");
    std::fs::write(
        &fleet_file,
        format!(
            "[[cluster]]\nname = \"{cluster}\"\nalertmanager_url = \"{}\"\n",
            am.url
        ),
    )
    .unwrap();
    let run = |args: Vec<String>| {
        let kc = fleet.sim.kubeconfig_path().to_path_buf();
        let home = fleet.home.path().to_path_buf();
        let fleet_file = fleet_file.clone();
        tokio::task::spawn_blocking(move || {
            let mut all = vec!["--fleet".to_string(), fleet_file.display().to_string()];
            all.extend(args);
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            common::fleet::hubdeck_with(&kc, &home, &refs)
        })
    };
    let silenced = |out: &std::process::Output| -> serde_json::Value {
        let doc: serde_json::Value =
            serde_json::from_str(&common::fleet::stdout(out)).expect("JSON");
        doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "HubPodCrashLooping")
            .cloned()
            .unwrap_or_else(|| panic!("alert listed: {doc}"))
    };

    let before = run(vec![
        "get".into(),
        "alerts".into(),
        "-o".into(),
        "json".into(),
    ])
    .await
    .unwrap();
    assert_eq!(silenced(&before)["origin"], "alertmanager");
    assert_eq!(silenced(&before)["silenced_by"], json!([]));

    let out = run([
        "silence",
        &cluster,
        "HubPodCrashLooping",
        "--for",
        "1h",
        "-m",
        "hub upgrade",
        "--yes",
    ]
    .map(String::from)
    .to_vec())
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        common::fleet::stderr(&out)
    );
    let text = common::fleet::stdout(&out);
    let id = text
        .lines()
        .find_map(|l| l.strip_prefix("silence ")?.strip_suffix(" created"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("silence id in: {text}"));

    let mut seen = false;
    for _ in 0..20 {
        let after = run(vec![
            "get".into(),
            "alerts".into(),
            "-o".into(),
            "json".into(),
        ])
        .await
        .unwrap();
        if silenced(&after)["silenced_by"] == json!([id.clone()]) {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(seen, "alert shows as silenced by {id}");

    let out = run(vec![
        "silences".into(),
        cluster.clone(),
        "--expire".into(),
        id.clone(),
        "--yes".into(),
    ])
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        common::fleet::stderr(&out)
    );
    let list = run(vec![
        "silences".into(),
        cluster.clone(),
        "-o".into(),
        "json".into(),
    ])
    .await
    .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&common::fleet::stdout(&list)).unwrap();
    let state = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id.as_str())
        .map(|s| s["state"].clone());
    assert_eq!(state, Some(json!("expired")), "{doc}");
    let audit = hubdeck::action::AuditLog::new(fleet.audit_path())
        .outcomes()
        .unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|r| (r.action.as_str(), r.outcome.as_str()))
        .collect();
    assert_eq!(actions, [("silence-alert", "ok"), ("expire-silence", "ok")]);
}
