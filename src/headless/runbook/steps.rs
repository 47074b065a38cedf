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

fn default_settle() -> Duration {
    Duration::from_secs(120)
}

fn default_wave_timeout() -> Duration {
    Duration::from_secs(600)
}

/// Many hubs for one step, in waves, as `-l` on the command line.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HubsSpec {
    /// Conditions on `get hubs` fields (`chart=daskhub`).
    pub selector: String,
    /// The waves to run, in order (default: fleet.toml's, else staging, prod).
    pub waves: Option<Vec<String>>,
    /// How long each wave's hubs must stay healthy before the next (2m).
    #[serde(
        default = "default_settle",
        deserialize_with = "hubdeck_core::duration::deserialize"
    )]
    pub settle: Duration,
    /// How long a wave may take to settle after its last action (10m).
    #[serde(
        default = "default_wave_timeout",
        deserialize_with = "hubdeck_core::duration::deserialize"
    )]
    pub timeout: Duration,
    /// How many of a wave's hubs are acted on at once (default: fleet.toml's, else 4).
    pub parallel: Option<usize>,
}

impl HubsSpec {
    /// The pace of the rollout (`parallel`: fleet.toml's, when the step says nothing).
    pub fn pace(&self, parallel: usize) -> hubdeck_core::rollout::Pace {
        hubdeck_core::rollout::Pace {
            waves: self.waves.clone(),
            settle: self.settle,
            timeout: self.timeout,
            parallel: self.parallel.unwrap_or(parallel),
        }
    }
}

/// One step.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Step {
    /// Restart the hub (or proxy) of one hub, or of many in waves.
    Restart {
        /// CLUSTER/HUB.
        hub: Option<String>,
        /// Or many hubs, in waves.
        hubs: Option<HubsSpec>,
        /// The proxy instead.
        #[serde(default)]
        proxy: bool,
    },
    /// Scale the hub (or placeholders) of one hub, or of many in waves.
    Scale {
        /// CLUSTER/HUB.
        hub: Option<String>,
        /// Or many hubs, in waves.
        hubs: Option<HubsSpec>,
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
    /// Apply a JSON merge patch to the values.yaml of many hubs, in waves.
    PatchValues {
        /// The hubs and waves.
        hubs: HubsSpec,
        /// The patch (a mapping; null removes a key).
        merge_patch: serde_json::Value,
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

/// `hub` or `hubs`, not both.
fn one_of<'a>(hub: &Option<String>, spec: &'a HubsSpec) -> Result<&'a HubsSpec, String> {
    match hub {
        Some(_) => Err("give either `hub` (one hub) or `hubs` (many, in waves), not both".into()),
        None => Ok(spec),
    }
}

/// What a hub step names, for its description.
fn target(hub: &Option<String>, hubs: &Option<HubsSpec>) -> String {
    match (hub, hubs) {
        (Some(h), _) => h.clone(),
        (None, Some(s)) => format!(
            "-l {} in waves {}",
            s.selector,
            s.waves
                .as_ref()
                .map_or_else(|| "staging, prod".to_string(), |w| w.join(", "))
        ),
        (None, None) => "?".into(),
    }
}

pub(super) fn hub_ref(s: &str) -> Result<HubRef, String> {
    s.parse::<HubRef>().map_err(|e| e.to_string())
}

impl Step {
    /// One line for the log.
    pub fn describe(&self) -> String {
        match self {
            Step::Restart { hub, hubs, proxy } => format!(
                "restart {} {}",
                if *proxy { "proxy" } else { "hub" },
                target(hub, hubs)
            ),
            Step::Scale {
                hub,
                hubs,
                placeholders,
                replicas,
            } => format!(
                "scale {} {} to {replicas}",
                if *placeholders { "placeholders" } else { "hub" },
                target(hub, hubs)
            ),
            Step::PatchValues { hubs, .. } => {
                format!(
                    "patch values.yaml of {}",
                    target(&None, &Some(hubs.clone()))
                )
            }
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

    /// A step over many hubs: the action each gets and which hubs, in what waves.
    pub(super) fn rollout(
        &self,
    ) -> Option<Result<(hubdeck_core::rollout::HubAction, &HubsSpec), String>> {
        use hubdeck_core::rollout::HubAction;
        match self {
            Step::Restart {
                hubs: Some(spec),
                hub,
                proxy,
            } => Some(one_of(hub, spec).map(|s| (HubAction::Restart { proxy: *proxy }, s))),
            Step::Scale {
                hubs: Some(spec),
                hub,
                placeholders,
                replicas,
            } => Some(one_of(hub, spec).map(|s| {
                (
                    HubAction::Scale {
                        placeholders: *placeholders,
                        replicas: *replicas,
                    },
                    s,
                )
            })),
            Step::PatchValues { hubs, merge_patch } => Some(if merge_patch.is_object() {
                Ok((
                    HubAction::MergeValues {
                        patch: merge_patch.clone(),
                    },
                    hubs,
                ))
            } else {
                Err("merge_patch must be a mapping (null removes a key)".into())
            }),
            _ => None,
        }
    }

    pub(super) fn request(&self) -> Result<Option<Request>, String> {
        let one = |hub: &Option<String>, what: &str| match hub {
            Some(h) => hub_ref(h),
            None => Err(format!(
                "{what} needs `hub` (one hub) or `hubs` (many, in waves)"
            )),
        };
        Ok(Some(match self {
            Step::Restart { hubs: Some(_), .. }
            | Step::Scale { hubs: Some(_), .. }
            | Step::PatchValues { .. } => return Ok(None),
            Step::Restart { hub, proxy, .. } => Request::Restart {
                hub: one(hub, "restart")?,
                proxy: *proxy,
            },
            Step::Scale {
                hub,
                placeholders,
                replicas,
                ..
            } => Request::Scale {
                hub: one(hub, "scale")?,
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
                hub: Some("leap/prod".into()),
                hubs: None,
                proxy: false
            }
        );
        assert_eq!(
            book.steps[3].describe(),
            "stop servers of leap/prod idle for 8h"
        );
    }

    #[test]
    fn a_step_over_many_hubs_takes_a_selector_waves_and_a_settle_time() {
        let book: Runbook = serde_yaml_ng::from_str(
            "steps:\n  - restart: {hubs: {selector: chart=daskhub, waves: [staging, prod], settle: 30s}}\n  \
             - patch-values: {hubs: {selector: cluster=leap}, merge_patch: {singleuser: {memory: {limit: 8G}}}}\n",
        )
        .unwrap();
        let Some(Ok((what, spec))) = book.steps[0].rollout() else {
            panic!("{:?}", book.steps[0])
        };
        assert_eq!(
            what,
            hubdeck_core::rollout::HubAction::Restart { proxy: false }
        );
        assert_eq!(spec.settle, Duration::from_secs(30));
        assert_eq!(spec.timeout, Duration::from_secs(600));
        assert_eq!(
            book.steps[0].describe(),
            "restart hub -l chart=daskhub in waves staging, prod"
        );
        let Some(Ok((hubdeck_core::rollout::HubAction::MergeValues { patch }, _))) =
            book.steps[1].rollout()
        else {
            panic!("{:?}", book.steps[1])
        };
        assert_eq!(patch["singleuser"]["memory"]["limit"], "8G");
        assert_eq!(book.steps[1].request(), Ok(None));
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
