//! Running what a command or runbook step asked for through the action layer with `--yes` /
//! `--dry-run`, and reporting it (the request itself is resolved by the core's `resolve`).

use std::io::Write;

use super::output::Format;
use crate::action::{Mode, Outcome, ResolveError, Via};

/// Mode from the confirmation flags.
pub fn mode(yes: bool, dry_run: bool) -> Mode {
    if dry_run {
        Mode::DryRun
    } else if yes {
        Mode::Run
    } else {
        Mode::Unconfirmed
    }
}

/// Prints the plan and the outcome; returns the exit code.
pub fn report(
    out: &mut impl Write,
    err: &mut impl Write,
    format: Format,
    outcome: &Outcome,
) -> std::io::Result<i32> {
    let code = match &outcome.result {
        Ok(_) => super::exit::OK,
        Err(e) => super::exit::for_action(e),
    };
    match format {
        Format::Json | Format::Yaml => {
            let (status, messages) = match &outcome.result {
                Ok(m) => ("ok".to_string(), m.clone()),
                Err(e) => (e.kind().to_string(), vec![e.to_string()]),
            };
            let doc = serde_json::json!({
                "apiVersion": "hubdeck/v1",
                "kind": "ActionResult",
                "plan": outcome.plan,
                "outcome": status,
                "messages": messages,
            });
            if format == Format::Json {
                serde_json::to_writer_pretty(&mut *out, &doc)?;
                writeln!(out)?;
            } else {
                out.write_all(
                    serde_yaml_ng::to_string(&doc)
                        .map_err(std::io::Error::other)?
                        .as_bytes(),
                )?;
            }
        }
        Format::Table | Format::Wide => {
            let p = &outcome.plan;
            writeln!(out, "plan: {} (cluster {})", p.summary, p.cluster)?;
            for (i, step) in p.steps.iter().enumerate() {
                let via = match &step.via {
                    Via::Kubernetes { call } => call.describe(),
                    Via::HubApi { request } => format!("hub API {request}"),
                    Via::Alertmanager { request } => format!("Alertmanager {request}"),
                };
                writeln!(out, "  {}. {} [{via}]", i + 1, step.what)?;
            }
            for w in &p.warnings {
                writeln!(out, "  warning: {w}")?;
            }
            match &outcome.result {
                Ok(msgs) => {
                    for m in msgs {
                        writeln!(out, "{m}")?;
                    }
                }
                Err(e) => writeln!(err, "hubdeck: {e}")?,
            }
        }
    }
    Ok(code)
}

/// A request that resolved to no action: one line, and the exit code of its kind. Nothing to
/// do (already scaled, no idle server) is a success, so scripts and runbooks are idempotent.
pub fn unresolved(out: &mut impl Write, err: &mut impl Write, e: &ResolveError) -> i32 {
    if let ResolveError::NothingToDo(why) = e {
        let _ = writeln!(out, "nothing to do: {why}");
    } else {
        let _ = writeln!(err, "hubdeck: {e}");
    }
    super::exit::for_resolve(e)
}
