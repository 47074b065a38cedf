use k8s_openapi::api::apps::v1::Deployment;
use serde_json::json;

use super::mapping::*;
use super::slim::SlimPod;
use crate::fleet::{Component, PodPhase, Requests};

/// Slim pods are parsed from the same JSON a full `Pod` is; a full one must parse too, so the
/// slim type reads nothing the API server would not send.
fn pod(v: serde_json::Value) -> SlimPod {
    let _: k8s_openapi::api::core::v1::Pod =
        serde_json::from_value(v.clone()).expect("valid pod json");
    serde_json::from_value(v).expect("valid slim pod json")
}

#[test]
fn user_pod_owner_comes_from_annotations_not_the_escaped_name() {
    let p = pod(json!({
        "metadata": {
            "name": "jupyter-ada-2elovelace-40uni-2eedu--gpu",
            "namespace": "prod",
            "labels": {"app": "jupyterhub", "component": "singleuser-server", "release": "prod",
                       "hub.jupyter.org/username": "ada-2elovelace-40uni-2eedu"},
            "annotations": {"hub.jupyter.org/username": "ada.lovelace@uni.edu",
                            "hub.jupyter.org/servername": "gpu"},
            "creationTimestamp": "2026-11-25T10:00:00Z"
        },
        "spec": {"nodeName": "gke-user-pool-1", "containers": [{"name": "notebook",
            "image": "pangeo/pangeo-notebook:2025.01.10",
            "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}}}]},
        "status": {"phase": "Running", "startTime": "2026-11-25T10:00:05Z",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "notebook", "ready": true, "restartCount": 2,
                "image": "x", "imageID": "y", "state": {"running": {}}}]}
    }));
    let info = Mapper::default().pod(&p).expect("a z2jh pod");
    let owner = info.owner.expect("owner");
    assert_eq!(&*owner.user, "ada.lovelace@uni.edu");
    assert_eq!(&*owner.server, "gpu");
    assert_eq!(info.component, Component::SingleuserServer);
    assert_eq!(info.phase, PodPhase::Running);
    assert!(info.ready);
    assert_eq!(info.restarts, 2);
    assert_eq!(info.requests.cpu_milli, 500);
    assert_eq!(info.requests.memory_bytes, 2 << 30);
    assert_eq!(info.node.as_deref(), Some("gke-user-pool-1"));
}

#[test]
fn crash_looping_and_unschedulable_pods_carry_their_reason() {
    let looping = pod(json!({
        "metadata": {"name": "proxy-1", "namespace": "prod",
                     "labels": {"component": "proxy", "release": "prod"}},
        "status": {"phase": "Running", "containerStatuses": [{"name": "chp", "ready": false,
            "restartCount": 17, "image": "x", "imageID": "y",
            "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
    }));
    let info = Mapper::default().pod(&looping).expect("z2jh pod");
    assert_eq!(info.reason.as_deref(), Some("CrashLoopBackOff"));
    let pending = pod(json!({
        "metadata": {"name": "jupyter-bob", "namespace": "prod",
                     "labels": {"component": "singleuser-server", "release": "prod"}},
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
            "reason": "Unschedulable"}]}
    }));
    let info = Mapper::default().pod(&pending).expect("z2jh pod");
    assert_eq!(info.reason.as_deref(), Some("Unschedulable"));
    // Without annotations the owner falls back to the pod name.
    assert_eq!(
        info.owner.map(|o| o.user.to_string()).as_deref(),
        Some("bob")
    );
}

#[test]
fn the_main_containers_last_termination_is_kept_not_a_sidecars() {
    let p = pod(json!({
        "metadata": {"name": "jupyter-ada", "namespace": "prod",
                     "labels": {"component": "singleuser-server", "release": "prod"}},
        "spec": {"containers": [{"name": "notebook"}, {"name": "sidecar"}]},
        "status": {"phase": "Running", "containerStatuses": [
            {"name": "sidecar", "ready": true, "restartCount": 1, "image": "x", "imageID": "y",
             "lastState": {"terminated": {"exitCode": 2, "reason": "Error",
                 "finishedAt": "2026-11-25T09:00:00Z"}}},
            {"name": "notebook", "ready": false, "restartCount": 3, "image": "x", "imageID": "y",
             "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                 "startedAt": "2026-11-25T09:30:00Z", "finishedAt": "2026-11-25T10:00:00Z",
                 "containerID": "containerd://ab"}},
             "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
    }));
    let info = Mapper::default().pod(&p).expect("z2jh pod");
    let t = info.last_termination.expect("a last termination");
    assert_eq!(&*t.reason, "OOMKilled");
    assert_eq!(t.exit_code, 137);
    assert_eq!(t.finished_at, Some("2026-11-25T10:00:00Z".parse().unwrap()));
    assert_eq!(
        t.describe("2026-11-25T10:04:10Z".parse().unwrap()),
        "OOMKilled 137, 4m ago"
    );
    let fresh = pod(json!({
        "metadata": {"name": "jupyter-bob", "namespace": "prod",
                     "labels": {"component": "singleuser-server", "release": "prod"}},
        "spec": {"containers": [{"name": "notebook"}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "notebook",
            "ready": true, "restartCount": 0, "image": "x", "imageID": "y", "lastState": {}}]}
    }));
    assert_eq!(
        Mapper::default().pod(&fresh).unwrap().last_termination,
        None
    );
}

#[test]
fn pods_of_other_apps_are_not_kept() {
    let p = pod(
        json!({"metadata": {"name": "grafana-0", "namespace": "support",
        "labels": {"app": "grafana"}}}),
    );
    assert!(Mapper::default().pod(&p).is_none());
}

#[test]
fn prefixed_release_is_discovered_by_labels_not_names() {
    // fullnameOverride: null with release "alpha" names the Deployment alpha-jupyterhub-hub.
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "alpha-jupyterhub-hub", "namespace": "research",
            "labels": {"app": "jupyterhub", "component": "hub", "release": "alpha"},
            "generation": 3},
        "spec": {"replicas": 1, "selector": {}, "template": {"metadata": {"annotations":
            {"kubectl.kubernetes.io/restartedAt": "2026-11-25T09:00:00Z"}},
            "spec": {"containers": [{"name": "hub", "image": "quay.io/jupyterhub/k8s-hub:4.2.0"}]}}},
        "status": {"readyReplicas": 1, "updatedReplicas": 1, "observedGeneration": 3}
    }))
    .expect("deployment json");
    let w = Mapper::default().deployment(&d).expect("z2jh deployment");
    assert_eq!(w.component, Component::Hub);
    assert_eq!(&*w.release, "alpha");
    assert_eq!(&*w.key.name, "alpha-jupyterhub-hub");
    assert_eq!((w.desired, w.ready), (1, 1));
    assert!(w.observed);
    assert_eq!(w.restarted_at.as_deref(), Some("2026-11-25T09:00:00Z"));
    assert_eq!(&*w.images[0], "quay.io/jupyterhub/k8s-hub:4.2.0");
}

