//! The console's loop: `select!`s over terminal events, the [`Feeds`] (fleet updates drained and
//! applied as one batch, answers of action tasks), a tick, SIGTERM/SIGHUP and the shutdown token.
//! It never awaits network I/O and redraws only when something changed, at most once per `FRAME`.
//!
//! While a shell has the terminal ([`HandOver`]) the loop is in another state: it reads no keys
//! (stdin is the shell's) and draws nothing, carries the session's output and the terminal's
//! resizes instead, and keeps applying updates; when the session ends it takes the terminal
//! back and redraws.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use jiff::Timestamp;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::action::Runner;
use crate::fleet::{Fleet, FleetUpdate};

use super::actions::{ActionEvent, ActionSender};
use super::app::{App, Intent};
use super::shell::HandOver;
use super::terminal::Tui;
use super::{ConsoleOptions, Services};

/// Shortest time between two frames.
const FRAME: Duration = Duration::from_millis(12);
/// Clock tick: I/O polling, toasts, time-based health, trend samples.
const TICK: Duration = Duration::from_millis(100);
/// Most updates applied in one batch, so a flood cannot starve keys.
const MAX_BATCH: usize = 50_000;

/// What the console applies besides keys: fleet updates and the answers of action tasks. The
/// event loop selects on [`Feeds::apply_next`]; tests drive a console with it the same way.
pub struct Feeds {
    updates: mpsc::Receiver<FleetUpdate>,
    updates_open: bool,
    actions: mpsc::UnboundedReceiver<ActionEvent>,
    sender: ActionSender,
}

impl Feeds {
    /// Feeds over the supervisors' update channel, with a fresh channel for action answers.
    pub fn new(updates: mpsc::Receiver<FleetUpdate>) -> Self {
        let (sender, actions) = mpsc::unbounded_channel();
        Self {
            updates,
            updates_open: true,
            actions,
            sender,
        }
    }

    /// Where action tasks send their answers (give it to [`App::with_actions`]).
    pub fn action_sender(&self) -> ActionSender {
        self.sender.clone()
    }

    /// Waits for the next batch of fleet updates or the next action answer and applies it;
    /// returns whether the screen changed. Cancel-safe: nothing is lost when another branch of
    /// a `select!` wins.
    pub async fn apply_next(&mut self, app: &mut App) -> bool {
        tokio::select! {
            first = self.updates.recv(), if self.updates_open => match first {
                Some(first) => {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match self.updates.try_recv() {
                            Ok(u) => batch.push(u),
                            Err(_) => break,
                        }
                    }
                    app.apply_updates(batch, Timestamp::now())
                }
                None => {
                    self.updates_open = false;
                    false
                }
            },
            Some(event) = self.actions.recv() => app.on_action_event(event),
        }
    }
}

/// Runs the console until quit, shutdown or a terminating signal.
pub async fn run(
    opts: ConsoleOptions,
    fleet: Fleet,
    updates: mpsc::Receiver<FleetUpdate>,
    services: Arc<dyn Services>,
    runner: Option<Arc<Runner>>,
    shutdown: CancellationToken,
    extras: super::Extras,
) -> color_eyre::Result<i32> {
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    // In raw mode ctrl-c is a key; a SIGINT still comes from `kill -INT` or a job control.
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut winch = signal(SignalKind::window_change())?;
    let mut code = 0;
    let mut tui = Tui::enter()?;
    let mut feeds = Feeds::new(updates);
    let mut app = App::new(opts, fleet)
        .with_services(services)
        .with_actions(runner, feeds.action_sender())
        .with_wave_rules(extras.waves.clone());
    if let Some(tap) = extras.recorder {
        app = app.with_recorder(tap);
    }
    if let Some(r) = extras.replay {
        app = app.with_replay(r);
    }
    // None while a shell holds the terminal: keys are its, not the console's.
    let mut keys = Some(EventStream::new());
    let mut shell: Option<HandOver> = None;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    loop {
        let drawing = shell.is_none();
        if drawing && dirty && last_draw.elapsed() >= FRAME {
            tui.terminal.draw(|f| app.draw(f))?;
            last_draw = Instant::now();
            dirty = false;
        }
        let next_frame = sleep_until(last_draw + FRAME);
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = sigterm.recv() => {
                code = 143;
                break;
            }
            _ = sighup.recv() => {
                code = 129;
                break;
            }
            _ = sigint.recv() => {
                code = 130;
                break;
            }
            event = next_key(&mut keys) => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    match app.handle_key(key) {
                        Intent::None => {}
                        Intent::Redraw => dirty = true,
                        Intent::Quit => break,
                        Intent::Mutation { command, target } => {
                            // Plan → confirm (dialog) → run on a task → answer via `feeds`.
                            app.begin_action(command, target);
                            dirty = true;
                        }
                    }
                }
                Some(Ok(Event::Resize(..))) => {
                    tui.terminal.autoresize()?;
                    dirty = true;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            changed = feeds.apply_next(&mut app) => {
                dirty |= changed;
                if app.quit_ready() {
                    break;
                }
                if shell.is_none() && let Some(session) = app.take_shell() {
                    // Keys stop being read before the shell reads stdin.
                    keys = None;
                    match HandOver::begin(&mut tui, session) {
                        Ok(h) => shell = Some(h),
                        Err(e) => {
                            tui.resume()?;
                            keys = Some(EventStream::new());
                            let why = format!("shell: the terminal could not be handed over: {e}");
                            app.notify(why, true);
                        }
                    }
                }
            }
            end = shell_step(&mut shell) => {
                if let Some(end) = end
                    && let Some(h) = shell.take()
                {
                    let summary = h.summary().to_string();
                    let end = h.finish(&mut tui, Some(end)).await?;
                    keys = Some(EventStream::new());
                    app.shell_ended(&summary, &end);
                    dirty = true;
                }
            }
            _ = winch.recv(), if shell.is_some() => {
                if let Some(h) = shell.as_mut() {
                    h.resize();
                }
            }
            _ = tick.tick() => dirty |= app.tick(Timestamp::now()),
            () = next_frame, if dirty && drawing => {}
        }
    }
    if let Some(h) = shell.take() {
        // Left during a shell (a signal, the shutdown): close it, so its closing is audited.
        let _ = h.finish(&mut tui, None).await;
    }
    drop(tui);
    // After the terminal is back: the last state is what the next console's warm start reads.
    app.close_recording(Timestamp::now());
    Ok(code)
}

/// The next terminal event, or never while a shell holds the terminal.
async fn next_key(keys: &mut Option<EventStream>) -> Option<std::io::Result<Event>> {
    match keys {
        Some(k) => k.next().await,
        None => std::future::pending().await,
    }
}

/// The next step of the shell holding the terminal (its end, once), or never without one.
async fn shell_step(shell: &mut Option<HandOver>) -> Option<crate::action::exec::ExecEnd> {
    match shell {
        Some(h) => h.step().await,
        None => std::future::pending().await,
    }
}
