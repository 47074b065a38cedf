//! Direct access to a simulated cluster for tests and the scenario driver: start and stop user
//! servers, read objects as k8s-openapi types, and nudge state (crash loops, ready replicas).

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Pod, Secret};
use serde_json::json;

use super::cluster::SimCluster;
use super::generate::{self, Hub};
use super::names;
use super::podstatus::set_pod_crash_looping;
use super::resources::Kind;

impl SimCluster {
    fn typed<T: serde::de::DeserializeOwned>(&self, kind: Kind) -> Vec<T> {
        let objs = self.inner.state().store.list(kind, None);
        objs.iter().filter_map(|o| o.typed()).collect()
    }

    /// Starts a user server: the pod is Pending, then Running and ready after a short delay
    /// (at once in Quiet). Returns the pod name.
    pub fn start_server(&self, namespace: &str, user: &str, server_name: &str) -> String {
        self.start_server_pending(namespace, user, server_name, None)
    }

    /// Starts a user server that waits first (`how`), with the events a real cluster writes:
    /// see [`Pending`](crate::Pending). `None` is [`SimCluster::start_server`].
    pub fn start_server_pending(
        &self,
        namespace: &str,
        user: &str,
        server_name: &str,
        how: Option<super::Pending>,
    ) -> String {
        let mut st = self.inner.state();
        let pod_name = names::server_pod_name(user, server_name);
        if st.store.get(Kind::Pod, namespace, &pod_name).is_some() {
            return pod_name;
        }
        let hub = st
            .hubs
            .iter()
            .find(|h| h.namespace == namespace)
            .cloned()
            .unwrap_or_else(|| Hub {
                namespace: namespace.to_string(),
                release: namespace.to_string(),
                prefix: String::new(),
            });
        let image = "quay.io/2i2c/pangeo-image:2024.10.11";
        super::pending::start(&mut st, &hub, user, server_name, image, how)
    }

    /// Whether what happens by itself takes its time on this cluster (a scale-up's node joins
    /// in a minute or so, an image pulls in seconds, a deleted pod terminates), as outside the
    /// quiet scenario, or happens at once, as in it.
    pub fn set_timed(&self, on: bool) {
        self.inner.state().quiet = !on;
    }

    /// Stops a user server (graceful pod delete); false when it was not running.
    pub fn stop_server(&self, namespace: &str, user: &str, server_name: &str) -> bool {
        let pod_name = names::server_pod_name(user, server_name);
        self.inner
            .state()
            .delete_pod(namespace, &pod_name, Some(1))
            .is_some()
    }

    /// The cluster's Alertmanager (behind Service `support/support-alertmanager`), to fire and
    /// resolve alerts; `None` for a cluster without one.
    pub fn alertmanager(&self) -> Option<super::fake_alertmanager::FakeAlertmanager> {
        self.inner.alertmanager.clone()
    }

    /// Every pod.
    pub fn pods(&self) -> Vec<Pod> {
        self.typed(Kind::Pod)
    }

    /// Every Node.
    pub fn nodes(&self) -> Vec<k8s_openapi::api::core::v1::Node> {
        self.typed(Kind::Node)
    }

    /// Cordons (`on`) or uncordons a node, as `kubectl cordon` does. False if there is none.
    pub fn cordon_node(&self, node: &str, on: bool) -> bool {
        super::nodes::update(&mut self.inner.state(), node, |v| {
            super::nodes::set_cordoned(v, on)
        })
    }

    /// Sets a node's troubled conditions (empty: healthy again). False if there is no such node.
    pub fn set_node_conditions(&self, node: &str, bad: &[super::NodeCondition]) -> bool {
        super::nodes::update(&mut self.inner.state(), node, |v| {
            super::nodes::set_conditions(v, bad, jiff::Timestamp::now())
        })
    }

    /// The names of the nodes of a pool purpose (`core` or `user`).
    pub fn node_names(&self, purpose: &str) -> Vec<String> {
        self.inner.state().nodes_of(purpose)
    }

    /// Sets a user's pod on course for an OOM kill: its memory usage (metrics.k8s.io) climbs to
    /// its limit over `climb`, then the container is killed and restarted, again and again.
    pub fn oom_course(&self, namespace: &str, pod: &str, climb: std::time::Duration) -> bool {
        let secs = i64::try_from(climb.as_secs()).unwrap_or(i64::MAX);
        super::oom::set_course(&mut self.inner.state(), namespace, pod, secs)
    }

