//! `hubdeck config show|edit|apply`: a hub's values.yaml out of its Secret and back, with the
//! version it was read at travelling with the text, so a concurrent change is a conflict
//! (exit 5, a three-way view, the edit kept), never an overwrite.

use std::io::Write;

use color_eyre::eyre::{Result, WrapErr, eyre};
use jiff::Timestamp;

use super::commands::{runner, session};
use crate::action::{
    Action, ActionError, HubConfig, Outcome, Request, ResolveError, config_edit, resolve,
};
use crate::cli::{ConfigCommand, ConfirmArgs, Global};
use crate::config::paths::Paths;
use crate::config::settings::Settings;
use crate::fleet::{HubId, HubRef};
use crate::headless::act;
use crate::headless::exit;
use crate::headless::session::Needs;
use hubdeck_core::action::values::{Base, base_line, diff_between, split_base};

/// Runs one `hubdeck config` command; returns the exit code.
pub async fn config(
    global: &Global,
    paths: &Paths,
    settings: &Settings,
    command: ConfigCommand,
) -> Result<i32> {
    let (session, _fleetwide) = session(global, paths, settings, Needs::LISTS).await?;
    let hub_ref: &HubRef = match &command {
        ConfigCommand::Show { hub, .. }
        | ConfigCommand::Edit { hub, .. }
        | ConfigCommand::Apply { hub, .. } => hub,
        ConfigCommand::Patch { .. } => {
            return Err(eyre!("config patch is run by the rollout command"));
        }
    };
    let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
    let (mut out, mut err) = (stdout.lock(), stderr.lock());
    let hub = match crate::action::find_hub(&session.fleet, hub_ref) {
        Ok(h) => h.id.clone(),
        Err(e) => return Ok(act::unresolved(&mut out, &mut err, &e)),
    };
    let runner = runner(&session, global, paths, settings);
    let current = match runner.read_config(&hub).await {
        Ok(r) => r,
        Err(e) => {
            writeln!(err, "hubdeck: {hub}: {e}")?;
            return Ok(exit::for_action(&e));
        }
    };
    let (edit, confirm) = match command {
        ConfigCommand::Show { show_secrets, .. } => {
            let values = if show_secrets {
                writeln!(
                    err,
                    "hubdeck: showing {hub}'s credentials as asked; keep them out of files"
                )?;
                current.values.clone()
            } else {
                config_edit::for_disk(&current.values)
            };
            write!(
                out,
                "{}{values}",
                base_line(&hub, &current.secret, &current.resource_version)
            )?;
            return Ok(exit::OK);
        }
        ConfigCommand::Apply {
            file,
            confirm,
            force,
            ..
        } => {
            let text =
                std::fs::read_to_string(&file).wrap_err_with(|| format!("{}", file.display()))?;
            match based_edit(&hub, &current, &text, force) {
                Ok(edit) => (edit, confirm),
                Err(why) => {
                    writeln!(err, "hubdeck: {}: {why}", file.display())?;
                    return Ok(exit::CONFLICT);
                }
            }
        }
        ConfigCommand::Patch { .. } => return Ok(exit::USAGE),
        ConfigCommand::Edit { confirm, .. } => {
            // The file the editor opens holds placeholders, never the credentials.
            let values = edit_in_editor(&config_edit::for_disk(&current.values), paths, &hub)?;
            (
                Edit {
                    base: current.clone(),
                    values,
                    forced: false,
                },
                confirm,
            )
        }
    };
    apply(
        global,
        paths,
        &session.fleet,
        &runner,
        &hub,
        &current,
        edit,
        confirm,
        (&mut out, &mut err),
    )
    .await
}

/// An edit and the version of the Secret it is based on.
struct Edit {
    base: HubConfig,
    values: String,
    /// `--force`: based on whatever the Secret holds now, on purpose.
    forced: bool,
}

/// The edit a file makes: based on the version its `hubdeck-base` line records, or (with
/// `--force` only) on the Secret as it is now. A file with no base would overwrite blindly.
fn based_edit(hub: &HubId, current: &HubConfig, text: &str, force: bool) -> Result<Edit, String> {
    let (base, values) = split_base(text).map_err(|e| e.to_string())?;
    let forced = base.is_none();
    let resource_version = match base {
        Some(Base {
            hub: shown_for,
            secret,
            resource_version,
        }) => {
            if shown_for != hub.to_string() || secret != current.secret {
                return Err(format!(
                    "this file was shown for {shown_for} (Secret {secret}), not {hub}"
                ));
            }
            resource_version
        }
        None if force => current.resource_version.clone(),
        None => {
            return Err(
                "no hubdeck-base line says which version of the Secret this edit is based on, \
                 so applying it could undo someone else's change; start from `hubdeck config \
                 show` (it writes that line), or pass --force to overwrite on purpose"
                    .into(),
            );
        }
    };
    // Same version: the text the edit started from is the current one. An older version:
    // only the cluster had it, and the write will be refused as a conflict.
    Ok(Edit {
        base: HubConfig {
            secret: current.secret.clone(),
            values: current.values.clone(),
            resource_version,
        },
        values: values.to_string(),
        forced,
    })
}

