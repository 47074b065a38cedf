//! The headless mutation commands: restart, scale, stop, config, silence, wait, run, audit.

use std::io::Write;
use std::time::Duration;

use color_eyre::eyre::{Result, eyre};
use jiff::Timestamp;

use crate::action::{AuditLog, Mode, Request, Runner, effect_visible, resolve as bind};
use crate::cli::{ConfirmArgs, Global};
use crate::config::paths::Paths;
use crate::config::settings::Settings;
use crate::fleet::HubRef;
use crate::headless::act;
use crate::headless::exit;
use crate::headless::session::{Needs, Session};

use super::resolve;

/// How long after a successful action the command waits for the watch to show its effect.
const EFFECT_WAIT: Duration = Duration::from_secs(15);

/// A settled session over the clusters the flags name.
pub async fn session(
    global: &Global,
    paths: &Paths,
    settings: &Settings,
    needs: Needs,
) -> Result<(Session, super::Fleetwide)> {
    let fleetwide = resolve(global, paths).await?;
    let timeout = Duration::from_secs(global.timeout.unwrap_or(settings.connect_timeout_secs));
    let mut session = Session::start_with(
        fleetwide.targets.clone(),
        settings.thresholds(),
        crate::sources::Polls::from_settings(settings),
        settings.watch_idle(),
    );
    session.settle_for(timeout, needs).await;
    Ok((session, fleetwide))
}

/// The action runner for a session.
pub fn runner(session: &Session, global: &Global, paths: &Paths, settings: &Settings) -> Runner {
    session.runner(
        global.readonly || settings.readonly,
        AuditLog::new(paths.audit_log()),
    )
}

/// Resolves, runs and reports one mutation; waits for its effect to reach the model.
pub async fn act(
    global: &Global,
    paths: &Paths,
    settings: &Settings,
    request: Request,
    confirm: ConfirmArgs,
) -> Result<i32> {
    // Idle servers are judged by the hub API's last activity; silences need the alerts; the
    // rest acts on what the watchers list.
    let needs = Needs {
        alerts: matches!(request, Request::Silence { .. }),
        activity: matches!(
            request,
            Request::StopIdle { .. } | Request::StopServers { .. }
        ),
        metrics: false,
        outside: false,
    };
    let (mut session, _fleetwide) = session(global, paths, settings, needs).await?;
    if let Request::Silence { .. } = request {
        // Alertmanager alerts arrive with the first poll, a moment after the lists.
        let r = request.clone();
        session
            .wait_for(Duration::from_secs(10), |f| {
                bind(f, &r, Timestamp::now()).is_ok()
            })
            .await;
    }
    let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
    let (mut out, mut err) = (stdout.lock(), stderr.lock());
    let action = match bind(&session.fleet, &request, Timestamp::now()) {
        Ok(a) => a,
        Err(e) => return Ok(act::unresolved(&mut out, &mut err, &e)),
    };
    let runner = runner(&session, global, paths, settings);
    let started = Timestamp::now();
    let mode = act::mode(confirm.yes, confirm.dry_run);
    let outcome = runner.execute(&action, mode).await;
    let code = act::report(&mut out, &mut err, global.output, &outcome)?;
    if mode == Mode::Run && outcome.result.is_ok() {
        let clock = std::time::Instant::now();
        let seen = session
            .wait_for(EFFECT_WAIT, |f| effect_visible(f, &action, started))
            .await;
        if seen {
            writeln!(
                err,
                "visible in the fleet model after {} ms",
                clock.elapsed().as_millis()
            )?;
        } else {
            writeln!(
                err,
                "hubdeck: not yet visible in the fleet model after {}s",
                EFFECT_WAIT.as_secs()
            )?;
        }
    }
    Ok(code)
}

/// `hubdeck wait hub C/H --ready|--no-pending --for 5m`.
pub async fn wait(
    global: &Global,
    paths: &Paths,
    settings: &Settings,
    hub: HubRef,
    no_pending: bool,
    within: Duration,
) -> Result<i32> {
    let (mut session, _fleetwide) = session(global, paths, settings, Needs::LISTS).await?;
    let cond = crate::headless::runbook::WaitFor {
        hub,
        ready: !no_pending,
        no_pending,
    };
    let clock = std::time::Instant::now();
    match crate::headless::runbook::wait(&mut session, &cond, within).await {
        Ok(()) => {
            eprintln!(
                "{} after {:.1}s",
                cond.describe(),
                clock.elapsed().as_secs_f64()
            );
            Ok(exit::OK)
        }
        Err(e) => {
            eprintln!("hubdeck: {e}");
            Ok(exit::ERROR)
        }
    }
}

/// `hubdeck audit`.
pub fn audit(paths: &Paths, global: &Global, last: usize) -> Result<i32> {
    let log = AuditLog::new(paths.audit_log());
    // What happened to each target; an intent with no outcome (hubdeck was killed or crashed
    // while the request was out) is shown as such, for a person to check the cluster.
    let records: Vec<_> = log
        .attempts()?
        .into_iter()
        .flat_map(|a| match (a.intent, a.outcomes.is_empty()) {
            (Some(mut intent), true) => {
                intent.outcome = "unknown outcome".into();
                intent.detail = "an intent with no outcome: hubdeck stopped while the action \
                                 was under way; check the cluster"
                    .into();
                vec![intent]
            }
            (_, _) => a.outcomes,
        })
        .collect();
    let skip = records.len().saturating_sub(last);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    crate::headless::output::write_rows(
        &mut out,
        global.output,
        records.into_iter().skip(skip),
        Timestamp::now(),
    )?;
    Ok(exit::OK)
}

/// Mode for a runbook's actions.
pub fn runbook_mode(confirm: ConfirmArgs) -> Mode {
    act::mode(confirm.yes, confirm.dry_run)
}

/// `hubdeck silences C [--expire ID]`.
pub async fn silences(
    global: &Global,
    paths: &Paths,
    settings: &Settings,
    cluster: String,
    expire: Option<String>,
    confirm: ConfirmArgs,
) -> Result<i32> {
    let (session, _fleetwide) = session(global, paths, settings, Needs::LISTS).await?;
    let id = crate::fleet::ClusterId::new(cluster.as_str());
    if session.fleet.cluster(&cluster).is_none() {
        let known: Vec<String> = session.fleet.clusters().map(|c| c.id.to_string()).collect();
        return Err(eyre!(
            "unknown cluster {cluster:?}; available: {}",
            known.join(", ")
        ));
    }
    let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
    let (mut out, mut err) = (stdout.lock(), stderr.lock());
    if let Some(silence) = expire {
        let action = crate::action::Action::ExpireSilence {
            cluster: id,
            id: silence,
        };
        let runner = runner(&session, global, paths, settings);
        let outcome = runner
            .execute(&action, act::mode(confirm.yes, confirm.dry_run))
            .await;
        return Ok(act::report(&mut out, &mut err, global.output, &outcome)?);
    }
    let list = session
        .sources
        .silencer
        .list(&id)
        .await
        .map_err(|e| eyre!("silences of {cluster}: {e}"))?;
    crate::headless::output::write_rows(
        &mut out,
        global.output,
        list.into_iter(),
        Timestamp::now(),
    )?;
    Ok(exit::OK)
}
