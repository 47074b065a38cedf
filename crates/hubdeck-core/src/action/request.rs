//! A mutation as a front end asked for it, before it is bound to the objects of the model.
//! Keys, the palette, CLI commands and runbook steps are parsers producing a [`Request`];
//! [`super::resolve`] is the one place that turns it into an [`super::Action`].

use std::time::Duration;

use crate::fleet::{HubId, HubRef};

use super::pod_ref::PodSource;
use super::ports::HubConfig;

/// One user server, as a person names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRef {
    /// Its hub.
    pub hub: HubRef,
    /// JupyterHub user name.
    pub user: String,
    /// Named server, "" for the default one.
    pub server: String,
}

/// What a person (or a runbook) asked to be done.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Rollout restart of the hub (or the proxy).
    Restart {
        /// Which hub.
        hub: HubRef,
        /// The proxy rather than the hub.
        proxy: bool,
    },
    /// Scale the hub (0 or 1) or its user placeholders.
    Scale {
        /// Which hub.
        hub: HubRef,
        /// The placeholders rather than the hub.
        placeholders: bool,
        /// New replicas.
        replicas: u32,
    },
    /// Stop the named servers (all of one cluster).
    StopServers {
        /// Which servers.
        servers: Vec<ServerRef>,
    },
    /// Stop every server of a hub idle longer than a duration.
    StopIdle {
        /// Which hub.
        hub: HubRef,
        /// Idle threshold.
        idle_for: Duration,
    },
    /// Silence a firing Alertmanager alert.
    Silence {
        /// Cluster.
        cluster: String,
        /// Alert name or fingerprint.
        alert: String,
        /// For how long.
        duration: Duration,
        /// Why.
        comment: String,
    },
    /// End an Alertmanager silence now.
    ExpireSilence {
        /// Cluster.
        cluster: String,
        /// Silence id.
        id: String,
    },
    /// Replace the hub's values.yaml with `values`, based on what was read as `base`.
    EditConfig {
        /// Which hub.
        hub: HubRef,
        /// The config the edit started from (its resourceVersion guards the write).
        base: HubConfig,
        /// The edited text.
        values: String,
    },
    /// Apply a JSON merge patch (RFC 7386) to the hub's values.yaml as read in `base`.
    MergeValues {
        /// Which hub.
        hub: HubRef,
        /// The config the patch applies to (its resourceVersion guards the write).
        base: HubConfig,
        /// The patch: a mapping; `null` removes a key.
        patch: serde_json::Value,
    },
    /// Stop every running dask cluster of a user (dask-gateway's `DaskCluster`s).
    StopDask {
        /// Which hub.
        hub: HubRef,
        /// JupyterHub user name.
        user: String,
    },
    /// A shell (or one command) in a user's server or a hub component's pod.
    Exec {
        /// Which pod.
        pod: PodSource,
        /// Which container; None for the pod's default one.
        container: Option<String>,
        /// The command; empty for the container's shell (bash, else sh).
        command: Vec<String>,
    },
}

impl From<&HubId> for HubRef {
    /// The exact reference of a hub the model holds (namespace and release spelled out).
    fn from(id: &HubId) -> Self {
        HubRef {
            cluster: id.cluster.to_string(),
            hub: id.key.namespace.to_string(),
            release: Some(id.key.release.to_string()),
        }
    }
}
