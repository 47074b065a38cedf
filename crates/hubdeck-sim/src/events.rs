//! core/v1 Events as each reporter writes them. The scheduler records through events.k8s.io, so
//! its events carry `eventTime`, `series`, `action` and `reportingComponent` with null
//! first/lastTimestamp and no `count`; the kubelet, cluster-autoscaler and the attach-detach
//! controller use the older recorder: `source`, `count`, `firstTimestamp`, `lastTimestamp`.
//! Events live an hour (kube-apiserver's `--event-ttl`), or less when a cluster has too many.

use serde_json::{Value, json};

use super::controller::State;
use super::resources::Kind;
use super::store::rfc3339;

/// How long an event lives.
const EVENT_TTL_SECS: i64 = 3600;
/// Events a cluster keeps at most, so a long demo does not grow without end.
const MAX_EVENTS: usize = 4000;

/// Who reports an event.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reporter<'a> {
    /// A scheduler profile, by its name (`default-scheduler`, z2jh's `user-scheduler`).
    Scheduler(&'a str),
    /// The kubelet of a node.
    Kubelet(&'a str),
    ClusterAutoscaler,
    Karpenter,
    AttachDetach,
}

/// One event about a pod.
#[derive(Debug, Clone)]
pub(crate) struct Occurrence<'a> {
    pub namespace: &'a str,
    pub pod: &'a str,
    pub reason: &'a str,
    pub message: &'a str,
    pub warning: bool,
    pub reporter: Reporter<'a>,
    pub count: u32,
    pub first: jiff::Timestamp,
    pub last: jiff::Timestamp,
}

/// A duration as Go's `time.Duration.String` prints it, as the kubelet's messages carry it:
/// `850ms`, `12.3s`, `1m5.25s`, `1h0m0s` (to the millisecond, which is all the sim times).
pub(crate) fn go_duration(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, m, s, frac) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    let mut secs = s.to_string();
    if frac > 0 {
        secs.push('.');
        secs.push_str(format!("{frac:03}").trim_end_matches('0'));
    }
    match (h, m) {
        (0, 0) => format!("{secs}s"),
        (0, m) => format!("{m}m{secs}s"),
        (h, m) => format!("{h}h{m}m{secs}s"),
    }
}

/// A `MicroTime`, as events.k8s.io writes `eventTime`.
fn micro(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The scheduler's `action` for a reason (events.k8s.io requires one): it binds the pods it
/// places, preempts victims, and is scheduling otherwise.
fn scheduler_action(reason: &str) -> &'static str {
    match reason {
        "Scheduled" => "Binding",
        "Preempted" => "Preempting",
        _ => "Scheduling",
    }
}

/// Reasons the kubelet reports about one container, naming it in `involvedObject.fieldPath`.
const CONTAINER_REASONS: [&str; 7] = [
    "Pulling", "Pulled", "Created", "Started", "Failed", "BackOff", "Killing",
];

