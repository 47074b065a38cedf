//! The `Action` value every mutation is, and the plan it expands to.

use std::time::Duration;

use serde::Serialize;

use crate::fleet::{ClusterId, Component, HubId, ServerId};
use crate::secrets::Secret;

/// A user server to stop, with the pod that runs it (for the pod-delete fallback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerTarget {
    /// Which server.
    pub id: ServerId,
    /// Namespace of its pod.
    pub namespace: String,
    /// Its pod.
    pub pod: String,
    /// Whether its hub was running when the action was built: a hub that is down (scaled to
    /// 0 for maintenance, crashed) cannot stop servers through its API, so pods are deleted.
    pub hub_running: bool,
}

/// An Alertmanager matcher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Value (exact match).
    pub value: String,
}

/// Every change hubdeck can make to a cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// Rollout restart of the hub Deployment.
    RestartHub {
        /// Target hub.
        hub: HubId,
        /// Name of its hub Deployment (discovered by labels).
        deployment: String,
    },
    /// Rollout restart of the proxy Deployment (drops open connections).
    RestartProxy {
        /// Target hub.
        hub: HubId,
        /// Name of its proxy Deployment.
        deployment: String,
    },
    /// Scale the hub Deployment to 0 (maintenance) or 1.
    ScaleHub {
        /// Target hub.
        hub: HubId,
        /// Name of its hub Deployment.
        deployment: String,
        /// 0 or 1.
        replicas: u32,
        /// Replicas the model showed when the action was built (precondition).
        expected: Option<u32>,
    },
    /// Scale the user-placeholder StatefulSet.
    ScalePlaceholders {
        /// Target hub.
        hub: HubId,
        /// Name of its user-placeholder StatefulSet.
        stateful_set: String,
        /// New replicas.
        replicas: u32,
        /// Replicas the model showed (precondition).
        expected: Option<u32>,
    },
    /// Stop user servers (through the hub API when possible, else by deleting the pod).
    StopServers {
        /// The servers, all of one cluster.
        servers: Vec<ServerTarget>,
    },
    /// Stop a user's dask clusters by setting `spec.active` of each `DaskCluster` to false.
    StopDaskClusters {
        /// The hub whose namespace runs them.
        hub: HubId,
        /// Whose clusters.
        user: String,
        /// The `DaskCluster` names the model showed running.
        clusters: Vec<String>,
    },
    /// Replace `values.yaml` of the hub Secret, guarded by the resourceVersion that was read.
    EditHubConfig {
        /// Target hub.
        hub: HubId,
        /// Name of the hub Secret.
        secret: String,
        /// resourceVersion the edit started from.
        resource_version: String,
        /// The new values.yaml text (validated YAML, credentials in place): never printed.
        #[serde(skip)]
        values: Secret,
        /// Unified diff from the old to the new text, both redacted.
        diff: String,
        /// Paths of the credentials the edit sets anew, adds or removes (values never shown).
        secrets_changed: Vec<String>,
        /// The text is written back in canonical form (a merge patch's result): the Secret's
        /// comments and layout are not kept, and the diff compares values, not lines.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        rewritten: bool,
    },
    /// Create an Alertmanager silence.
    SilenceAlert {
        /// Cluster whose Alertmanager.
        cluster: ClusterId,
        /// Alert name, for people.
        alert: String,
        /// Matchers (from the alert's labels).
        matchers: Vec<Matcher>,
        /// How long.
        #[serde(with = "secs")]
        duration: Duration,
        /// Why.
        comment: String,
    },
    /// Expire (end now) an Alertmanager silence.
    ExpireSilence {
        /// Cluster whose Alertmanager.
        cluster: ClusterId,
        /// Silence id.
        id: String,
    },
    /// Open a shell, or run one command, in a pod (the exec subresource): a session whose
    /// opening and closing are audited, never what is typed.
    Exec {
        /// The pod's hub.
        hub: HubId,
        /// The user server whose pod it is; None for a hub component's pod.
        server: Option<ServerId>,
        /// The pod's component.
        component: Component,
        /// Namespace of the pod.
        namespace: String,
        /// The pod.
        pod: String,
        /// The container; None for the pod's default one.
        container: Option<String>,
        /// The command; empty for the container's shell (bash, else sh).
        command: Vec<String>,
    },
}

mod secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
}

/// How explicitly a person must agree before the action runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confirm {
    /// A plain yes.
    Simple,
    /// Destructive or many targets: an explicit, deliberate yes (TUI: type `yes`).
    Explicit,
}

/// One Kubernetes (or Alertmanager / hub API) request an action makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiCall {
    /// RBAC verb: get, patch, update, delete, create.
    pub verb: &'static str,
    /// API group ("" for core, "apps").
    pub group: &'static str,
    /// Resource (deployments, statefulsets, pods, secrets).
    pub resource: &'static str,
    /// Subresource (scale), if any.
    pub subresource: Option<&'static str>,
    /// Namespace.
    pub namespace: String,
    /// Object name.
    pub name: String,
}

impl ApiCall {
    /// `patch apps/deployments/scale prod/hub`.
    pub fn describe(&self) -> String {
        let group = if self.group.is_empty() {
            String::new()
        } else {
            format!("{}/", self.group)
        };
        let sub = self
            .subresource
            .map(|s| format!("/{s}"))
            .unwrap_or_default();
        format!(
            "{} {group}{}{sub} {}/{}",
            self.verb, self.resource, self.namespace, self.name
        )
    }

    /// Every verb the API server authorizes this call as, the call's own first. An exec
    /// session is a WebSocket upgrade, a GET: servers before 1.35 authorize it as `get
    /// pods/exec`, 1.35 and later as `get` and `create` (KEP-4006), so both are reviewed.
    pub fn authorized_as(&self) -> Vec<ApiCall> {
        let mut calls = vec![self.clone()];
        if self.verb == "create" && self.resource == "pods" && self.subresource == Some("exec") {
            calls.push(ApiCall {
                verb: "get",
                ..self.clone()
            });
        }
        calls
    }
}

/// What a step talks to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "via", rename_all = "kebab-case")]
pub enum Via {
    /// The Kubernetes API.
    Kubernetes {
        /// The request.
        call: ApiCall,
    },
    /// The hub's REST API (no RBAC check; Kubernetes only forwards the port).
    HubApi {
        /// Method and path.
        request: String,
    },
    /// The cluster's Alertmanager.
    Alertmanager {
        /// Method and path.
        request: String,
    },
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// What it does, for people.
    pub what: String,
    /// How.
    #[serde(flatten)]
    pub via: Via,
}

/// Exactly what an action will do, shown before it runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// One-line summary ("restart hub leap/prod").
    pub summary: String,
    /// Cluster it changes.
    pub cluster: ClusterId,
    /// Steps in order.
    pub steps: Vec<Step>,
    /// How explicitly it must be confirmed.
    pub confirm: Confirm,
    /// Warnings to show next to the plan.
    pub warnings: Vec<String>,
}
