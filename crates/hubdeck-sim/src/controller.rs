//! The little bit of kubelet and controller-manager the demo needs: workloads keep their pod count
//! and roll pods when their template changes, pods start after a delay, graceful deletes linger.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::patch::merge;
use super::podstatus::{
    pod_ready, set_pod_crash_looping, set_pod_pending, set_pod_running, set_pod_waiting,
};
use super::resources::Kind;
use super::store::{Store, ensure_object, now_rfc3339};

/// Something the cluster will do on its own a little later.
#[derive(Debug, Clone)]
pub(crate) enum Timed {
    /// A pending pod starts (or, for `fail`, gets stuck pulling its image).
    PodStarts {
        ns: String,
        name: String,
        fail: bool,
        /// How long its image took to pull, for the kubelet's Pulled event (None: no events).
        pulled_in: Option<Duration>,
    },
    /// A node added by a scale-up joins, and the pod waiting for it is scheduled there.
    NodeJoins { ns: String, name: String },
    /// A terminating pod disappears.
    PodGone { ns: String, name: String },
    /// A new pod of a broken workload starts and crash-loops (see `crash_new_pods`).
    PodCrashes { ns: String, name: String },
}

/// All mutable state of one simulated cluster.
pub(crate) struct State {
    pub store: Store,
    pub timers: Vec<(Instant, Timed)>,
    pub rng: fastrand::Rng,
    /// Quiet: every transition happens at once, so tests are deterministic.
    pub quiet: bool,
    /// The cluster's node pools (their Node objects are in the store).
    pub pools: Vec<super::pools::Pool>,
    /// Nodes new pods must not land on: NotReady, under pressure or cordoned.
    pub unschedulable: std::collections::BTreeSet<String>,
    /// Round-robin position per pool purpose, so servers spread over nodes as the scheduler's
    /// least-allocated scoring spreads them.
    pub next_node: usize,
    /// The hubs of this cluster, for starting servers with the right labels.
    pub hubs: Vec<super::generate::Hub>,
    /// How the cloud lays out and names nodes.
    pub layout: super::pools::Layout,
    /// The cluster's name, which clouds put into node names and ids.
    pub cluster: String,
    /// Pods whose memory climbs to their limit (see `metrics`), until the kernel kills them.
    pub oom: Vec<super::oom::OomCourse>,
    /// Events by age (creation second, namespace, name), for their TTL.
    pub events: std::collections::VecDeque<(i64, Box<str>, Box<str>)>,
    /// Pods waiting for good, with the events that repeat while they wait.
    pub stuck: Vec<(String, String, Vec<String>)>,
    /// (namespace, component) whose pods created from now on crash-loop: a broken image or
    /// config a rollout brings in.
    pub crash_new: std::collections::BTreeSet<(String, String)>,
    /// Whether dask-gateway's CRD is installed (its `daskclusters` served).
    pub dask_crd: bool,
    /// The metrics.k8s.io answers of the last scrape (see `metrics::Scrape`).
    pub scrape: Option<std::sync::Arc<super::metrics::Scrape>>,
}

impl State {
    /// Schedules `what` after `delay`, or does it now when Quiet.
    pub fn after(&mut self, delay: Duration, what: Timed) {
        if self.quiet {
            self.run(what);
        } else {
            self.timers.push((Instant::now() + delay, what));
        }
    }

    /// Runs every timer that is due.
    pub fn tick(&mut self, now: Instant) {
        let (due, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.timers)
            .into_iter()
            .partition(|(t, _)| *t <= now);
        self.timers = keep;
        for (_, what) in due {
            self.run(what);
        }
        super::oom::tick(self);
    }

