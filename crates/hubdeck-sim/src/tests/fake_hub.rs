//! The fake hub's REST API over plain HTTP, against what JupyterHub 6.1 was seen to answer
//! (pages, order, errors, stop outcomes, model fields), without hubdeck's client in the way.

use std::net::SocketAddr;

use jiff::Timestamp;
use serde_json::Value;

use crate::fake_hub::{FakeHub, FakeServer};
use crate::wire::jupyterhub::{PAGINATION_MEDIA_TYPE, User, UserPage};

const TOKEN: &str = "sim-hub-token-0123456789";

async fn serve(hub: &FakeHub) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = hub.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// zed (named server), alice, bob (spawning), carol (no server), created in that order.
fn hub() -> FakeHub {
    let t0 = ts("2025-03-01T08:00:00Z");
    let hub = FakeHub::new(
        TOKEN,
        [
            FakeServer::ready("zed", "gpu", t0, ts("2025-03-01T09:00:00.250Z")),
            FakeServer::ready("alice", "", t0, t0),
            FakeServer {
                pending: Some("spawn".into()),
                ..FakeServer::ready("bob", "", t0, t0)
            },
        ],
    );
    hub.add_user("carol");
    hub
}

async fn get(addr: SocketAddr, path: &str, paged: bool) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .get(format!("http://{addr}/hub/api{path}"))
        .header("Authorization", format!("token {TOKEN}"));
    if paged {
        req = req.header("Accept", PAGINATION_MEDIA_TYPE);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn delete(addr: SocketAddr, path: &str) -> u16 {
    reqwest::Client::new()
        .delete(format!("http://{addr}/hub/api{path}"))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn names(users: &[User]) -> Vec<&str> {
    users.iter().map(|u| u.name.as_str()).collect()
}

#[tokio::test]
async fn users_come_in_creation_order_and_pages_only_on_request() {
    let hub = hub();
    hub.set_page_limit(2);
    let addr = serve(&hub).await;
    let (status, plain) = get(addr, "/users", false).await;
    assert_eq!(status, 200);
    let plain: Vec<User> = serde_json::from_value(plain).unwrap();
    assert_eq!(
        names(&plain),
        ["zed", "alice"],
        "a plain list is one page too"
    );

    let (_, page) = get(addr, "/users?x=a%20b", true).await;
    let page: UserPage = serde_json::from_value(page).unwrap();
    assert_eq!(names(&page.items), ["zed", "alice"]);
    assert_eq!((page.pagination.limit, page.pagination.total), (2, 4));
    let next = page.pagination.next.unwrap();
    assert_eq!(next.offset, 2);
    assert_eq!(
        next.url,
        format!("http://{addr}/hub/api/users?x=a+b&offset=2&limit=2")
    );
    let (_, last) = get(addr, "/users?offset=2&limit=5", true).await;
    assert_eq!(last["_pagination"]["next"], Value::Null);
    assert_eq!(last["items"][1]["name"], "carol");

    let (_, sorted) = get(addr, "/users?sort=-name", true).await;
    assert_eq!(sorted["items"][0]["name"], "zed");
    assert_eq!(sorted["items"][1]["name"], "carol");
}

#[tokio::test]
async fn state_filters_count_as_the_hub_counts() {
    let addr = serve(&hub()).await;
    let (_, active) = get(addr, "/users?state=active", true).await;
    assert_eq!(active["_pagination"]["total"], 3);
    let (_, ready) = get(addr, "/users?state=ready", true).await;
    let ready: UserPage = serde_json::from_value(ready).unwrap();
    assert_eq!(
        names(&ready.items),
        ["zed", "alice"],
        "bob is still spawning"
    );
    assert_eq!(ready.pagination.total, 3, "the total is the active query's");
    let (_, inactive) = get(addr, "/users?state=inactive", false).await;
    assert_eq!(inactive[0]["name"], "carol");
    let (status, err) = get(addr, "/users?state=bogus", true).await;
    assert_eq!(status, 400);
    assert_eq!(err["message"], "Unrecognized state filter: 'bogus'");
    let (status, err) = get(addr, "/users?limit=x", true).await;
    assert_eq!(status, 400);
    assert_eq!(
        err["message"],
        "Invalid argument type, offset and limit must be integers"
    );
}

#[tokio::test]
async fn models_have_the_hubs_fields_and_times() {
    let addr = serve(&hub()).await;
    let (_, zed) = get(addr, "/users/zed", false).await;
    assert_eq!(zed["kind"], "user");
    assert_eq!(zed["server"], Value::Null, "no default server");
    let gpu = &zed["servers"]["gpu"];
    assert_eq!(gpu["url"], "/user/zed/gpu/");
    assert_eq!(
        gpu["progress_url"],
        "/hub/api/users/zed/servers/gpu/progress"
    );
    assert_eq!(gpu["full_name"], "zed/gpu");
    assert_eq!(gpu["started"], "2025-03-01T08:00:00Z");
    assert_eq!(gpu["last_activity"], "2025-03-01T09:00:00.250000Z");
    assert_eq!(gpu["ready"], true);
    assert_eq!(gpu["stopped"], false);
    let (_, bob) = get(addr, "/users/bob", false).await;
    assert_eq!(bob["pending"], "spawn");
    assert_eq!(bob["servers"][""]["ready"], false);
    let (_, alice) = get(addr, "/users/alice", false).await;
    assert_eq!(alice["server"], "/user/alice/");
}

#[tokio::test]
async fn errors_are_the_hubs() {
    let addr = serve(&hub()).await;
    let (status, err) = get(addr, "/users/nobody", false).await;
    assert_eq!(status, 404);
    assert_eq!(err, serde_json::json!({"status": 404, "message": null}));
    let resp = reqwest::get(format!("http://{addr}/hub/api/users"))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["message"], "Missing or invalid credentials.");
}

#[tokio::test]
async fn a_stopped_server_stays_known_and_stops_again() {
    let hub = hub();
    let addr = serve(&hub).await;
    assert_eq!(delete(addr, "/users/zed/servers/gpu").await, 204);
    assert_eq!(delete(addr, "/users/zed/servers/gpu").await, 204, "stopped");
    assert_eq!(delete(addr, "/users/zed/servers/nope").await, 404);
    assert_eq!(delete(addr, "/users/carol/server").await, 204);
    assert_eq!(delete(addr, "/users/nobody/server").await, 404);
    let (_, zed) = get(addr, "/users/zed", false).await;
    assert_eq!(zed["servers"], serde_json::json!({}));
    let (_, zed) = get(addr, "/users/zed?include_stopped_servers", false).await;
    let gpu = &zed["servers"]["gpu"];
    assert_eq!(gpu["stopped"], true);
    assert_eq!(gpu["ready"], false);
    assert_eq!(gpu["started"], Value::Null);
    assert!(zed["last_activity"].is_string());
}
