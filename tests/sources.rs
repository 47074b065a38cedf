//! Alertmanager alerts, silences and hub activity reaching the fleet model through the real
//! kube path (service proxy, pod port-forward, hub Secret token) against sim fleets.

mod common;

use std::time::Duration;

use common::fleet::{TestFleet, stderr, stdout};
use hubdeck::action::{Matcher, Silencer};
use hubdeck::config::fleet_file::HubEntry;
use hubdeck::fleet::{AlertOrigin, ClusterId, Fleet, SourceState, Thresholds};
use hubdeck::headless::session::Session;
use hubdeck::kube::{ClusterTarget, targets};
use hubdeck::sources::Polls;

/// Polls fast so tests see the next poll quickly.
const POLL: Polls = Polls {
    alerts: Duration::from_millis(300),
    activity: Duration::from_millis(300),
    metrics: Some(Duration::from_secs(30)),
};
const WAIT: Duration = Duration::from_secs(20);

fn fleet_targets(fleet: &TestFleet) -> Vec<ClusterTarget> {
    let kc = targets::read_kubeconfig(fleet.sim.kubeconfig_path()).expect("kubeconfig");
    targets::from_kubeconfig(kc, &[]).expect("targets")
}

async fn session(list: Vec<ClusterTarget>) -> Session {
    let mut s = Session::start_polling(list, Thresholds::default(), POLL);
    s.settle(WAIT).await;
    s
}

