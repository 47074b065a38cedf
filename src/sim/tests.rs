//! End-to-end tests of the simulated fleet through the real kube client (and plain HTTP where a
//! raw view of the wire helps).

use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Event, Pod, Secret};
use kube::api::{Api, DeleteParams, ListParams, LogParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use kube::{Client, Config};
use serde_json::json;

use super::*;

async fn client_for(path: &Path, context: &str) -> Client {
    let kc = Kubeconfig::read_from(path).unwrap();
    let opts = KubeConfigOptions {
        context: Some(context.to_string()),
        ..Default::default()
    };
    let cfg = Config::from_custom_kubeconfig(kc, &opts).await.unwrap();
    Client::try_from(cfg).unwrap()
}

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

async fn next_matching<S, T>(stream: &mut S, mut f: impl FnMut(&T) -> bool) -> T
where
    S: futures::Stream<Item = T> + Unpin,
{
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let item = stream.next().await.expect("stream ended");
            if f(&item) {
                return item;
            }
        }
    })
    .await
    .expect("timed out waiting for a matching item")
}

#[tokio::test]
async fn label_selector_lists_only_user_servers() {
    let (fleet, c, client) = small().await;
    let pods: Api<Pod> = Api::all(client.clone());
    let servers = pods
        .list(&ListParams::default().labels("component=singleuser-server,app=jupyterhub"))
        .await
        .unwrap();
    let expected = c
        .pods()
        .iter()
        .filter(|p| p.metadata.labels.as_ref().unwrap()["component"] == "singleuser-server")
        .count();
    assert!(expected > 0);
    assert_eq!(servers.items.len(), expected);
    for p in &servers.items {
        let ann = p.metadata.annotations.as_ref().unwrap();
        assert!(ann.contains_key("hub.jupyter.org/username"));
        assert!(ann.contains_key("hub.jupyter.org/servername"));
    }
    let ns = &c.hub_namespaces()[0];
    let hub_pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let infra = hub_pods
        .list(&ListParams::default().labels("component in (hub,proxy),release"))
        .await
        .unwrap();
    assert_eq!(infra.items.len(), 2);
    let bad = pods
        .list(&ListParams::default().fields("spec.bogus=1"))
        .await
        .unwrap_err();
    assert_eq!(api_code(bad), 400);
    fleet.shutdown().await;
}

#[tokio::test]
async fn hub_objects_follow_the_chart_names_and_labels() {
    let (fleet, c, client) = small().await;
    let deploys: Api<Deployment> = Api::all(client.clone());
    let hubs = deploys
        .list(&ListParams::default().labels("app=jupyterhub,component=hub"))
        .await
        .unwrap();
    assert_eq!(hubs.items.len(), c.hub_namespaces().len());
    let names: Vec<_> = hubs
        .items
        .iter()
        .map(|d| d.metadata.name.clone().unwrap())
        .collect();
    assert!(names.iter().any(|n| n == "hub"));
    let sts: Api<StatefulSet> = Api::all(client.clone());
    assert!(
        !sts.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let secret: Secret = Api::namespaced(client.clone(), &c.hub_namespaces()[0])
        .get("hub")
        .await
        .unwrap();
    let data = secret.data.unwrap();
    let values = String::from_utf8(data["values.yaml"].0.clone()).unwrap();
    assert!(values.contains("singleuser:"));
    assert!(data.contains_key("hub.services.hubdeck.apiToken"));
    // The prefixed release of the first cluster's third hub.
    let prefixed: Vec<_> = c
        .deployments()
        .into_iter()
        .filter(|d| {
            d.metadata
                .name
                .as_deref()
                .unwrap()
                .ends_with("-jupyterhub-hub")
        })
        .collect();
    if c.hub_namespaces().len() > 2 {
        assert_eq!(prefixed.len(), 1);
    }
    fleet.shutdown().await;
}

#[tokio::test]
async fn watcher_sees_started_server_appear_and_stopped_one_disappear() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    let cfg = watcher::Config::default().labels("component=singleuser-server");
    let mut stream = watcher(pods, cfg).boxed();
    let _ = next_matching(&mut stream, |e| matches!(e, Ok(watcher::Event::InitDone))).await;
    let name = c.start_server(&ns, "Ada.Lovelace@example.org", "gpu");
    assert_eq!(name, "jupyter--41da-2e-4covelace-40example-2eorg--gpu");
    let _ = next_matching(
        &mut stream,
        |e| matches!(e, Ok(watcher::Event::Apply(p)) if p.metadata.name.as_deref() == Some(&name)),
    )
    .await;
    assert!(c.stop_server(&ns, "Ada.Lovelace@example.org", "gpu"));
    let _ = next_matching(
        &mut stream,
        |e| matches!(e, Ok(watcher::Event::Delete(p)) if p.metadata.name.as_deref() == Some(&name)),
    )
    .await;
    fleet.shutdown().await;
}

