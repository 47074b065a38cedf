//! The runbook file: its steps, parsed from YAML with the line of any error, and each step
//! turned into the request it makes.

use std::path::Path;
use std::time::Duration;

use hubdeck_core::duration::humanize;
use serde::Deserialize;

use super::WaitFor;
use crate::action::{Request, ServerRef};
use crate::fleet::HubRef;

/// A runbook file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Runbook {
    /// Title.
    pub name: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// Steps in order, each a one-key map (`- restart: {hub: C/H}`).
    #[serde(with = "serde_yaml_ng::with::singleton_map_recursive")]
    pub steps: Vec<Step>,
}

fn default_wait() -> Duration {
    Duration::from_secs(5 * 60)
}

fn default_silence() -> Duration {
    Duration::from_secs(2 * 3600)
}

/// One step.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Step {
    /// Restart the hub (or proxy).
    Restart {
        /// CLUSTER/HUB.
        hub: String,
        /// The proxy instead.
        #[serde(default)]
        proxy: bool,
    },
    /// Scale the hub (or placeholders).
    Scale {
        /// CLUSTER/HUB.
        hub: String,
        /// The placeholders instead.
        #[serde(default)]
        placeholders: bool,
        /// New replicas.
        replicas: u32,
    },
    /// Stop one user's server, or every server idle longer than `idle_for`.
    Stop {
        /// CLUSTER/HUB.
        hub: String,
        /// The user.
        user: Option<String>,
        /// Named server.
        #[serde(default)]
        server: String,
        /// Idle threshold (8h).
        #[serde(default, deserialize_with = "hubdeck_core::duration::deserialize_opt")]
        idle_for: Option<Duration>,
    },
    /// Silence an Alertmanager alert.
    Silence {
        /// Cluster.
        cluster: String,
        /// Alert name or fingerprint.
        alert: String,
        /// Duration.
        #[serde(
            rename = "for",
            default = "default_silence",
            deserialize_with = "hubdeck_core::duration::deserialize"
        )]
        duration: Duration,
        /// Why.
        comment: String,
    },
    /// Wait for a hub to be ready or to have no pending servers.
    Wait {
        /// CLUSTER/HUB.
        hub: String,
        /// Hub and proxy rolled out and ready.
        #[serde(default)]
        ready: bool,
        /// No user server pending.
        #[serde(default)]
        no_pending: bool,
        /// Give up after.
        #[serde(
            default = "default_wait",
            deserialize_with = "hubdeck_core::duration::deserialize"
        )]
        timeout: Duration,
    },
    /// Check a `get` listing: how many rows match.
    Assert {
        /// clusters, hubs, servers, alerts, events.
        get: String,
        /// Only this cluster.
        cluster: Option<String>,
        /// Only this hub.
        hub: Option<String>,
        /// Field conditions (`phase=Pending`).
        selector: Option<String>,
        /// Exactly this many rows.
        count: Option<usize>,
        /// At least.
        min: Option<usize>,
        /// At most.
        max: Option<usize>,
    },
}

/// Reads a runbook; errors name the file and line.
pub fn load(path: &Path) -> Result<Runbook, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_yaml_ng::from_str(&text).map_err(|e| {
        let line = e.location().map_or(1, |l| l.line());
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg);
        // The parser quotes the input it choked on: keep it to one short line.
        format!(
            "{}:{line}: {}",
            path.display(),
            hubdeck_core::text::clip(msg, 300)
        )
    })
}

pub(super) fn hub_ref(s: &str) -> Result<HubRef, String> {
    s.parse::<HubRef>().map_err(|e| e.to_string())
}