#[test]
fn release_with_name_override_still_counts() {
    // nameOverride changes the `app` label; component and release stay.
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "proxy", "namespace": "x",
            "labels": {"app": "myhub", "component": "proxy", "release": "x"}},
        "spec": {"selector": {}, "template": {}}
    }))
    .expect("deployment json");
    assert!(Mapper::default().deployment(&d).is_some());
}

#[test]
fn limits_are_summed_when_every_container_sets_them() {
    let p = pod(json!({
        "metadata": {"name": "jupyter-ada", "namespace": "prod",
            "labels": {"component": "singleuser-server", "release": "prod"}},
        "spec": {"containers": [
            {"name": "notebook", "resources": {"limits": {"cpu": "2", "memory": "4Gi"}}},
            {"name": "sidecar", "resources": {"limits": {"memory": "256Mi"}}}]}
    }));
    let info = Mapper::default().pod(&p).expect("a z2jh pod");
    assert_eq!(info.limits.memory_bytes, (4 << 30) + (256 << 20));
    assert_eq!(info.limits.cpu_milli, 0, "the sidecar's CPU is unbounded");
}

#[test]
fn quantities_parse_like_kubernetes() {
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    assert_eq!(cpu_milli(&Quantity("250m".into())), 250);
    assert_eq!(cpu_milli(&Quantity("1.5".into())), 1500);
    assert_eq!(memory_bytes(&Quantity("512Mi".into())), 512 << 20);
    assert_eq!(memory_bytes(&Quantity("1G".into())), 1_000_000_000);
    assert_eq!(memory_bytes(&Quantity("1073741824".into())), 1 << 30);
    assert_eq!(cpu_milli(&Quantity("250000000n".into())), 250);
    assert_eq!(memory_bytes(&Quantity("nonsense".into())), 0);
}

