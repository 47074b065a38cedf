//! dask-gateway in a daskhub's namespace, as its Helm chart and its Kubernetes backend make it:
//! the gateway's API, controller and traefik pods (the chart's labels), and per user cluster a
//! `DaskCluster` (`gateway.dask.org/v1alpha1`) with a scheduler pod and worker pods (the
//! controller's labels, `gateway.dask.org/cluster`). The user is only in the DaskCluster's
//! `spec.username`, never on a pod, as in dask-gateway. A tiny controller answers
//! `spec.active: false` as dask-gateway's does: the cluster's pods go and it is Stopped.

use serde_json::{Value, json};

use super::controller::State;
use super::generate::Hub;
use super::podstatus::{set_pod_running, set_pod_waiting};
use super::resources::Kind;
use super::store::now_rfc3339;

/// The custom resources' group.
pub(crate) const GROUP: &str = "gateway.dask.org";
/// The version dask-gateway serves them at.
pub(crate) const VERSION: &str = "v1alpha1";
/// The dask-gateway release the sim pretends to run (labels, images).
const APP_VERSION: &str = "2024.1.0";

/// The chart's `dask-gateway.fullname` in a daskhub release (`<release>-dask-gateway`).
fn fullname(hub: &Hub) -> String {
    format!("{}-dask-gateway", hub.release)
}

/// The chart's common labels of a gateway component.
fn chart_labels(hub: &Hub, component: &str) -> Value {
    json!({
        "app.kubernetes.io/name": "dask-gateway",
        "app.kubernetes.io/instance": hub.release,
        "app.kubernetes.io/version": APP_VERSION,
        "app.kubernetes.io/managed-by": "Helm",
        "helm.sh/chart": format!("dask-gateway-{APP_VERSION}"),
        "app.kubernetes.io/component": component,
    })
}

/// The backend's labels of a cluster's objects (`get_labels`).
fn cluster_labels(hub: &Hub, cluster: &str, component: Option<&str>) -> Value {
    let mut l = json!({
        "app.kubernetes.io/name": "dask-gateway",
        "app.kubernetes.io/version": APP_VERSION,
        "gateway.dask.org/instance": fullname(hub),
        "gateway.dask.org/cluster": cluster,
    });
    if let Some(c) = component {
        l["app.kubernetes.io/component"] = json!(c);
    }
    l
}

fn suffix(st: &mut State, len: usize) -> String {
    (0..len)
        .map(|_| char::from(b"bcdfghjklmnpqrstvwxz2456789"[st.rng.usize(..27)]))
        .collect()
}

fn pod(name: &str, ns: &str, labels: Value, container: &str, node: String) -> Value {
    let image = format!("ghcr.io/dask/dask-gateway-server:{APP_VERSION}");
    let mut p = json!({
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"containers": [{"name": container, "image": image,
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}}}],
            "nodeName": node, "restartPolicy": "Always"},
    });
    set_pod_running(&mut p);
    p
}

/// Installs dask-gateway in `hub`'s namespace with one cluster per `(user, workers)`.
pub(crate) fn install(st: &mut State, hub: &Hub, users: &[(String, u32)]) {
    let full = fullname(hub);
    for (component, prefix) in [
        ("gateway", "api"),
        ("controller", "controller"),
        ("traefik", "traefik"),
    ] {
        let name = format!("{prefix}-{full}-{}-{}", suffix(st, 10), suffix(st, 5));
        let node = st.pick_node(false);
        let p = pod(
            &name,
            &hub.namespace,
            chart_labels(hub, component),
            component,
            node,
        );
        st.store.put(Kind::Pod, p);
    }
    for (user, workers) in users {
        start_cluster(st, hub, user, *workers);
    }
    st.dask_crd = true;
}

/// Starts a Running dask cluster of `user` with `workers` workers; its name.
pub(crate) fn start_cluster(st: &mut State, hub: &Hub, user: &str, workers: u32) -> String {
    let name: String = (0..32)
        .map(|_| char::from(b"0123456789abcdef"[st.rng.usize(..16)]))
        .collect();
    let ns = hub.namespace.as_str();
    let scheduler = format!("dask-scheduler-{name}");
    let obj = st.store.put(
        Kind::DaskCluster,
        json!({
            "metadata": {"name": name, "namespace": ns, "labels": cluster_labels(hub, &name, None)},
            "spec": {"username": user, "options": {}, "replicas": workers,
                "config": {"image": format!("pangeo/base-notebook:{APP_VERSION}"),
                    "worker_cores": 1, "worker_memory": 2_147_483_648_u64,
                    "scheduler_cores": 1, "scheduler_memory": 2_147_483_648_u64,
                    "idle_timeout": 1800}},
            "status": {"phase": "Running", "schedulerPod": scheduler,
                "service": format!("dask-{name}"), "credentials": format!("dask-credentials-{name}")},
        }),
    );
    let owner = json!([{"apiVersion": format!("{GROUP}/{VERSION}"), "kind": "DaskCluster",
        "name": name, "uid": obj.value()["metadata"]["uid"]}]);
    let node = st.pick_node(true);
    let labels = cluster_labels(hub, &name, Some("dask-scheduler"));
    let mut p = pod(&scheduler, ns, labels, "dask-scheduler", node);
    p["metadata"]["ownerReferences"] = owner;
    let sched = st.store.put(Kind::Pod, p);
    let owner = json!([{"apiVersion": "v1", "kind": "Pod", "name": scheduler,
        "uid": sched.value()["metadata"]["uid"]}]);
    for _ in 0..workers {
        let worker = format!("dask-worker-{name}-{}", suffix(st, 5));
        let node = st.pick_node(true);
        let labels = cluster_labels(hub, &name, Some("dask-worker"));
        let mut p = pod(&worker, ns, labels, "dask-worker", node);
        p["metadata"]["ownerReferences"] = owner.clone();
        st.store.put(Kind::Pod, p);
    }
    name
}

