//! Expanding an action into its plan: pure, so the TUI dialog, `--dry-run` and the runner show
//! and do the same steps.

use super::model::{Action, ApiCall, Confirm, Plan, Step, Via};
use crate::duration::humanize;

fn k8s(what: String, call: ApiCall) -> Step {
    Step {
        what,
        via: Via::Kubernetes { call },
    }
}

fn call(
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    subresource: Option<&'static str>,
    namespace: &str,
    name: &str,
) -> ApiCall {
    ApiCall {
        verb,
        group,
        resource,
        subresource,
        namespace: namespace.to_string(),
        name: name.to_string(),
    }
}

/// Percent-escapes a user or server name for a hub API path.
pub fn escape_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The hub API path that stops a server (default or named); never with `remove`.
pub fn stop_path(user: &str, server: &str) -> String {
    if server.is_empty() {
        format!("/hub/api/users/{}/server", escape_path(user))
    } else {
        format!(
            "/hub/api/users/{}/servers/{}",
            escape_path(user),
            escape_path(server)
        )
    }
}

impl Action {
    /// The cluster the action changes.
    pub fn cluster(&self) -> crate::fleet::ClusterId {
        match self {
            Action::RestartHub { hub, .. }
            | Action::RestartProxy { hub, .. }
            | Action::ScaleHub { hub, .. }
            | Action::ScalePlaceholders { hub, .. }
            | Action::EditHubConfig { hub, .. }
            | Action::StopDaskClusters { hub, .. }
            | Action::Exec { hub, .. } => hub.cluster.clone(),
            Action::StopServers { servers } => servers
                .first()
                .map(|s| s.id.hub.cluster.clone())
                .unwrap_or_else(|| crate::fleet::ClusterId::new("")),
            Action::SilenceAlert { cluster, .. } | Action::ExpireSilence { cluster, .. } => {
                cluster.clone()
            }
        }
    }

