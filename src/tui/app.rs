//! The console's state: the fleet it shows, a stack of panes (the breadcrumb), an overlay, a
//! toast. Keys are dispatched in `dispatch.rs`; this file holds the state, time and drawing.
//! Everything here runs without a terminal, so tests drive keys and render into `TestBackend`.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use ratatui::Frame;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use tokio::sync::{mpsc, oneshot};

use crate::action::Runner;
use crate::config::keymap::{Command, Context, Keymap};
use crate::config::theme::{Role, Theme};
use crate::fleet::{Fleet, FleetUpdate};

use super::actions::{ActionEvent, ActionFlow, ActionSender};
use super::panes::hubs::Hubs;
use super::panes::{Ctx, Pane, TablePane};
use super::text::{age, fit};
use super::trends::Trends;
use super::widgets::header::{Glance, draw_header, draw_status};
use super::widgets::help::Help;
use super::widgets::palette::Palette;
use super::widgets::tabs::{Where, draw_tabs};
use super::{ConsoleOptions, DescribeRequest, Description, LogEvent, LogRequest, Services};

pub use super::intent::{Intent, Target};

/// How long a toast stays.
const TOAST_FOR: SignedDuration = SignedDuration::from_secs(4);
/// How long the outcome of an action stays (it may be a path to copy or an error to read).
const OUTCOME_FOR: SignedDuration = SignedDuration::from_secs(12);
/// How often time alone re-derives health (pods pending ever longer).
const REFRESH_EVERY: SignedDuration = SignedDuration::from_secs(1);

/// An overlay over the panes.
pub(crate) enum Overlay {
    None,
    Help(Help),
    Palette(Box<Palette>),
}

/// A short message in the status line.
pub(crate) struct Toast {
    pub text: String,
    pub error: bool,
    pub until: Timestamp,
}

/// Services for consoles built without any (tests, benchmarks): every request fails at once.
struct NoServices;

impl Services for NoServices {
    fn logs(&self, _req: LogRequest) -> mpsc::Receiver<LogEvent> {
        let (tx, rx) = mpsc::channel(1);
        let _ = tx.try_send(LogEvent::Error("no log service in this console".into()));
        rx
    }

    fn describe(&self, _req: DescribeRequest) -> oneshot::Receiver<Result<Description, String>> {
        let (tx, rx) = oneshot::channel();
        let _ = tx.send(Err("no describe service in this console".into()));
        rx
    }
}

/// The console's state.
pub struct App {
    pub(crate) theme: Theme,
    pub(crate) keymap: Keymap,
    pub(crate) readonly: bool,
    pub(crate) fleet: Fleet,
    pub(crate) now: Timestamp,
    pub(crate) trends: Trends,
    pub(crate) stack: Vec<Box<dyn Pane + Send>>,
    pub(crate) overlay: Overlay,
    pub(crate) toast: Option<Toast>,
    pub(crate) services: Arc<dyn Services>,
    pub(crate) actions: ActionFlow,
    /// A quit waits for the actions in flight to answer.
    quitting: bool,
    last_refresh: Option<Timestamp>,
    pub(crate) glance: Option<(u64, Glance)>,
    fresh_shown: String,
    recorder: Option<crate::recorder::Tap>,
    pub(crate) replay: Option<super::replay::ReplayControl>,
    /// Ticks a toast has stood in replay, where the clock is the recording's.
    pub(crate) replay_toast_ticks: u16,
}

impl App {
    /// A console over `fleet`, showing every hub, worst first.
    pub fn new(opts: ConsoleOptions, fleet: Fleet) -> Self {
        let now = fleet
            .clusters()
            .filter_map(|c| c.updated)
            .max()
            .unwrap_or_else(Timestamp::now);
        let mut trends = Trends::default();
        trends.sample(&fleet, now);
        Self {
            theme: opts.theme,
            keymap: opts.keymap,
            readonly: opts.readonly,
            fleet,
            now,
            trends,
            stack: vec![Box::new(TablePane::new(Hubs::fleet()))],
            overlay: Overlay::None,
            toast: None,
            services: Arc::new(NoServices),
            actions: ActionFlow::new(None, None, opts.state_dir),
            quitting: false,
            last_refresh: None,
            glance: None,
            fresh_shown: String::new(),
            recorder: None,
            replay: None,
            replay_toast_ticks: 0,
        }
    }

