//! The fake Alertmanager's v2 API over plain HTTP, against what Alertmanager 0.25 was seen to
//! answer (JSON shapes, time format, silence rules and status codes), without hubdeck's client
//! in the way.

use std::net::SocketAddr;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::fake_alertmanager::FakeAlertmanager;
use crate::wire::alertmanager::{GettableAlert, SilenceState};

async fn serve(am: &FakeAlertmanager) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = am.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

fn at(offset_mins: i64) -> String {
    (Timestamp::now() + SignedDuration::from_mins(offset_mins)).to_string()
}

fn silence(matchers: Value, starts: &str, ends: &str) -> Value {
    json!({"matchers": matchers, "startsAt": starts, "endsAt": ends,
           "createdBy": "", "comment": ""})
}

async fn post(addr: SocketAddr, body: &Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}/api/v2/silences"))
        .json(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn alerts(addr: SocketAddr, query: &str) -> Vec<Value> {
    reqwest::get(format!("http://{addr}/api/v2/alerts{query}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn alerts_are_written_as_alertmanager_writes_them() {
    let am = FakeAlertmanager::new();
    am.fire(&[("alertname", "X"), ("pod", "p")], &[]);
    let addr = serve(&am).await;
    let listed = alerts(addr, "").await;
    let a = &listed[0];
    assert_eq!(a["fingerprint"], "b3fe63deb8379dcb");
    assert_eq!(a["annotations"], json!({}));
    assert_eq!(
        a["status"],
        json!({"state": "active", "silencedBy": [], "inhibitedBy": []})
    );
    let starts = a["startsAt"].as_str().unwrap();
    assert_eq!(starts.len(), "2025-01-01T00:00:00.000Z".len(), "{starts}");
    assert!(starts.ends_with('Z'));
    let typed: GettableAlert = serde_json::from_value(a.clone()).unwrap();
    assert_eq!(
        typed.ends_at.duration_since(typed.updated_at),
        SignedDuration::from_mins(5)
    );
}

#[tokio::test]
async fn regex_silences_mute_whole_values_only() {
    let am = FakeAlertmanager::new();
    am.fire(&[("alertname", "X")], &[]);
    am.fire(&[("alertname", "XY")], &[]);
    let addr = serve(&am).await;
    let m = json!([{"name": "alertname", "value": "X|Z", "isRegex": true}]);
    let (status, created) = post(addr, &silence(m, &at(0), &at(60))).await;
    assert_eq!(
        status, 200,
        "an empty creator and comment are accepted: {created}"
    );
    let id = created["silenceID"].as_str().unwrap();
    let listed = alerts(addr, "").await;
    let by_name = |n: &str| {
        listed
            .iter()
            .find(|a| a["labels"]["alertname"] == n)
            .unwrap()
    };
    assert_eq!(by_name("X")["status"]["silencedBy"], json!([id]));
    assert_eq!(by_name("X")["status"]["state"], "suppressed");
    assert_eq!(by_name("XY")["status"]["silencedBy"], json!([]));
    assert_eq!(alerts(addr, "?silenced=false").await.len(), 1);
    assert_eq!(
        alerts(addr, "?active=maybe").await.len(),
        1,
        "not true is false"
    );
}

#[tokio::test]
async fn bad_silences_get_alertmanagers_answers() {
    let addr = serve(&FakeAlertmanager::new()).await;
    let x = json!([{"name": "a", "value": "x", "isRegex": false}]);
    let (status, body) = post(addr, &silence(json!([]), &at(0), &at(60))).await;
    assert_eq!((status, body["code"].clone()), (422, json!(612)));
    let (status, body) = post(addr, &silence(x.clone(), &at(60), &at(0))).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        "Failed to create silence: start time must be before end time"
    );
    let (status, body) = post(addr, &silence(x.clone(), &at(-60), &at(-30))).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        "Failed to create silence: end time can't be in the past"
    );
    let empty = json!([{"name": "a", "value": "", "isRegex": false}]);
    let (status, body) = post(addr, &silence(empty, &at(0), &at(60))).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        "silence invalid: at least one matcher must not match the empty string"
    );
    let mut unknown = silence(x, &at(0), &at(60));
    unknown["id"] = json!("00000000-0000-4000-8000-00000000ffff");
    let (status, body) = post(addr, &unknown).await;
    assert_eq!((status, body), (404, json!("silence not found")));
}

#[tokio::test]
async fn silences_update_in_place_only_where_alertmanager_does() {
    let am = FakeAlertmanager::new();
    let addr = serve(&am).await;
    let x = json!([{"name": "a", "value": "x", "isRegex": false}]);
    let (_, created) = post(addr, &silence(x.clone(), &at(30), &at(60))).await;
    let pending = created["silenceID"].as_str().unwrap().to_string();
    // A pending silence may move its window: same id.
    let mut moved = silence(x, &at(40), &at(90));
    moved["id"] = json!(pending);
    let (_, again) = post(addr, &moved).await;
    assert_eq!(again["silenceID"], pending.as_str());
    // New matchers make a new silence; the old one expires.
    moved["matchers"] = json!([{"name": "a", "value": "y", "isRegex": false}]);
    let (_, other) = post(addr, &moved).await;
    let replaced = other["silenceID"].as_str().unwrap();
    assert_ne!(replaced, pending);
    let state = |id: &str| {
        am.silences()
            .into_iter()
            .find(|s| s.id == id)
            .map(|s| s.status.state)
    };
    assert_eq!(state(&pending), Some(SilenceState::Expired));
    assert_eq!(state(replaced), Some(SilenceState::Pending));
}

#[tokio::test]
async fn expiring_checks_the_id_form_first() {
    let am = FakeAlertmanager::new();
    let addr = serve(&am).await;
    let del = |id: &str| {
        let url = format!("http://{addr}/api/v2/silence/{id}");
        async move {
            let resp = reqwest::Client::new().delete(url).send().await.unwrap();
            resp.status().as_u16()
        }
    };
    assert_eq!(del("no-such-silence").await, 422);
    assert_eq!(del("00000000-0000-4000-8000-00000000ffff").await, 404);
    let x = json!([{"name": "a", "value": "x", "isRegex": false}]);
    let (_, created) = post(addr, &silence(x, &at(0), &at(60))).await;
    let id = created["silenceID"].as_str().unwrap();
    assert_eq!(del(id).await, 200);
    assert_eq!(del(id).await, 200, "expiring again is no error");
    assert_eq!(am.silences()[0].status.state, SilenceState::Expired);
}
