//! The user pods of a hub as its fake REST API reads them back from the store: z2jh's labels
//! (`component: singleuser-server`, `release`) and KubeSpawner's annotations
//! (`hub.jupyter.org/username`, `hub.jupyter.org/servername`), read into small structs of the
//! sim's own rather than through the console's pod mapping, so that a mistake there is not
//! repeated here. Every hub API request reads them, so serde skips every other field.

use jiff::Timestamp;
use serde::Deserialize;

/// z2jh's `component` label value on user server pods.
const USER_COMPONENT: &str = "singleuser-server";

/// A pod, reduced to what tells which server it is and how far it got.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserPod {
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    status: Option<Status>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    #[serde(default)]
    labels: Option<Labels>,
    #[serde(default)]
    annotations: Option<Annotations>,
    #[serde(default)]
    creation_timestamp: Option<Timestamp>,
    #[serde(default)]
    deletion_timestamp: Option<Timestamp>,
}

#[derive(Debug, Default, Deserialize)]
struct Labels {
    #[serde(default)]
    component: Option<String>,
    #[serde(default)]
    release: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Annotations {
    /// The unescaped user name (the label of the same name is escaped for label syntax).
    #[serde(rename = "hub.jupyter.org/username", default)]
    username: Option<String>,
    /// The server name, `""` or absent for the default server.
    #[serde(rename = "hub.jupyter.org/servername", default)]
    servername: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    #[serde(default)]
    start_time: Option<Timestamp>,
    #[serde(default)]
    conditions: Option<Vec<Condition>>,
}

#[derive(Debug, Deserialize)]
struct Condition {
    #[serde(rename = "type")]
    type_: String,
    #[serde(default)]
    status: String,
}

/// How far a user pod got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PodState {
    /// Created, not Ready yet: the hub shows the spawn pending.
    Starting,
    /// Ready: the server runs.
    Ready,
    /// Being deleted: the hub shows the stop pending.
    Terminating,
}

/// What a user pod says about its server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PodServer {
    pub user: String,
    pub server: String,
    pub started: Timestamp,
    pub state: PodState,
}

/// The server a stored pod's JSON runs, when it is a user pod of `release` with a user name.
pub(crate) fn pod_server(json: &[u8], release: &str) -> Option<PodServer> {
    let pod: UserPod = serde_json::from_slice(json).ok()?;
    let meta = pod.metadata;
    let labels = meta.labels?;
    if labels.component.as_deref() != Some(USER_COMPONENT)
        || labels.release.as_deref() != Some(release)
    {
        return None;
    }
    let annotations = meta.annotations?;
    let user = annotations.username?;
    let server = annotations.servername.unwrap_or_default();
    let status = pod.status.unwrap_or_default();
    let started = status
        .start_time
        .or(meta.creation_timestamp)
        .unwrap_or_else(Timestamp::now);
    let ready = status
        .conditions
        .unwrap_or_default()
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    let state = if meta.deletion_timestamp.is_some() {
        PodState::Terminating
    } else if ready {
        PodState::Ready
    } else {
        PodState::Starting
    };
    Some(PodServer {
        user,
        server,
        started,
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn a_ready_named_server_of_the_release() {
        let p = pod(json!({
            "metadata": {
                "name": "jupyter-ada--gpu",
                "labels": {"app": "jupyterhub", "component": "singleuser-server",
                           "release": "prod", "hub.jupyter.org/username": "ada"},
                "annotations": {"hub.jupyter.org/username": "Ada.L",
                                "hub.jupyter.org/servername": "gpu"},
                "creationTimestamp": "2025-03-01T08:00:00Z",
                "managedFields": [{"manager": "kubespawner"}]
            },
            "spec": {"containers": [{"name": "notebook"}]},
            "status": {"phase": "Running", "startTime": "2025-03-01T08:00:05Z",
                       "conditions": [{"type": "Ready", "status": "True"}]}
        }));
        let s = pod_server(&p, "prod").unwrap();
        assert_eq!((s.user.as_str(), s.server.as_str()), ("Ada.L", "gpu"));
        assert_eq!(s.started.to_string(), "2025-03-01T08:00:05Z");
        assert_eq!(s.state, PodState::Ready);
        assert!(pod_server(&p, "staging").is_none(), "another release");
    }

    #[test]
    fn nulls_and_missing_parts_do_not_fail_the_pod() {
        let p = pod(json!({
            "metadata": {
                "labels": {"component": "singleuser-server", "release": "prod"},
                "annotations": {"hub.jupyter.org/username": "bo"},
                "creationTimestamp": "2025-03-01T08:00:00Z",
                "deletionTimestamp": "2025-03-01T09:00:00Z"
            },
            "status": {"conditions": null}
        }));
        let s = pod_server(&p, "prod").unwrap();
        assert_eq!(s.server, "");
        assert_eq!(s.started.to_string(), "2025-03-01T08:00:00Z");
        assert_eq!(s.state, PodState::Terminating);
        let hub = pod(json!({"metadata": {"labels": {"component": "hub", "release": "prod"}}}));
        assert!(pod_server(&hub, "prod").is_none());
    }
}