    /// Records every batch applied from now on. The first snapshot goes with the first batch
    /// or tick, not here: a warm start's first frame does not wait for a copy of the fleet.
    pub fn with_recorder(mut self, tap: crate::recorder::Tap) -> Self {
        self.recorder = Some(tap);
        self
    }

    /// Ends the recording with a snapshot of the fleet as it is, so a warm start decodes that
    /// one record instead of a snapshot and the minutes of changes after it.
    pub fn close_recording(&mut self, now: Timestamp) {
        if let Some(tap) = self.recorder.take() {
            tap.close(&self.fleet, now);
        }
    }

    /// Uses `services` for logs and descriptions.
    pub fn with_services(mut self, services: Arc<dyn Services>) -> Self {
        self.services = services;
        self
    }

    /// Hands cluster mutations to `runner` (None: the console explains that actions are off);
    /// its tasks answer on `events`, which the event loop applies (see `Feeds`).
    pub fn with_actions(mut self, runner: Option<Arc<Runner>>, events: ActionSender) -> Self {
        let state_dir = std::mem::take(&mut self.actions).state_dir();
        self.actions = ActionFlow::new(runner, Some(events), state_dir);
        self
    }

    /// Groups marked hubs into these waves for rollouts (fleet.toml's `[waves]`).
    pub fn with_wave_rules(mut self, rules: hubdeck_core::rollout::WaveRules) -> Self {
        self.actions = std::mem::take(&mut self.actions).with_wave_rules(rules);
        self
    }

    /// Starts the action a mutation intent asks for: builds it from the fleet model, then a
    /// prompt or the confirm dialog. Nothing is sent before the person confirms.
    pub fn begin_action(&mut self, command: Command, target: Target) {
        self.actions.begin(command, &target, &self.fleet, self.now);
        self.take_action_notices();
    }

    /// Applies the answer of an action task; returns whether the screen changed.
    pub fn on_action_event(&mut self, event: ActionEvent) -> bool {
        let changed = self.actions.on_event(event, &self.fleet);
        self.take_action_notices();
        changed
    }

    /// The exec session a confirmed `shell` opened, once: the event loop hands it the terminal
    /// and calls [`App::shell_ended`] when it is back.
    pub fn take_shell(&mut self) -> Option<crate::action::exec::ExecSession> {
        self.actions.take_shell()
    }

    /// The terminal is back from a shell: says how the session ended (an error when it could
    /// not start or the connection was lost).
    pub fn shell_ended(&mut self, summary: &str, end: &crate::action::exec::ExecEnd) {
        use crate::action::exec::ExecEnd;
        let error = !matches!(end, ExecEnd::Exited(_));
        let text = match end {
            ExecEnd::Exited(code) => format!("✔ {summary}: closed, exit status {code}"),
            other => format!("✖ {summary}: {other}"),
        };
        self.toast = Some(Toast {
            text,
            error,
            until: self.now + OUTCOME_FOR,
        });
    }

    /// Quit asked: at once when no action is in flight. Otherwise the first quit waits for the
    /// actions to answer, so their outcomes show and are recorded (the event loop leaves when
    /// [`App::quit_ready`]); a second quit leaves at once, and the runner still writes the
    /// outcomes while the process shuts down.
    pub fn quit(&mut self) -> Intent {
        let n = self.actions.actions_in_flight();
        if n == 0 || self.quitting {
            return Intent::Quit;
        }
        self.quitting = true;
        self.notify(
            format!(
                "waiting for {n} action(s) in flight to answer before quitting \
                 (quit again to leave now; outcomes are still recorded)"
            ),
            false,
        );
        Intent::Redraw
    }

