//! Server-side printing: `meta.k8s.io/v1` Tables for clients that ask with
//! `Accept: application/json;as=Table;...` (kubectl does), with the columns kubectl users expect.

use serde_json::{Value, json};

use super::resources::Kind;
use super::store::Obj;

/// Whether the Accept header asks for a Table.
pub(crate) fn wanted(accept: &str) -> bool {
    accept.contains("as=Table")
}

fn columns(kind: Kind) -> Vec<(&'static str, &'static str, u8)> {
    let mut c = match kind {
        Kind::Pod => vec![
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            ("Age", "string", 0),
            ("IP", "string", 1),
            ("Node", "string", 1),
        ],
        Kind::Deployment => vec![
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Up-to-date", "string", 0),
            ("Available", "string", 0),
            ("Age", "string", 0),
        ],
        Kind::StatefulSet => vec![
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Age", "string", 0),
        ],
        Kind::Service => vec![
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Cluster-IP", "string", 0),
            ("External-IP", "string", 0),
            ("Port(s)", "string", 0),
            ("Age", "string", 0),
        ],
        Kind::Secret => vec![
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Data", "string", 0),
            ("Age", "string", 0),
        ],
        Kind::ConfigMap => vec![
            ("Name", "string", 0),
            ("Data", "string", 0),
            ("Age", "string", 0),
        ],
        Kind::Event => vec![
            ("Last Seen", "string", 0),
            ("Type", "string", 0),
            ("Reason", "string", 0),
            ("Object", "string", 0),
            ("Message", "string", 0),
        ],
        Kind::Namespace => vec![
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Age", "string", 0),
        ],
        Kind::Node => vec![
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Roles", "string", 0),
            ("Age", "string", 0),
            ("Version", "string", 0),
            ("Internal-IP", "string", 1),
            ("External-IP", "string", 1),
            ("OS-Image", "string", 1),
            ("Kernel-Version", "string", 1),
            ("Container-Runtime", "string", 1),
        ],
        // A CRD without additionalPrinterColumns: the server's default columns.
        Kind::DaskCluster => vec![("Name", "string", 0), ("Age", "string", 0)],
    };
    c.shrink_to_fit();
    c
}

/// kubectl's short age format (`45s`, `3m12s`, `5h`, `2d3h`, `40d`).
fn age(ts: &Value) -> String {
    let Some(t) = ts.as_str().and_then(|s| s.parse::<jiff::Timestamp>().ok()) else {
        return "<unknown>".into();
    };
    let s = (jiff::Timestamp::now().as_second() - t.as_second()).max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86400);
    match () {
        () if s < 120 => format!("{s}s"),
        () if m < 10 => format!("{m}m{}s", s % 60),
        () if m < 180 => format!("{m}m"),
        () if h < 8 => format!("{h}h{}m", m % 60),
        () if h < 48 => format!("{h}h"),
        () if h < 192 => format!("{d}d{}h", h % 24),
        () => format!("{d}d"),
    }
}

fn pod_status(p: &Value) -> String {
    if !p["metadata"]["deletionTimestamp"].is_null() {
        return "Terminating".into();
    }
    let statuses = p["status"]["containerStatuses"].as_array();
    for cs in statuses.into_iter().flatten() {
        if let Some(r) = cs["state"]["waiting"]["reason"].as_str() {
            return r.to_string();
        }
    }
    p["status"]["phase"]
        .as_str()
        .unwrap_or("Unknown")
        .to_string()
}