/// Stores the event and returns its name.
pub(crate) fn record(st: &mut State, o: &Occurrence<'_>) -> String {
    let pod = st
        .store
        .get(Kind::Pod, o.namespace, o.pod)
        .map(|p| p.value());
    let meta = |k: &str| {
        pod.as_ref()
            .map_or(Value::Null, |p| p["metadata"][k].clone())
    };
    let name = format!("{}.{:016x}", o.pod, st.rng.u64(..) >> 4);
    let ty = if o.warning { "Warning" } else { "Normal" };
    let mut involved = json!({"kind": "Pod", "namespace": o.namespace, "name": o.pod,
        "uid": meta("uid"), "apiVersion": "v1", "resourceVersion": meta("resourceVersion")});
    let container = pod.as_ref().and_then(|p| {
        p["spec"]["containers"][0]["name"]
            .as_str()
            .map(str::to_string)
    });
    if let (Reporter::Kubelet(_), Some(c)) = (o.reporter, container)
        && CONTAINER_REASONS.contains(&o.reason)
    {
        involved["fieldPath"] = json!(format!("spec.containers{{{c}}}"));
    }
    let mut ev = json!({
        "metadata": {"name": name, "namespace": o.namespace,
            "creationTimestamp": rfc3339(o.first)},
        "involvedObject": involved,
        "reason": o.reason, "message": o.message, "type": ty,
    });
    let legacy = |component: &str, host: Option<&str>| {
        let mut source = json!({"component": component});
        if let Some(h) = host {
            source["host"] = json!(h);
        }
        json!({"source": source, "count": o.count, "firstTimestamp": rfc3339(o.first),
            "lastTimestamp": rfc3339(o.last), "eventTime": null,
            "reportingComponent": component, "reportingInstance": host.unwrap_or("")})
    };
    let extra = match o.reporter {
        Reporter::Scheduler(profile) => {
            let mut e = json!({"source": {}, "firstTimestamp": null, "lastTimestamp": null,
                "eventTime": micro(o.first), "action": scheduler_action(o.reason),
                "reportingComponent": profile,
                "reportingInstance": format!("{profile}-7d9c8f6b54-x2kqp")});
            if o.count > 1 {
                e["series"] = json!({"count": o.count, "lastObservedTime": micro(o.last)});
            }
            e
        }
        Reporter::Kubelet(node) => legacy("kubelet", Some(node)),
        Reporter::ClusterAutoscaler => legacy("cluster-autoscaler", None),
        Reporter::Karpenter => legacy("karpenter", None),
        Reporter::AttachDetach => legacy("attachdetach-controller", None),
    };
    if let (Value::Object(ev), Value::Object(extra)) = (&mut ev, extra) {
        ev.extend(extra);
    }
    st.store.put(Kind::Event, ev);
    st.events
        .push_back((o.first.as_second(), o.namespace.into(), name.clone().into()));
    name
}

/// One more occurrence of a stored event, now: `series` for the scheduler's, `count` for others.
pub(crate) fn repeat(st: &mut State, namespace: &str, name: &str) {
    let Some(obj) = st.store.get(Kind::Event, namespace, name) else {
        return;
    };
    let mut ev = obj.value();
    let now = jiff::Timestamp::now();
    if ev["eventTime"].is_string() {
        let n = ev["series"]["count"].as_u64().unwrap_or(1) + 1;
        ev["series"] = json!({"count": n, "lastObservedTime": micro(now)});
    } else {
        let n = ev["count"].as_u64().unwrap_or(1) + 1;
        ev["count"] = json!(n);
        ev["lastTimestamp"] = json!(rfc3339(now));
    }
    st.store.put(Kind::Event, ev);
}

/// Makes a stored event look `count` times seen since `first` (for a fleet that starts in
/// trouble).
pub(crate) fn backdate(
    st: &mut State,
    namespace: &str,
    name: &str,
    first: jiff::Timestamp,
    count: u32,
) {
    let Some(obj) = st.store.get(Kind::Event, namespace, name) else {
        return;
    };
    let mut ev = obj.value();
    let now = jiff::Timestamp::now();
    ev["metadata"]["creationTimestamp"] = json!(rfc3339(first));
    if ev["eventTime"].is_string() {
        ev["eventTime"] = json!(micro(first));
        ev["series"] = json!({"count": count, "lastObservedTime": micro(now)});
    } else {
        ev["count"] = json!(count);
        ev["firstTimestamp"] = json!(rfc3339(first));
    }
    st.store.put(Kind::Event, ev);
}

/// Deletes events past their TTL, and the oldest when there are too many.
pub(crate) fn expire(st: &mut State, now: jiff::Timestamp) {
    let cutoff = now.as_second() - EVENT_TTL_SECS;
    while let Some((t, _, _)) = st.events.front() {
        if *t >= cutoff && st.events.len() <= MAX_EVENTS {
            break;
        }
        if let Some((_, ns, name)) = st.events.pop_front() {
            st.store.remove(Kind::Event, &ns, &name);
        }
    }
}

/// A short record of a pod event, for the shortcuts below.
pub(crate) fn now_event(
    st: &mut State,
    ns: &str,
    pod: &str,
    reporter: Reporter<'_>,
    reason: &str,
    message: &str,
    warning: bool,
) -> String {
    let now = jiff::Timestamp::now();
    record(
        st,
        &Occurrence {
            namespace: ns,
            pod,
            reason,
            message,
            warning,
            reporter,
            count: 1,
            first: now,
            last: now,
        },
    )
}