#[test]
fn slim_pods_skip_what_mapping_never_reads() {
    let p = pod(json!({
        "metadata": {
            "name": "jupyter-eve", "namespace": "prod", "uid": "u-1", "resourceVersion": "42",
            "labels": {"component": "singleuser-server", "release": "prod", "heritage": "jupyterhub",
                       "hub.jupyter.org/network-access-hub": "true"},
            "annotations": {"hub.jupyter.org/username": "eve",
                            "kubectl.kubernetes.io/last-applied-configuration": "{\"big\": 1}"},
            "managedFields": [{"manager": "kubelet", "operation": "Update",
                               "fieldsV1": {"f:status": {}}}],
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": "n", "uid": "x"}]
        },
        "spec": {"containers": [{"name": "notebook", "image": "jupyter/base:1",
            "env": [{"name": "JUPYTERHUB_API_TOKEN", "value": "secret"}],
            "resources": {"requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"},
                          "limits": {"cpu": "2"}}},
            {"name": "sidecar", "resources": {"requests": {"cpu": "250m"}}}],
            "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "claim-eve"}}]},
        "status": {"phase": "Pending", "reason": "Evicted"}
    }));
    let labels = p.metadata.labels.as_ref().expect("labels");
    assert_eq!(
        labels.len(),
        2,
        "only component and release are kept: {labels:?}"
    );
    let annotations = p.metadata.annotations.as_ref().expect("annotations");
    assert_eq!(annotations.len(), 1, "{annotations:?}");
    assert!(p.metadata.managed_fields.is_none());
    assert_eq!(p.metadata.resource_version.as_deref(), Some("42"));
    let info = Mapper::default().pod(&p).expect("a z2jh pod");
    assert_eq!(info.requests.cpu_milli, 1250);
    assert_eq!(info.requests.memory_bytes, 1 << 30);
    assert_eq!(
        info.limits,
        Requests::default(),
        "the sidecar sets no limit: the pod has none"
    );
    assert_eq!(info.reason.as_deref(), Some("Evicted"));
    assert_eq!(
        info.owner.map(|o| o.user.to_string()).as_deref(),
        Some("eve")
    );
}

#[test]
fn slim_pods_take_null_lists_as_empty_like_full_pods_do() {
    let p = pod(json!({
        "metadata": {"name": "jupyter-eve", "namespace": "prod",
            "labels": {"component": "singleuser-server", "release": "prod"}},
        "spec": {"containers": null},
        "status": {"phase": "Pending", "conditions": null, "containerStatuses": null}
    }));
    let info = Mapper::default().pod(&p).expect("a z2jh pod");
    assert!(!info.ready);
    assert_eq!(info.restarts, 0);
}

#[test]
fn slim_pods_are_watched_where_pods_live() {
    use k8s_openapi::api::core::v1::Pod;
    use kube::Resource;
    assert_eq!(SlimPod::url_path(&(), None), Pod::url_path(&(), None));
    assert_eq!(
        SlimPod::url_path(&(), Some("prod")),
        Pod::url_path(&(), Some("prod"))
    );
}

