//! Runbook steps over many hubs (`restart: {hubs: {selector, waves, settle}}`): checked whole
//! with the rest before step 1, then run as the command line runs a rollout.

use std::collections::BTreeMap;
use std::io::Write;

use jiff::Timestamp;

use super::steps::{HubsSpec, Step};
use crate::action::{Mode, Runner};
use crate::fleet::Fleet;
use crate::headless::exit;
use crate::headless::rollout;
use crate::headless::selector::Selector;
use crate::headless::session::Session;
use hubdeck_core::rollout::{self as core, HubAction, RolloutError, WaveRules};

/// Progress as it comes (a rollout takes minutes), indented under its step.
struct Indented<'a, W: Write> {
    out: &'a mut W,
    fresh: bool,
}

impl<W: Write> Write for Indented<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for line in buf.split_inclusive(|b| *b == b'\n') {
            if self.fresh {
                self.out.write_all(b"  ")?;
            }
            self.out.write_all(line)?;
            self.fresh = line.ends_with(b"\n");
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Why a rollout step cannot run, with its exit code.
type Failure = (String, i32);

fn planned(
    fleet: &Fleet,
    rules: &WaveRules,
    what: &HubAction,
    spec: &HubsSpec,
    configs: &BTreeMap<
        crate::fleet::HubId,
        Result<crate::action::HubConfig, crate::action::ActionError>,
    >,
    now: Timestamp,
) -> Result<core::Rollout, Failure> {
    let selector: Selector = spec.selector.parse().map_err(|e| (e, exit::USAGE))?;
    let hubs = rollout::select(fleet, &selector, now).map_err(|e| (e, exit::USAGE))?;
    core::plan(
        fleet,
        rules,
        &hubs,
        what,
        &spec.pace(rules.parallel),
        configs,
        now,
    )
    .map_err(|e| match e {
        RolloutError::Invalid(m) => (m, exit::USAGE),
        RolloutError::NoHubs(m) => (m, exit::CONFLICT),
    })
}

/// Checks a rollout step against the fleet (`None`: not a rollout step). A values patch is
/// checked but for each hub's merge, which needs the values read.
pub(super) fn check(fleet: &Fleet, rules: &WaveRules, step: &Step) -> Option<Result<(), Failure>> {
    let (what, spec) = match step.rollout()? {
        Ok(x) => x,
        Err(e) => return Some(Err((e, exit::USAGE))),
    };
    let probe = match &what {
        // Any mapping plans a restart-like check of waves and selection.
        HubAction::MergeValues { .. } => HubAction::Restart { proxy: false },
        other => other.clone(),
    };
    Some(
        planned(
            fleet,
            rules,
            &probe,
            spec,
            &BTreeMap::new(),
            Timestamp::now(),
        )
        .and_then(
            |plan| match (rollout::problems_code(&plan), plan.problems().first()) {
                (Some(code), Some((hub, p))) if !what.needs_config() => {
                    Err((format!("{hub}: {p}"), code))
                }
                _ => Ok(()),
            },
        ),
    )
}

/// Runs a rollout step (`None`: not one); `Err` carries the step's failure.
pub(super) async fn run(
    session: &mut Session,
    runner: &Runner,
    rules: &WaveRules,
    step: &Step,
    mode: Mode,
    out: &mut impl Write,
) -> std::io::Result<Option<Result<(), Failure>>> {
    let Some(parsed) = step.rollout() else {
        return Ok(None);
    };
    let (what, spec) = match parsed {
        Ok(x) => x,
        Err(e) => return Ok(Some(Err((e, exit::USAGE)))),
    };
    let now = Timestamp::now();
    let configs = if what.needs_config() {
        let selector: Selector = spec.selector.parse().unwrap_or_default();
        let hubs = rollout::select(&session.fleet, &selector, now).unwrap_or_default();
        rollout::read_configs(runner, &hubs).await
    } else {
        BTreeMap::new()
    };
    let plan = match planned(&session.fleet, rules, &what, spec, &configs, now) {
        Ok(p) => p,
        Err(f) => return Ok(Some(Err(f))),
    };
    let mut text = Vec::new();
    rollout::write_plan(&mut text, runner, &plan)?;
    for line in String::from_utf8_lossy(&text).lines() {
        writeln!(out, "  {line}")?;
    }
    if let (Some(code), Some((hub, p))) = (rollout::problems_code(&plan), plan.problems().first()) {
        return Ok(Some(Err((format!("{hub}: {p}"), code))));
    }
    if plan.acting() == 0 {
        writeln!(out, "  nothing to do: every hub is already as asked")?;
        return Ok(Some(Ok(())));
    }
    let mut log = Indented { out, fresh: true };
    let report = match mode {
        Mode::Unconfirmed => {
            let e = crate::action::ActionError::NotConfirmed;
            return Ok(Some(Err((e.to_string(), exit::for_action(&e)))));
        }
        Mode::DryRun => rollout::dry_run(runner, &plan, &mut log).await?,
        Mode::Run => rollout::drive(session, runner, plan, &mut log).await?,
    };
    Ok(Some(match report.failure() {
        None => Ok(()),
        Some(line) => Err((line, report.code())),
    }))
}