    fn run(&mut self, what: Timed) {
        match what {
            Timed::NodeJoins { ns, name } => super::pending::node_joins(self, &ns, &name),
            Timed::PodStarts {
                ns,
                name,
                fail,
                pulled_in,
            } => {
                let Some(obj) = self.store.get(Kind::Pod, &ns, &name) else {
                    return;
                };
                let mut pod = obj.value();
                if !pod["metadata"]["deletionTimestamp"].is_null() {
                    return;
                }
                if fail {
                    let image = pod["spec"]["containers"][0]["image"]
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    let msg = format!("Back-off pulling image \"{image}\"");
                    set_pod_waiting(&mut pod, "ImagePullBackOff", &msg);
                    let since = jiff::Timestamp::now();
                    super::generate::warning(
                        self,
                        &ns,
                        "Pod",
                        &name,
                        "Failed",
                        &format!(
                            "Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": not found"
                        ),
                        1,
                        since,
                    );
                    super::generate::warning(self, &ns, "Pod", &name, "BackOff", &msg, 1, since);
                } else {
                    set_pod_running(&mut pod);
                }
                self.store.put(Kind::Pod, pod);
                if let (false, Some(d)) = (fail, pulled_in) {
                    super::pending::started(self, &ns, &name, d);
                }
                self.refresh_owner(&ns, &name);
            }
            Timed::PodCrashes { ns, name } => {
                let Some(obj) = self.store.get(Kind::Pod, &ns, &name) else {
                    return;
                };
                let mut pod = obj.value();
                if !pod["metadata"]["deletionTimestamp"].is_null() {
                    return;
                }
                set_pod_crash_looping(&mut pod, 4);
                self.store.put(Kind::Pod, pod);
                let msg = format!("Back-off restarting failed container in pod {name}");
                super::generate::warning(
                    self,
                    &ns,
                    "Pod",
                    &name,
                    "BackOff",
                    &msg,
                    4,
                    jiff::Timestamp::now(),
                );
                self.refresh_owner(&ns, &name);
            }
            Timed::PodGone { ns, name } => {
                if let Some(obj) = self.store.remove(Kind::Pod, &ns, &name) {
                    let pod = obj.value();
                    self.reconcile_owner_of(&pod);
                }
            }
        }
    }

    /// Deletes a pod: at once when `grace` is 0 or Quiet, else marks it terminating first.
    pub fn delete_pod(&mut self, ns: &str, name: &str, grace: Option<i64>) -> Option<Value> {
        self.delete_pod_inner(ns, name, grace, true)
    }

    /// `delete_pod`, optionally without letting the owner react (when the owner is the caller).
    fn delete_pod_inner(
        &mut self,
        ns: &str,
        name: &str,
        grace: Option<i64>,
        notify_owner: bool,
    ) -> Option<Value> {
        let obj = self.store.get(Kind::Pod, ns, name)?;
        let grace = grace.unwrap_or(30);
        if grace <= 0 || self.quiet {
            let gone = self.store.remove(Kind::Pod, ns, name)?;
            let pod = gone.value();
            if notify_owner {
                self.reconcile_owner_of(&pod);
            }
            return Some(pod);
        }
        let mut pod = obj.value();
        if pod["metadata"]["deletionTimestamp"].is_null() {
            let meta = ensure_object(&mut pod, "metadata");
            meta.insert("deletionTimestamp".into(), json!(now_rfc3339()));
            meta.insert("deletionGracePeriodSeconds".into(), json!(grace));
            let obj = self.store.put(Kind::Pod, pod);
            let delay = Duration::from_millis(1500 + self.rng.u64(..1500));
            self.after(
                delay,
                Timed::PodGone {
                    ns: ns.into(),
                    name: name.into(),
                },
            );
            return Some(obj.value());
        }
        Some(pod)
    }

    /// Finds the workload a pod belongs to (through its owner reference) and reconciles it.
    fn reconcile_owner_of(&mut self, pod: &Value) {
        if let Some((kind, ns, name)) = owner_of(pod) {
            self.reconcile(kind, &ns, &name);
        }
    }

    /// Recomputes the status of the workload owning pod `ns/name`.
    pub fn refresh_owner(&mut self, ns: &str, name: &str) {
        let Some(obj) = self.store.get(Kind::Pod, ns, name) else {
            return;
        };
        if let Some((kind, ns, name)) = owner_of(&obj.value()) {
            self.refresh_workload_status(kind, &ns, &name);
        }
    }

