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
//!   # Many hubs in waves (staging first), each wave settling 2m before the next:
//!   - restart: {hubs: {selector: "chart=daskhub", waves: [staging, prod], settle: 2m}}
//!   - patch-values: {hubs: {selector: "cluster=leap"}, merge_patch: {singleuser: {memory: {limit: 8G}}}}
//! ```

mod steps;
mod validate;
mod waves;

use std::io::Write;
use std::time::Duration;

use jiff::Timestamp;

use steps::hub_ref;
pub use steps::{HubsSpec, Runbook, Step, load};

use super::get::{Filter, Kind, get};
use super::output::Format;
use super::session::Session;
use crate::action::{Mode, Runner};
use crate::action::{Request, ResolveError, effect_visible, find_hub, resolve};
use crate::fleet::{Fleet, HubRef};

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
        let Ok(h) = find_hub(fleet, &self.hub) else {
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

fn kind(s: &str) -> Result<Kind, String> {
    use clap::ValueEnum;
    Kind::from_str(s, true)
        .map_err(|_| format!("unknown listing {s:?} (clusters, hubs, servers, alerts, events)"))
}

/// The listing an `assert` step counts, checked: a known listing, a hub reference, a selector
/// on fields its rows have.
fn assert_query(step: &Step) -> Result<Option<(Kind, Filter)>, String> {
    let Step::Assert {
        get: what,
        cluster,
        hub,
        selector,
        ..
    } = step
    else {
        return Ok(None);
    };
    let kind = kind(what)?;
    let filter = Filter {
        cluster: cluster.clone(),
        hub: hub.as_deref().map(hub_ref).transpose()?,
        selector: selector.as_deref().unwrap_or("").parse()?,
    };
    kind.check(&filter.selector)?;
    Ok(Some((kind, filter)))
}

fn check_assert(fleet: &Fleet, step: &Step) -> Result<String, String> {
    let Step::Assert {
        count, min, max, ..
    } = step
    else {
        return Ok(String::new());
    };
    let Some((kind, filter)) = assert_query(step)? else {
        return Ok(String::new());
    };
    let n = get(
        fleet,
        kind,
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

/// Runs a runbook; returns the exit code (the first failed step's). `rules` group the hubs of
/// steps over many hubs into waves.
pub async fn run(
    session: &mut Session,
    runner: &Runner,
    book: &Runbook,
    rules: &hubdeck_core::rollout::WaveRules,
    mode: Mode,
    out: &mut impl Write,
) -> std::io::Result<i32> {
    let total = book.steps.len();
    if let Some(name) = &book.name {
        writeln!(out, "runbook: {name}")?;
    }
    // Whole before the first step, in both modes: a runbook must not restart a hub in step 1
    // and then find that step 2 names no hub.
    let problems = validate::problems(&session.fleet, book, rules, Timestamp::now());
    if let Some(first) = problems.first() {
        writeln!(out, "runbook not run: {} invalid step(s)", problems.len())?;
        for p in &problems {
            writeln!(out, "  {p}")?;
        }
        return Ok(first.code);
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
        match waves::run(session, runner, rules, step, mode, out).await? {
            Some(Ok(())) => continue,
            Some(Err((msg, code))) => return fail(out, &msg, code),
            None => {}
        }
        match step.request() {
            Err(e) => return fail(out, &e, super::exit::USAGE),
            Ok(Some(request)) => {
                if let Request::Silence { .. } = request {
                    let r = request.clone();
                    session
                        .wait_for(Duration::from_secs(10), |f| {
                            resolve(f, &r, Timestamp::now()).is_ok()
                        })
                        .await;
                }
                let action = match resolve(&session.fleet, &request, Timestamp::now()) {
                    Ok(a) => a,
                    Err(ResolveError::NothingToDo(why)) => {
                        writeln!(out, "  nothing to do: {why}")?;
                        continue;
                    }
                    Err(e) => return fail(out, &e.to_string(), super::exit::for_resolve(&e)),
                };
                let started = Timestamp::now();
                let outcome = runner.execute(&action, mode).await;
                match &outcome.result {
                    Ok(msgs) => {
                        for m in msgs {
                            writeln!(out, "  {m}")?;
                        }
                    }
                    Err(e) => return fail(out, &e.to_string(), super::exit::for_action(e)),
                }
                if mode == Mode::Run
                    && !session
                        .wait_for(Duration::from_secs(30), |f| {
                            effect_visible(f, &action, started)
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
                    let within = *timeout;
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
