//! From what a person selected to an [`Action`] value. The console only gathers the request
//! (a selection, and what a prompt asks for); the core's `resolve` binds it to the model, the
//! same function the CLI and runbooks call, so a key and a command give the same action.

use jiff::Timestamp;

use crate::action::{Action, PodSource, Request, ResolveError, ServerRef, resolve};
use crate::config::keymap::Command;
use crate::fleet::{
    AlertOrigin, ClusterId, Component, Fleet, HubId, HubRef, ServerId, WorkloadKind,
};

use super::super::app::Target;

/// What scaling changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleWhat {
    /// The hub Deployment: 0 (maintenance) or 1.
    Hub,
    /// The user-placeholder StatefulSet: any number.
    Placeholders,
}

/// What a mutation command needs next.
#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    /// Nothing more: plan and confirm it.
    Ready(Action),
    /// A replica count, pre-filled with the current one.
    Replicas {
        /// Which hub.
        hub: HubId,
        /// Hub or placeholders.
        what: ScaleWhat,
        /// Replicas the model shows now.
        current: Option<u32>,
    },
    /// A duration and a comment for the silence.
    Silence {
        /// Cluster of the Alertmanager.
        cluster: ClusterId,
        /// Alert name, for the prompt's title.
        alert: String,
        /// The alert's fingerprint: what the request names.
        fingerprint: String,
    },
    /// The hub's values.yaml must be read first.
    ReadConfig(HubId),
    /// A shell in one of a node's pods, once the person picks which.
    PickPod(Box<super::pick::PodPicker>),
    /// An action on several marked hubs: a rollout in waves, after a prompt.
    Rollout {
        /// The marked hubs.
        hubs: Vec<HubId>,
        /// What they get.
        kind: super::rollout::RolloutKind,
    },
}

/// Why a command cannot go on, and whether that is an error or just nothing to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotNow {
    /// One line for the status bar.
    pub message: String,
    /// Shown as an error (else as a notice).
    pub error: bool,
}

impl NotNow {
    fn error(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            error: true,
        }
    }
}

impl From<ResolveError> for NotNow {
    fn from(e: ResolveError) -> Self {
        Self {
            error: !matches!(e, ResolveError::NothingToDo(_)),
            message: e.to_string(),
        }
    }
}

/// Binds a request the console gathered to the model.
pub fn bind(fleet: &Fleet, request: &Request, now: Timestamp) -> Result<Action, NotNow> {
    resolve(fleet, request, now).map_err(NotNow::from)
}

/// Works out what `command` on `target` needs next, or why it cannot be.
pub fn begin(
    command: Command,
    target: &Target,
    fleet: &Fleet,
    now: Timestamp,
) -> Result<Begin, NotNow> {
    let hub_of = |t: &Target| -> Result<HubId, NotNow> {
        let id = t
            .hub()
            .cloned()
            .ok_or_else(|| NotNow::error(format!("{}: select a hub", command.name())))?;
        if fleet.hub(&id).is_none() {
            return Err(NotNow::error(format!(
                "hub {id} is not in the fleet any more"
            )));
        }
        Ok(id)
    };
    if let Target::Hubs(hubs) = target {
        use super::rollout::RolloutKind;
        let kind = match command {
            Command::RestartHub => RolloutKind::Restart { proxy: false },
            Command::RestartProxy => RolloutKind::Restart { proxy: true },
            Command::ScaleHub => RolloutKind::Scale {
                placeholders: false,
            },
            Command::ScalePlaceholders => RolloutKind::Scale { placeholders: true },
            Command::EditConfig => RolloutKind::Patch,
            other => {
                return Err(NotNow::error(format!(
                    "{} does not apply to marked hubs",
                    other.name()
                )));
            }
        };
        return Ok(Begin::Rollout {
            hubs: hubs.clone(),
            kind,
        });
    }
    match command {
        Command::RestartHub | Command::RestartProxy => {
            let request = Request::Restart {
                hub: HubRef::from(&hub_of(target)?),
                proxy: command == Command::RestartProxy,
            };
            bind(fleet, &request, now).map(Begin::Ready)
        }
        Command::ScaleHub | Command::ScalePlaceholders => {
            let id = hub_of(target)?;
            let (what, component, kind) = if command == Command::ScaleHub {
                (ScaleWhat::Hub, Component::Hub, WorkloadKind::Deployment)
            } else {
                (
                    ScaleWhat::Placeholders,
                    Component::UserPlaceholder,
                    WorkloadKind::StatefulSet,
                )
            };
            let current = fleet
                .hub(&id)
                .and_then(|h| {
                    h.workloads
                        .iter()
                        .find(|w| w.component == component && w.kind == kind)
                })
                .map(|w| w.desired);
            if current.is_none() {
                // The resolver says what is missing, as it would for the CLI.
                let request = scale_request(&id, what, 0);
                bind(fleet, &request, now)?;
            }
            Ok(Begin::Replicas {
                hub: id,
                what,
                current,
            })
        }
        Command::EditConfig => hub_of(target).map(Begin::ReadConfig),
        Command::StopServer => {
            let servers: Vec<ServerRef> = match target {
                // The resolver binds each server to the pod the model shows now, so a server
                // restarted since it was marked is stopped, not its old pod.
                Target::Server { server, .. } => vec![server_ref(server)],
                Target::Servers(list) => list.iter().map(|(s, _)| server_ref(s)).collect(),
                Target::IdleServers { hub, idle_for } => {
                    let request = Request::StopIdle {
                        hub: HubRef::from(hub),
                        idle_for: *idle_for,
                    };
                    return bind(fleet, &request, now).map(Begin::Ready);
                }
                _ => return Err(NotNow::error("stop-server: select a user server")),
            };
            bind(fleet, &Request::StopServers { servers }, now).map(Begin::Ready)
        }
        Command::StopDask => match target {
            Target::Server { server, .. } => {
                let request = Request::StopDask {
                    hub: HubRef::from(&server.hub),
                    user: server.user.to_string(),
                };
                bind(fleet, &request, now).map(Begin::Ready)
            }
            _ => Err(NotNow::error("stop-dask: select a user server")),
        },
        Command::SilenceAlert => silence(target, fleet),
        Command::Shell => {
            let pod = match target {
                Target::Server { server, .. } => PodSource::Server(server_ref(server)),
                Target::Hub(hub) => PodSource::Component(HubRef::from(hub), Component::Hub),
                Target::Node { cluster, node } => {
                    let pods = super::pick::pods_on(fleet, cluster, node);
                    if pods.is_empty() {
                        return Err(NotNow::error(format!(
                            "shell: no user server or hub pod of the fleet runs on node {node}"
                        )));
                    }
                    let picker = super::pick::PodPicker::new(cluster.clone(), node.clone(), pods);
                    return Ok(Begin::PickPod(Box::new(picker)));
                }
                _ => {
                    return Err(NotNow::error(
                        "shell: select a user server, a hub or a node",
                    ));
                }
            };
            let request = Request::Exec {
                pod,
                container: None,
                command: Vec::new(),
            };
            bind(fleet, &request, now).map(Begin::Ready)
        }
        other => Err(NotNow::error(format!(
            "{} is not a cluster action",
            other.name()
        ))),
    }
}

