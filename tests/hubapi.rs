//! hubdeck's JupyterHub API client against a real `jupyterhub` with configurable-http-proxy.
//! The test hub serves pages of two users, so every listing here crosses pages.

mod common;

use std::time::{Duration, Instant};

use common::real_servers::JupyterHub;
use hubdeck::fleet::{ClusterId, FleetUpdate, HubId, HubKey, ServerActivity, SourceState};
use hubdeck::hubapi::{
    HubApiClient, HubApiError, HubEndpoint, HubSource, HubToken, StopOutcome, TokenSource,
    poll_activity,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn hub_id() -> HubId {
    HubId {
        cluster: ClusterId::new("leap"),
        key: HubKey {
            namespace: "prod".into(),
            release: "prod".into(),
        },
    }
}

fn client(hub: &JupyterHub) -> HubApiClient {
    HubApiClient::at_url(&hub_id(), &hub.api_url, HubToken::new(hub.token.clone())).unwrap()
}

fn find<'a>(servers: &'a [ServerActivity], user: &str, server: &str) -> Option<&'a ServerActivity> {
    servers
        .iter()
        .find(|s| &*s.user == user && &*s.server == server)
}

/// A hub with users alice, bob@example.org (named server `gpu`), carol (no server) and
/// dave.smith, three of them running.
async fn busy_hub() -> JupyterHub {
    let hub = JupyterHub::start().await;
    hub.create_users(&["alice", "bob@example.org", "carol", "dave.smith"])
        .await;
    hub.start_server("alice", "").await;
    hub.start_server("bob@example.org", "gpu").await;
    hub.start_server("dave.smith", "").await;
    hub
}

#[tokio::test]
async fn active_servers_are_listed_across_pages_with_activity() {
    let hub = busy_hub().await;
    // The hub keeps the latest activity and refuses any more than an hour ahead: report
    // activity half an hour ahead, in whole seconds.
    let when = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() + 1800).unwrap();
    hub.set_activity("alice", "", &when.to_string()).await;

    let servers = client(&hub).servers().await.unwrap();
    assert_eq!(servers.len(), 3, "{servers:?}");
    assert!(find(&servers, "carol", "").is_none(), "carol has no server");
    let alice = find(&servers, "alice", "").unwrap();
    assert!(alice.ready);
    assert_eq!(alice.pending, None);
    assert!(alice.started.is_some());
    assert_eq!(alice.last_activity, Some(when));
    let bob = find(&servers, "bob@example.org", "gpu").unwrap();
    assert!(bob.ready && bob.started.is_some() && bob.last_activity.is_some());
    assert!(find(&servers, "dave.smith", "").is_some());

    // The same through the proxy, as at https://<domain>/hub/api.
    let via_proxy = HubApiClient::at_url(
        &hub_id(),
        &hub.proxy_api_url,
        HubToken::new(hub.token.clone()),
    )
    .unwrap()
    .servers()
    .await
    .unwrap();
    assert_eq!(via_proxy, servers);
}

