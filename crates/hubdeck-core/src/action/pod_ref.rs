//! Which pod a log or exec request means: a user's server by its owner, or a hub component's
//! pod by its `component` label, both as the watchers found them. Shared by the console and the
//! CLI so `hubdeck logs`, `hubdeck exec` and the console open the same pod.

use crate::fleet::{ClusterId, Component, Fleet, HubRef, HubState, PodInfo, PodPhase};

use super::error::ResolveError;
use super::request::ServerRef;
use super::resolve::find_hub;

/// Whose pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodSource {
    /// A user's server.
    Server(ServerRef),
    /// A hub component's pod (hub, proxy, user-scheduler).
    Component(HubRef, Component),
    /// One pod of a hub by name, whatever it runs: picked from those on a node, where the
    /// component's "best" pod may be a replica elsewhere.
    Pod(HubRef, String),
}

/// The pod a request resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundPod {
    /// Cluster.
    pub cluster: ClusterId,
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
}

/// The pod of a component to read logs from or open a shell in: a ready one if there is one,
/// else the one furthest along, so a crash-looping hub still shows its log.
pub fn component_pod(hub: &HubState, c: Component) -> Option<&PodInfo> {
    let mut pods: Vec<_> = hub.pods.values().filter(|p| p.component == c).collect();
    pods.sort_by_key(|p| (!p.ready, p.phase, p.key.name.clone()));
    pods.into_iter().next()
}

/// The hub and the pod a source names, as the model shows them now.
pub(super) fn find_pod<'a>(
    fleet: &'a Fleet,
    source: &PodSource,
) -> Result<(&'a HubState, &'a PodInfo), ResolveError> {
    match source {
        PodSource::Component(r, c) => {
            let h = find_hub(fleet, r)?;
            let pod = component_pod(h, *c).ok_or_else(|| {
                ResolveError::NotFound(format!("{}: no {} pod", h.id, component_name(*c)))
            })?;
            Ok((h, pod))
        }
        PodSource::Pod(r, name) => {
            let h = find_hub(fleet, r)?;
            let pod = h
                .pods
                .get(name)
                .ok_or_else(|| ResolveError::NotFound(format!("{}: no pod {name}", h.id)))?;
            Ok((h, pod))
        }
        PodSource::Server(s) => {
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
                ResolveError::NotFound(format!("{}: no server pod", server_name(h, s)))
            })?;
            Ok((h, pod))
        }
    }
}

/// Binds a log request to the model.
pub fn bind_pod(fleet: &Fleet, source: &PodSource) -> Result<BoundPod, ResolveError> {
    let (hub, pod) = find_pod(fleet, source)?;
    Ok(BoundPod {
        cluster: hub.id.cluster.clone(),
        namespace: pod.key.namespace.to_string(),
        pod: pod.key.name.to_string(),
    })
}

/// `leap/prod/ada` or `leap/prod/ada/gpu`, for messages.
pub(super) fn server_name(hub: &HubState, s: &ServerRef) -> String {
    if s.server.is_empty() {
        format!("{}/{}", hub.id, s.user)
    } else {
        format!("{}/{}/{}", hub.id, s.user, s.server)
    }
}

/// The component's name as the chart labels it.
pub fn component_name(c: Component) -> &'static str {
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