fn server_ref(server: &ServerId) -> ServerRef {
    ServerRef {
        hub: HubRef::from(&server.hub),
        user: server.user.to_string(),
        server: server.server.to_string(),
    }
}

fn scale_request(hub: &HubId, what: ScaleWhat, replicas: u32) -> Request {
    Request::Scale {
        hub: HubRef::from(hub),
        placeholders: what == ScaleWhat::Placeholders,
        replicas,
    }
}

fn silence(target: &Target, fleet: &Fleet) -> Result<Begin, NotNow> {
    let Target::Alert {
        cluster,
        fingerprint,
        name,
        ..
    } = target
    else {
        return Err(NotNow::error("silence-alert: select an alert"));
    };
    let alert = fleet
        .cluster(cluster.as_str())
        .and_then(|c| {
            c.alerts
                .iter()
                .chain(c.derived.iter())
                .find(|a| a.fingerprint == *fingerprint)
        })
        .ok_or_else(|| NotNow::error(format!("alert {name} on {cluster} has resolved")))?;
    if alert.origin == AlertOrigin::Derived {
        return Err(NotNow::error(format!(
            "{name} is derived by hubdeck from the cluster state, not an Alertmanager alert: \
             there is nothing to silence"
        )));
    }
    Ok(Begin::Silence {
        cluster: cluster.clone(),
        alert: name.to_string(),
        fingerprint: fingerprint.to_string(),
    })
}

/// The action a filled prompt asks for, or what is wrong with the values.
pub fn from_prompt(
    begin: &Begin,
    values: &[String],
    fleet: &Fleet,
    now: Timestamp,
) -> Result<Action, NotNow> {
    let value = |i: usize| values.get(i).map(String::as_str).unwrap_or_default();
    match begin {
        Begin::Replicas { hub, what, .. } => {
            let n: u32 = value(0).trim().parse().map_err(|_| {
                NotNow::error(format!(
                    "{:?} is not a replica count",
                    hubdeck_core::text::clip(value(0), 20)
                ))
            })?;
            bind(fleet, &scale_request(hub, *what, n), now)
        }
        Begin::Silence {
            cluster,
            fingerprint,
            ..
        } => {
            let duration = hubdeck_core::duration::parse(value(0))
                .map_err(|e| NotNow::error(e.to_string()))?;
            let request = Request::Silence {
                cluster: cluster.to_string(),
                alert: fingerprint.clone(),
                duration,
                comment: value(1).to_string(),
            };
            bind(fleet, &request, now)
        }
        Begin::Ready(a) => Ok(a.clone()),
        Begin::ReadConfig(hub) => Err(NotNow::error(format!("edit-config {hub} needs the editor"))),
        Begin::Rollout { .. } => Err(NotNow::error("a rollout is planned, not one action")),
        Begin::PickPod(_) => Err(NotNow::error("shell: pick one of the node's pods first")),
    }
}