    /// A quit was asked and every action in flight has answered.
    pub fn quit_ready(&self) -> bool {
        self.quitting && self.actions.actions_in_flight() == 0
    }

    /// Whether an action task is still running.
    pub fn actions_running(&self) -> bool {
        self.actions.busy()
    }

    pub(crate) fn take_action_notices(&mut self) {
        for n in self.actions.take_notices() {
            self.toast = Some(Toast {
                text: n.text,
                error: n.error,
                until: self.now + OUTCOME_FOR,
            });
        }
        if self.actions.take_started() {
            // The spinner of the action just confirmed shows at once, over any older toast.
            self.toast = None;
        }
        if self.actions.take_clear_marks() {
            for pane in &mut self.stack {
                pane.clear_marks();
            }
        }
    }

    /// The fleet shown.
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// The active theme.
    pub fn theme(&self) -> &Theme {
        &self.theme
    }

    /// Where the person is, e.g. `Clusters › leap › Hubs`.
    pub fn breadcrumb(&self) -> String {
        self.stack
            .iter()
            .map(|p| p.crumb())
            .collect::<Vec<_>>()
            .join(" › ")
    }

    /// Applies a batch of updates at `now` and refreshes derived state once; returns whether the
    /// fleet changed.
    pub fn apply_updates(&mut self, updates: Vec<FleetUpdate>, now: Timestamp) -> bool {
        let before = self.fleet.version();
        self.now = now;
        if let Some(r) = &mut self.recorder {
            r.batch(&self.fleet, &updates, now);
        }
        self.fleet.apply_all(updates, now);
        if let Some(r) = &mut self.recorder {
            r.after_apply(&self.fleet, now);
        }
        self.last_refresh = Some(now);
        self.trends.sample(&self.fleet, now);
        self.fleet.version() != before
    }

    /// Advances the clock: time-based health, trend samples, I/O answers, toasts, the header's
    /// freshness. Returns whether the screen should be redrawn.
    pub fn tick(&mut self, now: Timestamp) -> bool {
        if self.replay.is_some() {
            return self.replay_tick();
        }
        self.now = now;
        let mut changed = false;
        if self
            .last_refresh
            .is_none_or(|t| now.duration_since(t) >= REFRESH_EVERY)
        {
            self.last_refresh = Some(now);
            changed |= self.fleet.refresh(now);
            // A quiet fleet still gets its snapshots, and a new file when one is due.
            if let Some(r) = &mut self.recorder {
                r.after_apply(&self.fleet, now);
            }
        }
        changed |= self.trends.sample(&self.fleet, now);
        changed |= self.poll_io();
        if self.toast.as_ref().is_some_and(|t| now >= t.until) {
            self.toast = None;
            changed = true;
        }
        changed |= self.freshness() != self.fresh_shown;
        changed |= self.actions.busy(); // the spinner turns
        if self.actions.tick(&self.fleet, now) {
            self.take_action_notices();
            changed = true;
        }
        changed
    }

    /// Drains answers from services (log lines, descriptions) without blocking; returns whether
    /// the visible pane changed.
    pub fn poll_io(&mut self) -> bool {
        let last = self.stack.len() - 1;
        let mut changed = false;
        for (i, pane) in self.stack.iter_mut().enumerate() {
            changed |= pane.poll() && i == last;
        }
        changed
    }

    /// Shows a message in the status line for a few seconds.
    pub fn notify(&mut self, text: impl Into<String>, error: bool) {
        self.replay_toast_ticks = 0;
        self.toast = Some(Toast {
            text: text.into(),
            error,
            until: self.now + TOAST_FOR,
        });
    }

    fn freshness(&self) -> String {
        let newest = self.fleet.clusters().filter_map(|c| c.updated).max();
        age(self.now, newest)
    }

