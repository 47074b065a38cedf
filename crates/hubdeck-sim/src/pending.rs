//! How a user server starts, with the events a real cluster writes on the way: placed at once
//! (Scheduled, Pulling, then Pulled "in 12.3s", Created, Started), after a scale-up
//! (FailedScheduling, TriggeredScaleUp or Karpenter's Nominated, a new node, then as before),
//! not at all because the user pool is at its maximum (FailedScheduling and NotTriggerScaleUp,
//! repeated while it waits), or stuck attaching its home volume (FailedAttachVolume, FailedMount).

use std::time::Duration;

use serde_json::json;

use super::controller::{State, Timed};
use super::events::{self, Occurrence, Reporter};
use super::generate::{self, Hub};
use super::podstatus::{set_pod_pending, set_pod_unschedulable};
use super::pools::Scaler;
use super::reasons;
use super::resources::Kind;

/// Why a server started with [`crate::SimCluster::start_server_pending`] waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// The user pool grows by a node first (at once when Quiet).
    ScaleUp,
    /// The user pool is at its maximum size: the server stays Pending.
    PoolAtMax,
    /// Its home volume does not attach: the server stays ContainerCreating.
    VolumeAttach,
    /// Its image is pulled, then its container cannot be created: a Secret its environment
    /// names does not exist (CreateContainerConfigError). The server stays Pending.
    MissingSecret,
}

fn scheduler_of(pod: &serde_json::Value) -> String {
    pod["spec"]["schedulerName"]
        .as_str()
        .unwrap_or("default-scheduler")
        .to_string()
}

/// Creates a user server's pod the way `how` says and returns its name.
pub(crate) fn start(
    st: &mut State,
    hub: &Hub,
    user: &str,
    server: &str,
    image: &str,
    how: Option<Pending>,
) -> String {
    let now = jiff::Timestamp::now();
    let mut pod = generate::user_pod(hub, user, server, image, None, now, true);
    let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
    let ns = hub.namespace.clone();
    let scheduler = scheduler_of(&pod);
    let user_pool = st.pools.iter().position(|p| p.purpose == "user");
    match how {
        None => {
            let node = st.pick_node(true);
            pod["spec"]["nodeName"] = json!(node);
            st.store.put(Kind::Pod, pod);
            scheduled(st, &ns, &name, &scheduler, &node, image);
        }
        Some(Pending::ScaleUp | Pending::PoolAtMax) => {
            let at_max = how == Some(Pending::PoolAtMax);
            if at_max && let Some(i) = user_pool {
                st.pools[i].max = st.pools[i].nodes.len();
            }
            let msg = reasons::unschedulable_user_pod(st);
            set_pod_unschedulable(&mut pod, &msg);
            st.store.put(Kind::Pod, pod);
            let failed = events::now_event(
                st,
                &ns,
                &name,
                Reporter::Scheduler(&scheduler),
                "FailedScheduling",
                &msg,
                true,
            );
            let karpenter = user_pool.is_some_and(|i| st.pools[i].scaler == Scaler::Karpenter);
            let scaler = match (karpenter, at_max) {
                (false, false) => {
                    let msg = user_pool.map(|i| reasons::scale_up(&st.pools[i]));
                    let msg = msg.unwrap_or_default();
                    let (r, m) = ("TriggeredScaleUp", msg.as_str());
                    events::now_event(st, &ns, &name, Reporter::ClusterAutoscaler, r, m, false)
                }
                (false, true) => {
                    let msg = reasons::no_scale_up(st);
                    let (r, m) = ("NotTriggerScaleUp", msg.as_str());
                    events::now_event(st, &ns, &name, Reporter::ClusterAutoscaler, r, m, false)
                }
                (true, false) => {
                    let claim = super::controller::random_suffix(&mut st.rng);
                    let msg = format!("Pod should schedule on: nodeclaim/user-{claim}");
                    let (r, m) = ("Nominated", msg.as_str());
                    events::now_event(st, &ns, &name, Reporter::Karpenter, r, m, false)
                }
                (true, true) => {
                    let msg = "Failed to schedule pod, all available instance types exceed limits for nodepool: \"user\"";
                    let (r, m) = ("FailedScheduling", msg);
                    events::now_event(st, &ns, &name, Reporter::Karpenter, r, m, true)
                }
            };
            if at_max {
                st.stuck
                    .push((ns.clone(), name.clone(), vec![failed, scaler]));
            } else {
                // A cloud VM boots and joins in a minute or so.
                let delay = Duration::from_millis(45_000 + st.rng.u64(..45_000));
                let t = Timed::NodeJoins {
                    ns: ns.clone(),
                    name: name.clone(),
                };
                st.after(delay, t);
            }
            return name;
        }
        Some(Pending::VolumeAttach) => {
            let node = st.pick_node(true);
            pod["spec"]["nodeName"] = json!(node);
            let claim = format!("claim-{}", super::names::escape(user));
            pod["spec"]["volumes"] = json!([{"name": "home",
                "persistentVolumeClaim": {"claimName": claim}}]);
            pod["spec"]["containers"][0]["volumeMounts"] =
                json!([{"name": "home", "mountPath": "/home/jovyan"}]);
            set_pod_pending(&mut pod);
            st.store.put(Kind::Pod, pod);
            let msg = format!("Successfully assigned {ns}/{name} to {node}");
            let sched = Reporter::Scheduler(&scheduler);
            events::now_event(st, &ns, &name, sched, "Scheduled", &msg, false);
            let pv = format!("pvc-{}", st.store.new_uid());
            let attach = format!(
                "AttachVolume.Attach failed for volume \"{pv}\" : rpc error: code = Internal desc = Could not attach volume \"{pv}\" to node \"{node}\": volume is still attached to another node"
            );
            let a = events::now_event(
                st,
                &ns,
                &name,
                Reporter::AttachDetach,
                "FailedAttachVolume",
                &attach,
                true,
            );
            let mount = "Unable to attach or mount volumes: unmounted volumes=[home], unattached volumes=[home], failed to process volumes=[]: timed out waiting for the condition";
            let kubelet = Reporter::Kubelet(&node);
            let m = events::now_event(st, &ns, &name, kubelet, "FailedMount", mount, true);
            st.stuck.push((ns.clone(), name.clone(), vec![a, m]));
            return name;
        }
        Some(Pending::MissingSecret) => {
            let failed = missing_secret(st, hub, pod, &name, &scheduler, image);
            st.stuck.push((ns.clone(), name.clone(), vec![failed]));
            return name;
        }
    }
    name
}

