//! Rollouts from the command line and runbooks: the hubs a selector picks, the wave plan
//! printed per hub (its steps, warnings and, for a values change, its redacted diff), then
//! wave by wave through the runner, a few hubs of a wave at a time (the rollout's
//! `parallel`), waiting on each wave's gate and saying why it stops.
//! The waves, the gate and the order of things are the core's (`hubdeck_core::rollout`).

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use jiff::Timestamp;

use super::exit;
use super::rows::{fields, hub_row};
use super::selector::Selector;
use super::session::Session;
use crate::action::{Action, ActionError, HubConfig, Mode, Runner, Via, humanize};
use crate::fleet::{Fleet, HubId};
use hubdeck_core::rollout::{Ending, Event, GateState, Next, Planned, Progress, Rollout};

/// Which hubs a rollout covers: those whose `get hubs` row at `now` matches (usage figures in
/// a row age: `now` is when the selection is made), the selector's fields checked first.
pub fn select(fleet: &Fleet, selector: &Selector, now: Timestamp) -> Result<Vec<HubId>, String> {
    selector.check_fields("hubs", fields::HUB)?;
    Ok(fleet
        .clusters()
        .flat_map(|c| c.hubs.values().map(move |h| (c, h)))
        .filter(|(c, h)| selector.matches(&hub_row(c, h, now)))
        .map(|(_, h)| h.id.clone())
        .collect())
}

/// Reads each hub's values.yaml (one after the other: a few requests per hub).
pub async fn read_configs(
    runner: &Runner,
    hubs: &[HubId],
) -> BTreeMap<HubId, Result<HubConfig, ActionError>> {
    let mut out = BTreeMap::new();
    for h in hubs {
        out.insert(h.clone(), runner.read_config(h).await);
    }
    out
}

fn via(step: &crate::action::Step) -> String {
    match &step.via {
        Via::Kubernetes { call } => call.describe(),
        Via::HubApi { request } => format!("hub API {request}"),
        Via::Alertmanager { request } => format!("Alertmanager {request}"),
    }
}

