//! Opening an exec session through the runner: the same plan, checks (read-only, a
//! SelfSubjectAccessReview for `create pods/exec`, the pod and container running) and
//! write-ahead intent as every action, then an `opened` line, and a `closed` line (exit status,
//! duration) when it ends, whichever way. What goes through the session is never written.
//!
//! Between the front end and the executor's channels runs a relay task: it tries the next
//! shell when the container cannot start the first (bash, else sh), replaying what was typed
//! meanwhile, and it writes the closing line.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use super::super::audit::{AuditLog, Phase};
use super::super::exec::{ExecChannels, ExecEnd, ExecInput, ExecOutput, ExecSession, ExecSpec};
use super::{Attempt, Mode, Outcome, Runner, Running};
use crate::action::{Action, ActionError, PodExec};

/// Input kept for a replay into the next shell: past this, the first one surely started.
const REPLAY_MAX: usize = 64 << 10;

impl Runner {
    /// Checks, audits and opens the session an [`Action::Exec`] asks for; `tty` gives the
    /// remote side a terminal. `Err` carries the outcome when no session opened: a dry run
    /// (checks passed), a refusal or a failure, audited as `execute` audits them.
    pub async fn open_exec(
        &self,
        action: &Action,
        mode: Mode,
        tty: bool,
    ) -> Result<ExecSession, Box<Outcome>> {
        let running = Running::enter(&self.in_flight);
        let plan = self.plan(action);
        let audit = Attempt::new(self, action, &plan);
        let failed = |plan, e| {
            Box::new(Outcome {
                plan,
                result: Err(e),
            })
        };
        if let Err(e) = self
            .audit
            .append(&audit.record(Phase::Intent, action.target(), None))
        {
            let why = format!(
                "audit log {}: {e}: the intent could not be recorded, so nothing was sent",
                self.audit.path().display()
            );
            return Err(failed(plan, ActionError::Failed(why)));
        }
        let opened = self.checked_open(action, &plan, mode, tty).await;
        let Opened {
            spec,
            container,
            channels,
            rest,
        } = match opened {
            Ok(Some(o)) => o,
            Ok(None) => {
                let _ = self.audit.append(&audit.record(
                    Phase::Outcome,
                    action.target(),
                    Some(&Ok(Vec::new())),
                ));
                return Err(Box::new(Outcome {
                    plan,
                    result: Ok(vec!["dry run: checks passed, no session opened".into()]),
                }));
            }
            Err(e) => {
                let _ = self.audit.append(&audit.record(
                    Phase::Outcome,
                    action.target(),
                    Some(&Err(e.clone())),
                ));
                return Err(failed(plan, e));
            }
        };
        let Some(port) = self.exec.clone() else {
            return Err(failed(plan, ActionError::Failed("no exec port".into())));
        };
        let detail = format!(
            "exec opened: {} in container {container}",
            hubdeck_core::action::quote_command(&spec.command)
        );
        let record = audit.record_as(Phase::Outcome, action.target(), "opened", detail);
        if let Err(e) = self.audit.append(&record) {
            // The session is open; a log that cannot take the line must not leave it running
            // unrecorded.
            drop(channels);
            let why = format!(
                "audit log {}: {e}: the opening could not be recorded, so the session was closed",
                self.audit.path().display()
            );
            return Err(failed(plan, ActionError::Failed(why)));
        }
        let (front_in, relay_in) = mpsc::channel(64);
        let (relay_out, front_out) = mpsc::channel(64);
        let relay = Relay {
            port,
            spec,
            rest,
            replay: Some(Vec::new()),
            replay_bytes: 0,
            skipped: Vec::new(),
        };
        let log = self.audit.clone();
        let target = action.target();
        tokio::spawn(async move {
            let started = Instant::now();
            let (end, skipped) = relay.run(channels, relay_in, &relay_out).await;
            close_record(&log, &audit, target, &end, &skipped, started);
            let _ = relay_out.send(ExecOutput::End(end)).await;
            drop(running);
        });
        Ok(ExecSession {
            summary: plan.summary,
            container,
            input: front_in,
            output: front_out,
        })
    }

    /// The checks, then (in `Mode::Run`) the first command opened. `Ok(None)` for a dry run
    /// that passed.
    async fn checked_open(
        &self,
        action: &Action,
        plan: &crate::action::Plan,
        mode: Mode,
        tty: bool,
    ) -> Result<Option<Opened>, ActionError> {
        let Action::Exec {
            hub,
            namespace,
            pod,
            container,
            ..
        } = action
        else {
            return Err(ActionError::Precondition(format!(
                "{} is not an exec session",
                action.name()
            )));
        };
        self.check(action, plan).await?;
        match mode {
            Mode::DryRun => return Ok(None),
            Mode::Unconfirmed => return Err(ActionError::NotConfirmed),
            Mode::Run => {}
        }
        let port = self.exec.as_ref().ok_or_else(|| {
            ActionError::Precondition("this runner was built without exec sessions".into())
        })?;
        let mut commands: VecDeque<Vec<String>> = action.exec_commands().into();
        let first = commands.pop_front().unwrap_or_default();
        let spec = ExecSpec {
            cluster: hub.cluster.clone(),
            namespace: namespace.clone(),
            pod: pod.clone(),
            container: container.clone(),
            command: first,
            tty,
        };
        let (container, channels) = port.open(&spec).await?;
        // The shells that follow run in the container the first one chose.
        let spec = ExecSpec {
            container: Some(container.clone()),
            ..spec
        };
        Ok(Some(Opened {
            spec,
            container,
            channels,
            rest: commands,
        }))
    }
}

