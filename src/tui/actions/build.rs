//! From what a person selected to an [`Action`] value. Object names come from the fleet model
//! (workloads discovered by labels), never from a guess; replicas the model shows become the
//! action's precondition.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::action::{Action, Matcher, ServerTarget};
use crate::config::keymap::Command;
use crate::fleet::{
    AlertOrigin, ClusterId, Component, Fleet, HubId, HubState, ObjectKey, ServerId, Workload,
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
        /// Deployment or StatefulSet name, as discovered.
        name: String,
        /// Replicas the model shows now.
        current: Option<u32>,
    },
    /// A duration and a comment for the silence.
    Silence {
        /// Cluster of the Alertmanager.
        cluster: ClusterId,
        /// Alert name.
        alert: String,
        /// Matchers from the alert's labels.
        matchers: Vec<Matcher>,
    },
    /// The hub's values.yaml must be read first.
    ReadConfig(HubId),
}

/// Works out the action for `command` on `target` from the fleet model, or why it cannot be.
pub fn begin(command: Command, target: &Target, fleet: &Fleet) -> Result<Begin, String> {
    let hub_of = |t: &Target| -> Result<(&HubState, HubId), String> {
        let id = t
            .hub()
            .cloned()
            .ok_or_else(|| format!("{}: select a hub", command.name()))?;
        let hub = fleet
            .hub(&id)
            .ok_or_else(|| format!("hub {id} is not in the fleet any more"))?;
        Ok((hub, id))
    };
    fn workload<'h>(
        hub: &'h HubState,
        c: Component,
        what: &str,
        command: Command,
    ) -> Result<&'h Workload, String> {
        hub.workload(c).ok_or_else(|| {
            format!(
                "{}: no {what} found by labels for hub {}",
                command.name(),
                hub.id
            )
        })
    }
    match command {
        Command::RestartHub | Command::RestartProxy => {
            let (hub, id) = hub_of(target)?;
            Ok(Begin::Ready(if command == Command::RestartHub {
                Action::RestartHub {
                    deployment: workload(hub, Component::Hub, "hub Deployment", command)?
                        .key
                        .name
                        .to_string(),
                    hub: id,
                }
            } else {
                Action::RestartProxy {
                    deployment: workload(hub, Component::Proxy, "proxy Deployment", command)?
                        .key
                        .name
                        .to_string(),
                    hub: id,
                }
            }))
        }
        Command::ScaleHub | Command::ScalePlaceholders => {
            let (hub, id) = hub_of(target)?;
            let (what, w) = if command == Command::ScaleHub {
                (
                    ScaleWhat::Hub,
                    workload(hub, Component::Hub, "hub Deployment", command)?,
                )
            } else {
                (
                    ScaleWhat::Placeholders,
                    workload(
                        hub,
                        Component::UserPlaceholder,
                        "user-placeholder StatefulSet",
                        command,
                    )?,
                )
            };
            Ok(Begin::Replicas {
                hub: id,
                what,
                name: w.key.name.to_string(),
                current: Some(w.desired),
            })
        }
        Command::EditConfig => hub_of(target).map(|(_, id)| Begin::ReadConfig(id)),
        Command::StopServer => {
            let servers: Vec<ServerTarget> = match target {
                Target::Server { server, pod } => vec![server_target(server, pod)],
                Target::Servers(list) => list.iter().map(|(s, p)| server_target(s, p)).collect(),
                _ => return Err("stop-server: select a user server".into()),
            };
            stop(servers).map(Begin::Ready)
        }
        Command::SilenceAlert => silence(target, fleet),
        other => Err(format!("{} is not a cluster action", other.name())),
    }
}

fn server_target(server: &ServerId, pod: &ObjectKey) -> ServerTarget {
    ServerTarget {
        id: server.clone(),
        namespace: pod.namespace.to_string(),
        pod: pod.name.to_string(),
    }
}

/// One `StopServers` action; all servers must be on one cluster (one action, one cluster).
pub fn stop(servers: Vec<ServerTarget>) -> Result<Action, String> {
    let mut clusters: Vec<&str> = servers.iter().map(|s| s.id.hub.cluster.as_str()).collect();
    clusters.sort_unstable();
    clusters.dedup();
    match clusters.as_slice() {
        [] => Err("stop-server: no server selected".into()),
        [_] => Ok(Action::StopServers { servers }),
        many => Err(format!(
            "stop-server: the marked servers are on {} clusters ({}); mark servers of one cluster",
            many.len(),
            many.join(", ")
        )),
    }
}

