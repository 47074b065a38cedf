//! Turning what a person (or a runbook) asked for into an `Action` over the current model, and
//! running it through the action layer with `--yes` / `--dry-run`.

use std::io::Write;
use std::time::Duration;

use jiff::Timestamp;

use super::output::Format;
use crate::action::{Action, Matcher, Mode, Outcome, ServerTarget, Via};
use crate::fleet::{
    ClusterId, Component, Fleet, HubRef, HubState, PodPhase, ServerId, WorkloadKind,
};

/// A mutation as asked for, before it is bound to the objects of the model.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Restart the hub (or the proxy).
    Restart {
        /// Which hub.
        hub: HubRef,
        /// The proxy rather than the hub.
        proxy: bool,
    },
    /// Scale the hub (or its placeholders).
    Scale {
        /// Which hub.
        hub: HubRef,
        /// The placeholders rather than the hub.
        placeholders: bool,
        /// New replicas.
        replicas: u32,
    },
    /// Stop one server.
    StopServer {
        /// Which hub.
        hub: HubRef,
        /// User.
        user: String,
        /// Server name ("" = default).
        server: String,
    },
    /// Stop every server idle longer than a duration.
    StopIdle {
        /// Which hub.
        hub: HubRef,
        /// Idle threshold.
        idle_for: Duration,
    },
    /// Silence an alert.
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
}

/// Parses "8h", "90m", "2h30m", "45s".
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d: jiff::SignedDuration = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (examples: 30m, 2h, 1h30m)"))?;
    Duration::try_from(d).map_err(|_| format!("{s:?}: a duration must be positive"))
}

