//! Cluster actions from the keyboard, through the one action layer: a mutation key becomes an
//! [`Action`] built from the fleet model ([`build`]), maybe after a [`prompt`]; its plan is shown
//! in a confirm [`dialog`]; on confirm the runner executes it on a task of its own and the answer
//! comes back as an [`ActionEvent`] over the channel the event loop selects on. The config edit
//! adds a full-screen [`editor`] between the read and the dialog.
//!
//! [`ActionFlow`] is the state of all this, kept out of `App`: at most one modal (prompt, dialog,
//! discard question), the editor, and the tasks still running.

pub mod build;
pub mod dialog;
pub mod editor;
mod flow;
pub mod layout;
pub mod pick;
pub mod prompt;
pub mod rollout;
mod rollout_flow;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use crate::action::HubConfig;
use crate::action::exec::ExecSession;
use crate::action::{Action, ActionError, Outcome, Runner};
use crate::fleet::HubId;

use dialog::{ConfirmDialog, Purpose};
use editor::Editor;
use prompt::Prompt;

/// An answer from an action task.
#[derive(Debug)]
pub enum ActionEvent {
    /// `runner.execute` finished.
    Finished {
        /// Which task.
        id: u64,
        /// What happened (the runner audited it).
        outcome: Outcome,
    },
    /// The values.yaml of the marked hubs were read, for a rollout's merge patch.
    ConfigsRead {
        /// Which task.
        id: u64,
        /// Each hub's, or why not.
        configs: std::collections::BTreeMap<HubId, Result<HubConfig, ActionError>>,
    },
    /// The hub's values.yaml was read (to edit it, or to show the current version).
    ConfigRead {
        /// Which task.
        id: u64,
        /// Which hub.
        hub: HubId,
        /// What was read.
        result: Result<HubConfig, ActionError>,
    },
    /// An exec session passed its checks and opened (or did not: the outcome says why).
    ExecOpened {
        /// Which task.
        id: u64,
        /// The session, for the console to hand the terminal to.
        result: Result<ExecSession, Box<Outcome>>,
    },
}

/// Where action tasks send their answers.
pub type ActionSender = mpsc::UnboundedSender<ActionEvent>;

/// The one modal window actions may have open.
#[derive(Default)]
pub(crate) enum Modal {
    #[default]
    None,
    Prompt(Box<Prompt>),
    Confirm(Box<ConfirmDialog>),
    /// The wave plan of a rollout over marked hubs.
    Rollout(Box<rollout::RolloutDialog>),
    /// Which of a node's pods a shell goes into.
    Pick(Box<pick::PodPicker>),
    /// "Discard your changes to values.yaml?"
    Discard,
}

/// What a running task is for.
#[derive(Debug, Clone, PartialEq)]
enum Task {
    /// An action; `purpose` says where its outcome goes.
    Run {
        action: Box<Action>,
        purpose: Purpose,
    },
    /// Reading values.yaml to open the editor.
    OpenEditor,
    /// Reading values.yaml to show beside the edit.
    LoadCurrent,
    /// Reading the marked hubs' values.yaml to plan a merge patch over them.
    ReadConfigs {
        hubs: Vec<HubId>,
        what: hubdeck_core::rollout::HubAction,
        pace: hubdeck_core::rollout::Pace,
    },
    /// One hub's action of the running rollout.
    RolloutHub { hub: HubId },
    /// Checking and opening an exec session.
    OpenShell,
}

/// A rollout being run: the core's progress, and when it started.
struct RolloutRun {
    progress: hubdeck_core::rollout::Progress,
    since: Instant,
}

/// A task that has not answered yet.
struct Running {
    id: u64,
    label: String,
    since: Instant,
    task: Task,
}

/// Something for the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// One line.
    pub text: String,
    /// Shown as an error.
    pub error: bool,
}

