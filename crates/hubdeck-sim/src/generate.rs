//! Builds the objects of a z2jh fleet: per hub the chart's Deployments, StatefulSet, Services and
//! Secret with KubeSpawner user pods; per cluster a `support` namespace. Deterministic from the seed.

use serde_json::{Value, json};

use super::controller::State;
use super::events::{Occurrence, Reporter};
use super::names;
use super::podstatus::{set_pod_pending, set_pod_running};
use super::resources::Kind;
use super::store::rfc3339;

/// How a hub's objects are named: the chart's `fullname.dash` prefix ("" by default).
#[derive(Debug, Clone)]
pub(crate) struct Hub {
    pub namespace: String,
    pub release: String,
    pub prefix: String,
}

impl Hub {
    /// A chart object name, e.g. `hub` or `alpha-jupyterhub-hub`.
    pub fn object(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The chart's common labels for a component.
    pub fn labels(&self, component: &str) -> Value {
        json!({
            "app": "jupyterhub", "component": component, "release": self.release,
            "chart": "jupyterhub-4.1.0", "heritage": "Helm",
            "app.kubernetes.io/name": "jupyterhub", "app.kubernetes.io/instance": self.release,
            "app.kubernetes.io/component": component, "app.kubernetes.io/managed-by": "Helm",
            "helm.sh/chart": "jupyterhub-4.1.0",
        })
    }

    fn match_labels(&self, component: &str) -> Value {
        json!({"app": "jupyterhub", "component": component, "release": self.release})
    }
}

fn container(name: &str, image: &str, port: u16, cpu: &str, mem: &str) -> Value {
    json!({"name": name, "image": image, "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": port, "name": "http", "protocol": "TCP"}],
        "resources": {"requests": {"cpu": cpu, "memory": mem}},
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"})
}

fn workload(hub: &Hub, kind: Kind, name: &str, component: &str, replicas: u32, c: Value) -> Value {
    let mut pod_labels = hub.match_labels(component);
    if component == "hub" {
        pod_labels["hub.jupyter.org/network-access-proxy-api"] = json!("true");
        pod_labels["hub.jupyter.org/network-access-singleuser"] = json!("true");
    }
    let mut spec = json!({
        "replicas": replicas,
        "selector": {"matchLabels": hub.match_labels(component)},
        "template": {
            "metadata": {"labels": pod_labels,
                "annotations": {"checksum/config-map": "5e8f2b1c9d7a4e3f"}},
            "spec": {"containers": [c], "restartPolicy": "Always",
                "serviceAccountName": if component == "hub" { "hub" } else { "default" },
                "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                "schedulerName": "default-scheduler"},
        },
    });
    if kind == Kind::Deployment {
        spec["strategy"] = json!({"type": "Recreate"});
        spec["revisionHistoryLimit"] = json!(10);
    } else {
        spec["serviceName"] = json!(name);
        spec["podManagementPolicy"] = json!("Parallel");
    }
    json!({"metadata": {"name": name, "namespace": hub.namespace, "labels": hub.labels(component),
        "generation": 1, "annotations": {"meta.helm.sh/release-name": hub.release,
            "meta.helm.sh/release-namespace": hub.namespace}},
        "spec": spec})
}

fn service(ns: &str, name: &str, labels: Value, selector: Value, port: u16, target: u16) -> Value {
    json!({"metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"type": "ClusterIP", "clusterIP": format!("10.96.{}.{}", port % 250, target % 250),
            "selector": selector,
            "ports": [{"name": "http", "port": port, "targetPort": target, "protocol": "TCP"}]}})
}

/// Creates every object of one hub (workload pods become Running at once).
pub(crate) fn add_hub(st: &mut State, hub: &Hub, image: &str) {
    let ns = &hub.namespace;
    st.store.put(
        Kind::Namespace,
        json!({"metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}),
    );
    let quiet = std::mem::replace(&mut st.quiet, true);
    let hub_c = container(
        "hub",
        "quay.io/jupyterhub/k8s-hub:4.1.0",
        8081,
        "200m",
        "512Mi",
    );
    let chp = container(
        "chp",
        "quay.io/jupyterhub/configurable-http-proxy:4.6.3",
        8000,
        "200m",
        "512Mi",
    );
    let sched = container(
        "kube-scheduler",
        "registry.k8s.io/kube-scheduler:v1.30.8",
        10259,
        "50m",
        "256Mi",
    );
    let pause = container("pause", "registry.k8s.io/pause:3.10", 8080, "500m", "2Gi");
    let items = [
        (Kind::Deployment, "hub", "hub", 1, hub_c),
        (Kind::Deployment, "proxy", "proxy", 1, chp),
        (
            Kind::Deployment,
            "user-scheduler",
            "user-scheduler",
            2,
            sched,
        ),
        (
            Kind::StatefulSet,
            "user-placeholder",
            "user-placeholder",
            2,
            pause,
        ),
    ];
    for (kind, name, component, replicas, c) in items {
        let name = hub.object(name);
        st.store
            .put(kind, workload(hub, kind, &name, component, replicas, c));
        st.reconcile(kind, ns, &name);
    }
    st.quiet = quiet;
    for (name, component, port, target) in [
        ("hub", "hub", 8081, 8081),
        ("proxy-public", "proxy", 80, 8000),
        ("proxy-api", "proxy", 8001, 8001),
    ] {
        let svc = service(
            ns,
            &hub.object(name),
            hub.labels(component),
            hub.match_labels(component),
            port,
            target,
        );
        st.store.put(Kind::Service, svc);
    }
    let s = super::values::secret(hub, image, &mut st.rng);
    st.store.put(Kind::Secret, s);
    backdate(st, ns);
}

/// Ages a freshly generated hub: installed weeks ago, its pods started days ago, as in a real fleet.
fn backdate(st: &mut State, ns: &str) {
    let now = jiff::Timestamp::now();
    let installed = rfc3339(now - jiff::SignedDuration::from_hours(24 * st.rng.i64(20..400)));
    let started = rfc3339(now - jiff::SignedDuration::from_mins(st.rng.i64(60..8000)));
    if let Some(o) = st.store.get(Kind::Namespace, "", ns) {
        let mut v = o.value();
        v["metadata"]["creationTimestamp"] = json!(installed);
        st.store.put(Kind::Namespace, v);
    }
    for kind in [
        Kind::Deployment,
        Kind::StatefulSet,
        Kind::Service,
        Kind::Secret,
        Kind::Pod,
    ] {
        for o in st.store.list(kind, Some(ns)) {
            let mut v = o.value();
            if kind == Kind::Pod {
                v["metadata"]["creationTimestamp"] = json!(started);
                if v["status"]["startTime"].is_string() {
                    v["status"]["startTime"] = json!(started);
                }
                for cs in v["status"]["containerStatuses"]
                    .as_array_mut()
                    .into_iter()
                    .flatten()
                {
                    if cs["state"]["running"].is_object() {
                        cs["state"]["running"]["startedAt"] = json!(started);
                    }
                }
            } else {
                v["metadata"]["creationTimestamp"] = json!(installed);
            }
            st.store.put(kind, v);
        }
    }
}

/// A KubeSpawner user pod, Running unless `pending`.
pub(crate) fn user_pod(
    hub: &Hub,
    user: &str,
    server: &str,
    image: &str,
    node: Option<String>,
    started: jiff::Timestamp,
    pending: bool,
) -> Value {
    let escaped = names::escape(user);
    let name = names::server_pod_name(user, server);
    let mut c = container("notebook", image, 8888, "500m", "2Gi");
    c["resources"]["limits"] = json!({"cpu": "2", "memory": "4Gi"});
    c["env"] = json!([{"name": "JUPYTERHUB_USER", "value": user},
        {"name": "JUPYTERHUB_SERVER_NAME", "value": server}]);
    let mut spec = json!({"containers": [c], "restartPolicy": "OnFailure",
        "schedulerName": format!("{}user-scheduler", hub.prefix),
        "nodeSelector": {"hub.jupyter.org/node-purpose": "user"},
        "serviceAccountName": "default", "terminationGracePeriodSeconds": 1});
    if let Some(node) = node {
        spec["nodeName"] = json!(node);
    }
    let mut pod = json!({
        "metadata": {"name": name, "namespace": hub.namespace,
            "creationTimestamp": rfc3339(started),
            "labels": {"app": "jupyterhub", "component": "singleuser-server",
                "release": hub.release, "chart": "jupyterhub-4.1.0", "heritage": "jupyterhub",
                "hub.jupyter.org/network-access-hub": "true",
                "hub.jupyter.org/username": escaped,
                "hub.jupyter.org/servername": names::escape(server)},
            "annotations": {"hub.jupyter.org/username": user,
                "hub.jupyter.org/servername": server}},
        "spec": spec,
    });
    if pending {
        set_pod_pending(&mut pod);
    } else {
        set_pod_running(&mut pod);
        pod["status"]["startTime"] = json!(rfc3339(started));
    }
    pod
}

/// A Warning event about an object, seen `count` times since `first`, in the shape its
/// reporter writes: the scheduler's (events.k8s.io) for FailedScheduling, the kubelet of the
/// pod's node for the rest of a pod's, the deployment controller's for a Deployment's.
#[allow(clippy::too_many_arguments)]
pub(crate) fn warning(
    st: &mut State,
    ns: &str,
    kind: &str,
    name: &str,
    reason: &str,
    message: &str,
    count: u32,
    first: jiff::Timestamp,
) {
    let now = jiff::Timestamp::now();
    if kind == "Pod" {
        let pod = st.store.get(Kind::Pod, ns, name).map(|o| o.value());
        let field = |k: &str| {
            pod.as_ref()
                .and_then(|p| p["spec"][k].as_str().map(str::to_string))
        };
        let scheduler = field("schedulerName").unwrap_or_else(|| "default-scheduler".into());
        let node = field("nodeName").unwrap_or_default();
        let reporter = match reason {
            "FailedScheduling" => Reporter::Scheduler(&scheduler),
            _ => Reporter::Kubelet(&node),
        };
        let o = Occurrence {
            namespace: ns,
            pod: name,
            reason,
            message,
            warning: true,
            reporter,
            count,
            first,
            last: now,
        };
        super::events::record(st, &o);
        return;
    }
    let ev_name = format!("{name}.{:016x}", st.rng.u64(..) >> 4);
    let source = "deployment-controller";
    let ev = json!({
        "metadata": {"name": ev_name, "namespace": ns, "creationTimestamp": rfc3339(first)},
        "involvedObject": {"kind": kind, "namespace": ns, "name": name,
            "uid": st.store.get(Kind::Deployment, ns, name)
                .map(|o| o.value()["metadata"]["uid"].clone()).unwrap_or(Value::Null),
            "apiVersion": "apps/v1"},
        "reason": reason, "message": message, "count": count, "type": "Warning",
        "source": {"component": source}, "firstTimestamp": rfc3339(first),
        "lastTimestamp": rfc3339(now), "eventTime": null,
        "reportingComponent": source, "reportingInstance": "",
    });
    st.store.put(Kind::Event, ev);
    st.events
        .push_back((first.as_second(), ns.into(), ev_name.into()));
}

/// The `support` namespace with Alertmanager and Prometheus services.
pub(crate) fn add_support(st: &mut State) {
    st.store.put(
        Kind::Namespace,
        json!({"metadata": {"name": "support", "labels": {"kubernetes.io/metadata.name": "support"}},
               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}),
    );
    for (name, app, port) in [
        ("support-alertmanager", "alertmanager", 9093),
        ("support-prometheus-server", "prometheus", 9090),
    ] {
        let labels = json!({"app.kubernetes.io/name": app, "app.kubernetes.io/instance": "support",
            "app.kubernetes.io/component": if app == "prometheus" { "server" } else { app }});
        let svc = service("support", name, labels.clone(), labels, port, port);
        st.store.put(Kind::Service, svc);
    }
}
