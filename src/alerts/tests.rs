//! The Alertmanager client against the demo fleet's fake Alertmanager: directly, and through
//! a loopback stand-in for the API server's service proxy (with discovery by labels).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::fleet::{ClusterId, FleetUpdate, Severity, SourceState};
use hubdeck_sim::fake_alertmanager::FakeAlertmanager;

fn cluster() -> ClusterId {
    ClusterId::new("demo-gcp")
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

fn firing() -> FakeAlertmanager {
    let am = FakeAlertmanager::new();
    am.fire(
        &[
            ("alertname", "HubPodCrashLooping"),
            ("namespace", "staging"),
            ("pod", "hub-6d5b9c"),
            ("release", "staging"),
            ("severity", "critical"),
        ],
        &[("summary", "hub pod restarts repeatedly")],
    );
    am.fire(
        &[
            ("alertname", "VolumeAlmostFull"),
            ("namespace", "prod"),
            ("persistentvolumeclaim", "hub-db-dir"),
            ("severity", "warning"),
        ],
        &[("description", "hub-db-dir is 93% full")],
    );
    am
}

/// A stand-in for a Kubernetes API server: lists `services` (only for the Alertmanager label
/// selector when `with_service`) and proxies to `support/support-alertmanager:9093`.
async fn api_server(am: &FakeAlertmanager, with_service: bool) -> kube::Client {
    #[derive(serde::Deserialize)]
    struct Selector {
        #[serde(rename = "labelSelector")]
        label_selector: Option<String>,
    }
    let services = move |Query(q): Query<Selector>| async move {
        let matches = with_service
            && q.label_selector.as_deref() == Some("app.kubernetes.io/name=alertmanager");
        let items = if matches {
            vec![serde_json::json!({
                "metadata": {"name": "support-alertmanager", "namespace": "support",
                             "labels": {"app.kubernetes.io/name": "alertmanager"}},
                "spec": {"clusterIP": "10.0.0.9", "ports": [{"name": "http", "port": 9093}]}
            })]
        } else {
            Vec::new()
        };
        axum::Json(serde_json::json!({
            "apiVersion": "v1", "kind": "ServiceList", "metadata": {"resourceVersion": "1"},
            "items": items
        }))
    };
    let router = Router::new().route("/api/v1/services", get(services)).nest(
        "/api/v1/namespaces/support/services/support-alertmanager:9093/proxy",
        am.router(),
    );
    let addr = serve(router).await;
    let config = kube::Config::new(format!("http://{addr}").parse().unwrap());
    kube::Client::try_from(config).unwrap()
}

#[tokio::test]
async fn fake_alertmanager_speaks_like_the_real_one() {
    let am = firing();
    let addr = serve(am.router()).await;
    let client = AlertmanagerClient::at_url(&cluster(), &format!("http://{addr}")).unwrap();
    client.ready().await.unwrap();
    let alerts = client.alerts().await.unwrap();
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[0].severity, Severity::Critical);
    assert_eq!(alerts[0].pod.as_deref(), Some("hub-6d5b9c"));
    assert_eq!(alerts[1].summary, "hub-db-dir is 93% full");

    let spec = SilenceSpec::for_alert(&alerts[1], Duration::from_secs(3600), "me", "resizing");
    let id = client.create_silence(&spec).await.unwrap();
    let alerts = client.alerts().await.unwrap();
    assert_eq!(alerts[1].silenced_by, vec![id.clone()]);
    assert!(alerts[0].silenced_by.is_empty());
    let silences = client.silences().await.unwrap();
    assert_eq!(silences[0].state, SilenceState::Active);

    client.expire_silence(&id).await.unwrap();
    assert!(client.alerts().await.unwrap()[1].silenced_by.is_empty());
    assert_eq!(
        client.silences().await.unwrap()[0].state,
        SilenceState::Expired
    );
    let err = client.expire_silence("no-such-silence").await.unwrap_err();
    assert!(matches!(err, AlertsError::SilenceNotFound { .. }), "{err}");
    let empty = SilenceSpec {
        matchers: Vec::new(),
        ..spec
    };
    let err = client.create_silence(&empty).await.unwrap_err();
    assert!(
        matches!(err, AlertsError::Http { status: 422, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn alertmanager_is_discovered_and_reached_through_the_service_proxy() {
    let am = firing();
    let kube = api_server(&am, true).await;
    let service = discover_alertmanager(&kube, &[]).await.unwrap().unwrap();
    assert_eq!(service.to_string(), "support/support-alertmanager:9093");
    let client = AlertmanagerClient::via_service(&cluster(), kube, service);
    let alerts = client.alerts().await.unwrap();
    assert_eq!(alerts.len(), 2);
    let spec = SilenceSpec::for_alert(&alerts[0], Duration::from_secs(60), "me", "looking");
    let id = client.create_silence(&spec).await.unwrap();
    assert_eq!(
        am.alerts()[0].status.silenced_by.len() + am.alerts()[1].status.silenced_by.len(),
        1
    );
    client.expire_silence(&id).await.unwrap();
}

#[tokio::test]
async fn poller_follows_the_discovered_alertmanager() {
    let am = firing();
    let kube = api_server(&am, true).await;
    let (tx, mut rx) = mpsc::channel(8);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(poll_alerts(
        cluster(),
        AlertSource::Discover(kube, Vec::new()),
        tx,
        Duration::from_millis(20),
        Arc::default(),
        shutdown.clone(),
    ));
    let alerts_of = |u: Option<FleetUpdate>| match u {
        Some(FleetUpdate::Alerts {
            source: SourceState::Ok,
            alerts,
            ..
        }) => alerts,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(alerts_of(rx.recv().await).len(), 2);
    assert!(
        tokio::time::timeout(Duration::from_millis(150), rx.recv())
            .await
            .is_err(),
        "no change, no update"
    );
    am.resolve_named("VolumeAlmostFull");
    let alerts = alerts_of(rx.recv().await);
    assert_eq!(alerts.len(), 1);
    assert_eq!(&*alerts[0].name, "HubPodCrashLooping");
    shutdown.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn a_nudge_polls_at_once_instead_of_after_the_interval() {
    let am = firing();
    let kube = api_server(&am, true).await;
    let (tx, mut rx) = mpsc::channel(8);
    let shutdown = CancellationToken::new();
    let nudge = Arc::new(tokio::sync::Notify::new());
    let task = tokio::spawn(poll_alerts(
        cluster(),
        AlertSource::Discover(kube, Vec::new()),
        tx,
        Duration::from_secs(3600),
        nudge.clone(),
        shutdown.clone(),
    ));
    let count = |u: Option<FleetUpdate>| match u {
        Some(FleetUpdate::Alerts { alerts, .. }) => alerts.len(),
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(count(rx.recv().await), 2);
    am.resolve_named("VolumeAlmostFull");
    nudge.notify_one();
    let next = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert_eq!(count(next.expect("polled again at once")), 1);
    shutdown.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn cluster_without_alertmanager_is_absent_not_failing() {
    let am = FakeAlertmanager::new();
    let kube = api_server(&am, false).await;
    assert_eq!(discover_alertmanager(&kube, &[]).await.unwrap(), None);
    let (tx, mut rx) = mpsc::channel(8);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(poll_alerts(
        cluster(),
        AlertSource::Discover(kube, Vec::new()),
        tx,
        Duration::from_millis(10),
        Arc::default(),
        shutdown.clone(),
    ));
    let update = rx.recv().await;
    assert!(
        matches!(
            &update,
            Some(FleetUpdate::Alerts { source: SourceState::Absent { .. }, alerts, .. }) if alerts.is_empty()
        ),
        "{update:?}"
    );
    shutdown.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn unreachable_alertmanager_is_reported_once() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let (tx, mut rx) = mpsc::channel(8);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(poll_alerts(
        cluster(),
        AlertSource::Url(format!("http://{addr}")),
        tx,
        Duration::from_millis(5),
        Arc::default(),
        shutdown.clone(),
    ));
    match rx.recv().await {
        Some(FleetUpdate::Alerts {
            source: SourceState::Failing { error },
            ..
        }) => assert!(
            error.contains("unreachable") && error.contains("demo-gcp"),
            "{error}"
        ),
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(200), rx.recv())
            .await
            .is_err(),
        "the same failure is not sent again"
    );
    shutdown.cancel();
    task.await.unwrap();
}
