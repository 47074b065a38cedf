//! hubdeck's Alertmanager and hub API clients against the demo fleet: through the service
//! proxy to a cluster's fake Alertmanager and the port-forward to each hub's fake REST API,
//! as the console reaches them. The fleet is the `hubdeck-sim` crate's, which speaks the
//! protocols from their own documents, so these tests check the clients, not a mirror.

use std::path::Path;
use std::time::Duration;

use hubdeck::alerts::{AlertmanagerClient, SilenceSpec, discover_alertmanager};
use hubdeck::fleet::{ClusterId, HubId, HubKey};
use hubdeck::hubapi::{HubApiClient, HubApiError, HubPod, HubToken, StopOutcome, TokenSource};
use hubdeck_sim::{FleetSpec, Identity, SimCluster, SimFleet};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

async fn client_for(path: &Path, context: &str) -> Client {
    let kc = Kubeconfig::read_from(path).unwrap();
    let opts = KubeConfigOptions {
        context: Some(context.to_string()),
        ..Default::default()
    };
    let cfg = Config::from_custom_kubeconfig(kc, &opts).await.unwrap();
    Client::try_from(cfg).unwrap()
}

/// The small still fleet, its first cluster, and an admin client for it.
async fn small() -> (SimFleet, SimCluster, Client) {
    let fleet = SimFleet::start(FleetSpec::small()).await.unwrap();
    let c = fleet.clusters()[0].clone();
    let client = client_for(fleet.kubeconfig_path(), c.name()).await;
    (fleet, c, client)
}

fn api_code(e: kube::Error) -> u16 {
    match e {
        kube::Error::Api(s) => s.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn hub_id(c: &SimCluster, ns: &str) -> HubId {
    HubId {
        cluster: ClusterId::new(c.name()),
        key: HubKey {
            namespace: ns.into(),
            release: ns.into(),
        },
    }
}

fn user_pods(c: &SimCluster, ns: &str) -> usize {
    c.pods()
        .iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(ns))
        .filter(|p| {
            // Dask-gateway's pods carry no `component` label: filter on it, never index it.
            p.metadata.labels.as_ref().and_then(|l| l.get("component"))
                == Some(&"singleuser-server".to_string())
        })
        .count()
}

#[tokio::test]
async fn alertmanager_answers_through_the_service_proxy() {
    let (fleet, c, client) = small().await;
    let am = c.alertmanager().expect("cluster 0 has an Alertmanager");
    let ns = c.hub_namespaces()[0].clone();
    am.fire(
        &[
            ("alertname", "KubePodCrashLooping"),
            ("namespace", &ns),
            ("pod", "hub-0"),
        ],
        &[("summary", "crash")],
    );
    let svc = discover_alertmanager(&client, &[])
        .await
        .unwrap()
        .expect("found");
    assert_eq!(svc.to_string(), "support/support-alertmanager:9093");
    let amc = AlertmanagerClient::via_service(&ClusterId::new(c.name()), client.clone(), svc);
    amc.ready().await.unwrap();
    let alerts = amc.alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].namespace.as_deref(), Some(ns.as_str()));
    let spec = SilenceSpec::for_alert(&alerts[0], Duration::from_secs(600), "me", "looking");
    let id = amc.create_silence(&spec).await.unwrap();
    assert_eq!(amc.alerts().await.unwrap()[0].silenced_by, vec![id]);
    let last = c.requests().into_iter().last().unwrap();
    assert_eq!(
        last.path,
        "/api/v1/namespaces/support/services/support-alertmanager:9093/proxy/api/v2/alerts"
    );

    // Other Services have nothing behind them, unknown ones do not exist: both 404.
    let raw = |path: &str| {
        let req = http::Request::get(path).body(Vec::new()).unwrap();
        let client = client.clone();
        async move { client.request_text(req).await }
    };
    let prom = "/api/v1/namespaces/support/services/support-prometheus-server:9090/proxy/";
    assert_eq!(api_code(raw(prom).await.unwrap_err()), 404);
    let none = "/api/v1/namespaces/support/services/nope:80/proxy/";
    assert_eq!(api_code(raw(none).await.unwrap_err()), 404);
    let bare = "/api/v1/namespaces/support/services/support-alertmanager/proxy/-/ready";
    assert_eq!(raw(bare).await.unwrap(), "OK");

    // A read-only identity may read through the proxy but not create silences.
    let ro_path = fleet.kubeconfig_path().with_extension("ro");
    fleet
        .write_kubeconfig(&ro_path, Identity::ReadOnly)
        .unwrap();
    let ro = client_for(&ro_path, c.name()).await;
    let svc = discover_alertmanager(&ro, &[]).await.unwrap().unwrap();
    let amc = AlertmanagerClient::via_service(&ClusterId::new(c.name()), ro, svc);
    assert_eq!(amc.alerts().await.unwrap().len(), 1);
    let err = amc.create_silence(&spec).await.unwrap_err().to_string();
    assert!(err.contains("403"), "{err}");
    let _ = std::fs::remove_file(ro_path);
    fleet.shutdown().await;
}

#[tokio::test]
async fn hub_api_answers_through_the_port_forward_with_the_secret_token() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[1].clone();
    let hub = hub_id(&c, &ns);
    let token = TokenSource::HubSecret(client.clone())
        .resolve(&hub)
        .await
        .unwrap();
    let api = HubApiClient::port_forward(&hub, client.clone(), HubPod::new(&*ns, &*ns), token);
    let servers = api.servers().await.unwrap();
    let pods = user_pods(&c, &ns);
    assert!(pods > 0);
    assert_eq!(servers.len(), pods);
    assert!(servers.iter().all(|s| s.ready && s.last_activity.is_some()));

    let victim = servers[0].clone();
    let outcome = api.stop_server(&victim.user, &victim.server).await.unwrap();
    assert_eq!(outcome, StopOutcome::Stopped);
    let left = api.servers().await.unwrap();
    assert_eq!(left.len(), servers.len() - 1);
    assert_eq!(
        user_pods(&c, &ns),
        pods - 1,
        "the stopped server's pod is gone"
    );

    // A server started in the sim shows up in the hub.
    c.start_server(&ns, "new-user", "");
    let again = api.servers().await.unwrap();
    assert!(again.iter().any(|s| &*s.user == "new-user"));

    // A wrong token is rejected as such.
    let bad = HubApiClient::port_forward(
        &hub,
        client.clone(),
        HubPod::new(&*ns, &*ns),
        HubToken::new("wrong"),
    );
    assert!(matches!(
        bad.servers().await.unwrap_err(),
        HubApiError::Unauthorized { .. }
    ));
    fleet.shutdown().await;
}
