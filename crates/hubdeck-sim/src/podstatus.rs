//! Pod status shapes as the kubelet reports them: pending, running, waiting (image pull),
//! crash-looping, unschedulable. Kept apart so generators and controllers build the same shapes.

use serde_json::{Value, json};

use super::store::now_rfc3339;

/// Whether a pod reports Ready.
pub(crate) fn pod_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

fn container_names(pod: &Value) -> Vec<(String, String)> {
    pod["spec"]["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or("").to_string(),
                        c["image"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn conditions(scheduled: bool, ready: bool) -> Value {
    let t = now_rfc3339();
    let s = |b: bool| if b { "True" } else { "False" };
    json!([
        {"type": "PodScheduled", "status": s(scheduled), "lastTransitionTime": t},
        {"type": "Initialized", "status": "True", "lastTransitionTime": t},
        {"type": "ContainersReady", "status": s(ready), "lastTransitionTime": t},
        {"type": "Ready", "status": s(ready), "lastTransitionTime": t},
    ])
}

/// A scheduled pod whose containers are still being created.
pub(crate) fn set_pod_pending(pod: &mut Value) {
    let statuses: Vec<Value> = container_names(pod)
        .into_iter()
        .map(|(name, image)| {
            json!({"name": name, "image": image, "imageID": "", "ready": false,
            "restartCount": 0, "started": false,
            "state": {"waiting": {"reason": "ContainerCreating"}}})
        })
        .collect();
    pod["status"] = json!({"phase": "Pending", "conditions": conditions(true, false),
        "hostIP": "10.128.0.12", "qosClass": "Burstable", "containerStatuses": statuses});
}

/// A pod whose containers all run and are ready.
pub(crate) fn set_pod_running(pod: &mut Value) {
    let now = now_rfc3339();
    let statuses: Vec<Value> = container_names(pod)
        .into_iter()
        .map(|(name, image)| json!({"name": name, "image": image,
            "imageID": format!("{image}@sha256:{}", "0".repeat(64)), "ready": true,
            "restartCount": 0, "started": true, "containerID": format!("containerd://{}", "ab".repeat(32)),
            "state": {"running": {"startedAt": now}}}))
        .collect();
    let ip = format!(
        "10.{}.{}.{}",
        4 + (now.len() % 3),
        fastrand::u8(..),
        fastrand::u8(1..250)
    );
    pod["status"] = json!({"phase": "Running", "conditions": conditions(true, true),
        "hostIP": "10.128.0.12", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": now,
        "qosClass": "Burstable", "containerStatuses": statuses});
}

/// A pod stuck with every container waiting for `reason`.
pub(crate) fn set_pod_waiting(pod: &mut Value, reason: &str, message: &str) {
    let statuses: Vec<Value> = container_names(pod)
        .into_iter()
        .map(|(name, image)| {
            json!({"name": name, "image": image, "imageID": "", "ready": false,
            "restartCount": 0, "started": false,
            "state": {"waiting": {"reason": reason, "message": message}}})
        })
        .collect();
    pod["status"] = json!({"phase": "Pending", "conditions": conditions(true, false),
        "hostIP": "10.128.0.12", "startTime": now_rfc3339(), "qosClass": "Burstable",
        "containerStatuses": statuses});
}

/// A pod whose single container keeps crashing (CrashLoopBackOff after `restarts` restarts).
pub(crate) fn set_pod_crash_looping(pod: &mut Value, restarts: u32) {
    let now = now_rfc3339();
    let statuses: Vec<Value> = container_names(pod)
        .into_iter()
        .map(|(name, image)| {
            json!({"name": name, "image": image, "imageID": "", "ready": false,
            "restartCount": restarts, "started": false,
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                "startedAt": now, "finishedAt": now,
                "containerID": format!("containerd://{}", "cd".repeat(32))}},
            "state": {"waiting": {"reason": "CrashLoopBackOff",
                "message": format!("back-off 5m0s restarting failed container={name} pod={}",
                    pod["metadata"]["name"].as_str().unwrap_or(""))}}})
        })
        .collect();
    pod["status"] = json!({"phase": "Running", "conditions": conditions(true, false),
        "hostIP": "10.128.0.12", "podIP": "10.4.0.66", "startTime": now, "qosClass": "Burstable",
        "containerStatuses": statuses});
}

/// A pod the scheduler cannot place.
pub(crate) fn set_pod_unschedulable(pod: &mut Value, message: &str) {
    if let Some(spec) = pod["spec"].as_object_mut() {
        spec.remove("nodeName");
    }
    let t = now_rfc3339();
    pod["status"] = json!({"phase": "Pending", "qosClass": "Burstable", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
         "message": message, "lastTransitionTime": t}]});
}