/// Servers of `hub` idle for longer than `older_than` at `now`: last activity the hub API
/// reported, else the pod's start time. Oldest first.
pub fn idle_servers(
    hub: &HubState,
    older_than: SignedDuration,
    now: Timestamp,
) -> Vec<ServerTarget> {
    let mut idle: Vec<(Timestamp, ServerTarget)> = hub
        .servers()
        .filter_map(|pod| {
            let owner = pod.owner.as_ref()?;
            let last = hub
                .activity_of(pod)
                .and_then(|a| a.last_activity)
                .or(pod.started)
                .or(pod.created)?;
            (now.duration_since(last) > older_than).then(|| {
                let id = ServerId {
                    hub: hub.id.clone(),
                    user: owner.user.clone(),
                    server: owner.server.clone(),
                };
                (last, server_target(&id, &pod.key))
            })
        })
        .collect();
    idle.sort_by(|a, b| (a.0, &a.1.pod).cmp(&(b.0, &b.1.pod)));
    idle.into_iter().map(|(_, s)| s).collect()
}

fn silence(target: &Target, fleet: &Fleet) -> Result<Begin, String> {
    let Target::Alert {
        cluster,
        fingerprint,
        name,
        ..
    } = target
    else {
        return Err("silence-alert: select an alert".into());
    };
    let alert = fleet
        .cluster(cluster.as_str())
        .and_then(|c| {
            c.alerts
                .iter()
                .chain(c.derived.iter())
                .find(|a| a.fingerprint == *fingerprint)
        })
        .ok_or_else(|| format!("alert {name} on {cluster} has resolved"))?;
    if alert.origin == AlertOrigin::Derived {
        return Err(format!(
            "{name} is derived by hubdeck from the cluster state, not an Alertmanager alert: \
             there is nothing to silence"
        ));
    }
    Ok(Begin::Silence {
        cluster: cluster.clone(),
        alert: name.to_string(),
        matchers: matchers(&alert.labels, name),
    })
}

/// Matchers from an alert's labels: every label but the severity, `alertname` first.
pub fn matchers(labels: &[(String, String)], name: &str) -> Vec<Matcher> {
    let mut out = vec![Matcher {
        name: "alertname".into(),
        value: name.to_string(),
    }];
    out.extend(
        labels
            .iter()
            .filter(|(k, _)| k != "alertname" && k != "severity")
            .map(|(k, v)| Matcher {
                name: k.clone(),
                value: v.clone(),
            }),
    );
    out
}

/// Parses `8h`, `30m`, `1h30m`, `2d` (jiff's friendly format) into a positive duration.
pub fn parse_duration(text: &str) -> Result<SignedDuration, String> {
    let text = text.trim();
    let d: SignedDuration = text
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (try 30m, 2h, 1h30m, 1d)"))?;
    if d.is_positive() {
        Ok(d)
    } else {
        Err(format!("{text:?}: the duration must be positive"))
    }
}

/// The same as a std duration (silences).
pub fn to_std(d: SignedDuration) -> Duration {
    Duration::try_from(d).unwrap_or_default()
}

/// The action a filled prompt asks for, or what is wrong with the values.
pub fn from_prompt(begin: &Begin, values: &[String]) -> Result<Action, String> {
    let value = |i: usize| values.get(i).map(String::as_str).unwrap_or_default();
    match begin {
        Begin::Replicas {
            hub,
            what,
            name,
            current,
        } => {
            let n: u32 = value(0)
                .parse()
                .map_err(|_| format!("{:?} is not a replica count", value(0)))?;
            if *what == ScaleWhat::Hub && n > 1 {
                return Err("the hub runs 0 (maintenance) or 1 replica".into());
            }
            if *current == Some(n) {
                return Err(format!(
                    "{name} already has {n} replica(s): nothing to change"
                ));
            }
            Ok(match what {
                ScaleWhat::Hub => Action::ScaleHub {
                    hub: hub.clone(),
                    deployment: name.clone(),
                    replicas: n,
                    expected: *current,
                },
                ScaleWhat::Placeholders => Action::ScalePlaceholders {
                    hub: hub.clone(),
                    stateful_set: name.clone(),
                    replicas: n,
                    expected: *current,
                },
            })
        }
        Begin::Silence {
            cluster,
            alert,
            matchers,
        } => {
            let duration = parse_duration(value(0))?;
            if value(1).is_empty() {
                return Err("a comment says why the alert is silenced".into());
            }
            Ok(Action::SilenceAlert {
                cluster: cluster.clone(),
                alert: alert.clone(),
                matchers: matchers.clone(),
                duration: to_std(duration),
                comment: value(1).to_string(),
            })
        }
        Begin::Ready(a) => Ok(a.clone()),
        Begin::ReadConfig(hub) => Err(format!("edit-config {hub} needs the editor")),
    }
}