    /// Brings a Deployment or StatefulSet's pods in line with its spec, then updates its status.
    pub fn reconcile(&mut self, kind: Kind, ns: &str, name: &str) {
        let Some(obj) = self.store.get(kind, ns, name) else {
            return;
        };
        let wl = obj.value();
        let desired = wl["spec"]["replicas"].as_u64().unwrap_or(1) as usize;
        let hash = template_hash(&wl["spec"]["template"]);
        let owned = self.owned_pods(kind, ns, name);
        let live: Vec<&Value> = owned
            .iter()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .collect();
        let pod_name = |p: &Value| p["metadata"]["name"].as_str().unwrap_or("").to_string();
        let is_current = |p: &Value| {
            p["metadata"]["labels"]["pod-template-hash"].as_str() == Some(hash.as_str())
                || p["metadata"]["labels"]["controller-revision-hash"].as_str()
                    == Some(format!("{name}-{hash}").as_str())
        };
        let mut to_delete: Vec<String> = live
            .iter()
            .filter(|p| !is_current(p))
            .map(|p| pod_name(p))
            .collect();
        let mut current: Vec<String> = live
            .iter()
            .filter(|p| is_current(p))
            .map(|p| pod_name(p))
            .collect();
        current.sort();
        if kind == Kind::StatefulSet {
            // Ordinals >= replicas go, highest first.
            to_delete.extend(current.iter().filter(|n| ordinal(n) >= desired).cloned());
            current.retain(|n| ordinal(n) < desired);
        } else {
            while current.len() > desired {
                if let Some(n) = current.pop() {
                    to_delete.push(n);
                }
            }
        }
        for n in &to_delete {
            self.delete_pod_inner(ns, n, None, false);
        }
        // Names still taken (including terminating pods) cannot be reused by a StatefulSet yet.
        let taken: Vec<String> = self
            .store
            .list(Kind::Pod, Some(ns))
            .iter()
            .map(|o| o.name.to_string())
            .collect();
        if kind == Kind::StatefulSet {
            for i in 0..desired {
                let n = format!("{name}-{i}");
                if !taken.contains(&n) {
                    self.create_workload_pod(kind, &wl, &hash, n);
                }
            }
        } else {
            for _ in current.len()..desired {
                let n = format!("{name}-{}-{}", hash.as_str(), random_suffix(&mut self.rng));
                self.create_workload_pod(kind, &wl, &hash, n);
            }
        }
        self.refresh_workload_status(kind, ns, name);
    }