/// The state of actions in the console.
#[derive(Default)]
pub struct ActionFlow {
    runner: Option<Arc<Runner>>,
    events: Option<ActionSender>,
    state_dir: PathBuf,
    pub(crate) modal: Modal,
    pub(crate) editor: Option<Editor>,
    running: Vec<Running>,
    next_id: u64,
    notices: Vec<Notice>,
    clear_marks: bool,
    started: bool,
    rules: hubdeck_core::rollout::WaveRules,
    rollout: Option<RolloutRun>,
    /// A session that opened, for the event loop to hand the terminal to.
    shell: Option<ExecSession>,
}

impl ActionFlow {
    /// Actions through `runner` (None: none, and the person is told why); failed edits and applied
    /// diffs are written under `state_dir`.
    pub fn new(
        runner: Option<Arc<Runner>>,
        events: Option<ActionSender>,
        state_dir: PathBuf,
    ) -> Self {
        Self {
            runner,
            events,
            state_dir,
            modal: Modal::None,
            editor: None,
            running: Vec::new(),
            next_id: 0,
            notices: Vec::new(),
            clear_marks: false,
            started: false,
            rules: Default::default(),
            rollout: None,
            shell: None,
        }
    }

    /// Groups marked hubs into these waves (fleet.toml's `[waves]`).
    pub fn with_wave_rules(mut self, rules: hubdeck_core::rollout::WaveRules) -> Self {
        self.rules = rules;
        self
    }

    /// Where failed edits and applied diffs go.
    pub fn state_dir(self) -> PathBuf {
        self.state_dir
    }

    /// Whether keys go to actions (a modal or the editor is open).
    pub fn has_focus(&self) -> bool {
        !matches!(self.modal, Modal::None) || self.editor.is_some()
    }

    /// Whether any task is still running.
    pub fn busy(&self) -> bool {
        !self.running.is_empty()
    }

    /// How many cluster actions are in flight (reads of a hub's config do not count).
    pub fn actions_in_flight(&self) -> usize {
        self.running
            .iter()
            .filter(|r| {
                matches!(
                    r.task,
                    Task::Run { .. } | Task::RolloutHub { .. } | Task::OpenShell
                )
            })
            .count()
    }

    /// The exec session that opened since the last call: the terminal is its now.
    pub fn take_shell(&mut self) -> Option<ExecSession> {
        self.shell.take()
    }

    /// Messages for the status line since the last call.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// Whether a task was started since the last call (its spinner should show at once).
    pub fn take_started(&mut self) -> bool {
        std::mem::take(&mut self.started)
    }

    /// Whether marked rows should be forgotten (an action on them was confirmed).
    pub fn take_clear_marks(&mut self) -> bool {
        std::mem::take(&mut self.clear_marks)
    }

    /// The progress line while tasks run, in at most `width` columns: a spinner, what runs,
    /// for how long.
    pub fn progress(&self, width: usize) -> Option<String> {
        const SPIN: [char; 8] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧'];
        if let Some(run) = &self.rollout {
            let elapsed = run.since.elapsed();
            let frame = SPIN[(elapsed.as_millis() / 100) as usize % SPIN.len()];
            let hub_for = self
                .running
                .iter()
                .find(|r| matches!(r.task, Task::RolloutHub { .. }))
                .map(|r| r.since.elapsed())
                .unwrap_or_default();
            let status = run.progress.status();
            let line = rollout::progress_line(
                &run.progress.rollout().what,
                &status,
                hub_for,
                width.saturating_sub(2),
            );
            return Some(format!("{frame} {line}"));
        }
        let last = self.running.last()?;
        let elapsed = last.since.elapsed();
        let frame = SPIN[(elapsed.as_millis() / 100) as usize % SPIN.len()];
        let more = match self.running.len() {
            1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        Some(format!(
            "{frame} {}… {:.1}s{more}",
            last.label,
            elapsed.as_secs_f32()
        ))
    }

    fn notify(&mut self, text: impl Into<String>, error: bool) {
        self.notices.push(Notice {
            text: text.into(),
            error,
        });
    }
}

/// One line for an action error, led by its kind (refused, conflict, failed).
pub fn error_line(e: &ActionError) -> String {
    let text = e.to_string();
    if text.starts_with(e.kind()) {
        text
    } else {
        format!("{}: {text}", e.kind())
    }
}