/// The first command of a session, opened.
struct Opened {
    /// What was opened, in the container it chose.
    spec: ExecSpec,
    container: String,
    channels: ExecChannels,
    /// Commands to try next if this one cannot start.
    rest: VecDeque<Vec<String>>,
}

/// Relays one session between the front end and the executor, moving on to the next command
/// while the current one could not start.
struct Relay {
    port: Arc<dyn PodExec<Session = ExecChannels>>,
    spec: ExecSpec,
    /// Commands still to try.
    rest: VecDeque<Vec<String>>,
    /// Input sent while nothing came back, to give the next command; None once output came.
    replay: Option<Vec<ExecInput>>,
    replay_bytes: usize,
    /// Commands that could not start, with why.
    skipped: Vec<(String, String)>,
}

impl Relay {
    async fn run(
        mut self,
        mut current: ExecChannels,
        mut input: mpsc::Receiver<ExecInput>,
        output: &mpsc::Sender<ExecOutput>,
    ) -> (ExecEnd, Vec<(String, String)>) {
        // Input taken from the front end, waiting for room in the session: output is read
        // meanwhile, so neither side can stall the other.
        let mut held: Option<ExecInput> = None;
        let end = loop {
            let got = tokio::select! {
                out = current.output.recv() => out,
                permit = current.input.reserve(), if held.is_some() => {
                    match permit {
                        Ok(p) => {
                            if let Some(i) = held.take() {
                                p.send(i);
                            }
                        }
                        // A session that is ending drops its input; its end follows.
                        Err(_) => held = None,
                    }
                    continue;
                }
                inp = input.recv(), if held.is_none() => match inp {
                    Some(i) => {
                        self.keep(&i);
                        held = Some(i);
                        continue;
                    }
                    None => break ExecEnd::Lost("closed by hubdeck".into()),
                },
            };
            match got {
                Some(ExecOutput::End(ExecEnd::NotStarted(why)))
                    if self.replay.is_some() && !self.rest.is_empty() =>
                {
                    match self.next(why).await {
                        // What was held is in the replay the next command got.
                        Ok(next) => {
                            current = next;
                            held = None;
                        }
                        Err(end) => break end,
                    }
                }
                Some(ExecOutput::End(end)) => break end,
                Some(out) => {
                    self.replay = None;
                    if output.send(out).await.is_err() {
                        break ExecEnd::Lost("hubdeck stopped reading the session".into());
                    }
                }
                None => break ExecEnd::Lost("the session ended without an exit status".into()),
            }
        };
        (end, self.skipped)
    }

    fn keep(&mut self, i: &ExecInput) {
        let Some(kept) = self.replay.as_mut() else {
            return;
        };
        if let ExecInput::Stdin(b) = i {
            self.replay_bytes += b.len();
        }
        if self.replay_bytes > REPLAY_MAX {
            self.replay = None;
        } else {
            kept.push(i.clone());
        }
    }

    /// Opens the next command after the current one could not start, and gives it the input
    /// sent so far.
    async fn next(&mut self, why: String) -> Result<ExecChannels, ExecEnd> {
        let tried = hubdeck_core::action::quote_command(&self.spec.command);
        self.skipped.push((tried, why));
        let Some(command) = self.rest.pop_front() else {
            return Err(ExecEnd::Lost("no command left to try".into()));
        };
        self.spec.command = command;
        let (_, next) = self
            .port
            .open(&self.spec)
            .await
            .map_err(|e| ExecEnd::Lost(e.to_string()))?;
        for i in self.replay.iter().flatten() {
            let _ = next.input.send(i.clone()).await;
        }
        Ok(next)
    }
}

/// The `closed` line: how it ended and after how long, and which commands could not start.
fn close_record(
    log: &AuditLog,
    audit: &Attempt,
    target: String,
    end: &ExecEnd,
    skipped: &[(String, String)],
    started: Instant,
) {
    let mut detail = format!(
        "exec closed: {end} after {:.1}s",
        started.elapsed().as_secs_f64()
    );
    for (cmd, why) in skipped {
        detail.push_str(&format!("; {cmd} could not start ({why})"));
    }
    let outcome = match end {
        ExecEnd::Exited(_) => "closed",
        ExecEnd::NotStarted(_) | ExecEnd::Lost(_) => "failed",
    };
    if let Err(e) = log.append(&audit.record_as(Phase::Outcome, target, outcome, detail)) {
        tracing::warn!(
            "audit log {}: the closing of an exec session: {e}",
            log.path().display()
        );
    }
}
