//! Maps Alertmanager alerts onto the fleet: which namespace, hub (release) and pod they concern.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::wire::GettableAlert;
use crate::fleet::{AlertInfo, AlertOrigin, Severity};

/// Labels naming the namespace, in order of preference (`exported_` when Prometheus scraped
/// through another namespace's exporter).
const NAMESPACE_LABELS: &[&str] = &["namespace", "exported_namespace"];
/// Labels naming the Helm release (z2jh's `release`, kube-state-metrics' `label_` copies,
/// the recommended `app.kubernetes.io/instance` as a Prometheus label).
const RELEASE_LABELS: &[&str] = &[
    "release",
    "helm_release",
    "app_kubernetes_io_instance",
    "label_release",
    "label_app_kubernetes_io_instance",
];
/// Labels naming the pod.
const POD_LABELS: &[&str] = &["pod", "exported_pod", "pod_name"];

/// The fleet's view of one Alertmanager alert.
pub fn to_alert_info(a: GettableAlert) -> AlertInfo {
    let first = |keys: &[&str]| -> Option<Arc<str>> {
        keys.iter()
            .find_map(|k| a.labels.get(*k).filter(|v| !v.is_empty()))
            .map(|v| Arc::from(v.as_str()))
    };
    let name = a
        .labels
        .get("alertname")
        .cloned()
        .unwrap_or_else(|| "(unnamed)".to_string());
    let namespace = first(NAMESPACE_LABELS);
    let release = first(RELEASE_LABELS);
    let pod = first(POD_LABELS);
    AlertInfo {
        fingerprint: a.fingerprint.as_str().into(),
        severity: a
            .labels
            .get("severity")
            .map_or(Severity::Warning, |s| Severity::from_label(s)),
        origin: AlertOrigin::Alertmanager,
        summary: summary(&name, &a.labels, &a.annotations),
        name: name.into(),
        namespace,
        release,
        pod,
        since: Some(a.starts_at),
        silenced_by: a.status.silenced_by,
        labels: a.labels.into_iter().collect(),
    }
}

/// One line: the `summary` annotation, else `description`/`message`, else the alert name and
/// the object it concerns.
fn summary(
    name: &str,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> String {
    let text = ["summary", "description", "message"].iter().find_map(|k| {
        annotations
            .get(*k)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    });
    if let Some(text) = text {
        return text.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    let object = [
        "pod",
        "persistentvolumeclaim",
        "deployment",
        "node",
        "namespace",
    ]
    .iter()
    .find_map(|k| labels.get(*k).map(|v| format!("{k} {v}")));
    match object {
        Some(o) => format!("{name} on {o}"),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> GettableAlert {
        let json = serde_json::json!({
            "labels": labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
            "annotations": annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
            "fingerprint": "3c45e899d8aa1646",
            "startsAt": "2026-01-02T03:04:05.678Z",
            "endsAt": "2026-01-02T03:09:05.678Z",
            "updatedAt": "2026-01-02T03:04:05.678Z",
            "receivers": [{"name": "null"}],
            "status": {"state": "suppressed", "silencedBy": ["s1"], "inhibitedBy": []}
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn alert_is_attached_to_namespace_release_and_pod() {
        let a = to_alert_info(alert(
            &[
                ("alertname", "PodCrashLooping"),
                ("namespace", "staging"),
                ("pod", "hub-7d9f"),
                ("helm_release", "staging"),
                ("severity", "critical"),
            ],
            &[("summary", "hub is\n crash looping")],
        ));
        assert_eq!(&*a.name, "PodCrashLooping");
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(a.namespace.as_deref(), Some("staging"));
        assert_eq!(a.release.as_deref(), Some("staging"));
        assert_eq!(a.pod.as_deref(), Some("hub-7d9f"));
        assert_eq!(a.summary, "hub is crash looping");
        assert_eq!(a.silenced_by, vec!["s1".to_string()]);
        assert_eq!(a.since.unwrap().to_string(), "2026-01-02T03:04:05.678Z");
        assert_eq!(a.origin, AlertOrigin::Alertmanager);
        assert!(a.labels.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn summary_falls_back_to_the_object_concerned() {
        let a = to_alert_info(alert(
            &[
                ("alertname", "VolumeFull"),
                ("persistentvolumeclaim", "hub-db-dir"),
            ],
            &[],
        ));
        assert_eq!(a.summary, "VolumeFull on persistentvolumeclaim hub-db-dir");
        assert_eq!(a.severity, Severity::Warning);
        assert_eq!(a.namespace, None);
    }
}