impl Step {
    /// One line for the log.
    pub fn describe(&self) -> String {
        match self {
            Step::Restart { hub, proxy } => {
                format!("restart {} {hub}", if *proxy { "proxy" } else { "hub" })
            }
            Step::Scale {
                hub,
                placeholders,
                replicas,
            } => format!(
                "scale {} {hub} to {replicas}",
                if *placeholders { "placeholders" } else { "hub" }
            ),
            Step::Stop {
                hub,
                user: Some(u),
                server,
                ..
            } if server.is_empty() => format!("stop server {hub}/{u}"),
            Step::Stop {
                hub,
                user: Some(u),
                server,
                ..
            } => format!("stop server {hub}/{u}/{server}"),
            Step::Stop { hub, idle_for, .. } => {
                format!(
                    "stop servers of {hub} idle for {}",
                    idle_for.map_or_else(|| "?".to_string(), humanize)
                )
            }
            Step::Silence {
                cluster,
                alert,
                duration,
                ..
            } => format!("silence {alert} on {cluster} for {}", humanize(*duration)),
            Step::Wait {
                hub,
                no_pending,
                ready,
                timeout,
            } => format!(
                "wait up to {} until {}",
                humanize(*timeout),
                WaitFor {
                    hub: hub_ref(hub).unwrap_or_else(|_| HubRef {
                        cluster: hub.clone(),
                        hub: String::new(),
                        release: None
                    }),
                    ready: *ready || !*no_pending,
                    no_pending: *no_pending
                }
                .describe()
            ),
            Step::Assert {
                get, hub, selector, ..
            } => format!(
                "assert on get {get}{}{}",
                hub.as_deref()
                    .map(|h| format!(" --hub {h}"))
                    .unwrap_or_default(),
                selector
                    .as_deref()
                    .map(|s| format!(" -l {s}"))
                    .unwrap_or_default()
            ),
        }
    }

    pub(super) fn request(&self) -> Result<Option<Request>, String> {
        Ok(Some(match self {
            Step::Restart { hub, proxy } => Request::Restart {
                hub: hub_ref(hub)?,
                proxy: *proxy,
            },
            Step::Scale {
                hub,
                placeholders,
                replicas,
            } => Request::Scale {
                hub: hub_ref(hub)?,
                placeholders: *placeholders,
                replicas: *replicas,
            },
            Step::Stop {
                hub,
                user: Some(user),
                server,
                idle_for: None,
            } => Request::StopServers {
                servers: vec![ServerRef {
                    hub: hub_ref(hub)?,
                    user: user.clone(),
                    server: server.clone(),
                }],
            },
            Step::Stop {
                hub,
                user: None,
                idle_for: Some(d),
                ..
            } => Request::StopIdle {
                hub: hub_ref(hub)?,
                idle_for: *d,
            },
            Step::Stop { .. } => return Err("stop needs either `user` or `idle_for`".into()),
            Step::Silence {
                cluster,
                alert,
                duration,
                comment,
            } => Request::Silence {
                cluster: cluster.clone(),
                alert: alert.clone(),
                duration: *duration,
                comment: comment.clone(),
            },
            Step::Wait { .. } | Step::Assert { .. } => return Ok(None),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runbook_steps_parse_from_yaml() {
        let book: Runbook = serde_yaml_ng::from_str(
            "name: x\nsteps:\n  - restart: {hub: leap/prod}\n  - wait: {hub: leap/prod, ready: true}\n  - assert: {get: servers, hub: leap/prod, selector: phase=Pending, count: 0}\n  - stop: {hub: leap/prod, idle_for: 8h}\n",
        )
        .unwrap();
        assert_eq!(book.steps.len(), 4);
        assert_eq!(
            book.steps[0],
            Step::Restart {
                hub: "leap/prod".into(),
                proxy: false
            }
        );
        assert_eq!(
            book.steps[3].describe(),
            "stop servers of leap/prod idle for 8h"
        );
    }

    #[test]
    fn bad_runbook_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rb.yaml");
        std::fs::write(
            &p,
            "steps:\n  - restart: {hub: leap/prod}\n  - reboot: {hub: x}\n",
        )
        .unwrap();
        let err = load(&p).unwrap_err();
        assert!(err.starts_with(&format!("{}:3: ", p.display())), "{err}");
        assert!(err.contains("reboot"), "{err}");
    }

    #[test]
    fn a_bad_duration_fails_the_whole_runbook_at_load_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rb.yaml");
        std::fs::write(
            &p,
            "steps:\n  - restart: {hub: leap/prod}\n  - wait: {hub: leap/prod, timeout: forever}\n",
        )
        .unwrap();
        let err = load(&p).unwrap_err();
        assert!(err.starts_with(&format!("{}:3", p.display())), "{err}");
        assert!(err.contains("\"forever\" is not a duration"), "{err}");
    }
}