/// The controller's answer to a write of a DaskCluster: one asked to stop (`spec.active`
/// false) loses its scheduler and workers and is marked Stopped, as dask-gateway's
/// controller does (through a Stopping phase the sim does not linger in).
pub(crate) fn reconcile(st: &mut State, ns: &str, name: &str) {
    let Some(obj) = st.store.get(Kind::DaskCluster, ns, name) else {
        return;
    };
    let mut v = obj.value();
    let stopped = matches!(v["status"]["phase"].as_str(), Some("Stopped" | "Failed"));
    if v["spec"]["active"].as_bool() != Some(false) || stopped {
        return;
    }
    for p in st.store.list(Kind::Pod, Some(ns)) {
        if p.value()["metadata"]["labels"]["gateway.dask.org/cluster"].as_str() == Some(name) {
            st.store.remove(Kind::Pod, ns, &p.name);
        }
    }
    v["status"]["phase"] = json!("Stopped");
    v["status"]["completionTime"] = json!(now_rfc3339());
    st.store.put(Kind::DaskCluster, v);
}

/// Makes a gateway component's pod (`gateway`, `controller`, `traefik`) crash-loop; whether
/// the namespace had one.
pub(crate) fn break_component(st: &mut State, ns: &str, component: &str) -> bool {
    let found = st.store.list(Kind::Pod, Some(ns)).into_iter().find(|p| {
        let l = &p.value()["metadata"]["labels"];
        l["app.kubernetes.io/name"] == "dask-gateway"
            && l["app.kubernetes.io/component"] == component
    });
    let Some(p) = found else {
        return false;
    };
    let mut v = p.value();
    set_pod_waiting(
        &mut v,
        "CrashLoopBackOff",
        "back-off 5m0s restarting failed container",
    );
    v["status"]["phase"] = json!("Running");
    st.store.put(Kind::Pod, v);
    true
}

/// The namespace dask-gateway runs in, if any.
pub(crate) fn namespace(st: &State) -> Option<String> {
    st.store
        .list(Kind::Pod, None)
        .into_iter()
        .find(|p| {
            let l = &p.value()["metadata"]["labels"];
            l["app.kubernetes.io/name"] == "dask-gateway"
                && l["app.kubernetes.io/component"] == "controller"
        })
        .map(|p| p.namespace.to_string())
}

/// `GET /apis/gateway.dask.org/v1alpha1`.
pub(crate) fn resource_list() -> Value {
    json!({"kind": "APIResourceList", "apiVersion": "v1",
        "groupVersion": format!("{GROUP}/{VERSION}"), "resources": [
        {"name": "daskclusters", "singularName": "daskcluster", "namespaced": true,
         "kind": "DaskCluster", "verbs": ["delete", "deletecollection", "get", "list", "patch",
         "create", "update", "watch"]},
        {"name": "daskclusters/status", "singularName": "", "namespaced": true,
         "kind": "DaskCluster", "verbs": ["get", "patch", "update"]},
    ]})
}

/// The API group entry for `GET /apis`.
pub(crate) fn group() -> Value {
    let gv = format!("{GROUP}/{VERSION}");
    json!({"name": GROUP, "versions": [{"groupVersion": gv, "version": VERSION}],
        "preferredVersion": {"groupVersion": gv, "version": VERSION}})
}

impl super::SimCluster {
    /// The namespace whose hub runs dask-gateway (a daskhub), if any.
    pub fn daskhub(&self) -> Option<String> {
        namespace(&self.inner.state())
    }

    /// Makes dask-gateway's `component` (`gateway`, `controller`, `traefik`) in `namespace`
    /// crash-loop; false when there is none.
    pub fn break_dask_component(&self, namespace: &str, component: &str) -> bool {
        break_component(&mut self.inner.state(), namespace, component)
    }

    /// Starts a dask cluster of `user` with `workers` workers on the hub of `namespace`; its
    /// name, or None without such a hub.
    pub fn start_dask_cluster(&self, namespace: &str, user: &str, workers: u32) -> Option<String> {
        let mut st = self.inner.state();
        let hub = st.hubs.iter().find(|h| h.namespace == namespace)?.clone();
        Some(start_cluster(&mut st, &hub, user, workers))
    }

    /// Every DaskCluster, as the API serves it.
    pub fn dask_clusters(&self) -> Vec<Value> {
        self.inner
            .state()
            .store
            .list(Kind::DaskCluster, None)
            .into_iter()
            .map(|o| o.value())
            .collect()
    }
}
