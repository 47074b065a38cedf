//! `hubdeck exec`: a shell, or one command, in a user's server or a hub component's pod, the
//! pod found through the fleet model as the console finds it, the session checked and audited
//! by the runner. With a terminal on stdin and stdout the remote side gets a tty (raw mode
//! here, resizes forwarded); without one, plain pipes, so `echo ls | hubdeck exec ...` works.
//! The exit code is the remote command's.

use std::io::{IsTerminal, Write};

use color_eyre::eyre::Result;
use jiff::Timestamp;
use tokio::signal::unix::{SignalKind, signal};

use crate::action::exec::{ExecEnd, ExecSession};
use crate::action::{Mode, Request, resolve};
use crate::cli::{ExecArgs, Global};
use crate::config::paths::Paths;
use crate::config::settings::Settings;
use crate::exec_io::{Pump, RawMode, Step, terminal_size};
use crate::headless::session::Needs;
use crate::headless::{act, exit};

/// Exit code when the command could not be started (as a shell says for a missing command).
const NOT_STARTED: i32 = 127;

/// Opens the session and carries it; returns the exit code.
pub async fn exec(
    global: &Global,
    paths: &Paths,
    settings: &Settings,
    args: ExecArgs,
) -> Result<i32> {
    let pod = match super::logs_cmd::pod_source(&args.target, args.component) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("hubdeck: {e}");
            return Ok(exit::USAGE);
        }
    };
    let (session, _fleetwide) =
        super::commands::session(global, paths, settings, Needs::LISTS).await?;
    let request = Request::Exec {
        pod,
        container: args.container,
        command: args.command,
    };
    let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
    let action = match resolve(&session.fleet, &request, Timestamp::now()) {
        Ok(a) => a,
        Err(e) => return Ok(act::unresolved(&mut stdout.lock(), &mut stderr.lock(), &e)),
    };
    let runner = super::commands::runner(&session, global, paths, settings);
    let tty = std::io::stdin().is_terminal() && stdout.is_terminal();
    let mode = if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Run
    };
    match runner.open_exec(&action, mode, tty).await {
        Ok(s) => carry(s, tty).await,
        Err(outcome) if args.dry_run => Ok(act::report(
            &mut stdout.lock(),
            &mut stderr.lock(),
            global.output,
            &outcome,
        )?),
        // stdout is the remote command's: a refusal is one line on stderr.
        Err(outcome) => Ok(match &outcome.result {
            Err(e) => {
                eprintln!("hubdeck: {}: {e}", outcome.plan.summary);
                exit::for_action(e)
            }
            Ok(_) => exit::OK,
        }),
    }
}

/// Carries the session until it ends or a signal comes; the terminal is restored before any
/// message is printed.
async fn carry(session: ExecSession, tty: bool) -> Result<i32> {
    let raw = if tty { Some(RawMode::enter()?) } else { None };
    let mut winch = signal(SignalKind::window_change())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut pump = Pump::start(session)?;
    if tty && let Some((w, h)) = terminal_size() {
        pump.resize(w, h);
    }
    let summary = pump.summary().to_string();
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let ended = loop {
        tokio::select! {
            step = pump.step() => match step {
                Step::Stdout(b) => {
                    if out.write_all(&b).and_then(|()| out.flush()).is_err() {
                        // `| head` closed the pipe: the rest of the output has nowhere to go.
                        break Err(exit::OK);
                    }
                }
                Step::Stderr(b) => {
                    let _ = err.write_all(&b).and_then(|()| err.flush());
                }
                Step::End(end) => break Ok(end),
                Step::Moved => {}
            },
            _ = winch.recv() => {
                if let Some((w, h)) = terminal_size() {
                    pump.resize(w, h);
                }
            }
            _ = term.recv() => break Err(143),
            _ = hup.recv() => break Err(129),
            _ = int.recv() => break Err(130),
        }
    };
    let end = match ended {
        Ok(end) => end,
        Err(code) => {
            // Left by a signal or a closed pipe: the session is closed (and its closing audited).
            pump.close().await;
            drop(raw);
            return Ok(code);
        }
    };
    drop(pump);
    drop(raw);
    Ok(match end {
        ExecEnd::Exited(code) => code,
        ExecEnd::NotStarted(why) => {
            eprintln!("hubdeck: {summary}: could not start: {why}");
            NOT_STARTED
        }
        ExecEnd::Lost(why) => {
            eprintln!("hubdeck: {summary}: connection lost: {why}");
            exit::ERROR
        }
    })
}
