//! The events that tell why a pod is pending, watched apart from the Warning events of the
//! Events pane: Normal and Warning events about pods, minus the reasons every pod start and stop
//! writes (`Created`, `Started`, `Killing`) and probe noise (`Unhealthy`), excluded by the API
//! server itself. A field selector cannot ask for a set of reasons, only exclude them one by
//! one, so the mapping keeps only the story's steps (`Step::from_reason`) and drops the rest;
//! the store then keeps only those of pending user servers.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Event;

use super::mapping::{EventTimes, Mapper};
use crate::fleet::{MESSAGE_MAX, PodEvent, Step};

/// The story watch's field selector: events about pods, without the reasons that every start
/// writes and no story needs. kube-apiserver selects events on `involvedObject.kind`,
/// `reason`, `type`, `source` and `reportingComponent`, `=` and `!=` only.
pub const FIELD_SELECTOR: &str =
    "involvedObject.kind=Pod,reason!=Created,reason!=Started,reason!=Killing,reason!=Unhealthy";

impl Mapper {
    /// A step of a pod's story; None for an event that tells none. Its message is sanitized
    /// and clipped here, once: it comes from the cluster.
    pub fn pod_event(&mut self, e: &Event) -> Option<PodEvent> {
        let step = Step::from_reason(e.reason.as_deref()?)?;
        let about = &e.involved_object;
        if about.kind.as_deref() != Some("Pod") {
            return None;
        }
        let pod = about.name.as_deref().filter(|n| !n.is_empty())?;
        let times = EventTimes::of(e);
        let message = e.message.as_deref().unwrap_or("").trim();
        Some(PodEvent {
            key: self.key(&e.metadata),
            pod: Arc::from(pod),
            step,
            message: Arc::from(hubdeck_core::text::clip(message, MESSAGE_MAX)),
            count: times.count,
            first: times.first,
            last: times.last,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(v: serde_json::Value) -> Event {
        serde_json::from_value(v).expect("a core/v1 Event")
    }

    fn ts(s: &str) -> Option<jiff::Timestamp> {
        s.parse().ok()
    }

    /// What kube-apiserver returns for the scheduler's event, recorded through events.k8s.io:
    /// `eventTime` and `series`, null first/last timestamps, no `count`, an empty `source`.
    #[test]
    fn a_schedulers_event_reads_its_time_and_repeats_from_the_series() {
        let e = event(json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "jupyter-ada.18a1b2c3d4e5f607", "namespace": "prod",
                         "creationTimestamp": "2026-03-01T10:00:00Z", "resourceVersion": "812"},
            "involvedObject": {"kind": "Pod", "namespace": "prod", "name": "jupyter-ada",
                               "uid": "0b6d", "apiVersion": "v1", "resourceVersion": "800"},
            "reason": "FailedScheduling", "type": "Warning", "action": "Scheduling",
            "message": "0/12 nodes are available: 3 Insufficient memory, 9 node(s) didn't match Pod's node affinity/selector. preemption: 0/12 nodes are available: 12 Preemption is not helpful for scheduling.",
            "source": {}, "firstTimestamp": null, "lastTimestamp": null,
            "eventTime": "2026-03-01T10:00:00.123456Z",
            "series": {"count": 4, "lastObservedTime": "2026-03-01T10:04:10.500000Z"},
            "reportingComponent": "default-scheduler",
            "reportingInstance": "default-scheduler-gke-core-pool-1"
        }));
        let got = Mapper::default().pod_event(&e).expect("a step");
        assert_eq!(got.step, Step::FailedScheduling);
        assert_eq!(&*got.pod, "jupyter-ada");
        assert_eq!(&*got.key.namespace, "prod");
        assert_eq!(got.count, 4);
        assert_eq!(got.first, ts("2026-03-01T10:00:00.123456Z"));
        assert_eq!(got.last, ts("2026-03-01T10:04:10.5Z"));
        assert_eq!(got.summary(), "0/12 nodes: 3 Insufficient memory");
    }

    /// The kubelet's: the older recorder, `source` with the node, whole-second timestamps and
    /// `count`, `eventTime` null.
    #[test]
    fn a_kubelets_event_reads_first_last_and_count() {
        let e = event(json!({
            "metadata": {"name": "jupyter-ada.18a1b2c3d4e5f6ff", "namespace": "prod",
                         "creationTimestamp": "2026-03-01T10:01:00Z"},
            "involvedObject": {"kind": "Pod", "namespace": "prod", "name": "jupyter-ada",
                               "fieldPath": "spec.containers{notebook}"},
            "reason": "Pulled", "type": "Normal",
            "message": "Successfully pulled image \"quay.io/2i2c/pangeo:2024.10\" in 41.873s (41.873s including waiting). Image size: 4113041221 bytes.",
            "source": {"component": "kubelet", "host": "gke-nb-1"},
            "firstTimestamp": "2026-03-01T10:01:00Z", "lastTimestamp": "2026-03-01T10:01:00Z",
            "count": 1, "eventTime": null,
            "reportingComponent": "kubelet", "reportingInstance": "gke-nb-1"
        }));
        let got = Mapper::default().pod_event(&e).expect("a step");
        assert_eq!(got.step, Step::Pulled);
        assert_eq!((got.count, got.first), (1, ts("2026-03-01T10:01:00Z")));
        assert_eq!(got.last, got.first);
        assert_eq!(
            got.pull_time(),
            Some(std::time::Duration::from_millis(41_873))
        );
    }

    #[test]
    fn events_that_tell_no_story_or_concern_no_pod_are_dropped() {
        let base = json!({
            "metadata": {"name": "x.1", "namespace": "prod"},
            "involvedObject": {"kind": "Pod", "namespace": "prod", "name": "jupyter-ada"},
            "reason": "Started", "message": "Started container notebook", "type": "Normal"
        });
        let mut m = Mapper::default();
        assert_eq!(m.pod_event(&event(base.clone())), None);
        let mut deployment = base.clone();
        deployment["reason"] = json!("FailedMount");
        deployment["involvedObject"]["kind"] = json!("Deployment");
        assert_eq!(m.pod_event(&event(deployment)), None);
        let mut no_reason = base;
        no_reason["reason"] = serde_json::Value::Null;
        assert_eq!(m.pod_event(&event(no_reason)), None);
    }

    #[test]
    fn a_hostile_message_reaches_the_model_clean_and_short() {
        let noise = "\u{1b}]0;owned\u{7}\u{1b}[2J".to_string() + &"x".repeat(10_000);
        let e = event(json!({
            "metadata": {"name": "x.2", "namespace": "prod"},
            "involvedObject": {"kind": "Pod", "namespace": "prod", "name": "jupyter-ada"},
            "reason": "FailedMount", "message": noise, "type": "Warning", "count": 2
        }));
        let got = Mapper::default().pod_event(&e).expect("a step");
        assert!(!got.message.contains('\u{1b}'), "{}", got.message);
        assert_eq!(got.message.chars().count(), MESSAGE_MAX);
        assert_eq!(got.count, 2);
        assert_eq!(got.first, None, "no time at all is no time, not now");
    }
}