/// Finds the one hub a reference names.
pub fn find_hub<'a>(fleet: &'a Fleet, r: &HubRef) -> Result<&'a HubState, String> {
    let matches: Vec<&HubState> = fleet.hubs().filter(|h| r.matches(&h.id)).collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => {
            let known: Vec<String> = fleet
                .hubs()
                .filter(|h| h.id.cluster.as_str() == r.cluster)
                .map(|h| h.id.key.name())
                .collect();
            if fleet.cluster(&r.cluster).is_none() {
                Err(format!("hub {r}: no cluster {:?}", r.cluster))
            } else {
                Err(format!(
                    "hub {r} not found; hubs on {}: {}",
                    r.cluster,
                    known.join(", ")
                ))
            }
        }
        many => Err(format!(
            "hub {r} is ambiguous: {}",
            many.iter()
                .map(|h| h.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn workload_name(
    hub: &HubState,
    component: Component,
    what: &str,
) -> Result<(String, u32), String> {
    hub.workload(component)
        .map(|w| (w.key.name.to_string(), w.desired))
        .ok_or_else(|| format!("hub {} has no {what}", hub.id))
}

fn server_target(hub: &HubState, pod: &crate::fleet::PodInfo) -> Option<ServerTarget> {
    let owner = pod.owner.as_ref()?;
    Some(ServerTarget {
        id: ServerId {
            hub: hub.id.clone(),
            user: owner.user.clone(),
            server: owner.server.clone(),
        },
        namespace: pod.key.namespace.to_string(),
        pod: pod.key.name.to_string(),
    })
}

/// Servers of a hub idle longer than `idle_for`: by the hub's last activity when it reported
/// one, else by start time.
pub fn idle_servers(hub: &HubState, idle_for: Duration, now: Timestamp) -> Vec<ServerTarget> {
    let limit = jiff::SignedDuration::try_from(idle_for).unwrap_or(jiff::SignedDuration::MAX);
    let mut out: Vec<ServerTarget> = hub
        .servers()
        .filter(|p| p.phase != PodPhase::Terminating)
        .filter(|p| {
            let last = hub
                .activity_of(p)
                .and_then(|a| a.last_activity)
                .or(p.started)
                .or(p.created);
            last.is_some_and(|t| now.duration_since(t) > limit)
        })
        .filter_map(|p| server_target(hub, p))
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Binds a request to the model: the Action with the object names and expected state.
pub fn resolve(fleet: &Fleet, req: &Request, now: Timestamp) -> Result<Action, String> {
    match req {
        Request::Restart { hub, proxy } => {
            let h = find_hub(fleet, hub)?;
            if *proxy {
                let (deployment, _) = workload_name(h, Component::Proxy, "proxy Deployment")?;
                Ok(Action::RestartProxy {
                    hub: h.id.clone(),
                    deployment,
                })
            } else {
                let (deployment, _) = workload_name(h, Component::Hub, "hub Deployment")?;
                Ok(Action::RestartHub {
                    hub: h.id.clone(),
                    deployment,
                })
            }
        }
        Request::Scale {
            hub,
            placeholders,
            replicas,
        } => {
            let h = find_hub(fleet, hub)?;
            if *placeholders {
                let w = h
                    .workloads
                    .iter()
                    .find(|w| {
                        w.component == Component::UserPlaceholder
                            && w.kind == WorkloadKind::StatefulSet
                    })
                    .ok_or_else(|| format!("hub {} has no user-placeholder StatefulSet", h.id))?;
                Ok(Action::ScalePlaceholders {
                    hub: h.id.clone(),
                    stateful_set: w.key.name.to_string(),
                    replicas: *replicas,
                    expected: Some(w.desired),
                })
            } else {
                if *replicas > 1 {
                    return Err(format!(
                        "the hub runs 0 (maintenance) or 1 replica, not {replicas}"
                    ));
                }
                let (deployment, desired) = workload_name(h, Component::Hub, "hub Deployment")?;
                Ok(Action::ScaleHub {
                    hub: h.id.clone(),
                    deployment,
                    replicas: *replicas,
                    expected: Some(desired),
                })
            }
        }
        Request::StopServer { hub, user, server } => {
            let h = find_hub(fleet, hub)?;
            let pod = h
                .servers()
                .find(|p| {
                    p.owner
                        .as_ref()
                        .is_some_and(|o| &*o.user == user && &*o.server == server)
                })
                .ok_or_else(|| {
                    let name = if server.is_empty() {
                        user.clone()
                    } else {
                        format!("{user}/{server}")
                    };
                    format!("hub {} has no running server {name}", h.id)
                })?;
            let target = server_target(h, pod).ok_or_else(|| "server without owner".to_string())?;
            Ok(Action::StopServers {
                servers: vec![target],
            })
        }
        Request::StopIdle { hub, idle_for } => {
            let h = find_hub(fleet, hub)?;
            let servers = idle_servers(h, *idle_for, now);
            if servers.is_empty() {
                return Err(format!(
                    "no server of {} has been idle for {}",
                    h.id,
                    crate::action::humanize(*idle_for)
                ));
            }
            Ok(Action::StopServers { servers })
        }
        Request::Silence {
            cluster,
            alert,
            duration,
            comment,
        } => {
            let (c, a) = fleet
                .alerts()
                .find(|(c, a)| {
                    c.id.as_str() == cluster && (&*a.name == alert || &*a.fingerprint == alert)
                })
                .ok_or_else(|| format!("no firing alert {alert:?} on cluster {cluster}"))?;
            if a.origin == crate::fleet::AlertOrigin::Derived {
                return Err(format!(
                    "{alert} is derived by hubdeck, not an Alertmanager alert: fix its cause instead"
                ));
            }
            Ok(Action::SilenceAlert {
                cluster: ClusterId::new(c.id.as_str()),
                alert: a.name.to_string(),
                matchers: a
                    .labels
                    .iter()
                    .map(|(name, value)| Matcher {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect(),
                duration: *duration,
                comment: comment.clone(),
            })
        }
    }
}

/// Whether the model already shows the action's effect (used to wait after running it).
pub fn effect_visible(fleet: &Fleet, action: &Action, since: Timestamp) -> bool {
    let hub_of = |id| fleet.hub(id);
    match action {
        Action::RestartHub { hub, deployment } | Action::RestartProxy { hub, deployment } => {
            hub_of(hub)
                .and_then(|h| h.workloads.iter().find(|w| &*w.key.name == deployment))
                .is_some_and(|w| {
                    w.restarted_at
                        .as_deref()
                        .and_then(|t| t.parse::<Timestamp>().ok())
                        .is_some_and(|t| t >= since - jiff::SignedDuration::from_secs(1))
                })
        }
        Action::ScaleHub {
            hub,
            deployment,
            replicas,
            ..
        } => hub_of(hub)
            .and_then(|h| h.workloads.iter().find(|w| &*w.key.name == deployment))
            .is_some_and(|w| w.desired == *replicas),
        Action::ScalePlaceholders {
            hub,
            stateful_set,
            replicas,
            ..
        } => hub_of(hub)
            .and_then(|h| h.workloads.iter().find(|w| &*w.key.name == stateful_set))
            .is_some_and(|w| w.desired == *replicas),
        Action::StopServers { servers } => servers.iter().all(|s| {
            hub_of(&s.id.hub)
                .and_then(|h| h.pods.get(s.pod.as_str()))
                .is_none_or(|p| p.phase == PodPhase::Terminating)
        }),
        Action::EditHubConfig { .. }
        | Action::SilenceAlert { .. }
        | Action::ExpireSilence { .. } => true,
    }
}

/// Mode from the confirmation flags.
pub fn mode(yes: bool, dry_run: bool) -> Mode {
    if dry_run {
        Mode::DryRun
    } else if yes {
        Mode::Run
    } else {
        Mode::Unconfirmed
    }
}

/// Prints the plan and the outcome; returns the exit code.
pub fn report(
    out: &mut impl Write,
    err: &mut impl Write,
    format: Format,
    outcome: &Outcome,
) -> std::io::Result<i32> {
    let code = match &outcome.result {
        Ok(_) => super::exit::OK,
        Err(e) => e.exit_code(),
    };
    match format {
        Format::Json | Format::Yaml => {
            let (status, messages) = match &outcome.result {
                Ok(m) => ("ok".to_string(), m.clone()),
                Err(e) => (e.kind().to_string(), vec![e.to_string()]),
            };
            let doc = serde_json::json!({
                "apiVersion": "hubdeck/v1",
                "kind": "ActionResult",
                "plan": outcome.plan,
                "outcome": status,
                "messages": messages,
            });
            if format == Format::Json {
                serde_json::to_writer_pretty(&mut *out, &doc)?;
                writeln!(out)?;
            } else {
                out.write_all(
                    serde_yaml_ng::to_string(&doc)
                        .map_err(std::io::Error::other)?
                        .as_bytes(),
                )?;
            }
        }
        Format::Table => {
            let p = &outcome.plan;
            writeln!(out, "plan: {} (cluster {})", p.summary, p.cluster)?;
            for (i, step) in p.steps.iter().enumerate() {
                let via = match &step.via {
                    Via::Kubernetes { call } => call.describe(),
                    Via::HubApi { request } => format!("hub API {request}"),
                    Via::Alertmanager { request } => format!("Alertmanager {request}"),
                };
                writeln!(out, "  {}. {} [{via}]", i + 1, step.what)?;
            }
            for w in &p.warnings {
                writeln!(out, "  warning: {w}")?;
            }
            match &outcome.result {
                Ok(msgs) => {
                    for m in msgs {
                        writeln!(out, "{m}")?;
                    }
                }
                Err(e) => writeln!(err, "hubdeck: {e}")?,
            }
        }
    }
    Ok(code)
}

/// An error building the action: one line, exit code 5 (failed precondition).
pub fn unresolved(err: &mut impl Write, message: &str) -> i32 {
    let _ = writeln!(err, "hubdeck: {message}");
    super::exit::CONFLICT
}
