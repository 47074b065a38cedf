//! What the action layer needs from the outside world, as traits the application implements
//! (Kubernetes through kube, hub APIs, Alertmanager). The core defines them so that the
//! runner depends on an interface, and the code talking to clusters depends on the core: no
//! cycle, and tests can stand in for any of them.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::fleet::{ClusterId, HubId, WorkloadKind};

use super::error::ActionError;
use super::model::{Action, ApiCall, Matcher};

/// A request in flight, answering with `T` or why the action cannot go on.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T, ActionError>> + Send + 'a>>;

/// The hub's config as the hub reads it: `values.yaml` of the hub Secret. Its values hold
/// credentials: `Debug` shows their size only; show them through `secrets::redact`.
#[derive(Clone, PartialEq, Eq)]
pub struct HubConfig {
    /// Secret name.
    pub secret: String,
    /// resourceVersion it was read at.
    pub resource_version: String,
    /// values.yaml text.
    pub values: String,
}

impl std::fmt::Debug for HubConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubConfig")
            .field("secret", &self.secret)
            .field("resource_version", &self.resource_version)
            .field(
                "values",
                &format_args!("‹{} bytes, not shown›", self.values.len()),
            )
            .finish()
    }
}

/// The Kubernetes side of actions, one cluster at a time.
pub trait KubeExecutor: Send + Sync {
    /// `Ok(None)` when the identity may make `call` on `cluster`, else the missing permission.
    fn access_review<'a>(
        &'a self,
        cluster: &'a ClusterId,
        call: &'a ApiCall,
    ) -> Pending<'a, Option<String>>;
    /// Checks the action's preconditions (object exists, expected replicas).
    fn precondition<'a>(&'a self, action: &'a Action) -> Pending<'a, ()>;
    /// Rollout restart of a Deployment.
    fn restart<'a>(
        &'a self,
        cluster: &'a ClusterId,
        namespace: &'a str,
        deployment: &'a str,
    ) -> Pending<'a, String>;
    /// Sets replicas through the scale subresource.
    fn scale<'a>(
        &'a self,
        cluster: &'a ClusterId,
        kind: WorkloadKind,
        namespace: &'a str,
        name: &'a str,
        replicas: u32,
    ) -> Pending<'a, String>;
    /// Deletes a pod gracefully.
    fn delete_pod<'a>(
        &'a self,
        cluster: &'a ClusterId,
        namespace: &'a str,
        pod: &'a str,
    ) -> Pending<'a, String>;
    /// Stops a dask cluster as dask-gateway does: `spec.active` of its `DaskCluster` set to
    /// false (a JSON patch), which its controller acts on.
    fn stop_dask_cluster<'a>(
        &'a self,
        cluster: &'a ClusterId,
        namespace: &'a str,
        name: &'a str,
    ) -> Pending<'a, String>;
    /// Replaces values.yaml of the hub Secret if it is still at `resource_version`.
    fn write_values<'a>(
        &'a self,
        cluster: &'a ClusterId,
        namespace: &'a str,
        secret: &'a str,
        resource_version: &'a str,
        values: &'a str,
    ) -> Pending<'a, String>;
    /// Reads the hub Secret's values.yaml (found by labels) and its resourceVersion.
    fn read_values<'a>(&'a self, hub: &'a HubId) -> Pending<'a, HubConfig>;
}

/// Stops servers through a hub's REST API.
pub trait HubStopper: Send + Sync {
    /// Whether the hub API is the way to stop its servers: a token is configured or was found.
    /// Without one, servers are stopped by deleting their pods (and the plan says so).
    fn available(&self, hub: &HubId) -> bool;
    /// Stops one server; Ok carries a message. A 401/403 is [`ActionError::Refused`].
    fn stop<'a>(&'a self, hub: &'a HubId, user: &'a str, server: &'a str) -> Pending<'a, String>;
}

/// Creates and expires Alertmanager silences.
pub trait Silencer: Send + Sync {
    /// Creates a silence; Ok carries its id.
    fn silence<'a>(
        &'a self,
        cluster: &'a ClusterId,
        matchers: &'a [Matcher],
        duration: Duration,
        author: &'a str,
        comment: &'a str,
    ) -> Pending<'a, String>;
    /// Ends a silence now.
    fn expire<'a>(&'a self, cluster: &'a ClusterId, id: &'a str) -> Pending<'a, ()>;
}

/// One exec the runner asks for: a command in a container of a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecSpec {
    /// Cluster.
    pub cluster: ClusterId,
    /// Namespace.
    pub namespace: String,
    /// Pod.
    pub pod: String,
    /// Container; None for the pod's default one (its `kubectl.kubernetes.io/default-container`
    /// annotation, else its first container, as kubectl chooses).
    pub container: Option<String>,
    /// The command (argv; no shell around it).
    pub command: Vec<String>,
    /// Whether the remote side gets a terminal (a pty; stdout and stderr then share it).
    pub tty: bool,
}

/// How an exec session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecEnd {
    /// The command ran and exited with this status (kubelet's final Status on channel 3).
    Exited(i32),
    /// The container could not start the command (no such executable): the runtime's message.
    /// Nothing ran, so another command may be tried.
    NotStarted(String),
    /// The session broke off without an exit status: the connection dropped, the API server
    /// or the kubelet ended it, or hubdeck stopped.
    Lost(String),
}

impl std::fmt::Display for ExecEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecEnd::Exited(code) => write!(f, "exit status {code}"),
            ExecEnd::NotStarted(why) => write!(f, "could not start: {why}"),
            ExecEnd::Lost(why) => write!(f, "connection lost: {why}"),
        }
    }
}

/// Opens exec sessions. `Session` is how the application carries a session's bytes (channels
/// of its runtime), which the core does not know: it only needs one opened per command.
pub trait PodExec: Send + Sync {
    /// An open session, handed to the front end through the runner.
    type Session: Send + 'static;
    /// Opens `spec`; Ok once the API server upgraded the connection (a command the container
    /// cannot start then ends the session with [`ExecEnd::NotStarted`]). The container the
    /// session runs in is returned with it.
    fn open<'a>(&'a self, spec: &'a ExecSpec) -> Pending<'a, (String, Self::Session)>;
}