#[test]
fn a_node_keeps_its_pool_type_conditions_and_allocatable_and_drops_the_rest() {
    let v = json!({
        "metadata": {"name": "ip-10-0-1-7.us-west-2.compute.internal",
            "creationTimestamp": "2026-11-25T10:00:00Z",
            "labels": {"alpha.eksctl.io/nodegroup-name": "user-ng",
                       "eks.amazonaws.com/nodegroup": "user-ng-managed",
                       "node.kubernetes.io/instance-type": "m5.xlarge",
                       "hub.jupyter.org/node-purpose": "user",
                       "kubernetes.io/hostname": "ip-10-0-1-7"},
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
        "spec": {"unschedulable": true, "providerID": "aws:///us-west-2a/i-0abc"},
        "status": {"allocatable": {"cpu": "3920m", "memory": "15896Mi", "pods": "58"},
            "conditions": [
                {"type": "MemoryPressure", "status": "True"},
                {"type": "DiskPressure", "status": "False"},
                {"type": "PIDPressure", "status": "False"},
                {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown"}],
            "images": [{"names": ["quay.io/jupyter/scipy-notebook:2025-01-01"], "sizeBytes": 1}]}
    });
    let _: k8s_openapi::api::core::v1::Node =
        serde_json::from_value(v.clone()).expect("valid node json");
    let slim: super::slim::SlimNode = serde_json::from_value(v).expect("valid slim node json");
    let labels = slim.metadata.labels.as_ref().map_or(0, |l| l.len());
    assert_eq!(labels, 4, "only the labels the node model reads are kept");
    let n = Mapper::default().node(&slim);
    assert_eq!(&*n.pool, "user-ng-managed");
    assert_eq!(&*n.instance_type, "m5.xlarge");
    assert_eq!(&*n.purpose, "user");
    assert!(!n.ready, "Ready Unknown is not ready");
    assert!(n.cordoned);
    assert!(n.pressure.memory && !n.pressure.disk && !n.pressure.pid);
    assert_eq!(n.allocatable.cpu_milli, 3_920);
    assert_eq!(n.allocatable.memory_bytes, 15_896 << 20);
}

#[test]
fn a_warning_the_scheduler_repeats_counts_its_series_and_last_observation() {
    let e: k8s_openapi::api::core::v1::Event = serde_json::from_value(json!({
        "metadata": {"name": "jupyter-ada.18a1", "namespace": "prod",
                     "creationTimestamp": "2026-03-01T10:00:00Z"},
        "involvedObject": {"kind": "Pod", "namespace": "prod", "name": "jupyter-ada"},
        "reason": "FailedScheduling", "type": "Warning", "message": "0/3 nodes are available",
        "source": {}, "firstTimestamp": null, "lastTimestamp": null,
        "eventTime": "2026-03-01T10:00:00.250000Z",
        "series": {"count": 7, "lastObservedTime": "2026-03-01T10:09:30.000000Z"},
        "reportingComponent": "default-scheduler", "reportingInstance": "default-scheduler-cp-1"
    }))
    .expect("a core/v1 Event");
    let info = Mapper::default().event(&e);
    assert_eq!(info.count, 7);
    assert_eq!(info.last_seen, "2026-03-01T10:09:30Z".parse().ok());
    // The older recorder's shape reads as before.
    let legacy: k8s_openapi::api::core::v1::Event = serde_json::from_value(json!({
        "metadata": {"name": "proxy.1", "namespace": "prod"},
        "involvedObject": {"kind": "Pod", "namespace": "prod", "name": "proxy-1"},
        "reason": "BackOff", "type": "Warning", "message": "Back-off restarting failed container",
        "source": {"component": "kubelet", "host": "n1"}, "count": 14,
        "firstTimestamp": "2026-03-01T09:00:00Z", "lastTimestamp": "2026-03-01T10:00:00Z"
    }))
    .expect("a core/v1 Event");
    let info = Mapper::default().event(&legacy);
    assert_eq!(
        (info.count, info.last_seen),
        (14, "2026-03-01T10:00:00Z".parse().ok())
    );
}