#[tokio::test]
async fn expired_resource_version_makes_kube_watcher_relist() {
    let (fleet, c, client) = small().await;
    let hubs = c.hub_namespaces();
    let pods: Api<Pod> = Api::namespaced(client, &hubs[0]);
    let mut stream = watcher(pods, watcher::Config::default()).boxed();
    let _ = next_matching(&mut stream, |e| matches!(e, Ok(watcher::Event::InitDone))).await;
    // A change elsewhere moves the cluster's resourceVersion past the watcher's.
    c.start_server(&hubs[1], "someone-else", "");
    c.restart_expiring();
    let err = next_matching(&mut stream, Result::is_err).await;
    assert!(format!("{err:?}").contains("410"), "{err:?}");
    let _ = next_matching(&mut stream, |e| matches!(e, Ok(watcher::Event::Init))).await;
    let _ = next_matching(&mut stream, |e| matches!(e, Ok(watcher::Event::InitDone))).await;
    fleet.shutdown().await;
}

#[tokio::test]
async fn down_cluster_refuses_and_comes_back_on_the_same_url() {
    let (fleet, c, client) = small().await;
    let pods: Api<Pod> = Api::all(client);
    let url = c.url();
    pods.list(&ListParams::default()).await.unwrap();
    c.go_down().await;
    assert!(pods.list(&ListParams::default()).await.is_err());
    assert!(tokio::net::TcpStream::connect(c.inner.addr).await.is_err());
    c.come_back().await;
    assert_eq!(c.url(), url);
    assert!(
        !pods
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn secret_patch_with_stale_resource_version_conflicts() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let secrets: Api<Secret> = Api::namespaced(client, &ns);
    let s = secrets.get("hub").await.unwrap();
    let rv = s.metadata.resource_version.clone().unwrap();
    let edit = |rv: &str| {
        Patch::Merge(json!({"metadata": {"resourceVersion": rv},
            "data": {"values.yaml": "aHViOiB7fQo="}}))
    };
    let ok = secrets
        .patch("hub", &PatchParams::default(), &edit(&rv))
        .await
        .unwrap();
    assert_ne!(ok.metadata.resource_version.unwrap(), rv);
    let stale = secrets
        .patch("hub", &PatchParams::default(), &edit(&rv))
        .await
        .unwrap_err();
    assert_eq!(api_code(stale), 409);
    // PUT with a stale resourceVersion conflicts too.
    let put = secrets
        .replace("hub", &PostParams::default(), &s)
        .await
        .unwrap_err();
    assert_eq!(api_code(put), 409);
    fleet.shutdown().await;
}

#[tokio::test]
async fn read_only_identity_is_forbidden_to_delete_and_told_so_by_ssar() {
    let (fleet, c, admin) = small().await;
    let dir = tempfile::tempdir().unwrap();
    let ro_path = dir.path().join("ro.kubeconfig");
    fleet
        .write_kubeconfig(&ro_path, Identity::ReadOnly)
        .unwrap();
    let ro = client_for(&ro_path, c.name()).await;
    let ns = c.hub_namespaces()[0].clone();
    let pods: Api<Pod> = Api::namespaced(ro.clone(), &ns);
    let victim = pods.list(&ListParams::default()).await.unwrap().items[0]
        .metadata
        .name
        .clone()
        .unwrap();
    let err = pods
        .delete(&victim, &DeleteParams::default())
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("not an API error")
    };
    assert_eq!(status.code, 403);
    assert!(
        status.message.contains("cannot delete resource \"pods\""),
        "{}",
        status.message
    );
    let review = |verb: &str| SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                resource: Some("pods".into()),
                namespace: Some(ns.clone()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let ask = |client: Client, verb: &'static str| {
        let r = review(verb);
        async move {
            let api: Api<SelfSubjectAccessReview> = Api::all(client);
            api.create(&PostParams::default(), &r)
                .await
                .unwrap()
                .status
                .unwrap()
        }
    };
    let denied = ask(ro.clone(), "delete").await;
    assert!(!denied.allowed);
    assert!(denied.reason.unwrap().contains("read-only"));
    assert!(ask(ro, "list").await.allowed);
    assert!(ask(admin, "delete").await.allowed);
    assert!(
        c.requests()
            .iter()
            .any(|r| r.identity == "readonly" && r.method == "DELETE")
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn scale_subresource_patch_changes_replicas_and_pods() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    assert_eq!(
        deploys
            .get_scale("hub")
            .await
            .unwrap()
            .spec
            .unwrap()
            .replicas,
        Some(1)
    );
    deploys
        .patch_scale(
            "hub",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 0}})),
        )
        .await
        .unwrap();
    assert_eq!(
        deploys
            .get_scale("hub")
            .await
            .unwrap()
            .spec
            .unwrap()
            .replicas,
        Some(0)
    );
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let hub_pods = pods
        .list(&ListParams::default().labels("component=hub"))
        .await
        .unwrap();
    assert!(hub_pods.items.is_empty());
    let sts: Api<StatefulSet> = Api::namespaced(client, &ns);
    sts.patch_scale(
        "user-placeholder",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 5}})),
    )
    .await
    .unwrap();
    let placeholders = pods
        .list(&ListParams::default().labels("component=user-placeholder"))
        .await
        .unwrap();
    assert_eq!(placeholders.items.len(), 5);
    let d = deploys.get("hub").await.unwrap();
    assert_eq!(d.status.unwrap().ready_replicas.unwrap_or(0), 0);
    fleet.shutdown().await;
}

