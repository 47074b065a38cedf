//! A user near their memory limit: a pod on course (`State::oom`) has its memory usage climb to
//! its limit (see `metrics`), then the kernel kills it and the kubelet restarts the container:
//! `lastState.terminated` says OOMKilled with exit code 137, the restart count goes up, and the
//! climb starts over.

use serde_json::json;

use super::controller::{OomCourse, State};
use super::events::{self, Reporter};
use super::resources::Kind;
use super::store::rfc3339;

/// Sets a pod on course for an OOM kill in `climb_secs`; false if there is no such pod.
pub(crate) fn set_course(st: &mut State, ns: &str, pod: &str, climb_secs: i64) -> bool {
    if st.store.get(Kind::Pod, ns, pod).is_none() {
        return false;
    }
    st.oom.retain(|o| !(o.namespace == ns && o.pod == pod));
    st.oom.push(OomCourse {
        namespace: ns.into(),
        pod: pod.into(),
        since: jiff::Timestamp::now(),
        climb_secs,
        from: 0.62,
    });
    true
}

/// Kills the pod's first container for using too much memory, and restarts it as kubelet does.
pub(crate) fn kill(st: &mut State, ns: &str, pod: &str) -> bool {
    let Some(obj) = st.store.get(Kind::Pod, ns, pod) else {
        return false;
    };
    let mut v = obj.value();
    let now = rfc3339(jiff::Timestamp::now());
    let Some(cs) = v
        .pointer_mut("/status/containerStatuses")
        .and_then(|c| c.get_mut(0))
    else {
        return false;
    };
    let Some(started) = cs["state"]["running"]["startedAt"]
        .as_str()
        .map(String::from)
    else {
        return false;
    };
    let restarts = cs["restartCount"].as_u64().unwrap_or(0) + 1;
    let old_id = cs["containerID"].clone();
    cs["lastState"] = json!({"terminated": {"exitCode": 137, "reason": "OOMKilled",
        "startedAt": started, "finishedAt": now, "containerID": old_id}});
    cs["restartCount"] = json!(restarts);
    cs["state"] = json!({"running": {"startedAt": now}});
    cs["containerID"] = json!(format!("containerd://{:064x}", st.rng.u128(..)));
    let container = cs["name"].as_str().unwrap_or("").to_string();
    let image = cs["image"].as_str().unwrap_or("").to_string();
    let node = v["spec"]["nodeName"].as_str().unwrap_or("").to_string();
    st.store.put(Kind::Pod, v);
    let kubelet = Reporter::Kubelet(&node);
    let pulled = format!("Container image \"{image}\" already present on machine");
    events::now_event(st, ns, pod, kubelet, "Pulled", &pulled, false);
    let created = format!("Created container {container}");
    events::now_event(st, ns, pod, kubelet, "Created", &created, false);
    let msg = format!("Started container {container}");
    events::now_event(st, ns, pod, kubelet, "Started", &msg, false);
    for o in st
        .oom
        .iter_mut()
        .filter(|o| o.namespace == ns && o.pod == pod)
    {
        o.since = jiff::Timestamp::now();
        o.from = 0.2;
    }
    true
}

/// Kills the pods whose climb reached their limit; courses of pods gone are dropped.
pub(crate) fn tick(st: &mut State) {
    if st.oom.is_empty() {
        return;
    }
    let now = jiff::Timestamp::now().as_second();
    let due: Vec<(String, String)> = st
        .oom
        .iter()
        .filter(|o| now - o.since.as_second() >= o.climb_secs)
        .map(|o| (o.namespace.clone(), o.pod.clone()))
        .collect();
    for (ns, pod) in due {
        if !kill(st, &ns, &pod) {
            st.oom.retain(|o| !(o.namespace == ns && o.pod == pod));
        }
    }
}