fn am_alerts<'a>(fleet: &'a Fleet, cluster: &'a str) -> Vec<&'a hubdeck::fleet::AlertInfo> {
    fleet
        .alerts()
        .filter(|(c, a)| c.id.as_str() == cluster && a.origin == AlertOrigin::Alertmanager)
        .map(|(_, a)| a)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_alerts_reach_the_model_attached_to_hub_and_pod_and_silences_stick() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0);
    let ns = c.hub_namespaces()[0].clone();
    let am = c.alertmanager().expect("cluster 0 has an Alertmanager");
    am.fire(
        &[
            ("alertname", "KubePodCrashLooping"),
            ("namespace", &ns),
            ("pod", "hub-abc"),
            ("severity", "critical"),
        ],
        &[("summary", "Pod is crash looping.")],
    );
    // Alertmanager is polled once at start, then only when something nudges it.
    let slow = Polls {
        alerts: Duration::from_secs(3600),
        ..POLL
    };
    let mut s = Session::start_polling(fleet_targets(&fleet), Thresholds::default(), slow);
    s.settle(WAIT).await;
    let name = c.name().to_string();
    assert!(
        s.wait_for(WAIT, |f| am_alerts(f, &name).len() == 1).await,
        "the alert arrives"
    );
    let alert = am_alerts(&s.fleet, &name)[0].clone();
    assert_eq!(alert.namespace.as_deref(), Some(ns.as_str()));
    assert_eq!(alert.pod.as_deref(), Some("hub-abc"));
    assert!(alert.silenced_by.is_empty());
    let state = s.fleet.cluster(&name).unwrap();
    assert_eq!(state.alert_source, SourceState::Ok);

    let matchers: Vec<Matcher> = alert
        .labels
        .iter()
        .map(|(k, v)| Matcher {
            name: k.to_string(),
            value: v.to_string(),
        })
        .collect();
    let id = s
        .sources
        .silencer
        .silence(
            &ClusterId::new(name.as_str()),
            &matchers,
            Duration::from_secs(3600),
            "tester",
            "known, fix on the way",
        )
        .await
        .expect("silence created through the service proxy");
    assert!(
        s.wait_for(Duration::from_secs(5), |f| {
            am_alerts(f, &name)
                .first()
                .is_some_and(|a| a.silenced_by == vec![id.clone()])
        })
        .await,
        "the alert shows silenced at once, not a poll interval later"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_without_alertmanager_is_absent_not_failing() {
    let fleet = TestFleet::small().await;
    let without = fleet
        .sim
        .clusters()
        .iter()
        .find(|c| c.alertmanager().is_none())
        .expect("small fleet has one cluster without Alertmanager")
        .name()
        .to_string();
    let mut s = session(fleet_targets(&fleet)).await;
    assert!(
        s.wait_for(WAIT, |f| {
            matches!(
                f.cluster(&without).map(|c| &c.alert_source),
                Some(SourceState::Absent { .. })
            )
        })
        .await
    );
    for c in s.fleet.clusters().filter(|c| c.id.as_str() != without) {
        assert_eq!(c.alert_source, SourceState::Ok, "{}", c.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_activity_arrives_through_the_port_forward_with_the_secret_token() {
    let fleet = TestFleet::small().await;
    let mut s = session(fleet_targets(&fleet)).await;
    let all_active = |f: &Fleet| {
        f.hubs().all(|h| {
            h.activity.source == SourceState::Ok
                && h.servers()
                    .all(|p| h.activity_of(p).is_some_and(|a| a.last_activity.is_some()))
        })
    };
    assert!(
        s.wait_for(WAIT, all_active).await,
        "every hub reports activity for every server"
    );
    assert!(
        s.fleet
            .hubs()
            .map(|h| h.activity.servers.len())
            .sum::<usize>()
            > 0
    );
    // Polls forward to the hub pod the watchers reported: no list of hub pods per poll.
    tokio::time::sleep(POLL.activity * 4).await;
    for c in fleet.sim.clusters() {
        for ns in c.hub_namespaces() {
            assert!(port_forwards(c, &ns) >= 2, "{ns}: polled more than once");
        }
        let lookups = c
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path.ends_with("/pods"))
            .filter(|r| r.query.contains("component%3Dhub") || r.query.contains("component=hub"))
            .count();
        assert_eq!(lookups, 0, "hub pod lookups by label");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_through_the_hub_api_removes_the_pod() {
    let fleet = TestFleet::small().await;
    let mut s = session(fleet_targets(&fleet)).await;
    let c = fleet.cluster(0);
    let ns = c.hub_namespaces()[1].clone();
    let hub = s
        .fleet
        .hubs()
        .find(|h| h.id.cluster.as_str() == c.name() && *h.id.key.namespace == *ns)
        .map(|h| h.id.clone())
        .expect("hub in the model");
    let api = s.sources.hub_api.clone();
    let ready = {
        let hub = hub.clone();
        let api = api.clone();
        move |_: &Fleet| api.available(&hub)
    };
    assert!(s.wait_for(WAIT, ready).await, "hub API available");
    let server = c
        .hub_api(&ns)
        .expect("hub")
        .servers()
        .into_iter()
        .next()
        .expect("a running server");
    let msg = api
        .stop(&hub, &server.user, &server.server)
        .await
        .expect("stopped");
    assert!(msg.contains("stopped"), "{msg}");
    let gone = c.pods().iter().all(|p| {
        let ann = p.metadata.annotations.clone().unwrap_or_default();
        p.metadata.namespace.as_deref() != Some(ns.as_str())
            || ann.get("hub.jupyter.org/username") != Some(&server.user)
            || ann.get("hub.jupyter.org/servername") != Some(&server.server)
    });
    assert!(gone, "the pod of {}/{} is gone", server.user, server.server);
    let (user, name) = (server.user.clone(), server.server.clone());
    assert!(
        s.wait_for(WAIT, |f| {
            f.hubs()
                .filter(|h| h.id == hub)
                .all(|h| h.activity.get(&user, &name).is_none())
        })
        .await,
        "the next poll no longer reports it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_degrades_once_without_an_error_storm() {
    let fleet = TestFleet::small().await;
    let mut list = fleet_targets(&fleet);
    let c = fleet.cluster(0);
    let ns = c.hub_namespaces()[0].clone();
    let target = list.iter_mut().find(|t| t.name == c.name()).unwrap();
    target.hubs.insert(
        ns.clone(),
        HubEntry {
            token: Some("not-the-token".into()),
            ..HubEntry::default()
        },
    );
    let mut s = session(list).await;
    let failing = |f: &Fleet| {
        f.hubs().any(|h| {
            *h.id.key.namespace == *ns && matches!(h.activity.source, SourceState::Failing { .. })
        })
    };
    assert!(s.wait_for(WAIT, failing).await, "reported as failing");
    let before = port_forwards(c, &ns);
    tokio::time::sleep(POLL.activity * 10).await;
    s.drain();
    let after = port_forwards(c, &ns);
    assert!(
        after <= before + 1,
        "a rejected token is not retried every poll ({before} -> {after} port-forwards)"
    );
    let hub = s
        .fleet
        .hubs()
        .find(|h| *h.id.key.namespace == *ns && h.id.cluster.as_str() == c.name())
        .unwrap();
    let SourceState::Failing { error } = &hub.activity.source else {
        panic!("{:?}", hub.activity.source);
    };
    assert!(error.contains("token rejected"), "{error}");
    assert!(!error.contains("not-the-token"), "tokens never show");
    assert!(
        s.sources.hub_api.available(&hub.id),
        "a configured token makes the hub API the way to stop servers, even when it is rejected"
    );
}

fn port_forwards(c: &hubdeck_sim::SimCluster, ns: &str) -> usize {
    c.requests()
        .iter()
        .filter(|r| {
            r.path
                .starts_with(&format!("/api/v1/namespaces/{ns}/pods/"))
        })
        .filter(|r| r.path.ends_with("/portforward"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_get_alerts_lists_alertmanager_alerts() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0);
    let ns = c.hub_namespaces()[0].clone();
    c.alertmanager().expect("Alertmanager").fire(
        &[
            ("alertname", "JupyterHubPendingUserPods"),
            ("namespace", &ns),
            ("severity", "warning"),
        ],
        &[("summary", "users wait")],
    );
    let out = tokio::task::spawn_blocking({
        let kc = fleet.sim.kubeconfig_path().to_path_buf();
        let home = fleet.home.path().to_path_buf();
        move || common::fleet::hubdeck_with(&kc, &home, &["get", "alerts", "-o", "json"])
    })
    .await
    .unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    let items = doc["items"].as_array().expect("items");
    let found = items
        .iter()
        .find(|i| i["name"] == "JupyterHubPendingUserPods")
        .unwrap_or_else(|| panic!("no Alertmanager alert in {doc:#}"));
    assert_eq!(found["origin"], "alertmanager");
    assert_eq!(found["cluster"], c.name());
    assert_eq!(found["hub"], ns.as_str());
}