    fn create_workload_pod(&mut self, kind: Kind, wl: &Value, hash: &str, pod_name: String) {
        let ns = wl["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let wl_name = wl["metadata"]["name"].as_str().unwrap_or("");
        let template = &wl["spec"]["template"];
        let mut meta = template["metadata"].clone();
        let hash_label = if kind == Kind::StatefulSet {
            json!({"controller-revision-hash": format!("{wl_name}-{hash}"),
                   "statefulset.kubernetes.io/pod-name": pod_name})
        } else {
            json!({"pod-template-hash": hash})
        };
        merge(&mut meta, &json!({"labels": hash_label}));
        let (owner_kind, owner_name, api) = if kind == Kind::StatefulSet {
            ("StatefulSet", wl_name.to_string(), "apps/v1")
        } else {
            ("ReplicaSet", format!("{wl_name}-{}", hash), "apps/v1")
        };
        merge(
            &mut meta,
            &json!({"name": pod_name, "namespace": ns,
                "ownerReferences": [{"apiVersion": api, "kind": owner_kind, "name": owner_name,
                    "uid": wl["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}]}),
        );
        let component = meta["labels"]["component"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let user = component == "user-placeholder";
        let crashes = self.crash_new.contains(&(ns.clone(), component));
        let mut spec = template["spec"].clone();
        spec["nodeName"] = json!(self.pick_node(user));
        let mut pod = json!({"metadata": meta, "spec": spec});
        set_pod_pending(&mut pod);
        self.store.put(Kind::Pod, pod);
        let delay = Duration::from_millis(2000 + self.rng.u64(..3000));
        let what = if crashes {
            Timed::PodCrashes { ns, name: pod_name }
        } else {
            Timed::PodStarts {
                ns,
                name: pod_name,
                fail: false,
                pulled_in: None,
            }
        };
        self.after(delay, what);
    }

    /// The pods a workload owns (its pod names start with the workload's name).
    fn owned_pods(&self, kind: Kind, ns: &str, name: &str) -> Vec<Value> {
        self.store
            .list(Kind::Pod, Some(ns))
            .iter()
            .filter(|o| o.name.starts_with(name))
            .map(|o| o.value())
            .filter(|p| owner_of(p).is_some_and(|(k, _, n)| k == kind && n == name))
            .collect()
    }

    /// Sets replicas/readyReplicas/availableReplicas from the workload's pods.
    pub fn refresh_workload_status(&mut self, kind: Kind, ns: &str, name: &str) {
        let Some(obj) = self.store.get(kind, ns, name) else {
            return;
        };
        let mut wl = obj.value();
        let hash = template_hash(&wl["spec"]["template"]);
        let pods = self.owned_pods(kind, ns, name);
        let total = pods.len();
        let ready = pods.iter().filter(|p| pod_ready(p)).count();
        let updated = pods
            .iter()
            .filter(|p| {
                p["metadata"]["labels"]["pod-template-hash"].as_str() == Some(hash.as_str())
                    || p["metadata"]["labels"]["controller-revision-hash"]
                        .as_str()
                        .is_some_and(|h| h.ends_with(&hash))
            })
            .count();
        let desired = wl["spec"]["replicas"].as_u64().unwrap_or(1) as usize;
        let generation = wl["metadata"]["generation"].clone();
        let mut status = json!({
            "observedGeneration": generation, "replicas": total, "readyReplicas": ready,
            "availableReplicas": ready, "updatedReplicas": updated,
        });
        if kind == Kind::Deployment {
            status["unavailableReplicas"] = json!(desired.saturating_sub(ready));
            let available = ready >= desired;
            status["conditions"] = json!([{
                "type": "Available", "status": if available { "True" } else { "False" },
                "reason": if available { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
                "message": if available { "Deployment has minimum availability." } else { "Deployment does not have minimum availability." },
                "lastUpdateTime": now_rfc3339(), "lastTransitionTime": now_rfc3339(),
            }]);
        } else {
            status["currentReplicas"] = json!(updated);
            status["currentRevision"] = json!(format!("{name}-{hash}"));
            status["updateRevision"] = json!(format!("{name}-{hash}"));
            status["availableReplicas"] = json!(ready);
        }
        if wl["status"] == status {
            return;
        }
        // Conditions carry timestamps; only write when the counts changed.
        let counts = |s: &Value| {
            (
                s["replicas"].clone(),
                s["readyReplicas"].clone(),
                s["updatedReplicas"].clone(),
                s["observedGeneration"].clone(),
            )
        };
        if counts(&wl["status"]) == counts(&status) {
            return;
        }
        wl["status"] = status;
        self.store.put(kind, wl);
    }
}

/// The workload (kind, namespace, name) a pod belongs to, from its owner reference.
fn owner_of(pod: &Value) -> Option<(Kind, String, String)> {
    let ns = pod["metadata"]["namespace"].as_str()?.to_string();
    let owner = pod["metadata"]["ownerReferences"].get(0)?;
    let name = owner["name"].as_str()?;
    match owner["kind"].as_str()? {
        "StatefulSet" => Some((Kind::StatefulSet, ns, name.to_string())),
        // ReplicaSet `<deployment>-<hash>`: the deployment is the name without the hash.
        "ReplicaSet" => {
            let (deploy, _) = name.rsplit_once('-')?;
            Some((Kind::Deployment, ns, deploy.to_string()))
        }
        _ => None,
    }
}

fn ordinal(pod_name: &str) -> usize {
    pod_name
        .rsplit_once('-')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(usize::MAX)
}

/// A stable hash of a pod template, like the pod-template-hash label.
pub(crate) fn template_hash(template: &Value) -> String {
    // FNV-1a over the canonical JSON (serde_json maps are sorted).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in template.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..10)
        .map(|i| ALPHABET[((h >> (i * 6)) % ALPHABET.len() as u64) as usize] as char)
        .collect()
}

/// A 5-character pod name suffix.
pub(crate) fn random_suffix(rng: &mut fastrand::Rng) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| ALPHABET[rng.usize(..ALPHABET.len())] as char)
        .collect()
}
