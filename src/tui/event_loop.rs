//! The console's loop: `select!`s over terminal events, fleet updates (drained and applied as
//! one batch), a tick, SIGTERM/SIGHUP and the shutdown token. It never awaits network I/O and
//! redraws only when something changed, at most once per `FRAME`.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use jiff::Timestamp;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::fleet::{Fleet, FleetUpdate};

use super::app::{App, Intent};
use super::terminal::Tui;
use super::{ConsoleOptions, Services};

/// Shortest time between two frames.
const FRAME: Duration = Duration::from_millis(12);
/// Clock tick: I/O polling, toasts, time-based health, trend samples.
const TICK: Duration = Duration::from_millis(100);
/// Most updates applied in one batch, so a flood cannot starve keys.
const MAX_BATCH: usize = 50_000;

/// Runs the console until quit, shutdown or a terminating signal.
pub async fn run(
    opts: ConsoleOptions,
    fleet: Fleet,
    mut updates: mpsc::Receiver<FleetUpdate>,
    services: Arc<dyn Services>,
    shutdown: CancellationToken,
) -> color_eyre::Result<()> {
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut tui = Tui::enter()?;
    let mut app = App::new(opts, fleet).with_services(services);
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut updates_open = true;
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    loop {
        if dirty && last_draw.elapsed() >= FRAME {
            tui.terminal.draw(|f| app.draw(f))?;
            last_draw = Instant::now();
            dirty = false;
        }
        let next_frame = sleep_until(last_draw + FRAME);
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = sigterm.recv() => break,
            _ = sighup.recv() => break,
            event = keys.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    match app.handle_key(key) {
                        Intent::None => {}
                        Intent::Redraw => dirty = true,
                        Intent::Quit => break,
                        Intent::Mutation { command, target } => {
                            // The action layer plugs in here (plan → confirm → run → audit).
                            app.notify(
                                format!("{} on {target}: actions are not available in this build", command.name()),
                                true,
                            );
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
            first = updates.recv(), if updates_open => match first {
                Some(first) => {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match updates.try_recv() {
                            Ok(u) => batch.push(u),
                            Err(_) => break,
                        }
                    }
                    dirty |= app.apply_updates(batch, Timestamp::now());
                }
                None => updates_open = false,
            },
            _ = tick.tick() => dirty |= app.tick(Timestamp::now()),
            () = next_frame, if dirty => {}
        }
    }
    drop(tui);
    Ok(())
}
