//! Runbooks: YAML lists of steps — the same actions as the commands, `wait` and `assert` —
//! run in order, stopping at the first failed step and saying which.
//!
//! ```yaml
//! name: Maintenance restart of leap/prod
//! steps:
//!   - assert: {get: hubs, hub: leap/prod, selector: "health!=down", count: 1}
//!   - restart: {hub: leap/prod}
//!   - wait: {hub: leap/prod, ready: true, timeout: 5m}
//!   - stop: {hub: leap/prod, idle_for: 8h}
//!   - scale: {hub: leap/prod, placeholders: true, replicas: 3}
//!   - silence: {cluster: leap, alert: KubePodCrashLooping, for: 2h, comment: "maintenance"}
//! ```

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;

use super::act::{self, Request, parse_duration};
use super::get::{Filter, Kind, get};
use super::output::Format;
use super::session::Session;
use crate::action::{Mode, Runner};
use crate::fleet::{Fleet, HubRef};

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

fn default_wait() -> String {
    "5m".into()
}

fn default_silence() -> String {
    "2h".into()
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
        idle_for: Option<String>,
    },
    /// Silence an Alertmanager alert.
    Silence {
        /// Cluster.
        cluster: String,
        /// Alert name or fingerprint.
        alert: String,
        /// Duration.
        #[serde(rename = "for", default = "default_silence")]
        duration: String,
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
        #[serde(default = "default_wait")]
        timeout: String,
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

/// A wait condition on a hub.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitFor {
    /// Which hub.
    pub hub: HubRef,
    /// Hub and proxy rolled out and ready.
    pub ready: bool,
    /// No pending user servers.
    pub no_pending: bool,
}

impl WaitFor {
    /// For messages.
    pub fn describe(&self) -> String {
        match (self.ready, self.no_pending) {
            (true, true) => format!("{} ready with no pending servers", self.hub),
            (false, true) => format!("{} has no pending servers", self.hub),
            _ => format!("{} ready", self.hub),
        }
    }

    fn holds(&self, fleet: &Fleet) -> bool {
        let Ok(h) = act::find_hub(fleet, &self.hub) else {
            return false;
        };
        let rolled_out = |c| {
            h.workload(c).is_some_and(|w| {
                w.observed && w.desired > 0 && w.ready == w.desired && w.updated == w.desired
            })
        };
        let ready = !self.ready
            || (rolled_out(crate::fleet::Component::Hub)
                && rolled_out(crate::fleet::Component::Proxy));
        let calm = !self.no_pending || h.summary.servers_pending == 0;
        ready && calm
    }
}

/// Waits until the condition holds.
pub async fn wait(session: &mut Session, cond: &WaitFor, within: Duration) -> Result<(), String> {
    if session.wait_for(within, |f| cond.holds(f)).await {
        Ok(())
    } else {
        Err(format!(
            "timed out after {}s waiting until {}",
            within.as_secs(),
            cond.describe()
        ))
    }
}

/// Reads a runbook; errors name the file and line.
pub fn load(path: &Path) -> Result<Runbook, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_yaml_ng::from_str(&text).map_err(|e| {
        let line = e.location().map_or(1, |l| l.line());
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        format!("{}:{line}: {msg}", path.display())
    })
}

fn hub_ref(s: &str) -> Result<HubRef, String> {
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
                    idle_for.as_deref().unwrap_or("?")
                )
            }
            Step::Silence {
                cluster,
                alert,
                duration,
                ..
            } => format!("silence {alert} on {cluster} for {duration}"),
            Step::Wait {
                hub,
                no_pending,
                ready,
                timeout,
            } => format!(
                "wait up to {timeout} until {}",
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

    fn request(&self) -> Result<Option<Request>, String> {
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
            } => Request::StopServer {
                hub: hub_ref(hub)?,
                user: user.clone(),
                server: server.clone(),
            },
            Step::Stop {
                hub,
                user: None,
                idle_for: Some(d),
                ..
            } => Request::StopIdle {
                hub: hub_ref(hub)?,
                idle_for: parse_duration(d)?,
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
                duration: parse_duration(duration)?,
                comment: comment.clone(),
            },
            Step::Wait { .. } | Step::Assert { .. } => return Ok(None),
        }))
    }
}

fn kind(s: &str) -> Result<Kind, String> {
    use clap::ValueEnum;
    Kind::from_str(s, true)
        .map_err(|_| format!("unknown listing {s:?} (clusters, hubs, servers, alerts, events)"))
}

