//! Which pod a log request reads: a user's server by its owner, or a hub component's pod by
//! its `component` label, both as the watchers found them. Shared by the console and the CLI
//! so `hubdeck logs` and the logs view open the same pod.

use crate::fleet::{ClusterId, Component, Fleet, HubRef, HubState, PodInfo, PodPhase};

use super::error::ResolveError;
use super::request::ServerRef;
use super::resolve::find_hub;

/// Whose log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    /// A user's server.
    Server(ServerRef),
    /// A hub component's pod (hub, proxy, user-scheduler).
    Component(HubRef, Component),
}

/// The pod a log request resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPod {
    /// Cluster.
    pub cluster: ClusterId,
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
}

/// The pod of a component to read logs from: a ready one if there is one, else the one
/// furthest along, so a crash-looping hub still shows its log.
pub fn component_pod(hub: &HubState, c: Component) -> Option<&PodInfo> {
    let mut pods: Vec<_> = hub.pods.values().filter(|p| p.component == c).collect();
    pods.sort_by_key(|p| (!p.ready, p.phase, p.key.name.clone()));
    pods.into_iter().next()
}

/// Binds a log request to the model.
pub fn log_pod(fleet: &Fleet, source: &LogSource) -> Result<LogPod, ResolveError> {
    let (hub, pod) = match source {
        LogSource::Component(r, c) => {
            let h = find_hub(fleet, r)?;
            let pod = component_pod(h, *c)
                .ok_or_else(|| ResolveError::NotFound(format!("{}: no {} pod", h.id, label(*c))))?;
            (h, pod)
        }
        LogSource::Server(s) => {
            let h = find_hub(fleet, &s.hub)?;
            let mut pods: Vec<_> = h
                .servers()
                .filter(|p| {
                    p.owner
                        .as_ref()
                        .is_some_and(|o| *o.user == *s.user && *o.server == *s.server)
                })
                .collect();
            // A server being replaced has two pods: the one still coming up is the one asked for.
            pods.sort_by_key(|p| (p.phase == PodPhase::Terminating, !p.ready));
            let pod = pods.into_iter().next().ok_or_else(|| {
                let name = if s.server.is_empty() {
                    format!("{}/{}", h.id, s.user)
                } else {
                    format!("{}/{}/{}", h.id, s.user, s.server)
                };
                ResolveError::NotFound(format!("{name}: no server pod"))
            })?;
            (h, pod)
        }
    };
    Ok(LogPod {
        cluster: hub.id.cluster.clone(),
        namespace: pod.key.namespace.to_string(),
        pod: pod.key.name.to_string(),
    })
}

fn label(c: Component) -> &'static str {
    match c {
        Component::Hub => "hub",
        Component::Proxy => "proxy",
        Component::Autohttps => "autohttps",
        Component::UserScheduler => "user-scheduler",
        Component::UserPlaceholder => "user-placeholder",
        Component::SingleuserServer => "singleuser-server",
        Component::ImagePuller => "image-puller",
        Component::Other => "component",
    }
}