    /// Short name for the audit log (`restart-hub`).
    pub fn name(&self) -> &'static str {
        match self {
            Action::RestartHub { .. } => "restart-hub",
            Action::RestartProxy { .. } => "restart-proxy",
            Action::ScaleHub { .. } => "scale-hub",
            Action::ScalePlaceholders { .. } => "scale-placeholders",
            Action::StopServers { .. } => "stop-servers",
            Action::StopDaskClusters { .. } => "stop-dask-clusters",
            Action::EditHubConfig { .. } => "edit-config",
            Action::SilenceAlert { .. } => "silence-alert",
            Action::ExpireSilence { .. } => "expire-silence",
            Action::Exec { .. } => "exec",
        }
    }

    /// What it targets, for the audit log and messages.
    pub fn target(&self) -> String {
        match self {
            Action::RestartHub { hub, .. }
            | Action::RestartProxy { hub, .. }
            | Action::ScaleHub { hub, .. }
            | Action::ScalePlaceholders { hub, .. }
            | Action::EditHubConfig { hub, .. } => hub.to_string(),
            Action::StopServers { servers } => match servers.as_slice() {
                [one] => one.id.to_string(),
                many => format!("{} servers", many.len()),
            },
            Action::StopDaskClusters { hub, user, .. } => format!("{hub}/{user}"),
            Action::SilenceAlert { cluster, alert, .. } => format!("{cluster}/{alert}"),
            Action::ExpireSilence { cluster, id } => format!("{cluster}/silence {id}"),
            Action::Exec {
                server: Some(s), ..
            } => s.to_string(),
            Action::Exec {
                hub,
                component,
                pod,
                ..
            } => format!("{hub}/{}/{pod}", super::component_name(*component)),
        }
    }

    /// Exactly what will be done. `hub_api` says whether the hub's REST API can stop servers
    /// (else their pods are deleted).
    pub fn plan(&self, hub_api: bool) -> Plan {
        let mut warnings = Vec::new();
        let (summary, steps, confirm) = match self {
            Action::RestartHub { hub, deployment } => (
                format!("restart hub {hub}"),
                vec![k8s(
                    format!("rollout restart Deployment {deployment} (set restartedAt annotation)"),
                    call(
                        "patch",
                        "apps",
                        "deployments",
                        None,
                        &hub.key.namespace,
                        deployment,
                    ),
                )],
                Confirm::Simple,
            ),
            Action::RestartProxy { hub, deployment } => {
                warnings.push("restarting the proxy drops every open user connection".into());
                (
                    format!("restart proxy of {hub}"),
                    vec![k8s(
                        format!("rollout restart Deployment {deployment}"),
                        call(
                            "patch",
                            "apps",
                            "deployments",
                            None,
                            &hub.key.namespace,
                            deployment,
                        ),
                    )],
                    Confirm::Explicit,
                )
            }
            Action::ScaleHub {
                hub,
                deployment,
                replicas,
                ..
            } => {
                if *replicas == 0 {
                    warnings.push("scaling the hub to 0 stops logins and server starts".into());
                }
                (
                    format!("scale hub {hub} to {replicas}"),
                    vec![k8s(
                        format!("set replicas of Deployment {deployment} to {replicas}"),
                        call(
                            "patch",
                            "apps",
                            "deployments",
                            Some("scale"),
                            &hub.key.namespace,
                            deployment,
                        ),
                    )],
                    if *replicas == 0 {
                        Confirm::Explicit
                    } else {
                        Confirm::Simple
                    },
                )
            }
            Action::ScalePlaceholders {
                hub,
                stateful_set,
                replicas,
                ..
            } => (
                format!("scale placeholders of {hub} to {replicas}"),
                vec![k8s(
                    format!("set replicas of StatefulSet {stateful_set} to {replicas}"),
                    call(
                        "patch",
                        "apps",
                        "statefulsets",
                        Some("scale"),
                        &hub.key.namespace,
                        stateful_set,
                    ),
                )],
                Confirm::Simple,
            ),
            Action::StopServers { servers } => {
                let steps = servers
                    .iter()
                    .map(|s| {
                        if hub_api {
                            Step {
                                what: format!("stop server {}", s.id),
                                via: Via::HubApi {
                                    request: format!(
                                        "DELETE {}",
                                        stop_path(&s.id.user, &s.id.server)
                                    ),
                                },
                            }
                        } else {
                            k8s(
                                format!("stop server {} by deleting its pod (graceful)", s.id),
                                call("delete", "", "pods", None, &s.namespace, &s.pod),
                            )
                        }
                    })
                    .collect();
                if hub_api {
                    warnings
                        .push("through the hub API: if it refuses, nothing else is tried".into());
                } else if servers.iter().any(|s| !s.hub_running) {
                    warnings.push(
                        "the hub is not running, so its API cannot stop servers: pods are \
                         deleted, the hub notices when it is back"
                            .into(),
                    );
                } else {
                    warnings.push(
                        "no hub API token: pods are deleted, the hub notices on its next poll"
                            .into(),
                    );
                }
                (
                    format!("stop {}", self.target()),
                    steps,
                    if servers.len() > 1 {
                        Confirm::Explicit
                    } else {
                        Confirm::Simple
                    },
                )
            }
            Action::StopDaskClusters {
                hub,
                user,
                clusters,
            } => {
                let (summary, steps, confirm, w) = super::dask::plan_stop_dask(hub, user, clusters);
                warnings.extend(w);
                (summary, steps, confirm)
            }
            Action::EditHubConfig {
                hub,
                secret,
                resource_version,
                secrets_changed,
                rewritten,
                ..
            } => {
                if *rewritten {
                    warnings.push(
                        "values.yaml is written back with keys sorted, as helm writes it: its \
                         comments and layout are not kept (the diff compares the values)"
                            .into(),
                    );
                }
                for path in secrets_changed {
                    warnings.push(format!(
                        "secret {path} changed (set anew, added or removed; its value is not shown)"
                    ));
                }
                warnings.push(
                    "the hub reads values.yaml at start: restart the hub to apply; the next helm \
                     upgrade overwrites this edit unless the diff is committed"
                        .into(),
                );
                (
                    format!("edit config of {hub}"),
                    vec![k8s(
                        format!(
                            "replace values.yaml of Secret {secret} if still at resourceVersion {resource_version}"
                        ),
                        call("patch", "", "secrets", None, &hub.key.namespace, secret),
                    )],
                    Confirm::Simple,
                )
            }
            Action::SilenceAlert {
                cluster,
                alert,
                matchers,
                duration,
                ..
            } => (
                format!("silence {alert} on {cluster} for {}", humanize(*duration)),
                vec![Step {
                    what: format!(
                        "create silence matching {}",
                        matchers
                            .iter()
                            .map(|m| format!("{}={:?}", m.name, m.value))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    via: Via::Alertmanager {
                        request: "POST /api/v2/silences".into(),
                    },
                }],
                Confirm::Simple,
            ),
            Action::ExpireSilence { cluster, id } => (
                format!("expire silence {id} on {cluster}"),
                vec![Step {
                    what: format!("end silence {id} now"),
                    via: Via::Alertmanager {
                        request: format!("DELETE /api/v2/silence/{id}"),
                    },
                }],
                Confirm::Simple,
            ),
            Action::Exec {
                hub,
                server,
                component,
                namespace,
                pod,
                container,
                command,
            } => {
                let subject = super::exec::exec_subject(hub, server.as_ref(), *component);
                let container = container.as_deref().map_or_else(
                    || "its default container".to_string(),
                    |c| format!("container {c}"),
                );
                let (summary, what) = if command.is_empty() {
                    (
                        format!("shell in {subject}"),
                        format!(
                            "open a shell ({}, else {}) in pod {namespace}/{pod}, {container}",
                            super::SHELLS[0],
                            super::SHELLS[1]
                        ),
                    )
                } else {
                    let cmd = super::quote_command(command);
                    (
                        format!("run `{cmd}` in {subject}"),
                        format!("run `{cmd}` in pod {namespace}/{pod}, {container}"),
                    )
                };
                warnings.push(
                    "the audit log records when the session opens and closes, never what is typed"
                        .into(),
                );
                (
                    summary,
                    vec![k8s(
                        what,
                        call("create", "", "pods", Some("exec"), namespace, pod),
                    )],
                    Confirm::Simple,
                )
            }
        };
        Plan {
            summary,
            cluster: self.cluster(),
            steps,
            confirm,
            warnings,
        }
    }
}