#[tokio::test]
async fn stopped_server_disappears_from_hub_view() {
    let hub = busy_hub().await;
    let api = client(&hub);

    let outcome = api.stop_server("bob@example.org", "gpu").await.unwrap();
    assert!(
        matches!(outcome, StopOutcome::Stopped | StopOutcome::Stopping),
        "{outcome:?}"
    );
    let outcome = api.stop_server("alice", "").await.unwrap();
    assert!(
        matches!(outcome, StopOutcome::Stopped | StopOutcome::Stopping),
        "{outcome:?}"
    );

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let bob = hub.user("bob@example.org").await;
        let alice = hub.user("alice").await;
        let gone = bob["servers"].get("gpu").is_none() && alice["servers"].get("").is_none();
        if gone {
            break;
        }
        assert!(Instant::now() < deadline, "hub still lists: {bob} {alice}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let servers = api.servers().await.unwrap();
    assert_eq!(servers.len(), 1, "{servers:?}");
    assert!(find(&servers, "dave.smith", "").is_some());

    // Stopping is not removing: the named server is still known to the hub.
    let (status, named) = hub
        .admin(
            reqwest::Method::GET,
            "/users/bob%40example.org?include_stopped_servers=1",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(named["servers"].get("gpu").is_some(), "{named}");
}

#[tokio::test]
async fn stop_outcomes_tell_missing_from_already_stopped() {
    let hub = JupyterHub::start().await;
    hub.create_users(&["carol"]).await;
    let api = client(&hub);

    let outcome = api.stop_server("nobody", "").await.unwrap();
    assert!(
        matches!(outcome, StopOutcome::NotFound { .. }),
        "{outcome:?}"
    );
    let outcome = api.stop_server("carol", "nope").await.unwrap();
    match outcome {
        StopOutcome::NotFound { message } => assert!(message.contains("nope"), "{message}"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    let outcome = api.stop_server("carol", "").await.unwrap();
    assert_eq!(
        outcome,
        StopOutcome::Stopped,
        "a stopped server stays stopped"
    );
}

#[tokio::test]
async fn wrong_token_is_rejected_without_leaking_it() {
    let hub = JupyterHub::start().await;
    let secret = "not-the-right-token-4f1c9a";
    let api = HubApiClient::at_url(&hub_id(), &hub.api_url, HubToken::new(secret)).unwrap();
    let err = api.servers().await.unwrap_err();
    assert!(matches!(err, HubApiError::Unauthorized { .. }), "{err}");
    assert!(err.is_auth());
    let line = err.to_string();
    assert!(
        line.contains("leap/prod") && !line.contains(secret),
        "{line}"
    );
    assert!(!format!("{err:?} {api:?}").contains(secret));

    let err = api.stop_server("alice", "").await.unwrap_err();
    assert!(matches!(err, HubApiError::Unauthorized { .. }), "{err}");
}

#[tokio::test]
async fn poller_reports_activity_then_a_missing_token_once() {
    let hub = busy_hub().await;
    let (tx, mut rx) = mpsc::channel(16);
    let shutdown = CancellationToken::new();
    let source = HubSource {
        endpoint: HubEndpoint::Url(hub.api_url.clone()),
        token: TokenSource::Value(HubToken::new(hub.token.clone())),
    };
    let task = tokio::spawn(poll_activity(
        hub_id(),
        source,
        tx.clone(),
        Duration::from_millis(100),
        shutdown.clone(),
    ));
    let update = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    match update {
        FleetUpdate::Activity {
            hub: id,
            source,
            servers,
        } => {
            assert_eq!(id, hub_id());
            assert_eq!(source, SourceState::Ok);
            assert_eq!(servers.len(), 3);
        }
        other => panic!("unexpected {other:?}"),
    }
    // Nothing changes: nothing more is sent although the poller keeps polling.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), rx.recv())
            .await
            .is_err()
    );
    shutdown.cancel();
    task.await.unwrap();

    let source = HubSource {
        endpoint: HubEndpoint::Url(hub.api_url.clone()),
        token: TokenSource::Env("HUBDECK_TEST_UNSET_TOKEN_VARIABLE".into()),
    };
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(poll_activity(
        hub_id(),
        source,
        tx,
        Duration::from_millis(10),
        shutdown.clone(),
    ));
    let update = rx.recv().await.unwrap();
    assert!(
        matches!(
            &update,
            FleetUpdate::Activity { source: SourceState::Absent { note }, .. } if note == "no hub token"
        ),
        "{update:?}"
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err(),
        "a missing token is reported once"
    );
    shutdown.cancel();
    task.await.unwrap();
}

/// A hub whose API (a real JupyterHub) rejects hubdeck's token: stopping one of its servers
/// is refused naming the hub API and its answer, and the pod is left alone; deleting pods is
/// only for hubs without a token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_api_refusal_is_a_refusal_and_no_pod_is_deleted() {
    use common::fleet::TestFleet;
    use hubdeck::action::{ActionError, AuditLog, Mode, Request, ServerRef, resolve};
    use hubdeck::config::fleet_file::HubEntry;
    use hubdeck::fleet::HubRef;
    use hubdeck::headless::session::Session;
    use hubdeck::kube::targets;
    use hubdeck::sources::Polls;

    let real = JupyterHub::start().await;
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let ns = c.hub_namespaces()[0].clone();
    let kc = targets::read_kubeconfig(fleet.sim.kubeconfig_path()).unwrap();
    let mut list = targets::from_kubeconfig(kc, &[]).unwrap();
    let target = list.iter_mut().find(|t| t.name == c.name()).unwrap();
    target.hubs.insert(
        ns.clone(),
        HubEntry {
            api_url: Some(real.api_url.clone()),
            token: Some("not-a-token-the-hub-knows-7d1e".into()),
            ..HubEntry::default()
        },
    );
    let poll = Polls {
        alerts: Duration::from_secs(60),
        activity: Duration::from_millis(300),
        metrics: None,
    };
    let mut s = Session::start_polling(list, hubdeck::fleet::Thresholds::default(), poll);
    s.settle(Duration::from_secs(20)).await;
    let rejected = |f: &hubdeck::fleet::Fleet| {
        f.hubs().any(|h| {
            *h.id.key.namespace == *ns && matches!(h.activity.source, SourceState::Failing { .. })
        })
    };
    assert!(s.wait_for(Duration::from_secs(20), rejected).await);
    let hub = s
        .fleet
        .hubs()
        .find(|h| h.id.cluster.as_str() == c.name() && *h.id.key.namespace == *ns)
        .unwrap();
    let user = hub
        .servers()
        .find_map(|p| p.owner.as_ref())
        .expect("a running server")
        .clone();
    let request = Request::StopServers {
        servers: vec![ServerRef {
            hub: HubRef::from(&hub.id),
            user: user.user.to_string(),
            server: user.server.to_string(),
        }],
    };
    let action = resolve(&s.fleet, &request, jiff::Timestamp::now()).unwrap();
    let runner = s.runner(false, AuditLog::new(fleet.audit_path()));
    let plan = runner.plan(&action);
    assert!(
        plan.steps
            .iter()
            .all(|st| matches!(st.via, hubdeck::action::Via::HubApi { .. })),
        "the plan says it goes through the hub API: {plan:?}"
    );
    c.clear_requests();
    let outcome = runner.execute(&action, Mode::Run).await;
    let Err(ActionError::Refused(why)) = &outcome.result else {
        panic!("not a refusal: {:?}", outcome.result);
    };
    assert!(why.contains("hub API"), "{why}");
    assert!(!why.contains("not-a-token"), "the token never shows: {why}");
    assert_eq!(
        hubdeck::headless::exit::for_action(outcome.result.as_ref().unwrap_err()),
        4
    );
    let deletes: Vec<_> = c
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert!(
        deletes.is_empty(),
        "no pod was deleted instead: {deletes:?}"
    );
}