#[tokio::test]
async fn rollout_restart_replaces_the_hub_pod() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let before = pods
        .list(&ListParams::default().labels("component=hub"))
        .await
        .unwrap();
    let old = before.items[0].metadata.name.clone().unwrap();
    let deploys: Api<Deployment> = Api::namespaced(client, &ns);
    let patch = json!({"spec": {"template": {"metadata": {"annotations":
        {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}}}});
    deploys
        .patch("hub", &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .unwrap();
    let after = pods
        .list(&ListParams::default().labels("component=hub"))
        .await
        .unwrap();
    assert_eq!(after.items.len(), 1);
    let new = &after.items[0];
    assert_ne!(new.metadata.name.as_deref(), Some(old.as_str()));
    let status = new.status.as_ref().unwrap();
    assert_eq!(
        status.container_statuses.as_ref().unwrap()[0].restart_count,
        0
    );
    let d = deploys.get("hub").await.unwrap();
    assert_eq!(d.status.unwrap().ready_replicas, Some(1));
    fleet.shutdown().await;
}

#[tokio::test]
async fn pod_log_follow_streams_new_lines() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    let hub = pods
        .list(&ListParams::default().labels("component=hub"))
        .await
        .unwrap()
        .items[0]
        .metadata
        .name
        .clone()
        .unwrap();
    let lp = LogParams {
        follow: true,
        tail_lines: Some(3),
        ..Default::default()
    };
    let mut lines = pods.log_stream(&hub, &lp).await.unwrap().lines();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), async {
        while got.len() < 6 {
            got.push(lines.try_next().await.unwrap().unwrap());
        }
    })
    .await
    .unwrap();
    assert!(got.iter().all(|l| l.contains("JupyterHub")), "{got:?}");
    let tail = pods
        .logs(
            &hub,
            &LogParams {
                tail_lines: Some(5),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(tail.lines().count(), 5);
    fleet.shutdown().await;
}

#[tokio::test]
async fn warning_events_are_selectable_by_involved_object() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let pod = c.start_server(&ns, "eve", "");
    assert!(c.crash_loop_pod(&ns, &pod, 3));
    let events: Api<Event> = Api::namespaced(client.clone(), &ns);
    let sel = format!("involvedObject.name={pod},type=Warning");
    let got = events
        .list(&ListParams::default().fields(&sel))
        .await
        .unwrap();
    assert_eq!(got.items.len(), 1);
    assert_eq!(got.items[0].reason.as_deref(), Some("BackOff"));
    let p: Pod = Api::namespaced(client, &ns).get(&pod).await.unwrap();
    let cs = &p.status.unwrap().container_statuses.unwrap()[0];
    assert_eq!(cs.restart_count, 3);
    fleet.shutdown().await;
}