fn check_assert(fleet: &Fleet, step: &Step) -> Result<String, String> {
    let Step::Assert {
        get: what,
        cluster,
        hub,
        selector,
        count,
        min,
        max,
    } = step
    else {
        return Ok(String::new());
    };
    let filter = Filter {
        cluster: cluster.clone(),
        hub: hub.as_deref().map(hub_ref).transpose()?,
        selector: selector.as_deref().unwrap_or("").parse()?,
    };
    let n = get(
        fleet,
        kind(what)?,
        &filter,
        Format::Json,
        &mut std::io::sink(),
        Timestamp::now(),
    )
    .map_err(|e| e.to_string())?;
    let ok =
        count.is_none_or(|c| n == c) && min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m);
    if ok {
        Ok(format!("{n} rows"))
    } else {
        Err(format!(
            "{n} rows, expected {}",
            [
                count.map(|c| format!("exactly {c}")),
                min.map(|m| format!("at least {m}")),
                max.map(|m| format!("at most {m}"))
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" and ")
        ))
    }
}

/// Runs a runbook; returns the exit code (the first failed step's).
pub async fn run(
    session: &mut Session,
    runner: &Runner,
    book: &Runbook,
    mode: Mode,
    out: &mut impl Write,
) -> std::io::Result<i32> {
    let total = book.steps.len();
    if let Some(name) = &book.name {
        writeln!(out, "runbook: {name}")?;
    }
    for (i, step) in book.steps.iter().enumerate() {
        let n = i + 1;
        writeln!(out, "step {n}/{total}: {}", step.describe())?;
        let fail = |out: &mut dyn Write, msg: &str, code: i32| -> std::io::Result<i32> {
            writeln!(
                out,
                "FAILED at step {n}/{total} ({}): {msg}",
                step.describe()
            )?;
            Ok(code)
        };
        session.drain();
        match step.request() {
            Err(e) => return fail(out, &e, super::exit::USAGE),
            Ok(Some(request)) => {
                if let Request::Silence { .. } = request {
                    let r = request.clone();
                    session
                        .wait_for(Duration::from_secs(10), |f| {
                            act::resolve(f, &r, Timestamp::now()).is_ok()
                        })
                        .await;
                }
                let action = match act::resolve(&session.fleet, &request, Timestamp::now()) {
                    Ok(a) => a,
                    Err(e) => return fail(out, &e, super::exit::CONFLICT),
                };
                let started = Timestamp::now();
                let outcome = runner.execute(&action, mode).await;
                match &outcome.result {
                    Ok(msgs) => {
                        for m in msgs {
                            writeln!(out, "  {m}")?;
                        }
                    }
                    Err(e) => return fail(out, &e.to_string(), e.exit_code()),
                }
                if mode == Mode::Run
                    && !session
                        .wait_for(Duration::from_secs(30), |f| {
                            act::effect_visible(f, &action, started)
                        })
                        .await
                {
                    return fail(
                        out,
                        "the change did not show in the fleet within 30s",
                        super::exit::ERROR,
                    );
                }
            }
            Ok(None) => match step {
                Step::Wait {
                    hub,
                    ready,
                    no_pending,
                    timeout,
                } => {
                    let cond = WaitFor {
                        hub: hub_ref(hub).map_err(std::io::Error::other)?,
                        ready: *ready || !*no_pending,
                        no_pending: *no_pending,
                    };
                    if mode == Mode::DryRun {
                        writeln!(out, "  dry run: would wait until {}", cond.describe())?;
                        continue;
                    }
                    let within = match parse_duration(timeout) {
                        Ok(d) => d,
                        Err(e) => return fail(out, &e, super::exit::USAGE),
                    };
                    if let Err(e) = wait(session, &cond, within).await {
                        return fail(out, &e, super::exit::ERROR);
                    }
                    writeln!(out, "  {}", cond.describe())?;
                }
                _ => match check_assert(&session.fleet, step) {
                    Ok(m) => writeln!(out, "  ok: {m}")?,
                    Err(e) if mode == Mode::DryRun => writeln!(out, "  dry run: would fail: {e}")?,
                    Err(e) => return fail(out, &e, super::exit::CONFLICT),
                },
            },
        }
    }
    writeln!(out, "runbook done: {total} steps")?;
    Ok(super::exit::OK)
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
}