/// A server placed and its image pulled (Scheduled and Pulling when the pull began, Pulled
/// now, with the figure), whose container the kubelet cannot create: its `Failed` event, which
/// the kubelet repeats at every retry, is returned.
fn missing_secret(
    st: &mut State,
    hub: &Hub,
    mut pod: serde_json::Value,
    name: &str,
    scheduler: &str,
    image: &str,
) -> String {
    let ns = hub.namespace.as_str();
    let node = st.pick_node(true);
    let took = Duration::from_millis(3000 + st.rng.u64(..17_000));
    let now = jiff::Timestamp::now();
    let began = now - jiff::SignedDuration::from_millis(took.as_millis() as i64);
    pod["spec"]["nodeName"] = json!(node);
    pod["metadata"]["creationTimestamp"] = json!(super::store::rfc3339(began));
    let secret = hub.object("user-env");
    pod["spec"]["containers"][0]["envFrom"] = json!([{"secretRef": {"name": secret}}]);
    let why = format!("secret \"{secret}\" not found");
    super::podstatus::set_pod_waiting(&mut pod, "CreateContainerConfigError", &why);
    st.store.put(Kind::Pod, pod);
    let assigned = format!("Successfully assigned {ns}/{name} to {node}");
    let pulling = format!("Pulling image \"{image}\"");
    let done = pulled(image, took);
    let kubelet = Reporter::Kubelet(&node);
    for (reporter, reason, message, when) in [
        (
            Reporter::Scheduler(scheduler),
            "Scheduled",
            &assigned,
            began,
        ),
        (kubelet, "Pulling", &pulling, began),
        (kubelet, "Pulled", &done, now),
    ] {
        let o = Occurrence {
            namespace: ns,
            pod: name,
            reason,
            message,
            warning: false,
            reporter,
            count: 1,
            first: when,
            last: when,
        };
        events::record(st, &o);
    }
    let error = format!("Error: {why}");
    events::now_event(st, ns, name, kubelet, "Failed", &error, true)
}

