//! The interactive console.
//!
//! Module map, input → intent → state → draw:
//! - [`terminal`]: owns the terminal (raw mode, alternate screen) and restores it on every exit
//!   path, panics included.
//! - [`event_loop`]: `select!`s over keys, fleet updates, a tick, signals and the shutdown
//!   token; batches updates; redraws only when something changed. Never awaits network I/O.
//! - [`app`]: the state a person sees: a stack of panes (the breadcrumb), overlays, toasts; key
//!   dispatch through the keymap; [`Intent`]s back to the loop. Testable without a terminal.
//! - `panes/`: one module per pane (clusters, hubs, servers, alerts, events, detail, logs).
//! - `actions/`: cluster actions from the keyboard: the action built from the selection, prompts,
//!   the confirm dialog showing the plan, the values.yaml editor, and the tasks running them.
//! - `widgets/`: the shared table (cached, filtered, sorted, windowed), header and status line,
//!   help overlay, command palette, line input.
//! - `shell`: the terminal lent to an exec session (`s`), a state of the event loop.
//! - [`text`]: sanitising cluster strings and fitting them to a display width.
//! - [`trends`]: per-hub samples for sparklines.
//!
//! The console never talks to clusters itself: it reads the [`Fleet`], asks [`Services`] for
//! logs and descriptions (answers arrive on channels it polls), and hands cluster mutations to
//! the action layer (`action::Runner`) on tasks whose answers come back as [`ActionEvent`]s.

mod actions;
pub mod app;
mod dispatch;
pub mod event_loop;
mod intent;
mod panes;
pub mod replay;
mod shell;
pub mod terminal;
pub mod text;
pub mod trends;
mod widgets;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::config::keymap::Keymap;
use crate::config::theme::Theme;
use crate::fleet::{ClusterId, Fleet, FleetUpdate};

pub use actions::{ActionEvent, ActionSender};
pub use app::{App, Intent, Target, render_offscreen};
pub use event_loop::Feeds;

/// How the console looks and behaves, decided by the CLI from flags and config files.
#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    /// Styles by role.
    pub theme: Theme,
    /// Keys to commands.
    pub keymap: Keymap,
    /// Refuse every cluster mutation.
    pub readonly: bool,
    /// Where recovery copies of failed config edits and applied diffs are written.
    pub state_dir: PathBuf,
}

/// What a console runs with besides its options: a recorder to feed.
#[derive(Default)]
pub struct Extras {
    /// Where the batches the console applies are recorded.
    pub recorder: Option<crate::recorder::Tap>,
    /// A recording to show instead of a live fleet (every action refused).
    pub replay: Option<replay::ReplayControl>,
    /// How marked hubs are grouped into waves for a rollout.
    pub waves: hubdeck_core::rollout::WaveRules,
}

/// I/O the console asks for; implemented over kube by the runtime, by fakes in tests.
/// Must not block: answers come on the returned channels.
pub trait Services: Send + Sync + 'static {
    /// Streams a pod's log.
    fn logs(&self, req: LogRequest) -> mpsc::Receiver<LogEvent>;
    /// Describes an object, like `kubectl describe`.
    fn describe(&self, req: DescribeRequest) -> oneshot::Receiver<Result<Description, String>>;
}

/// Which pod log to stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    /// Cluster of the pod.
    pub cluster: ClusterId,
    /// Namespace of the pod.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Container, or the pod's default one.
    pub container: Option<String>,
    /// How many past lines to start with.
    pub tail_lines: u32,
    /// Keep streaming new lines.
    pub follow: bool,
    /// The container's previous (terminated) run.
    pub previous: bool,
}

/// One message of a log stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEvent {
    /// A line (unsanitised: the console cleans it).
    Line(String),
    /// The stream failed.
    Error(String),
    /// The stream ended.
    End,
}

/// Kinds of objects the console describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DescribeKind {
    /// core/v1 Pod.
    Pod,
    /// apps/v1 Deployment.
    Deployment,
    /// apps/v1 StatefulSet.
    StatefulSet,
}

/// Which object to describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeRequest {
    /// Cluster of the object.
    pub cluster: ClusterId,
    /// Kind.
    pub kind: DescribeKind,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// A kubectl-describe-like description: titled sections of key/value pairs
/// (e.g. "Labels", "Containers", "Conditions", "Events").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Description {
    /// Sections in display order.
    pub sections: Vec<(String, Vec<(String, String)>)>,
}

/// How the console ended: the process's exit code (0 on quit; 128 + the signal's number on
/// SIGINT, SIGHUP or SIGTERM, as shells report them).
pub type ExitCode = i32;

/// Runs the console until quit, shutdown, SIGINT, SIGTERM or SIGHUP; owns the terminal and
/// restores it on every exit path. Cluster mutations go through `runner` (None: the console
/// says actions are off).
pub async fn run(
    opts: ConsoleOptions,
    fleet: Fleet,
    updates: mpsc::Receiver<FleetUpdate>,
    services: Arc<dyn Services>,
    runner: Option<Arc<crate::action::Runner>>,
    shutdown: CancellationToken,
    extras: Extras,
) -> color_eyre::Result<ExitCode> {
    event_loop::run(opts, fleet, updates, services, runner, shutdown, extras).await
}

#[cfg(test)]
mod tests;
