//! `restart|scale ... -l SELECTOR` and `config patch`: one hub action over the hubs a selector
//! picks, in waves (see `headless::rollout`), or a merge patch of one named hub's values.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use color_eyre::eyre::{Result, WrapErr};
use jiff::Timestamp;

use super::commands::{runner, session};
use crate::action::{Action, Mode, config_edit, find_hub};
use crate::cli::{ConfirmArgs, Global, WaveArgs};
use crate::config::fleet_file::FleetFile;
use crate::config::paths::Paths;
use crate::config::settings::Settings;
use crate::fleet::HubRef;
use crate::headless::output::Format;
use crate::headless::session::Needs;
use crate::headless::{act, exit, rollout};
use hubdeck_core::rollout::{self as core, HubAction, Pace, RolloutError, WaveRules};

/// The wave rules: fleet.toml's `[waves]` when there is a fleet file, else the default.
pub fn wave_rules(global: &Global, paths: &Paths) -> Result<WaveRules> {
    let path = global
        .fleet
        .clone()
        .or_else(|| Some(paths.fleet()).filter(|p| p.exists()));
    match path {
        Some(p) => Ok(FleetFile::load(&p)?.wave_rules(&p)?),
        None => Ok(WaveRules::default()),
    }
}

/// Reads a merge patch from a file, or standard input for `-`.
fn read_patch(path: &std::path::Path) -> Result<Result<serde_json::Value, String>> {
    let text = if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .wrap_err("reading the merge patch from standard input")?;
        s
    } else {
        std::fs::read_to_string(path).wrap_err_with(|| format!("{}", path.display()))?
    };
    Ok(hubdeck_core::action::merge::parse_patch(&text)
        .map_err(|e| format!("{}: {e}", path.display())))
}

/// `hubdeck config patch (C/H | -l SEL) --merge-patch FILE`.
pub async fn patch(
    global: &Global,
    paths: &Paths,
    settings: &Settings,
    hub: Option<HubRef>,
    file: &std::path::Path,
    waves: WaveArgs,
    confirm: ConfirmArgs,
) -> Result<i32> {
    let patch = match read_patch(file)? {
        Ok(p) => p,
        Err(e) => {
            eprintln!("hubdeck: {e}");
            return Ok(exit::USAGE);
        }
    };
    run(
        global,
        paths,
        settings,
        HubAction::MergeValues { patch },
        hub,
        waves,
        confirm,
    )
    .await
}

