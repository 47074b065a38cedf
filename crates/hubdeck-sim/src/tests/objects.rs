//! Object verbs through the kube client: lists, gets, patches, scale, logs, access.

use super::*;

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
        .filter(|p| {
            // Dask-gateway's pods carry no `component` label: filter on it, never index it.
            p.metadata.labels.as_ref().and_then(|l| l.get("component"))
                == Some(&"singleuser-server".to_string())
        })
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
async fn a_broken_component_crash_loops_after_its_rollout_restart() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    c.crash_new_pods(&ns, "hub", true);
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let patch = json!({"spec": {"template": {"metadata": {"annotations":
        {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}}}});
    deploys
        .patch("hub", &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    let hub = pods
        .list(&ListParams::default().labels("component=hub"))
        .await
        .unwrap();
    let status = hub.items[0].status.as_ref().unwrap();
    let container = &status.container_statuses.as_ref().unwrap()[0];
    let waiting = container.state.as_ref().unwrap().waiting.as_ref().unwrap();
    assert_eq!(waiting.reason.as_deref(), Some("CrashLoopBackOff"));
    let d = deploys.get("hub").await.unwrap();
    assert_eq!(d.status.unwrap().ready_replicas, Some(0));
    let other = &c.hub_namespaces()[1];
    assert!(
        c.pods()
            .iter()
            .filter(|p| p.metadata.namespace.as_deref() == Some(other.as_str()))
            .all(|p| p
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .is_none_or(|cs| cs.iter().all(|c| c.ready))),
        "only the broken namespace crashes"
    );
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
async fn every_kind_lists_as_typed_objects_cluster_wide_and_namespaced() {
    use k8s_openapi::api::core::v1::{Namespace, Service};
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    let lp = ListParams::default();
    assert!(
        !Api::<Pod>::all(client.clone())
            .list(&lp)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        !Api::<Service>::all(client.clone())
            .list(&lp)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        !Api::<Secret>::all(client.clone())
            .list(&lp)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        !Api::<Deployment>::all(client.clone())
            .list(&lp)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        !Api::<StatefulSet>::all(client.clone())
            .list(&lp)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    Api::<Event>::all(client.clone()).list(&lp).await.unwrap();
    let nss = Api::<Namespace>::all(client.clone())
        .list(&lp)
        .await
        .unwrap();
    assert!(
        nss.items
            .iter()
            .any(|n| n.metadata.name.as_deref() == Some(ns.as_str()))
    );
    let svc: Service = Api::namespaced(client.clone(), &ns)
        .get("proxy-public")
        .await
        .unwrap();
    assert_eq!(svc.spec.unwrap().ports.unwrap()[0].port, 80);
    let missing = Api::<Pod>::namespaced(client, &ns)
        .get("nope")
        .await
        .unwrap_err();
    assert_eq!(api_code(missing), 404);
    fleet.shutdown().await;
}

#[tokio::test]
async fn mutate_edits_a_typed_object_and_controllers_follow() {
    let (fleet, c, client) = small().await;
    let ns = c.hub_namespaces()[0].clone();
    assert!(c.mutate::<Deployment>(&ns, "user-scheduler", |d| {
        d.spec.replicas = Some(3);
    }));
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    let sched = pods
        .list(&ListParams::default().labels("component=user-scheduler"))
        .await
        .unwrap();
    assert_eq!(sched.items.len(), 3);
    assert!(!c.mutate::<Pod>(&ns, "no-such-pod", |_| {}));
    fleet.shutdown().await;
}