/// The pod is on `node`: Scheduled and Pulling now, the image pulled after 3 to 20 s, one start
/// in twenty stuck pulling instead.
fn scheduled(st: &mut State, ns: &str, name: &str, scheduler: &str, node: &str, image: &str) {
    let msg = format!("Successfully assigned {ns}/{name} to {node}");
    let sched = Reporter::Scheduler(scheduler);
    events::now_event(st, ns, name, sched, "Scheduled", &msg, false);
    let msg = format!("Pulling image \"{image}\"");
    events::now_event(
        st,
        ns,
        name,
        Reporter::Kubelet(node),
        "Pulling",
        &msg,
        false,
    );
    let delay = Duration::from_millis(3000 + st.rng.u64(..17_000));
    let fail = st.rng.u8(..20) == 0;
    st.after(
        delay,
        Timed::PodStarts {
            ns: ns.into(),
            name: name.into(),
            fail,
            pulled_in: Some(delay),
        },
    );
}

/// A scale-up's node joined: it becomes part of the user pool and the waiting pod lands on it.
pub(crate) fn node_joins(st: &mut State, ns: &str, name: &str) {
    let Some(pod) = st.store.get(Kind::Pod, ns, name).map(|o| o.value()) else {
        return;
    };
    let node = match st.pools.iter().position(|p| p.purpose == "user") {
        Some(i) if st.pools[i].nodes.len() < st.pools[i].max => {
            let n = st.pools[i].nodes.len();
            let node_name =
                super::pools::node_name(&st.cluster, st.layout, &st.pools[i], n, &mut st.rng);
            let ip = (st.rng.u8(..), st.rng.u8(1..250));
            let pool = st.pools[i].clone();
            let v = super::nodes::node(
                &st.cluster,
                st.layout,
                &pool,
                n,
                &node_name,
                ip,
                jiff::Timestamp::now(),
            );
            st.store.put(Kind::Node, v);
            st.pools[i].nodes.push(node_name.clone());
            node_name
        }
        _ => st.pick_node(true),
    };
    let mut pod = pod;
    pod["spec"]["nodeName"] = json!(node);
    set_pod_pending(&mut pod);
    let image = pod["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let scheduler = scheduler_of(&pod);
    st.store.put(Kind::Pod, pod);
    scheduled(st, ns, name, &scheduler, &node, &image);
}

/// The image is there: Pulled (with how long it took), Created, Started.
pub(crate) fn started(st: &mut State, ns: &str, name: &str, pulled_in: Duration) {
    let Some(pod) = st.store.get(Kind::Pod, ns, name).map(|o| o.value()) else {
        return;
    };
    let node = pod["spec"]["nodeName"].as_str().unwrap_or("").to_string();
    let kubelet = Reporter::Kubelet(&node);
    let image = pod["spec"]["containers"][0]["image"].as_str().unwrap_or("");
    let container = pod["spec"]["containers"][0]["name"].as_str().unwrap_or("");
    events::now_event(
        st,
        ns,
        name,
        kubelet,
        "Pulled",
        &pulled(image, pulled_in),
        false,
    );
    let msg = format!("Created container {container}");
    events::now_event(st, ns, name, kubelet, "Created", &msg, false);
    let msg = format!("Started container {container}");
    events::now_event(st, ns, name, kubelet, "Started", &msg, false);
}

/// The kubelet's message for an image pulled in `took` (its figures are Go durations).
fn pulled(image: &str, took: Duration) -> String {
    let size = 1_200_000_000 + (took.as_secs_f64() * 97_000_000.0) as u64;
    let took = events::go_duration(took);
    format!(
        "Successfully pulled image \"{image}\" in {took} ({took} including waiting). Image size: {size} bytes."
    )
}

/// Waiting pods get their events again, as the scheduler retries and the autoscaler re-checks.
pub(crate) fn repeat_stuck(st: &mut State) {
    let stuck = std::mem::take(&mut st.stuck);
    let mut keep = Vec::new();
    for (ns, pod, evs) in stuck {
        if st.store.get(Kind::Pod, &ns, &pod).is_none() {
            continue;
        }
        for e in &evs {
            events::repeat(st, &ns, e);
        }
        keep.push((ns, pod, evs));
    }
    st.stuck = keep;
}