    fn hints(&self, context: Context) -> Line<'static> {
        let wanted: &[Command] = match context {
            Context::Logs => &[
                Command::Help,
                Command::Follow,
                Command::Search,
                Command::Wrap,
                Command::Back,
            ],
            Context::Detail => &[
                Command::Help,
                Command::Logs,
                Command::Shell,
                Command::Back,
                Command::Quit,
            ],
            _ => &[
                Command::Help,
                Command::Palette,
                Command::Filter,
                Command::Open,
                Command::Back,
                Command::Quit,
            ],
        };
        let mut spans = Vec::new();
        for cmd in wanted {
            if let Some(key) = self.keymap.keys_for(context, *cmd).first() {
                spans.push(Span::styled(
                    key.to_string(),
                    self.theme.style(Role::KeyHint),
                ));
                spans.push(Span::styled(
                    format!(" {} ", cmd.name()),
                    self.theme.style(Role::Dim),
                ));
            }
        }
        Line::from(spans)
    }

    /// Draws the whole screen.
    pub fn draw(&mut self, frame: &mut Frame) {
        let area = frame.area();
        let timeline = u16::from(self.replay.is_some());
        let [head, line, crumb, body, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(timeline),
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .areas(area);
        let version = self.fleet.version();
        let glance = match &self.glance {
            Some((v, g)) if *v == version => g.clone(),
            _ => {
                let g = Glance::of(&self.fleet);
                self.glance = Some((version, g.clone()));
                g
            }
        };
        self.fresh_shown = self.freshness();
        draw_header(frame, head, &glance, self.now, &self.theme);
        if let Some(r) = &self.replay {
            super::widgets::timeline::draw_timeline(frame, line, r, &self.keymap, &self.theme);
        }
        self.draw_breadcrumb(frame, crumb);
        let ctx = Ctx {
            fleet: &self.fleet,
            theme: &self.theme,
            now: self.now,
            trends: &self.trends,
        };
        let top = self.stack.len() - 1;
        let context = self.stack[top].context();
        if self.actions.editor.is_none() {
            self.stack[top].draw(frame, body, &ctx);
        }
        self.actions.draw(frame, body, &self.keymap, &self.theme);
        match &mut self.overlay {
            Overlay::None => {}
            Overlay::Help(h) => h.draw(frame, body, &self.keymap, &self.theme),
            Overlay::Palette(p) => p.draw(frame, body, &self.theme),
        }
        let width = usize::from(area.width.saturating_sub(8));
        let right = match (&self.toast, self.actions.progress(width)) {
            (Some(t), _) => {
                let role = if t.error {
                    Role::ToastError
                } else {
                    Role::ToastInfo
                };
                Line::styled(format!(" {} ", fit(&t.text, width)), self.theme.style(role))
            }
            (None, Some(p)) => Line::styled(
                format!(" {} ", fit(&p, width)),
                self.theme.style(Role::ToastInfo),
            ),
            (None, None) => self.hints(context),
        };
        draw_status(frame, status, &self.fleet, self.now, right, &self.theme);
    }

    fn draw_breadcrumb(&self, frame: &mut Frame, area: Rect) {
        let below: Vec<String> = self.stack.iter().skip(1).map(|p| p.crumb()).collect();
        let root = self.stack.first().map(|p| p.crumb()).unwrap_or_default();
        let at = Where {
            root: &root,
            below: &below.join(" › "),
            readonly: self.readonly,
            replay: self.replay.is_some(),
        };
        draw_tabs(frame, area, &at, &self.keymap, &self.theme);
    }
}

/// Renders one frame off-screen (e.g. 120x40) and returns the buffer: what a person would see,
/// for tests and benchmarks timing a frame.
pub fn render_offscreen(app: &mut App, width: u16, height: u16) -> std::io::Result<Buffer> {
    let mut terminal = Terminal::new(TestBackend::new(width, height))?;
    terminal.draw(|f| app.draw(f))?;
    Ok(terminal.backend().buffer().clone())
}