    /// OOM-kills a pod's first container now: it restarts with `lastState.terminated` OOMKilled,
    /// exit code 137. False if the pod is not running.
    pub fn oom_kill(&self, namespace: &str, pod: &str) -> bool {
        super::oom::kill(&mut self.inner.state(), namespace, pod)
    }

    /// Every Deployment.
    pub fn deployments(&self) -> Vec<Deployment> {
        self.typed(Kind::Deployment)
    }

    /// Every StatefulSet.
    pub fn stateful_sets(&self) -> Vec<StatefulSet> {
        self.typed(Kind::StatefulSet)
    }

    /// Every core/v1 Event.
    pub fn events(&self) -> Vec<Event> {
        self.typed(Kind::Event)
    }

    /// One Secret.
    pub fn secret(&self, namespace: &str, name: &str) -> Option<Secret> {
        self.inner
            .state()
            .store
            .get(Kind::Secret, namespace, name)
            .and_then(|o| o.typed())
    }

    /// The namespaces of this cluster's hubs.
    pub fn hub_namespaces(&self) -> Vec<String> {
        self.inner
            .state()
            .hubs
            .iter()
            .map(|h| h.namespace.clone())
            .collect()
    }

    /// The current resourceVersion of the cluster.
    pub fn resource_version(&self) -> u64 {
        self.inner.state().store.resource_version()
    }

    /// Makes a pod crash-loop (CrashLoopBackOff, `restarts` restarts) with a Warning BackOff event.
    pub fn crash_loop_pod(&self, namespace: &str, pod: &str, restarts: u32) -> bool {
        let mut st = self.inner.state();
        let Some(obj) = st.store.get(Kind::Pod, namespace, pod) else {
            return false;
        };
        let mut v = obj.value();
        set_pod_crash_looping(&mut v, restarts);
        st.store.put(Kind::Pod, v);
        let msg = format!("Back-off restarting failed container in pod {pod}");
        generate::warning(
            &mut st,
            namespace,
            "Pod",
            pod,
            "BackOff",
            &msg,
            restarts,
            jiff::Timestamp::now(),
        );
        st.refresh_owner(namespace, pod);
        true
    }

    /// Breaks a hub component of `namespace` (`hub`, `proxy`, ...): its pods created from now
    /// on (by a rollout restart, say) crash-loop, as after a bad image or config; `on = false`
    /// mends it for pods created afterwards.
    pub fn crash_new_pods(&self, namespace: &str, component: &str, on: bool) {
        let key = (namespace.to_string(), component.to_string());
        let mut st = self.inner.state();
        if on {
            st.crash_new.insert(key);
        } else {
            st.crash_new.remove(&key);
        }
    }

    /// Overrides a Deployment's ready/available replicas (until its pods next change).
    pub fn set_ready_replicas(&self, namespace: &str, deployment: &str, ready: u32) -> bool {
        let mut st = self.inner.state();
        let Some(obj) = st.store.get(Kind::Deployment, namespace, deployment) else {
            return false;
        };
        let mut v = obj.value();
        v["status"]["readyReplicas"] = json!(ready);
        v["status"]["availableReplicas"] = json!(ready);
        st.store.put(Kind::Deployment, v);
        true
    }

    /// Edits any stored object in place as its k8s-openapi type (e.g. `Pod`, `Deployment`), then
    /// lets controllers react as if the API server had accepted the change. False if not found.
    pub fn mutate<K>(&self, namespace: &str, name: &str, f: impl FnOnce(&mut K)) -> bool
    where
        K: k8s_openapi::Resource + serde::Serialize + serde::de::DeserializeOwned,
    {
        let Some(kind) = Kind::ALL.into_iter().find(|k| k.kind() == K::KIND) else {
            return false;
        };
        let ns = if kind.namespaced() { namespace } else { "" };
        let mut st = self.inner.state();
        let Some(mut obj) = st.store.get(kind, ns, name).and_then(|o| o.typed::<K>()) else {
            return false;
        };
        f(&mut obj);
        let Ok(v) = serde_json::to_value(&obj) else {
            return false;
        };
        st.store.put(kind, v);
        match kind {
            Kind::Pod => st.refresh_owner(ns, name),
            Kind::Deployment | Kind::StatefulSet => st.reconcile(kind, ns, name),
            _ => {}
        }
        true
    }

    /// Adds a Warning event about an object (kind "Pod" or "Deployment").
    pub fn add_warning(
        &self,
        namespace: &str,
        kind: &str,
        name: &str,
        reason: &str,
        message: &str,
    ) {
        let mut st = self.inner.state();
        generate::warning(
            &mut st,
            namespace,
            kind,
            name,
            reason,
            message,
            1,
            jiff::Timestamp::now(),
        );
    }
}
