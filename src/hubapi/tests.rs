//! The hub API client against the demo fleet's fake hub, over a direct URL and over a raw
//! stream (what a port-forward carries).

use std::net::SocketAddr;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::fleet::{ClusterId, FleetUpdate, HubId, HubKey, SourceState};
use hubdeck_sim::fake_hub::{FakeHub, FakeServer};

const TOKEN: &str = "fake-hub-token-0123456789";

fn hub_id() -> HubId {
    HubId {
        cluster: ClusterId::new("demo"),
        key: HubKey {
            namespace: "staging".into(),
            release: "staging".into(),
        },
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn fake() -> FakeHub {
    let t0 = ts("2025-03-01T08:00:00Z");
    let t1 = ts("2025-03-01T09:30:00Z");
    FakeHub::new(
        TOKEN,
        [
            FakeServer::ready("alice", "", t0, t1),
            FakeServer::ready("bob@example.org", "gpu", t0, t0),
            FakeServer::ready("bob@example.org", "", t0, t1),
            FakeServer::ready("zoë", "", t0, t0),
        ],
    )
}

async fn serve(hub: &FakeHub) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = hub.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

fn url_client(addr: SocketAddr, token: &str) -> HubApiClient {
    HubApiClient::at_url(
        &hub_id(),
        &format!("http://{addr}/hub/api/"),
        HubToken::new(token),
    )
    .unwrap()
}

#[tokio::test]
async fn fake_hub_servers_are_listed_across_pages() {
    let hub = fake();
    hub.add_user("carol");
    hub.set_page_limit(2);
    let addr = serve(&hub).await;
    for client in [
        url_client(addr, TOKEN),
        HubApiClient::over_tcp(&hub_id(), addr, HubToken::new(TOKEN)),
    ] {
        let servers = client.servers().await.unwrap();
        let names: Vec<(String, String)> = servers
            .iter()
            .map(|s| (s.user.to_string(), s.server.to_string()))
            .collect();
        assert_eq!(
            names,
            [
                ("alice", ""),
                ("bob@example.org", ""),
                ("bob@example.org", "gpu"),
                ("zoë", "")
            ]
            .map(|(u, s)| (u.to_string(), s.to_string())),
            "{}",
            client.endpoint()
        );
        let alice = &servers[0];
        assert!(alice.ready);
        assert_eq!(alice.started, Some(ts("2025-03-01T08:00:00Z")));
        assert_eq!(alice.last_activity, Some(ts("2025-03-01T09:30:00Z")));
    }
}

#[tokio::test]
async fn stopping_on_the_fake_hub_has_the_real_outcomes() {
    let hub = fake();
    hub.set_pending("alice", "", Some("stop"));
    let addr = serve(&hub).await;
    let client = HubApiClient::over_tcp(&hub_id(), addr, HubToken::new(TOKEN));

    let out = client.stop_server("bob@example.org", "gpu").await.unwrap();
    assert_eq!(out, StopOutcome::Stopped);
    assert!(hub.servers().iter().all(|s| s.server != "gpu"));
    let out = client.stop_server("zoë", "").await.unwrap();
    assert_eq!(out, StopOutcome::Stopped);
    let out = client.stop_server("alice", "").await.unwrap();
    assert_eq!(out, StopOutcome::Stopping);
    let out = client.stop_server("nobody", "").await.unwrap();
    assert!(matches!(out, StopOutcome::NotFound { .. }), "{out:?}");
    let out = client.stop_server("alice", "nope").await.unwrap();
    assert!(matches!(out, StopOutcome::NotFound { ref message } if message.contains("nope")));
    let names: Vec<String> = hub.servers().iter().map(|s| s.user.clone()).collect();
    assert_eq!(names, ["alice", "bob@example.org"]);
}

#[tokio::test]
async fn fake_hub_rejects_a_wrong_token_like_the_real_one() {
    let hub = fake();
    let addr = serve(&hub).await;
    let err = url_client(addr, "wrong-token-xyz")
        .servers()
        .await
        .unwrap_err();
    assert!(matches!(err, HubApiError::Unauthorized { .. }), "{err}");
    assert!(!err.to_string().contains("wrong-token-xyz"));
}

#[tokio::test]
async fn closed_port_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = HubApiClient::over_tcp(&hub_id(), addr, HubToken::new(TOKEN));
    let err = client.servers().await.unwrap_err();
    assert!(matches!(err, HubApiError::Unreachable { .. }), "{err}");
}

#[tokio::test]
async fn poller_sends_changes_only() {
    let hub = fake();
    let addr = serve(&hub).await;
    let (tx, mut rx) = mpsc::channel(8);
    let shutdown = CancellationToken::new();
    let source = HubSource {
        endpoint: HubEndpoint::Url(format!("http://{addr}/hub/api")),
        token: TokenSource::Value(HubToken::new(TOKEN)),
    };
    let task = tokio::spawn(poll_activity(
        hub_id(),
        source,
        tx,
        Duration::from_millis(20),
        shutdown.clone(),
    ));
    let servers_of = |u: Option<FleetUpdate>| match u {
        Some(FleetUpdate::Activity {
            source: SourceState::Ok,
            servers,
            ..
        }) => servers,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(servers_of(rx.recv().await).len(), 4);
    assert!(
        tokio::time::timeout(Duration::from_millis(150), rx.recv())
            .await
            .is_err(),
        "no change, no update"
    );
    hub.touch("zoë", "", ts("2025-03-01T10:00:00Z"));
    let servers = servers_of(rx.recv().await);
    let zoe = servers.iter().find(|s| &*s.user == "zoë").unwrap();
    assert_eq!(zoe.last_activity, Some(ts("2025-03-01T10:00:00Z")));
    shutdown.cancel();
    task.await.unwrap();
}

/// Thousands of pollers live as long as a session: each one's task is its future's size.
#[tokio::test]
async fn a_pollers_state_stays_small() {
    let source = HubSource {
        endpoint: HubEndpoint::Url("http://127.0.0.1:9/hub/api".into()),
        token: super::token::TokenSource::Env("HUBDECK_NO_SUCH_TOKEN".into()),
    };
    let (tx, _rx) = mpsc::channel(1);
    let poll = poll_activity(
        hub_id(),
        source,
        tx,
        Duration::from_secs(60),
        CancellationToken::new(),
    );
    // About 2 KB in a debug build, so 3 KB leaves room without letting it grow unseen.
    let size = std::mem::size_of_val(&poll);
    assert!(size < 3072, "the poller's future is {size} bytes");
}