/// Plans and runs `what` over a named hub or the hubs `-l` selects.
pub async fn run(
    global: &Global,
    paths: &Paths,
    settings: &Settings,
    what: HubAction,
    hub: Option<HubRef>,
    waves: WaveArgs,
    confirm: ConfirmArgs,
) -> Result<i32> {
    let rules = wave_rules(global, paths)?;
    if let Some(sel) = &waves.selector
        && let Err(e) = sel.check_fields("hubs", crate::headless::rows::fields::HUB)
    {
        eprintln!("hubdeck: {e}");
        return Ok(exit::USAGE);
    }
    let (mut session, _fleetwide) = session(global, paths, settings, Needs::LISTS).await?;
    let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
    let (mut out, mut err) = (stdout.lock(), stderr.lock());
    // One moment for the selection and the plan: both read the same rows.
    let now = Timestamp::now();
    let hubs = match (&hub, &waves.selector) {
        (_, Some(sel)) => rollout::select(&session.fleet, sel, now).unwrap_or_default(),
        (Some(r), None) => match find_hub(&session.fleet, r) {
            Ok(h) => vec![h.id.clone()],
            Err(e) => return Ok(act::unresolved(&mut out, &mut err, &e)),
        },
        (None, None) => Vec::new(),
    };
    let runner = runner(&session, global, paths, settings);
    let configs = if what.needs_config() {
        rollout::read_configs(&runner, &hubs).await
    } else {
        BTreeMap::new()
    };
    let named = waves.selector.is_none();
    let pace = Pace {
        waves: waves.waves.clone(),
        settle: waves.settle,
        timeout: waves.wave_timeout,
        parallel: waves.parallel.map_or(rules.parallel, usize::from),
    };
    // A hub named on its own is one change, not a rollout: every wave rule takes it.
    let rules = if named {
        WaveRules {
            order: vec!["hub".into()],
            patterns: Default::default(),
            ..rules
        }
    } else {
        rules
    };
    let plan = match core::plan(&session.fleet, &rules, &hubs, &what, &pace, &configs, now) {
        Ok(p) => p,
        Err(e @ RolloutError::Invalid(_)) => {
            writeln!(err, "hubdeck: {e}")?;
            return Ok(exit::USAGE);
        }
        Err(e @ RolloutError::NoHubs(_)) => {
            writeln!(err, "hubdeck: {e}")?;
            return Ok(exit::CONFLICT);
        }
    };
    let json = global.output != Format::Table;
    // In JSON the plan and its outcome are one document at the end; progress goes to stderr.
    let progress: &mut dyn Write = if json { &mut err } else { &mut out };
    if !json {
        rollout::write_plan(progress, &runner, &plan)?;
    }
    let finish = |out: &mut dyn Write, report: Option<&rollout::Report>, word: &str| {
        if json {
            let doc = rollout::document(&runner, &plan, report, word);
            crate::headless::output::write_document(out, global.output, &doc)?;
        }
        std::io::Result::Ok(())
    };
    if let Some(code) = rollout::problems_code(&plan) {
        let n = plan.problems().len();
        let mut e2 = std::io::stderr();
        writeln!(
            e2,
            "hubdeck: rollout not started: {n} hub(s) cannot be acted on:"
        )?;
        for (h, p) in plan.problems() {
            writeln!(e2, "  {h}: {p}")?;
        }
        finish(&mut out, None, "invalid")?;
        return Ok(code);
    }
    if plan.acting() == 0 {
        writeln!(
            std::io::stderr(),
            "nothing to do: every hub is already as asked"
        )?;
        finish(&mut out, None, "nothing-to-do")?;
        return Ok(exit::OK);
    }
    let mode = act::mode(confirm.yes, confirm.dry_run);
    let report = match mode {
        Mode::Unconfirmed => {
            writeln!(
                std::io::stderr(),
                "hubdeck: not confirmed: pass --yes (or --dry-run to only check)"
            )?;
            finish(&mut out, None, "not-confirmed")?;
            return Ok(exit::REFUSED);
        }
        Mode::DryRun => {
            let mut e2 = std::io::stderr();
            let sink: &mut dyn Write = if json { &mut e2 } else { &mut out };
            writeln!(sink, "dry run: checking every hub, changing nothing")?;
            rollout::dry_run(&runner, &plan, sink).await?
        }
        Mode::Run if named => {
            let mut e2 = std::io::stderr();
            let sink: &mut dyn Write = if json { &mut e2 } else { &mut out };
            one(&runner, &plan, sink).await?
        }
        Mode::Run => {
            let mut e2 = std::io::stderr();
            let sink: &mut dyn Write = if json { &mut e2 } else { &mut out };
            rollout::drive(&mut session, &runner, plan.clone(), sink).await?
        }
    };
    if mode == Mode::Run {
        save_diffs(paths, &plan, &report, &mut std::io::stderr())?;
    }
    let word = match (&report.ending, mode) {
        (core::Ending::Passed, Mode::DryRun) => "dry-run".to_string(),
        (core::Ending::Passed, _) => "ok".to_string(),
        (core::Ending::Failed { error: Some(e), .. }, _) => e.kind().to_string(),
        (core::Ending::Failed { error: None, .. }, _) => "failed".to_string(),
        (core::Ending::Cancelled { .. }, _) => "cancelled".to_string(),
    };
    finish(&mut out, Some(&report), &word)?;
    if let Some(line) = report.failure() {
        writeln!(std::io::stderr(), "hubdeck: {line}")?;
    }
    Ok(report.code())
}

/// A named hub's change: run it, no waves, no gate.
async fn one(
    runner: &crate::action::Runner,
    plan: &core::Rollout,
    out: &mut dyn Write,
) -> std::io::Result<rollout::Report> {
    let mut outcomes = Vec::new();
    let mut ending = core::Ending::Passed;
    for w in &plan.waves {
        for (hub, action) in w.actions() {
            let result = runner.execute(action, Mode::Run).await.result;
            match &result {
                Ok(m) => writeln!(out, "  {hub}: {}", m.join("; "))?,
                Err(e) => {
                    ending = core::Ending::Failed {
                        wave: w.name.clone(),
                        hub: hub.clone(),
                        why: e.to_string(),
                        error: Some(e.clone()),
                    }
                }
            }
            outcomes.push((hub.clone(), result));
        }
    }
    Ok(rollout::Report { outcomes, ending })
}

/// Each applied values change's diff, for the deployment repository, as `config apply` does.
fn save_diffs(
    paths: &Paths,
    plan: &core::Rollout,
    report: &rollout::Report,
    err: &mut dyn Write,
) -> Result<()> {
    let mut saved = 0;
    for (hub, result) in &report.outcomes {
        let Ok(_) = result else { continue };
        let Some(Action::EditHubConfig { diff, .. }) = plan
            .waves
            .iter()
            .flat_map(|w| w.actions())
            .find(|(h, _)| *h == hub)
            .map(|(_, a)| a)
        else {
            continue;
        };
        let path = config_edit::save_diff(&paths.state.join("diffs"), hub, diff)?;
        writeln!(err, "{hub}: diff written to {}", path.display())?;
        saved += 1;
    }
    if saved > 0 {
        writeln!(
            err,
            "the hubs read values.yaml at start: restart them to apply it (`hubdeck restart hub -l ...`)"
        )?;
    }
    Ok(())
}
