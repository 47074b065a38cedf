//! Alerts hubdeck derives from the model itself, beside Alertmanager's.

use std::sync::Arc;

use jiff::Timestamp;

use super::hub::HealthLevel;
use super::ids::HubKey;
use super::nodes::node_loads;
use super::objects::{AlertInfo, AlertOrigin, Component, Severity};
use super::outside::outside_alerts;
use super::store::ClusterState;
use super::update::ClusterStatus;

/// Namespace, release and pod an alert concerns.
pub(super) type Target<'a> = (
    Option<&'a Arc<str>>,
    Option<&'a Arc<str>>,
    Option<&'a Arc<str>>,
);

pub(super) fn alert(
    c: &ClusterState,
    name: &str,
    severity: Severity,
    summary: String,
    target: Target<'_>,
    since: Option<Timestamp>,
) -> AlertInfo {
    let (namespace, release, pod) = target;
    let fingerprint = format!(
        "derived:{}:{}:{}:{}:{}",
        c.id,
        name,
        namespace.map_or("", |s| s),
        release.map_or("", |s| s),
        pod.map_or("", |s| s)
    );
    let mut labels = vec![
        ("alertname".to_string(), name.to_string()),
        ("cluster".to_string(), c.id.to_string()),
        ("severity".to_string(), severity.as_str().to_string()),
    ];
    for (k, v) in [("namespace", namespace), ("release", release), ("pod", pod)] {
        if let Some(v) = v {
            labels.push((k.to_string(), v.to_string()));
        }
    }
    labels.sort();
    AlertInfo {
        fingerprint: fingerprint.into(),
        name: name.into(),
        severity,
        origin: AlertOrigin::Derived,
        summary,
        namespace: namespace.cloned(),
        release: release.cloned(),
        pod: pod.cloned(),
        since,
        silenced_by: Vec::new(),
        labels,
    }
}

/// Derived alerts of one cluster: unreachable, hub or proxy not ready, crash loops, stuck user
/// pods, placeholders not ready (evicted to make room for users), declared hubs not running,
/// nodes not ready or under pressure, hubs their users cannot reach (which the cluster's own
/// state says nothing about, so they are raised for an unreachable cluster too).
pub fn derived_alerts(c: &ClusterState) -> Vec<AlertInfo> {
    let mut out = Vec::new();
    outside_alerts(c, &mut out);
    if let ClusterStatus::Unreachable { error, since } = &c.status {
        out.push(alert(
            c,
            "ClusterUnreachable",
            Severity::Critical,
            format!("cluster {} unreachable: {error}", c.id),
            (None, None, None),
            Some(*since),
        ));
        return out;
    }
    for hub in c.hubs.values() {
        let s = &hub.summary;
        let target = (Some(&hub.id.key.namespace), Some(&hub.id.key.release));
        let name = hub.id.to_string();
        if s.health.level == HealthLevel::Missing {
            out.push(alert(
                c,
                "HubMissing",
                Severity::Warning,
                format!("{name}: declared in the deployment repository, not running"),
                (target.0, target.1, None),
                None,
            ));
            continue;
        }
        for (component, label, what) in [
            (Component::Hub, "HubNotReady", s.hub),
            (Component::Proxy, "ProxyNotReady", s.proxy),
        ] {
            if let Some(r) = what
                && r.desired > 0
                && r.ready == 0
            {
                let pod = hub
                    .pods
                    .values()
                    .find(|p| p.component == component)
                    .map(|p| &p.key.name);
                out.push(alert(
                    c,
                    label,
                    Severity::Critical,
                    format!("{name}: {label} (0/{} ready)", r.desired),
                    (target.0, target.1, pod),
                    None,
                ));
            }
        }
        for pod in &s.crashlooping {
            let info = hub.pods.get(pod);
            out.push(alert(
                c,
                "PodCrashLooping",
                Severity::Warning,
                format!(
                    "{name}: pod {pod} crash-looping ({} restarts)",
                    info.map_or(0, |p| p.restarts)
                ),
                (target.0, target.1, Some(pod)),
                info.and_then(|p| p.started),
            ));
        }
        if s.servers_stuck > 0 {
            let why = s
                .stuck_reason
                .as_ref()
                .map_or_else(String::new, |r| format!(" (newest: {r})"));
            out.push(alert(
                c,
                "UserServersPendingTooLong",
                Severity::Warning,
                format!(
                    "{name}: {} user servers pending too long{why}",
                    s.servers_stuck
                ),
                (target.0, target.1, None),
                None,
            ));
        }
        if let Some(p) = s.placeholders
            && p.desired > 0
            && p.ready < p.desired
        {
            out.push(alert(
                c,
                "PlaceholdersEvicted",
                Severity::Info,
                format!(
                    "{name}: {}/{} user placeholders ready (room used by users or evicted)",
                    p.ready, p.desired
                ),
                (target.0, target.1, None),
                None,
            ));
        }
    }
    node_alerts(c, &mut out);
    out
}

/// A NotReady node and a node under pressure each raise one alert per hub with user servers
/// there (so the hub's row counts it), or one for the node alone when no servers run there.
fn node_alerts(c: &ClusterState, out: &mut Vec<AlertInfo>) {
    if c.nodes.values().all(|n| n.ready && !n.pressure.any()) {
        return;
    }
    let loads = node_loads(c.hubs.values());
    for n in c.nodes.values() {
        let hubs = loads.get(&n.name).map_or(&[][..], |l| &l.hubs[..]);
        let servers = loads.get(&n.name).map_or(0, |l| l.servers);
        let mut raise = |name: &str, severity: Severity, what: String| {
            let on = if hubs.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = hubs
                    .iter()
                    .map(|k| format!("{}/{}", c.id, k.namespace))
                    .collect();
                format!(" ({servers} user servers of {})", names.join(", "))
            };
            let summary = format!("node {}: {what}{on}", n.name);
            let keys: Vec<Option<&HubKey>> = if hubs.is_empty() {
                vec![None]
            } else {
                hubs.iter().map(Some).collect()
            };
            for key in keys {
                let target = (key.map(|k| &k.namespace), key.map(|k| &k.release), None);
                let mut a = alert(c, name, severity, summary.clone(), target, None);
                a.fingerprint = format!("{}:{}", a.fingerprint, n.name).into();
                a.labels.push(("node".to_string(), n.name.to_string()));
                a.labels.sort();
                out.push(a);
            }
        };
        if !n.ready {
            raise("NodeNotReady", Severity::Critical, "NotReady".to_string());
        }
        if n.pressure.any() {
            raise(
                "NodePressure",
                Severity::Warning,
                format!("under {}", n.pressure.names()),
            );
        }
    }
}
