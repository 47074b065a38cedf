//! `kubectl describe`-like views of a pod, Deployment or StatefulSet: sections of key/value
//! rows, with the object's recent events.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::ListParams;
use kube::{Api, Client};

use super::mapping::EventTimes;
use super::watch::one_line;

/// A section title and its rows.
pub type Section = (String, Vec<(String, String)>);

/// Kind of object to describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A pod.
    Pod,
    /// A Deployment.
    Deployment,
    /// A StatefulSet.
    StatefulSet,
}

fn kv(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_string(), v.into())
}

fn meta_sections(meta: &ObjectMeta, out: &mut Vec<Section>) {
    out.push((
        "Metadata".into(),
        vec![
            kv("Name", meta.name.clone().unwrap_or_default()),
            kv("Namespace", meta.namespace.clone().unwrap_or_default()),
            kv(
                "Created",
                meta.creation_timestamp
                    .as_ref()
                    .map(|t| t.0.to_string())
                    .unwrap_or_default(),
            ),
        ],
    ));
    let labels: Vec<_> = meta
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    out.push(("Labels".into(), labels));
    // Annotations can hold whole configs; show the short ones.
    let annotations: Vec<_> = meta
        .annotations
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, v)| v.len() <= 120)
        .collect();
    out.push(("Annotations".into(), annotations));
}

fn containers(spec: Option<&PodSpec>, out: &mut Vec<Section>) {
    let Some(spec) = spec else { return };
    for c in &spec.containers {
        let mut rows = vec![kv("Image", c.image.clone().unwrap_or_default())];
        if let Some(r) = &c.resources {
            let fmt = |m: &Option<
                BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
            >| {
                m.as_ref()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| format!("{k}={}", v.0))
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default()
            };
            rows.push(kv("Requests", fmt(&r.requests)));
            rows.push(kv("Limits", fmt(&r.limits)));
        }
        out.push((format!("Container {}", c.name), rows));
    }
}

async fn events(client: &Client, namespace: &str, name: &str) -> Section {
    let api = Api::<Event>::namespaced(client.clone(), namespace);
    let params = ListParams::default().fields(&format!("involvedObject.name={name}"));
    let rows = match api.list(&params).await {
        Ok(list) => {
            // Newest first, whether the reporter wrote `lastTimestamp` or a `series`.
            let mut items: Vec<(EventTimes, Event)> = list
                .items
                .into_iter()
                .map(|e| (EventTimes::of(&e), e))
                .collect();
            items.sort_by_key(|(t, _)| std::cmp::Reverse(t.last));
            items
                .iter()
                .take(15)
                .map(|(t, e)| {
                    (
                        format!(
                            "{} {} (x{})",
                            e.type_.clone().unwrap_or_default(),
                            e.reason.clone().unwrap_or_default(),
                            t.count
                        ),
                        e.message.clone().unwrap_or_default(),
                    )
                })
                .collect()
        }
        Err(e) => vec![kv("error", one_line(&e))],
    };
    ("Events".into(), rows)
}

/// Describes one object.
pub async fn describe(
    client: &Client,
    kind: Kind,
    namespace: &str,
    name: &str,
) -> Result<Vec<Section>, String> {
    let mut out = Vec::new();
    let err = |e: kube::Error| format!("{namespace}/{name}: {}", one_line(&e));
    match kind {
        Kind::Pod => {
            let p = Api::<Pod>::namespaced(client.clone(), namespace)
                .get(name)
                .await
                .map_err(err)?;
            let status = p.status.clone().unwrap_or_default();
            out.push((
                "Status".into(),
                vec![
                    kv("Phase", status.phase.clone().unwrap_or_default()),
                    kv(
                        "Node",
                        p.spec
                            .as_ref()
                            .and_then(|s| s.node_name.clone())
                            .unwrap_or_default(),
                    ),
                    kv("Pod IP", status.pod_ip.clone().unwrap_or_default()),
                    kv(
                        "Started",
                        status
                            .start_time
                            .as_ref()
                            .map(|t| t.0.to_string())
                            .unwrap_or_default(),
                    ),
                    kv("Reason", status.reason.clone().unwrap_or_default()),
                ],
            ));
            meta_sections(&p.metadata, &mut out);
            containers(p.spec.as_ref(), &mut out);
            let conditions = status
                .conditions
                .unwrap_or_default()
                .into_iter()
                .map(|c| {
                    (
                        c.type_,
                        format!(
                            "{}{}",
                            c.status,
                            c.reason.map(|r| format!(" ({r})")).unwrap_or_default()
                        ),
                    )
                })
                .collect();
            out.push(("Conditions".into(), conditions));
            let restarts = status
                .container_statuses
                .unwrap_or_default()
                .into_iter()
                .map(|c| {
                    let state = c.state.as_ref().map_or("unknown".to_string(), |s| {
                        if let Some(w) = &s.waiting {
                            format!("waiting: {}", w.reason.clone().unwrap_or_default())
                        } else if let Some(t) = &s.terminated {
                            format!("terminated: {}", t.reason.clone().unwrap_or_default())
                        } else {
                            "running".into()
                        }
                    });
                    (
                        c.name,
                        format!("{state}, ready={}, restarts={}", c.ready, c.restart_count),
                    )
                })
                .collect();
            out.push(("Container states".into(), restarts));
        }
        Kind::Deployment => {
            let d = Api::<Deployment>::namespaced(client.clone(), namespace)
                .get(name)
                .await
                .map_err(err)?;
            let status = d.status.clone().unwrap_or_default();
            out.push((
                "Replicas".into(),
                vec![
                    kv("Desired", d.spec.replicas.unwrap_or(1).to_string()),
                    kv("Ready", status.ready_replicas.unwrap_or(0).to_string()),
                    kv("Updated", status.updated_replicas.unwrap_or(0).to_string()),
                    kv(
                        "Available",
                        status.available_replicas.unwrap_or(0).to_string(),
                    ),
                ],
            ));
            meta_sections(&d.metadata, &mut out);
            containers(d.spec.template.spec.as_ref(), &mut out);
        }
        Kind::StatefulSet => {
            let s = Api::<StatefulSet>::namespaced(client.clone(), namespace)
                .get(name)
                .await
                .map_err(err)?;
            let status = s.status.clone().unwrap_or_default();
            out.push((
                "Replicas".into(),
                vec![
                    kv("Desired", s.spec.replicas.unwrap_or(1).to_string()),
                    kv("Ready", status.ready_replicas.unwrap_or(0).to_string()),
                ],
            ));
            meta_sections(&s.metadata, &mut out);
            containers(s.spec.template.spec.as_ref(), &mut out);
        }
    }
    out.push(events(client, namespace, name).await);
    Ok(out)
}
