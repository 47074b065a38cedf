//! What key handling hands back to the event loop, and the targets of cluster mutations.

use std::fmt;
use std::sync::Arc;

use crate::config::keymap::Command;
use crate::fleet::{ClusterId, HubId, ObjectKey, ServerId};

/// What a handled key asks of the event loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Nothing happened (an unbound key).
    None,
    /// State changed: redraw.
    Redraw,
    /// Leave the console.
    Quit,
    /// A cluster mutation, already checked to apply to its target and refused when read-only.
    ///
    /// This is where the action layer plugs in: the loop turns `command` + `target` into an
    /// `action::Action`, plans it, shows the plan in a confirm dialog, runs it and audits it.
    /// The console itself never changes a cluster and never fakes an effect.
    Mutation {
        /// One of the mutation commands (`Command::is_mutation`).
        command: Command,
        /// What it acts on: a hub for restart/scale/edit, a server, an alert.
        target: Target,
    },
}

/// Something a person selected that actions can target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A cluster.
    Cluster(ClusterId),
    /// A node of a cluster (a shell picks one of its pods).
    Node {
        /// Its cluster.
        cluster: ClusterId,
        /// Its name.
        node: Arc<str>,
    },
    /// A hub.
    Hub(HubId),
    /// A user server and its pod.
    Server {
        /// Which server.
        server: ServerId,
        /// Its pod.
        pod: ObjectKey,
    },
    /// Several user servers (the marked rows), as (server, pod).
    Servers(Vec<(ServerId, ObjectKey)>),
    /// Several hubs (the marked rows): a hub action on them is a rollout in waves.
    Hubs(Vec<HubId>),
    /// The servers of a hub idle for longer than a duration (the palette's `stop-idle 8h`).
    IdleServers {
        /// Their hub.
        hub: HubId,
        /// Idle threshold.
        idle_for: std::time::Duration,
    },
    /// A firing alert.
    Alert {
        /// Its cluster.
        cluster: ClusterId,
        /// Its fingerprint.
        fingerprint: Arc<str>,
        /// Its name.
        name: Arc<str>,
        /// The hub it concerns, if known.
        hub: Option<HubId>,
    },
}

impl Target {
    /// The hub this target belongs to.
    pub fn hub(&self) -> Option<&HubId> {
        match self {
            Target::Cluster(_) | Target::Node { .. } => None,
            Target::Hub(h) => Some(h),
            Target::Server { server, .. } => Some(&server.hub),
            Target::Servers(list) => list.first().map(|(s, _)| &s.hub),
            Target::Hubs(list) => list.first(),
            Target::IdleServers { hub, .. } => Some(hub),
            Target::Alert { hub, .. } => hub.as_ref(),
        }
    }

    /// The target a mutation command applies to, derived from this selection, or why not.
    pub fn for_mutation(&self, command: Command) -> Result<Target, String> {
        let name = command.name();
        match command {
            Command::StopServer => match self {
                Target::Server { .. } => Ok(self.clone()),
                Target::Servers(list) if !list.is_empty() => Ok(self.clone()),
                Target::IdleServers { .. } => Ok(self.clone()),
                _ => Err(format!("{name}: select a user server")),
            },
            Command::StopDask => match self {
                Target::Server { .. } => Ok(self.clone()),
                _ => Err(format!("{name}: select a user server")),
            },
            Command::SilenceAlert => match self {
                Target::Alert { .. } => Ok(self.clone()),
                _ => Err(format!("{name}: select an alert")),
            },
            // A server's own pod, a hub's hub pod, or one of a node's pods.
            Command::Shell => match self {
                Target::Server { .. } | Target::Hub(_) | Target::Node { .. } => Ok(self.clone()),
                _ => Err(format!("{name}: select a user server, a hub or a node")),
            },
            _ => match self {
                Target::Hubs(list) if !list.is_empty() => Ok(self.clone()),
                Target::Hub(_) | Target::Server { .. } => self
                    .hub()
                    .cloned()
                    .map(Target::Hub)
                    .ok_or_else(|| format!("{name}: select a hub")),
                _ => Err(format!("{name}: select a hub")),
            },
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Cluster(c) => write!(f, "cluster {c}"),
            Target::Node { cluster, node } => write!(f, "node {node} of {cluster}"),
            Target::Hub(h) => write!(f, "hub {h}"),
            Target::Server { server, .. } => write!(f, "server {server}"),
            Target::Servers(list) => write!(f, "{} marked servers", list.len()),
            Target::Hubs(list) => write!(f, "{} marked hubs", list.len()),
            Target::IdleServers { hub, idle_for } => write!(
                f,
                "servers of hub {hub} idle for more than {}",
                hubdeck_core::duration::humanize(*idle_for)
            ),
            Target::Alert { cluster, name, .. } => write!(f, "alert {name} on {cluster}"),
        }
    }
}