fn cells(kind: Kind, o: &Value) -> Vec<Value> {
    let name = json!(o["metadata"]["name"]);
    let created = &o["metadata"]["creationTimestamp"];
    let s = &o["status"];
    let n = |v: &Value| v.as_i64().unwrap_or(0);
    match kind {
        Kind::Pod => {
            let cs = s["containerStatuses"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let total = o["spec"]["containers"].as_array().map_or(0, Vec::len);
            let ready = cs.iter().filter(|c| c["ready"] == true).count();
            let restarts: i64 = cs.iter().map(|c| n(&c["restartCount"])).sum();
            vec![
                name,
                json!(format!("{ready}/{total}")),
                json!(pod_status(o)),
                json!(restarts.to_string()),
                json!(age(created)),
                json!(s["podIP"].as_str().unwrap_or("<none>")),
                json!(o["spec"]["nodeName"].as_str().unwrap_or("<none>")),
            ]
        }
        Kind::Deployment => {
            let want = o["spec"]["replicas"].as_i64().unwrap_or(1);
            vec![
                name,
                json!(format!("{}/{want}", n(&s["readyReplicas"]))),
                json!(n(&s["updatedReplicas"])),
                json!(n(&s["availableReplicas"])),
                json!(age(created)),
            ]
        }
        Kind::StatefulSet => {
            let want = o["spec"]["replicas"].as_i64().unwrap_or(1);
            vec![
                name,
                json!(format!("{}/{want}", n(&s["readyReplicas"]))),
                json!(age(created)),
            ]
        }
        Kind::Service => {
            let ports: Vec<String> = o["spec"]["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("TCP")))
                .collect();
            vec![
                name,
                json!(o["spec"]["type"].as_str().unwrap_or("ClusterIP")),
                json!(o["spec"]["clusterIP"].as_str().unwrap_or("None")),
                json!("<none>"),
                json!(ports.join(",")),
                json!(age(created)),
            ]
        }
        Kind::Secret => vec![
            name,
            json!(o["type"].as_str().unwrap_or("Opaque")),
            json!(o["data"].as_object().map_or(0, serde_json::Map::len)),
            json!(age(created)),
        ],
        Kind::ConfigMap => {
            let count = |f: &str| o[f].as_object().map_or(0, serde_json::Map::len);
            vec![
                name,
                json!(count("data") + count("binaryData")),
                json!(age(created)),
            ]
        }
        Kind::Event => {
            let io = &o["involvedObject"];
            let object = format!(
                "{}/{}",
                io["kind"].as_str().unwrap_or("").to_lowercase(),
                io["name"].as_str().unwrap_or("")
            );
            vec![
                // Events from the events.k8s.io recorder (the scheduler's) have no lastTimestamp.
                json!(age(if o["lastTimestamp"].is_string() {
                    &o["lastTimestamp"]
                } else if o["series"]["lastObservedTime"].is_string() {
                    &o["series"]["lastObservedTime"]
                } else {
                    &o["eventTime"]
                })),
                json!(o["type"]),
                json!(o["reason"]),
                json!(object),
                json!(o["message"]),
            ]
        }
        Kind::Namespace => vec![
            name,
            json!(s["phase"].as_str().unwrap_or("Active")),
            json!(age(created)),
        ],
        Kind::Node => node_cells(o, name, created),
        Kind::DaskCluster => vec![name, json!(age(created))],
    }
}

/// kubectl's node columns: `Ready,SchedulingDisabled`, roles from `node-role.kubernetes.io/*`.
fn node_cells(o: &Value, name: Value, created: &Value) -> Vec<Value> {
    let s = &o["status"];
    let ready = s["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Ready")
        .map_or("Unknown", |c| {
            if c["status"] == "True" {
                "Ready"
            } else {
                "NotReady"
            }
        });
    let mut status = ready.to_string();
    if o["spec"]["unschedulable"] == true {
        status.push_str(",SchedulingDisabled");
    }
    let roles: Vec<&str> = o["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
        .collect();
    let address = |ty: &str| {
        s["addresses"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["type"] == ty)
            .and_then(|a| a["address"].as_str())
            .unwrap_or("<none>")
            .to_string()
    };
    let info = &s["nodeInfo"];
    vec![
        name,
        json!(status),
        json!(if roles.is_empty() {
            "<none>".to_string()
        } else {
            roles.join(",")
        }),
        json!(age(created)),
        json!(info["kubeletVersion"]),
        json!(address("InternalIP")),
        json!(address("ExternalIP")),
        json!(info["osImage"]),
        json!(info["kernelVersion"]),
        json!(info["containerRuntimeVersion"]),
    ]
}

fn row(kind: Kind, obj: &Obj, full_object: bool) -> Value {
    let o = obj.value();
    let object = if full_object {
        o.clone()
    } else {
        json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
               "metadata": o["metadata"]})
    };
    json!({"cells": cells(kind, &o), "object": object})
}

/// A Table of `objs`; `full_object` answers `includeObject=Object`.
pub(crate) fn render<'a>(
    kind: Kind,
    objs: impl Iterator<Item = &'a Obj>,
    rv: u64,
    full_object: bool,
) -> Value {
    let cols: Vec<Value> = columns(kind)
        .into_iter()
        .map(|(name, ty, priority)| {
            let format = if name == "Name" { "name" } else { "" };
            json!({"name": name, "type": ty, "format": format, "description": "", "priority": priority})
        })
        .collect();
    json!({
        "kind": "Table", "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv.to_string()},
        "columnDefinitions": cols,
        "rows": objs.map(|o| row(kind, o, full_object)).collect::<Vec<_>>(),
    })
}