/// The plan: every wave, every hub's steps, warnings and diff, what is left out.
pub fn write_plan(out: &mut dyn Write, runner: &Runner, r: &Rollout) -> std::io::Result<()> {
    let gate = if r.settle.is_zero() {
        String::new()
    } else {
        format!(
            "; each wave settles {} (within {}) before the next",
            humanize(r.settle),
            humanize(r.timeout)
        )
    };
    writeln!(
        out,
        "rollout: {} on {} hubs in {} waves{gate}",
        r.what,
        r.hubs(),
        r.waves.len()
    )?;
    for (i, w) in r.waves.iter().enumerate() {
        writeln!(
            out,
            "wave {}/{} {}: {}",
            i + 1,
            r.waves.len(),
            w.name,
            if w.hubs.is_empty() {
                "no hubs".to_string()
            } else {
                w.hubs
                    .iter()
                    .map(|s| s.hub.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )?;
        for s in &w.hubs {
            match &s.planned {
                Planned::Act(action) => {
                    let plan = runner.plan(action);
                    writeln!(out, "  {}: {}", s.hub, plan.summary)?;
                    for (n, step) in plan.steps.iter().enumerate() {
                        writeln!(out, "    {}. {} [{}]", n + 1, step.what, via(step))?;
                    }
                    for warning in &plan.warnings {
                        writeln!(out, "    warning: {warning}")?;
                    }
                    if let Action::EditHubConfig { diff, .. } = action {
                        for line in diff.lines() {
                            writeln!(out, "    {line}")?;
                        }
                    }
                }
                Planned::Nothing(why) => writeln!(out, "  {}: nothing to do: {why}", s.hub)?,
                Planned::Problem(p) => writeln!(out, "  {}: cannot: {p}", s.hub)?,
            }
        }
    }
    for l in &r.left_out {
        writeln!(out, "left out: {} ({})", l.hub, l.why)?;
    }
    Ok(())
}

/// What a rollout did, hub by hub, and how it ended.
#[derive(Debug, Clone)]
pub struct Report {
    /// Each hub acted on (or checked), in order, with its result.
    pub outcomes: Vec<(HubId, Result<Vec<String>, ActionError>)>,
    /// How it ended (a dry run ends `Passed` when every check passed).
    pub ending: Ending,
}

impl Report {
    /// The exit code: a failed action's by its kind, a wave that did not settle 1.
    pub fn code(&self) -> i32 {
        match &self.ending {
            Ending::Passed => exit::OK,
            Ending::Failed { error: Some(e), .. } => exit::for_action(e),
            Ending::Failed { error: None, .. } | Ending::Cancelled { .. } => exit::ERROR,
        }
    }

    /// One line for stderr when it did not pass.
    pub fn failure(&self) -> Option<String> {
        match &self.ending {
            Ending::Passed => None,
            Ending::Failed { wave, hub, why, .. } => {
                Some(format!("wave {wave} failed: {hub}: {why}"))
            }
            Ending::Cancelled { wave } => Some(format!("cancelled in wave {wave}")),
        }
    }
}

/// Why a rollout cannot start: its plan has problems. The exit code is the first one's.
pub fn problems_code(r: &Rollout) -> Option<i32> {
    r.problems().first().map(|(_, p)| match p {
        hubdeck_core::rollout::Problem::Resolve(e) => exit::for_resolve(e),
        hubdeck_core::rollout::Problem::Read(e) => exit::for_action(e),
    })
}

/// Runs every hub's checks (read-only, RBAC, preconditions) and changes nothing.
pub async fn dry_run(runner: &Runner, r: &Rollout, out: &mut dyn Write) -> std::io::Result<Report> {
    let mut outcomes = Vec::new();
    let mut ending = Ending::Passed;
    for w in &r.waves {
        for (hub, action) in w.actions() {
            let result = runner.execute(action, Mode::DryRun).await.result;
            match &result {
                Ok(m) => writeln!(out, "  {hub}: {}", m.join("; "))?,
                Err(e) => {
                    writeln!(out, "  {hub}: {e}")?;
                    if matches!(ending, Ending::Passed) {
                        ending = Ending::Failed {
                            wave: w.name.clone(),
                            hub: hub.clone(),
                            why: e.to_string(),
                            error: Some(e.clone()),
                        };
                    }
                }
            }
            outcomes.push((hub.clone(), result));
        }
    }
    Ok(Report { outcomes, ending })
}

/// A line about the gate, when it says something new.
fn gate_line(state: &GateState) -> String {
    match state {
        GateState::Waiting { hub, why, left } => format!(
            "  waiting for {hub}: {why} ({} left)",
            humanize_or_now(*left)
        ),
        GateState::Settling { .. } => "  every hub healthy: settling".to_string(),
        GateState::Passed | GateState::Failed { .. } => String::new(),
    }
}

fn humanize_or_now(d: Duration) -> String {
    let d = Duration::from_secs(d.as_secs().max(1));
    humanize(d)
}

/// Runs the rollout wave by wave, printing progress to `out`. The actions of a wave's hubs run
/// concurrently, as many as the core hands out; the fleet's updates are applied meanwhile, so
/// the gate sees the first hubs come back while the last are still being acted on.
pub async fn drive(
    session: &mut Session,
    runner: &Runner,
    rollout: Rollout,
    out: &mut dyn Write,
) -> std::io::Result<Report> {
    let settle = rollout.settle;
    let mut progress = Progress::new(rollout);
    let mut outcomes = Vec::new();
    let mut said = String::new();
    let mut in_flight = FuturesUnordered::new();
    loop {
        session.drain();
        let next = progress.next(&session.fleet, Timestamp::now());
        for event in progress.take_events() {
            match event {
                Event::WaveStarted {
                    index,
                    of,
                    name,
                    acting,
                } => writeln!(out, "wave {index}/{of} {name}: {acting} hubs")?,
                Event::Skipped { hub, why } => writeln!(out, "  {hub}: nothing to do: {why}")?,
                Event::HubDone { hub, result } => {
                    match &result {
                        Ok(m) => writeln!(out, "  {hub}: {}", m.join("; "))?,
                        Err(e) => writeln!(out, "  {hub}: {e}")?,
                    }
                    outcomes.push((hub, result));
                }
                Event::WavePassed { name } if settle.is_zero() => {
                    writeln!(out, "wave {name} done")?
                }
                Event::WavePassed { name } => writeln!(
                    out,
                    "wave {name} passed: its hubs stayed healthy for {}",
                    humanize(settle)
                )?,
                Event::Ended(_) => {}
            }
        }
        match next {
            Next::Run { hub, action } => {
                said.clear();
                // Asked again at once: the next hub may start before this one answers.
                in_flight.push(async move {
                    let outcome = runner.execute(&action, Mode::Run).await;
                    (hub, outcome.result)
                });
            }
            Next::Busy => {
                tokio::select! {
                    Some((hub, result)) = in_flight.next() => progress.hub_done(&hub, result),
                    _ = session.pump(tokio::time::Instant::now() + Duration::from_millis(500)) => {}
                }
            }
            Next::Wait(state) => {
                let line = gate_line(&state);
                // The time left changes every look: say it again only when the reason does.
                let key = line.split(" (").next().unwrap_or_default().to_string();
                if key != said && !line.is_empty() {
                    writeln!(out, "{line}")?;
                    said = key;
                }
                session
                    .pump(tokio::time::Instant::now() + Duration::from_millis(500))
                    .await;
            }
            Next::Done(ending) => {
                if ending == Ending::Passed {
                    let r = progress.rollout();
                    writeln!(
                        out,
                        "rollout done: {} hubs acted on in {} waves",
                        outcomes.len(),
                        r.waves.len()
                    )?;
                } else {
                    let untouched: Vec<String> = not_touched(progress.rollout(), &outcomes);
                    if !untouched.is_empty() {
                        writeln!(out, "not touched: {}", untouched.join(", "))?;
                    }
                }
                return Ok(Report { outcomes, ending });
            }
        }
    }
}

/// The hubs a stopped rollout would still have acted on.
fn not_touched(r: &Rollout, outcomes: &[(HubId, Result<Vec<String>, ActionError>)]) -> Vec<String> {
    r.waves
        .iter()
        .flat_map(|w| w.actions())
        .filter(|(h, _)| !outcomes.iter().any(|(o, _)| o == *h))
        .map(|(h, _)| h.to_string())
        .collect()
}

/// The plan and what happened, as the `Rollout` document of `-o json`.
pub fn document(
    runner: &Runner,
    r: &Rollout,
    report: Option<&Report>,
    outcome: &str,
) -> serde_json::Value {
    use serde_json::json;
    let result_of = |hub: &HubId| {
        report
            .and_then(|rep| rep.outcomes.iter().find(|(h, _)| h == hub))
            .map(|(_, res)| match res {
                Ok(m) => json!({"outcome": "ok", "messages": m}),
                Err(e) => json!({"outcome": e.kind(), "messages": [e.to_string()]}),
            })
            .unwrap_or_else(|| json!({"outcome": "not-run", "messages": []}))
    };
    let waves: Vec<serde_json::Value> = r
        .waves
        .iter()
        .map(|w| {
            let hubs: Vec<serde_json::Value> = w
                .hubs
                .iter()
                .map(|s| {
                    let mut item = json!({"hub": s.hub.to_string()});
                    match &s.planned {
                        Planned::Act(a) => {
                            item["plan"] = json!(runner.plan(a));
                            if let Action::EditHubConfig { diff, .. } = a {
                                item["diff"] = json!(diff);
                            }
                            let res = result_of(&s.hub);
                            item["outcome"] = res["outcome"].clone();
                            item["messages"] = res["messages"].clone();
                        }
                        Planned::Nothing(why) => {
                            item["outcome"] = json!("nothing-to-do");
                            item["messages"] = json!([why]);
                        }
                        Planned::Problem(p) => {
                            item["outcome"] = json!("invalid");
                            item["messages"] = json!([p.to_string()]);
                        }
                    }
                    item
                })
                .collect();
            json!({"name": w.name, "hubs": hubs})
        })
        .collect();
    let failure = report.and_then(|rep| match &rep.ending {
        Ending::Failed { wave, hub, why, .. } => {
            Some(json!({"wave": wave, "hub": hub.to_string(), "why": why}))
        }
        _ => None,
    });
    json!({
        "apiVersion": "hubdeck/v1",
        "kind": "Rollout",
        "what": r.what,
        "settle_secs": r.settle.as_secs(),
        "wave_timeout_secs": r.timeout.as_secs(),
        "waves": waves,
        "left_out": r.left_out.iter().map(|l| json!({"hub": l.hub.to_string(), "why": l.why})).collect::<Vec<_>>(),
        "outcome": outcome,
        "failure": failure,
    })
}