#[tokio::test]
async fn raw_http_speaks_status_discovery_and_expired_watches() {
    let (fleet, c, _client) = small().await;
    let http = reqwest::Client::new();
    let token = c.token(Identity::Admin).to_string();
    let get = |path: &str| {
        http.get(format!("{}{path}", c.url()))
            .bearer_auth(&token)
            .send()
    };
    let anon = http
        .get(format!("{}/api/v1/pods", c.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    let v: serde_json::Value = get("/api/v1").await.unwrap().json().await.unwrap();
    let names: Vec<_> = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    for want in [
        "pods",
        "pods/log",
        "pods/portforward",
        "services/proxy",
        "secrets",
        "events",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    let missing = get("/api/v1/namespaces/nope/pods/nope").await.unwrap();
    assert_eq!(missing.status(), 404);
    let st: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(st["kind"], "Status");
    assert_eq!(st["reason"], "NotFound");
    c.start_server(&c.hub_namespaces()[0], "zed", "");
    c.restart_expiring();
    let body = get("/api/v1/pods?watch=true&resourceVersion=1001")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ev: serde_json::Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
    c.set_garbage(true);
    let g = get("/api/v1/pods").await.unwrap();
    assert_eq!(g.status(), 200);
    assert!(serde_json::from_str::<serde_json::Value>(&g.text().await.unwrap()).is_err());
    fleet.shutdown().await;
}

#[tokio::test]
async fn scenario_names_parse() {
    assert_eq!("quiet".parse::<Scenario>().unwrap(), Scenario::Quiet);
    assert_eq!("GameDay".parse::<Scenario>().unwrap(), Scenario::GameDay);
    assert_eq!(
        "churn".parse::<Scenario>().unwrap(),
        Scenario::Churn {
            updates_per_sec: 2000
        }
    );
    assert_eq!(
        "churn:50".parse::<Scenario>().unwrap(),
        Scenario::Churn {
            updates_per_sec: 50
        }
    );
    assert!("chaos".parse::<Scenario>().is_err());
}

#[tokio::test]
async fn demo_fleet_has_three_clouds_and_visible_trouble() {
    let fleet = SimFleet::start(FleetSpec::demo()).await.unwrap();
    let providers: std::collections::BTreeSet<_> = fleet
        .clusters()
        .iter()
        .map(|c| c.provider().to_string())
        .collect();
    assert_eq!(providers.len(), 3);
    let pods: Vec<Pod> = fleet.clusters().iter().flat_map(|c| c.pods()).collect();
    let servers = pods
        .iter()
        .filter(|p| {
            p.metadata
                .labels
                .as_ref()
                .unwrap()
                .get("component")
                .map(String::as_str)
                == Some("singleuser-server")
        })
        .count();
    assert!(servers >= 600, "{servers}");
    let crash = pods.iter().any(|p| {
        p.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.state
                        .as_ref()
                        .and_then(|s| s.waiting.as_ref())
                        .and_then(|w| w.reason.as_deref())
                        == Some("CrashLoopBackOff")
                })
            })
    });
    assert!(crash);
    let events: Vec<Event> = fleet.clusters().iter().flat_map(|c| c.events()).collect();
    for reason in ["BackOff", "FailedScheduling"] {
        assert!(
            events.iter().any(|e| e.reason.as_deref() == Some(reason)),
            "{reason}"
        );
    }
    let with_support = fleet.clusters().iter().filter(|c| {
        c.inner
            .state()
            .store
            .get(resources::Kind::Service, "support", "support-alertmanager")
            .is_some()
    });
    assert!(with_support.count() >= fleet.clusters().len() - 1);
    fleet.shutdown().await;
}

/// Manual helper: `HUBDECK_SIM_HOLD=/tmp/kc cargo test --lib sim::tests::hold -- --ignored`.
#[tokio::test]
#[ignore = "manual: serves a fleet for poking with kubectl"]
async fn hold() {
    let out = std::env::var("HUBDECK_SIM_HOLD").unwrap();
    let spec = FleetSpec {
        scenario: Scenario::Steady,
        ..FleetSpec::small()
    };
    let fleet = SimFleet::start(spec).await.unwrap();
    fleet
        .write_kubectl_kubeconfig(Path::new(&out), Identity::Admin)
        .unwrap();
    tokio::time::sleep(Duration::from_secs(600)).await;
    fleet.shutdown().await;
}