#[allow(clippy::too_many_arguments)]
async fn apply(
    global: &Global,
    paths: &Paths,
    fleet: &crate::fleet::Fleet,
    runner: &crate::action::Runner,
    hub: &HubId,
    current: &HubConfig,
    edit: Edit,
    confirm: ConfirmArgs,
    (out, err): (&mut impl Write, &mut impl Write),
) -> Result<i32> {
    let stale = edit.base.resource_version != current.resource_version;
    let request = Request::EditConfig {
        hub: HubRef::from(hub),
        base: edit.base.clone(),
        values: edit.values.clone(),
    };
    let action = match resolve(fleet, &request, Timestamp::now()) {
        Ok(a) => a,
        Err(ResolveError::NothingToDo(why)) if !stale => {
            writeln!(err, "hubdeck: {why}")?;
            return Ok(exit::OK);
        }
        Err(ResolveError::NothingToDo(_)) => {
            // Unchanged text over an older version: still a conflict to report.
            return conflict(paths, hub, current, &edit, err);
        }
        Err(e) => {
            let kept = config_edit::save_recovery(&paths.state, hub, &edit.values)?;
            writeln!(
                err,
                "hubdeck: {e} (your edit is kept in {})",
                kept.display()
            )?;
            return Ok(match e {
                ResolveError::Invalid(_) => exit::ERROR,
                other => exit::for_resolve(&other),
            });
        }
    };
    if edit.forced {
        writeln!(
            err,
            "hubdeck: --force: this edit replaces values.yaml at resourceVersion {} whatever \
             it holds",
            current.resource_version
        )?;
    }
    // The diff against the current text is the edit's own only when nothing changed since.
    if !stale && let Action::EditHubConfig { diff, .. } = &action {
        write!(out, "{diff}")?;
    }
    let outcome: Outcome = runner
        .execute(&action, act::mode(confirm.yes, confirm.dry_run))
        .await;
    if stale && matches!(outcome.result, Err(ActionError::Conflict(_))) {
        return conflict(paths, hub, current, &edit, err);
    }
    let code = act::report(out, err, global.output, &outcome)?;
    match &outcome.result {
        Ok(_) if !confirm.dry_run => {
            if let Action::EditHubConfig { diff, .. } = &action {
                let path = config_edit::save_diff(&paths.state.join("diffs"), hub, diff)?;
                writeln!(
                    err,
                    "diff written to {} (commit it to the deployment repository)",
                    path.display()
                )?;
                writeln!(
                    err,
                    "the hub reads values.yaml at start: `hubdeck restart hub {hub}` to apply it"
                )?;
            }
        }
        Err(_) => {
            let kept = config_edit::save_recovery(&paths.state, hub, &edit.values)?;
            writeln!(err, "hubdeck: your edit is kept in {}", kept.display())?;
        }
        Ok(_) => {}
    }
    Ok(code)
}

/// The Secret changed since the edit's base: nothing is written; the person sees what the
/// cluster holds now against their edit, and keeps the edit.
fn conflict(
    paths: &Paths,
    hub: &HubId,
    current: &HubConfig,
    edit: &Edit,
    err: &mut impl Write,
) -> Result<i32> {
    let kept = config_edit::save_recovery(&paths.state, hub, &edit.values)?;
    writeln!(
        err,
        "hubdeck: conflict: values.yaml of {hub} changed since your edit's base (resourceVersion \
         {} → {}); nothing was written, your edit is kept in {}",
        edit.base.resource_version,
        current.resource_version,
        kept.display()
    )?;
    writeln!(
        err,
        "theirs (the Secret now) → yours (your edit); lines marked - are changes you would undo:"
    )?;
    let theirs_to_yours = diff_between(
        &current.values,
        &edit.values,
        &format!("theirs/{hub}/values.yaml@{}", current.resource_version),
        &format!("yours/{hub}/values.yaml"),
    );
    write!(err, "{theirs_to_yours}")?;
    writeln!(
        err,
        "merge: `hubdeck config show {hub} > values.yaml`, redo your change there, then apply it"
    )?;
    Ok(exit::CONFLICT)
}

/// Opens $VISUAL/$EDITOR (vi) on a copy of the values; returns the edited text.
fn edit_in_editor(values: &str, paths: &Paths, hub: &HubId) -> Result<String> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    let dir = paths.state.join("edits");
    crate::private_files::private_dir(&dir)?;
    let file = tempfile::Builder::new()
        .prefix(&format!("{}-", hub.key.namespace))
        .suffix(".values.yaml")
        .tempfile_in(&dir)?;
    std::fs::write(file.path(), values)?;
    let mut parts = editor.split_whitespace();
    let program = parts.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(parts)
        .arg(file.path())
        .status()
        .wrap_err_with(|| format!("starting editor {editor:?}"))?;
    if !status.success() {
        return Err(eyre!(
            "editor {editor:?} exited with {status}; nothing applied"
        ));
    }
    Ok(std::fs::read_to_string(file.path())?)
}
