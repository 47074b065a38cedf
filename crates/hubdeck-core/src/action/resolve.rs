//! The one resolver: a [`Request`] bound to the fleet model becomes an [`Action`] with the
//! object names the watchers discovered (by labels, never guessed) and the state the model
//! shows as its precondition. Pure, so the console, the CLI, runbooks and the palette give the
//! same answer for the same request, and tests pin it once.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::duration::humanize;
use crate::fleet::{
    AlertOrigin, ClusterId, Component, Fleet, HubRef, HubState, PodInfo, PodPhase, ServerId,
    WorkloadKind,
};

use super::error::ResolveError;
use super::model::{Action, Matcher, ServerTarget};
use super::request::{Request, ServerRef};
use super::values;
use crate::secrets;

/// Binds `req` to the model at time `now`.
pub fn resolve(fleet: &Fleet, req: &Request, now: Timestamp) -> Result<Action, ResolveError> {
    match req {
        Request::Restart { hub, proxy } => {
            let h = find_hub(fleet, hub)?;
            if *proxy {
                Ok(Action::RestartProxy {
                    hub: h.id.clone(),
                    deployment: workload(h, Component::Proxy, WorkloadKind::Deployment)?.0,
                })
            } else {
                Ok(Action::RestartHub {
                    hub: h.id.clone(),
                    deployment: workload(h, Component::Hub, WorkloadKind::Deployment)?.0,
                })
            }
        }
        Request::Scale {
            hub,
            placeholders,
            replicas,
        } => scale(fleet, hub, *placeholders, *replicas),
        Request::StopServers { servers } => stop_servers(fleet, servers),
        Request::StopIdle { hub, idle_for } => {
            let h = find_hub(fleet, hub)?;
            let servers = idle_servers(h, *idle_for, now);
            if servers.is_empty() {
                return Err(ResolveError::NothingToDo(format!(
                    "no server of {} has been idle for more than {}",
                    h.id,
                    humanize(*idle_for)
                )));
            }
            Ok(Action::StopServers { servers })
        }
        Request::Silence {
            cluster,
            alert,
            duration,
            comment,
        } => silence(fleet, cluster, alert, *duration, comment),
        Request::ExpireSilence { cluster, id } => {
            let c = find_cluster(fleet, cluster)?;
            Ok(Action::ExpireSilence {
                cluster: c,
                id: id.clone(),
            })
        }
        Request::EditConfig { hub, base, values } => edit_config(fleet, hub, base, values),
        Request::MergeValues { hub, base, patch } => {
            super::merge::merge_values(fleet, hub, base, patch)
        }
        Request::StopDask { hub, user } => super::dask::resolve_stop_dask(fleet, hub, user),
        Request::Exec {
            pod,
            container,
            command,
        } => super::exec::resolve_exec(fleet, pod, container.as_deref(), command),
    }
}

/// An edit of values.yaml as the person made it (credentials as placeholders, or in clear
/// after `--show-secrets`): the placeholders are put back to the credentials `base` holds, the
/// result validated, and the diff made between the redacted texts, so it can be shown, logged
/// and committed without a credential in it; credentials set anew are named, not shown.
fn edit_config(
    fleet: &Fleet,
    hub: &HubRef,
    base: &super::ports::HubConfig,
    edited: &str,
) -> Result<Action, ResolveError> {
    let invalid = |e: &dyn std::fmt::Display| ResolveError::Invalid(e.to_string());
    let h = find_hub(fleet, hub)?;
    values::validate(edited).map_err(|e| invalid(&e))?;
    let restored = secrets::restore(edited, &base.values).map_err(|e| invalid(&e))?;
    values::validate(&restored.text).map_err(|e| invalid(&e))?;
    if restored.text == base.values {
        return Err(ResolveError::NothingToDo(format!(
            "values.yaml of {} is unchanged",
            h.id
        )));
    }
    let before = secrets::redact(&base.values).map_err(|e| invalid(&e))?;
    let after = secrets::redact(&restored.text).map_err(|e| invalid(&e))?;
    Ok(Action::EditHubConfig {
        hub: h.id.clone(),
        secret: base.secret.clone(),
        resource_version: base.resource_version.clone(),
        diff: values::diff(&h.id, &before.text, &after.text),
        secrets_changed: restored.changed,
        rewritten: false,
        values: crate::secrets::Secret::new(restored.text),
    })
}

