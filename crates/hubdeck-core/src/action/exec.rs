//! Exec: a shell (or one command) in a user's server or a hub component's pod, as
//! `kubectl exec` opens it. Not a one-shot change but a session: the runner checks and audits
//! its opening and closing, and the front end carries its bytes. What is typed is never
//! recorded; the command given on the command line is, like the API server's audit log does.

use crate::fleet::{Component, Fleet, PodPhase, ServerId};

use super::error::ResolveError;
use super::model::Action;
use super::pod_ref::{PodSource, component_name, find_pod, server_name};

/// The shells tried in order when no command is given: the container's bash, else its sh
/// (many images, alpine's and distroless-with-busybox ones, have no bash).
pub const SHELLS: [&str; 2] = ["bash", "sh"];

/// Binds an exec request to the model: the pod must be running (a pending or finished pod has
/// no process to join; the API server would refuse with 400).
pub(super) fn resolve_exec(
    fleet: &Fleet,
    source: &PodSource,
    container: Option<&str>,
    command: &[String],
) -> Result<Action, ResolveError> {
    let (hub, pod) = find_pod(fleet, source)?;
    // A pod named outright is a user's server when it has an owner, as one picked from a
    // node's pods may be.
    let owner = match source {
        PodSource::Server(_) | PodSource::Pod(..) => pod.owner.as_ref(),
        PodSource::Component(..) => None,
    };
    let server = owner.map(|o| ServerId {
        hub: hub.id.clone(),
        user: o.user.clone(),
        server: o.server.clone(),
    });
    let what = match (source, &server) {
        (PodSource::Server(s), _) => format!("server {}", server_name(hub, s)),
        (_, Some(s)) => format!("server {s}"),
        (_, None) => format!("{} pod of {}", component_name(pod.component), hub.id),
    };
    if pod.phase != PodPhase::Running {
        return Err(ResolveError::NotFound(format!(
            "{what}: pod {} is {}, not running: there is no process to open a shell in",
            pod.key.name,
            phase_word(pod.phase)
        )));
    }
    if command.first().is_some_and(|c| c.trim().is_empty()) {
        return Err(ResolveError::Invalid("the command to run is empty".into()));
    }
    if container.is_some_and(|c| c.trim().is_empty()) {
        return Err(ResolveError::Invalid("the container name is empty".into()));
    }
    Ok(Action::Exec {
        hub: hub.id.clone(),
        server,
        component: pod.component,
        namespace: pod.key.namespace.to_string(),
        pod: pod.key.name.to_string(),
        container: container.map(str::to_string),
        command: command.to_vec(),
    })
}

fn phase_word(p: PodPhase) -> &'static str {
    match p {
        PodPhase::Pending => "Pending",
        PodPhase::Running => "Running",
        PodPhase::Succeeded => "Succeeded",
        PodPhase::Failed => "Failed",
        PodPhase::Terminating => "Terminating",
        PodPhase::Unknown => "in an unknown phase",
    }
}

/// A command line as a person would type it again: words with spaces or quotes single-quoted.
/// Clipped and stripped of control characters, since it is shown and written to the audit log.
pub fn quote_command(argv: &[String]) -> String {
    let words: Vec<String> = argv
        .iter()
        .map(|w| {
            let plain = !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%^".contains(c));
            if plain {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect();
    crate::text::clip(&words.join(" "), 200).into_owned()
}

/// What an exec action opens, for its summary and audit target: `server leap/prod/ada`, or
/// `hub pod of leap/prod`.
pub(super) fn exec_subject(
    hub: &crate::fleet::HubId,
    server: Option<&ServerId>,
    component: Component,
) -> String {
    match server {
        Some(s) => format!("server {s}"),
        None => format!("{} pod of {hub}", component_name(component)),
    }
}

impl Action {
    /// The commands an exec action tries, in order: its command, or the shells of [`SHELLS`]
    /// (the next one only when the container cannot start the one before). Empty for every
    /// other action.
    pub fn exec_commands(&self) -> Vec<Vec<String>> {
        match self {
            Action::Exec { command, .. } if command.is_empty() => {
                SHELLS.iter().map(|s| vec![(*s).to_string()]).collect()
            }
            Action::Exec { command, .. } => vec![command.clone()],
            _ => Vec::new(),
        }
    }
}