fn find_cluster(fleet: &Fleet, name: &str) -> Result<ClusterId, ResolveError> {
    fleet
        .cluster(name)
        .map(|c| ClusterId::new(c.id.as_str()))
        .ok_or_else(|| ResolveError::NotFound(format!("no cluster {name:?} in the fleet")))
}

/// The one hub a reference names.
pub fn find_hub<'a>(fleet: &'a Fleet, r: &HubRef) -> Result<&'a HubState, ResolveError> {
    let matches: Vec<&HubState> = fleet.hubs().filter(|h| r.matches(&h.id)).collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] if fleet.cluster(&r.cluster).is_none() => Err(ResolveError::NotFound(format!(
            "hub {r}: no cluster {:?} in the fleet",
            r.cluster
        ))),
        [] => {
            let known: Vec<String> = fleet
                .hubs()
                .filter(|h| h.id.cluster.as_str() == r.cluster)
                .map(|h| h.id.key.name())
                .collect();
            Err(ResolveError::NotFound(format!(
                "hub {r} not found; hubs on {}: {}",
                r.cluster,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )))
        }
        many => Err(ResolveError::Ambiguous(format!(
            "hub {r} is ambiguous: {}",
            many.iter()
                .map(|h| h.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The name and desired replicas of the hub's workload of `component`.
fn workload(
    hub: &HubState,
    component: Component,
    kind: WorkloadKind,
) -> Result<(String, u32), ResolveError> {
    hub.workloads
        .iter()
        .find(|w| w.component == component && w.kind == kind)
        .map(|w| (w.key.name.to_string(), w.desired))
        .ok_or_else(|| {
            let what = match component {
                Component::Hub => "hub Deployment",
                Component::Proxy => "proxy Deployment",
                Component::UserPlaceholder => "user-placeholder StatefulSet",
                _ => "workload",
            };
            ResolveError::NotFound(format!("hub {} has no {what} (found by labels)", hub.id))
        })
}

fn scale(
    fleet: &Fleet,
    hub: &HubRef,
    placeholders: bool,
    replicas: u32,
) -> Result<Action, ResolveError> {
    let h = find_hub(fleet, hub)?;
    let (name, desired) = if placeholders {
        workload(h, Component::UserPlaceholder, WorkloadKind::StatefulSet)?
    } else {
        if replicas > 1 {
            return Err(ResolveError::Invalid(format!(
                "the hub runs 0 (maintenance) or 1 replica, not {replicas}"
            )));
        }
        workload(h, Component::Hub, WorkloadKind::Deployment)?
    };
    if desired == replicas {
        return Err(ResolveError::NothingToDo(format!(
            "{name} of {} already has {replicas} replica(s)",
            h.id
        )));
    }
    let (hub, expected) = (h.id.clone(), Some(desired));
    Ok(if placeholders {
        Action::ScalePlaceholders {
            hub,
            stateful_set: name,
            replicas,
            expected,
        }
    } else {
        Action::ScaleHub {
            hub,
            deployment: name,
            replicas,
            expected,
        }
    })
}

fn server_target(hub: &HubState, pod: &PodInfo) -> Option<ServerTarget> {
    let owner = pod.owner.as_ref()?;
    Some(ServerTarget {
        id: ServerId {
            hub: hub.id.clone(),
            user: owner.user.clone(),
            server: owner.server.clone(),
        },
        namespace: pod.key.namespace.to_string(),
        pod: pod.key.name.to_string(),
        hub_running: hub.summary.hub.is_some_and(|r| r.ready > 0),
    })
}

fn stop_servers(fleet: &Fleet, servers: &[ServerRef]) -> Result<Action, ResolveError> {
    if servers.is_empty() {
        return Err(ResolveError::Invalid("no server selected".into()));
    }
    let mut clusters: Vec<&str> = servers.iter().map(|s| s.hub.cluster.as_str()).collect();
    clusters.sort_unstable();
    clusters.dedup();
    if clusters.len() > 1 {
        return Err(ResolveError::Invalid(format!(
            "the servers are on {} clusters ({}); one action changes one cluster",
            clusters.len(),
            clusters.join(", ")
        )));
    }
    let mut targets = Vec::with_capacity(servers.len());
    let mut gone = Vec::new();
    for s in servers {
        let h = find_hub(fleet, &s.hub)?;
        let pod = h.servers().find(|p| {
            p.phase != PodPhase::Terminating
                && p.owner
                    .as_ref()
                    .is_some_and(|o| *o.user == *s.user && *o.server == *s.server)
        });
        match pod.and_then(|p| server_target(h, p)) {
            Some(t) if !targets.contains(&t) => targets.push(t),
            Some(_) => {}
            None => gone.push(if s.server.is_empty() {
                format!("{}/{}", h.id, s.user)
            } else {
                format!("{}/{}/{}", h.id, s.user, s.server)
            }),
        }
    }
    match gone.as_slice() {
        [] => Ok(Action::StopServers { servers: targets }),
        [one] => Err(ResolveError::NotFound(format!(
            "{one}: no running server (stopped already?)"
        ))),
        many => Err(ResolveError::NotFound(format!(
            "{} of the servers are not running any more: {}",
            many.len(),
            many.join(", ")
        ))),
    }
}

/// Servers of a hub idle for longer than `idle_for` at `now`, most idle first (ties by id):
/// idle since the last activity the hub API reported, else since the pod started (or was
/// created). Servers already terminating are left out: they are stopping anyway.
pub fn idle_servers(hub: &HubState, idle_for: Duration, now: Timestamp) -> Vec<ServerTarget> {
    let limit = SignedDuration::try_from(idle_for).unwrap_or(SignedDuration::MAX);
    let mut idle: Vec<(Timestamp, ServerTarget)> = hub
        .servers()
        .filter(|p| p.phase != PodPhase::Terminating)
        .filter_map(|p| {
            let last = hub
                .activity_of(p)
                .and_then(|a| a.last_activity)
                .or(p.started)
                .or(p.created)?;
            (now.duration_since(last) > limit)
                .then(|| server_target(hub, p).map(|t| (last, t)))
                .flatten()
        })
        .collect();
    idle.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
    idle.into_iter().map(|(_, t)| t).collect()
}

fn silence(
    fleet: &Fleet,
    cluster: &str,
    alert: &str,
    duration: Duration,
    comment: &str,
) -> Result<Action, ResolveError> {
    let c = find_cluster(fleet, cluster)?;
    let found = fleet
        .alerts()
        .filter(|(cs, _)| cs.id.as_str() == cluster)
        .map(|(_, a)| a)
        .find(|a| &*a.fingerprint == alert)
        .or_else(|| {
            fleet
                .alerts()
                .filter(|(cs, _)| cs.id.as_str() == cluster)
                .map(|(_, a)| a)
                .find(|a| &*a.name == alert && a.origin == AlertOrigin::Alertmanager)
        })
        .or_else(|| {
            fleet
                .alerts()
                .filter(|(cs, _)| cs.id.as_str() == cluster)
                .map(|(_, a)| a)
                .find(|a| &*a.name == alert)
        })
        .ok_or_else(|| {
            ResolveError::NotFound(format!(
                "no firing alert {:?} on cluster {cluster} (resolved already?)",
                crate::text::clip(alert, 80)
            ))
        })?;
    if found.origin == AlertOrigin::Derived {
        return Err(ResolveError::Invalid(format!(
            "{} is derived by hubdeck from the cluster state, not an Alertmanager alert: \
             there is nothing to silence; fix its cause",
            found.name
        )));
    }
    if comment.trim().is_empty() {
        return Err(ResolveError::Invalid(
            "a silence needs a comment saying why".into(),
        ));
    }
    Ok(Action::SilenceAlert {
        cluster: c,
        alert: found.name.to_string(),
        matchers: silence_matchers(&found.name, &found.labels),
        duration,
        comment: comment.to_string(),
    })
}

/// The matchers of a silence for an alert: `alertname` first, then every other label of the
/// alert, `severity` included, as Alertmanager's own UI fills them in. Keeping `severity`
/// means a warning silenced overnight still pages when it escalates to critical.
pub fn silence_matchers(name: &str, labels: &[(String, String)]) -> Vec<Matcher> {
    let mut out = vec![Matcher {
        name: "alertname".into(),
        value: name.to_string(),
    }];
    out.extend(
        labels
            .iter()
            .filter(|(k, _)| k != "alertname")
            .map(|(k, v)| Matcher {
                name: k.clone(),
                value: v.clone(),
            }),
    );
    out
}
