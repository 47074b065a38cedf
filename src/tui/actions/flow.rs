//! The steps of the flow: begin (build, prompt, read), keys in modals and the editor, confirm
//! (spawn the runner), and the answers of tasks.

use std::sync::Arc;
use std::time::Instant;

use crossterm::event::KeyEvent;
use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;

use crate::action::config_edit::{save_diff, save_recovery};
use crate::action::{Action, ActionError, Mode, Outcome, Request, Runner, humanize};
use crate::config::keymap::{Command, Context, Key, Keymap};
use crate::config::theme::Theme;
use crate::fleet::{Fleet, HubId, HubRef};

use super::super::app::Target;
use super::build::{self, Begin, NotNow, ScaleWhat};
use super::dialog::{self, ConfirmDialog, DialogOutcome, Purpose};
use super::editor::{Editor, EditorOutcome};
use super::pick::PickOutcome;
use super::prompt::{Prompt, PromptOutcome};
use super::{ActionEvent, ActionFlow, Modal, Running, Task, error_line};

/// What the confirm dialog says above the servers a `stop-idle` chose.
fn idle_note(target: &Target, action: &Action) -> Option<String> {
    let (Target::IdleServers { hub, idle_for }, Action::StopServers { servers }) = (target, action)
    else {
        return None;
    };
    Some(format!(
        "{} server(s) of {hub} idle for more than {} (last activity the hub reported, else the \
         pod's start time), most idle first:",
        servers.len(),
        humanize(*idle_for)
    ))
}

impl ActionFlow {
    fn runner(&mut self, what: &str) -> Option<Arc<Runner>> {
        if self.runner.is_none() {
            self.notify(
                format!(
                    "{what}: actions are off in this console (it was started without an action \
                     runner, so there is no cluster connection to act through)"
                ),
                true,
            );
        }
        self.runner.clone()
    }

    /// Starts what a mutation command asks for on `target` (already checked by the app).
    pub fn begin(&mut self, command: Command, target: &Target, fleet: &Fleet, now: Timestamp) {
        if self
            .runner(&format!("{} on {target}", command.name()))
            .is_none()
        {
            return;
        }
        match build::begin(command, target, fleet, now) {
            Err(why) => self.not_now(why),
            Ok(Begin::Ready(action)) => {
                let note = idle_note(target, &action);
                self.confirm(action, Purpose::Plain, note);
            }
            Ok(b) => self.proceed(b),
        }
    }

    fn not_now(&mut self, why: NotNow) {
        self.notify(why.message, why.error);
    }

    fn proceed(&mut self, begin: Begin) {
        match &begin {
            Begin::Ready(action) => self.confirm(action.clone(), Purpose::Plain, None),
            Begin::Replicas {
                hub, what, current, ..
            } => {
                let (title, label) = match what {
                    ScaleWhat::Hub => (
                        format!("scale hub {hub}"),
                        "replicas (0 = maintenance, 1 = up)",
                    ),
                    ScaleWhat::Placeholders => {
                        (format!("scale user placeholders of {hub}"), "replicas")
                    }
                };
                let current = current.map(|c| c.to_string()).unwrap_or_default();
                let p = Prompt::new(title, &[(label, &current)], begin);
                self.modal = Modal::Prompt(Box::new(p));
            }
            Begin::Silence { cluster, alert, .. } => {
                let title = format!("silence {alert} on {cluster}");
                let fields = [("for", "2h"), ("comment", "")];
                let p = Prompt::new(title, &fields, begin);
                self.modal = Modal::Prompt(Box::new(p));
            }
            Begin::Rollout { hubs, kind } => self.rollout_prompt(hubs.clone(), *kind),
            Begin::PickPod(picker) => self.modal = Modal::Pick(picker.clone()),
            Begin::ReadConfig(hub) => {
                if self.editor.is_some() {
                    return self.notify("an edit of values.yaml is already open", true);
                }
                self.spawn_read(hub.clone(), Task::OpenEditor);
            }
        }
    }

    fn confirm(&mut self, action: Action, purpose: Purpose, note: Option<String>) {
        let Some(runner) = self.runner.clone() else {
            return;
        };
        let plan = runner.plan(&action);
        let mut dialog = ConfirmDialog::new(action, plan, purpose);
        if let Some(note) = note {
            dialog = dialog.with_note(note);
        }
        self.modal = Modal::Confirm(Box::new(dialog));
    }

    /// Handles a key while a modal or the editor has the keyboard.
    pub fn handle_key(&mut self, key: KeyEvent, keymap: &Keymap, fleet: &Fleet) {
        let k = Key::from_event(&key);
        match std::mem::replace(&mut self.modal, Modal::None) {
            Modal::Prompt(mut p) => match p.handle(keymap.lookup_in(Context::Input, k), &key) {
                PromptOutcome::Stay => self.modal = Modal::Prompt(p),
                PromptOutcome::Cancel => self.notify("cancelled: nothing was sent", false),
                PromptOutcome::Submit(values) => {
                    if let Begin::Rollout { hubs, kind } = &p.begin {
                        match kind.read_prompt(&values) {
                            Ok((what, pace)) => self.rollout_asked(hubs.clone(), what, pace, fleet),
                            Err(e) => {
                                p.error = Some(e);
                                self.modal = Modal::Prompt(p);
                            }
                        }
                        return;
                    }
                    match build::from_prompt(&p.begin, &values, fleet, Timestamp::now()) {
                        Ok(action) => self.confirm(action, Purpose::Plain, None),
                        Err(e) => {
                            p.error = Some(e.message);
                            self.modal = Modal::Prompt(p);
                        }
                    }
                }
            },
            Modal::Confirm(mut d) => match d.handle(keymap, &key) {
                DialogOutcome::Stay => self.modal = Modal::Confirm(d),
                DialogOutcome::Cancel => self.notify("cancelled: nothing was sent", false),
                DialogOutcome::Confirm => self.run(*d),
            },
            Modal::Rollout(mut d) => match d.handle(keymap, &key) {
                DialogOutcome::Stay => self.modal = Modal::Rollout(d),
                DialogOutcome::Cancel => self.notify("cancelled: nothing was sent", false),
                DialogOutcome::Confirm => self.start_rollout(d.rollout, fleet),
            },
            Modal::Pick(mut p) => match p.handle(keymap, &key) {
                PickOutcome::Stay => self.modal = Modal::Pick(p),
                PickOutcome::Cancel => self.notify("cancelled: nothing was sent", false),
                PickOutcome::Pick(pod) => {
                    let request = Request::Exec {
                        pod,
                        container: None,
                        command: Vec::new(),
                    };
                    match build::bind(fleet, &request, Timestamp::now()) {
                        Ok(action) => self.confirm(action, Purpose::Plain, None),
                        Err(why) => self.not_now(why),
                    }
                }
            },
            Modal::Discard => match keymap.lookup_in(Context::Dialog, k) {
                Some(Command::Confirm) => {
                    self.editor = None;
                    self.notify("edit discarded: values.yaml unchanged", false);
                }
                Some(Command::Cancel) => {}
                _ => self.modal = Modal::Discard,
            },
            Modal::None => self.editor_key(key, fleet),
        }
    }

    fn editor_key(&mut self, key: KeyEvent, fleet: &Fleet) {
        let Some(ed) = self.editor.as_mut() else {
            return;
        };
        match ed.handle(key) {
            EditorOutcome::Stay => {}
            EditorOutcome::Save(text) => {
                let request = Request::EditConfig {
                    hub: HubRef::from(&ed.hub),
                    base: ed.base.clone(),
                    values: text,
                };
                match build::bind(fleet, &request, Timestamp::now()) {
                    Ok(action) => self.confirm(action, Purpose::ConfigEdit, None),
                    Err(why) => ed.error = Some(why.message),
                }
            }
            EditorOutcome::Close { unsaved: true } => self.modal = Modal::Discard,
            EditorOutcome::Close { unsaved: false } => self.editor = None,
            EditorOutcome::LoadCurrent => {
                let hub = ed.hub.clone();
                self.spawn_read(hub, Task::LoadCurrent);
            }
        }
    }

    pub(super) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Runs a confirmed action on a task; the answer comes back as [`ActionEvent::Finished`].
    fn run(&mut self, dialog: ConfirmDialog) {
        let (Some(runner), Some(tx)) = (self.runner.clone(), self.events.clone()) else {
            return self.notify("actions are off in this console", true);
        };
        let id = self.next_id();
        let ConfirmDialog {
            action,
            plan,
            purpose,
            ..
        } = dialog;
        if matches!(action, Action::Exec { .. }) {
            return self.open_shell(id, action, plan.summary, runner, tx);
        }
        if matches!(action, Action::StopServers { .. }) {
            self.clear_marks = true;
        }
        if purpose == Purpose::ConfigEdit
            && let Some(ed) = self.editor.as_mut()
        {
            ed.busy = true;
            ed.info = None;
        }
        let spawned = action.clone();
        tokio::spawn(async move {
            let outcome = runner.execute(&spawned, Mode::Run).await;
            let _ = tx.send(ActionEvent::Finished { id, outcome });
        });
        self.started = true;
        self.running.push(Running {
            id,
            label: plan.summary,
            since: Instant::now(),
            task: Task::Run {
                action: Box::new(action),
                purpose,
            },
        });
    }

    /// Checks and opens the session on a task; the answer comes back as
    /// [`ActionEvent::ExecOpened`], and the event loop then hands it the terminal.
    fn open_shell(
        &mut self,
        id: u64,
        action: Action,
        summary: String,
        runner: Arc<Runner>,
        tx: super::ActionSender,
    ) {
        tokio::spawn(async move {
            let result = runner.open_exec(&action, Mode::Run, true).await;
            let _ = tx.send(ActionEvent::ExecOpened { id, result });
        });
        self.started = true;
        self.running.push(Running {
            id,
            label: format!("opening: {summary}"),
            since: Instant::now(),
            task: Task::OpenShell,
        });
    }

    fn spawn_read(&mut self, hub: HubId, task: Task) {
        let (Some(runner), Some(tx)) = (self.runner.clone(), self.events.clone()) else {
            return self.notify("actions are off in this console", true);
        };
        let id = self.next_id();
        let label = format!("reading values.yaml of {hub}");
        let for_task = hub.clone();
        tokio::spawn(async move {
            let result = runner.read_config(&for_task).await;
            let _ = tx.send(ActionEvent::ConfigRead {
                id,
                hub: for_task,
                result,
            });
        });
        self.started = true;
        self.running.push(Running {
            id,
            label,
            since: Instant::now(),
            task,
        });
    }

    /// Applies a task's answer; returns whether anything visible changed.
    pub fn on_event(&mut self, event: ActionEvent, fleet: &Fleet) -> bool {
        let id = match &event {
            ActionEvent::Finished { id, .. }
            | ActionEvent::ConfigRead { id, .. }
            | ActionEvent::ConfigsRead { id, .. }
            | ActionEvent::ExecOpened { id, .. } => *id,
        };
        let Some(pos) = self.running.iter().position(|r| r.id == id) else {
            return false;
        };
        let running = self.running.remove(pos);
        match (running.task, event) {
            (Task::RolloutHub { hub }, ActionEvent::Finished { outcome, .. }) => {
                self.rollout_hub_answered(&hub, outcome.result, fleet)
            }
            (Task::ReadConfigs { hubs, what, pace }, ActionEvent::ConfigsRead { configs, .. }) => {
                self.show_rollout(fleet, &hubs, &what, &pace, &configs)
            }
            (Task::Run { action, purpose }, ActionEvent::Finished { outcome, .. }) => match purpose
            {
                Purpose::Plain => self.report(&outcome),
                Purpose::ConfigEdit => self.edit_answered(&action, &outcome, fleet),
            },
            (Task::OpenEditor, ActionEvent::ConfigRead { hub, result, .. }) => match result {
                Ok(read) if self.editor.is_none() => self.editor = Some(Editor::new(hub, read)),
                Ok(_) => self.notify("an edit of values.yaml is already open", true),
                Err(e) => self.notify(format!("edit-config {hub}: {}", error_line(&e)), true),
            },
            (Task::OpenShell, ActionEvent::ExecOpened { result, .. }) => match result {
                Ok(session) => self.shell = Some(session),
                Err(outcome) => self.report(&outcome),
            },
            (Task::LoadCurrent, ActionEvent::ConfigRead { hub, result, .. }) => {
                let Some(ed) = self.editor.as_mut().filter(|e| e.hub == hub) else {
                    return true;
                };
                match result {
                    Ok(current) => {
                        ed.info = Some(format!(
                            "the current version (resourceVersion {}) is beside your edit; \
                             ctrl-s now applies your text over it",
                            current.resource_version
                        ));
                        ed.error = None;
                        ed.rebase(current);
                    }
                    Err(e) => {
                        ed.error = Some(format!("loading the current version: {}", error_line(&e)))
                    }
                }
            }
            _ => {}
        }
        true
    }

    fn report(&mut self, outcome: &Outcome) {
        match &outcome.result {
            Ok(done) => self.notify(
                format!("✔ {}: {}", outcome.plan.summary, done.join("; ")),
                false,
            ),
            Err(e) => self.notify(
                format!("✖ {}: {}", outcome.plan.summary, error_line(e)),
                true,
            ),
        }
    }

    /// The apply of an edit answered: on success write the diff and offer a hub restart; on
    /// any failure keep the editor open with the text, save a recovery copy and say why.
    fn edit_answered(&mut self, action: &Action, outcome: &Outcome, fleet: &Fleet) {
        let Action::EditHubConfig {
            hub, values, diff, ..
        } = action
        else {
            return self.report(outcome);
        };
        match &outcome.result {
            Ok(done) => {
                self.editor = None;
                let saved = match save_diff(&self.state_dir.join("diffs"), hub, diff) {
                    Ok(p) => format!("diff written to {}", p.display()),
                    Err(e) => format!("the diff could not be written: {e}"),
                };
                self.notify(format!("✔ {}; {saved}", done.join("; ")), false);
                let note = format!(
                    "values.yaml of {hub} applied; {saved}. The hub reads values.yaml when it \
                     starts: restart it now?"
                );
                let restart = build::begin(
                    Command::RestartHub,
                    &Target::Hub(hub.clone()),
                    fleet,
                    Timestamp::now(),
                );
                match restart {
                    Ok(Begin::Ready(restart)) => self.confirm(restart, Purpose::Plain, Some(note)),
                    _ => self.notify(format!("{saved}; restart hub {hub} to apply"), false),
                }
            }
            Err(e) => {
                let kept = match save_recovery(&self.state_dir, hub, values.expose()) {
                    Ok(p) => format!("your edit is also saved in {}", p.display()),
                    Err(io) => format!("saving a copy of your edit failed: {io}"),
                };
                let advice = if matches!(e, ActionError::Conflict(_)) {
                    " — the Secret changed meanwhile: ctrl-o shows the current version beside \
                     your edit"
                } else {
                    ""
                };
                let line = format!("{}{advice}; {kept}", error_line(e));
                // The editor ignores keys while busy, so it is still open with the text.
                if let Some(ed) = self.editor.as_mut() {
                    ed.busy = false;
                    ed.error = Some(line.clone());
                }
                self.notify(
                    format!(
                        "✖ {}: {} (the edit is kept: see the editor)",
                        outcome.plan.summary,
                        e.kind()
                    ),
                    true,
                );
            }
        }
    }

    /// Draws the editor (over the whole body) and the modal, if any.
    pub fn draw(&mut self, frame: &mut Frame, area: Rect, keymap: &Keymap, theme: &Theme) {
        if let Some(ed) = self.editor.as_mut() {
            ed.draw(frame, area, theme);
        }
        match &mut self.modal {
            Modal::None => {}
            Modal::Prompt(p) => p.draw(frame, area, theme),
            Modal::Confirm(d) => d.draw(frame, area, keymap, theme),
            Modal::Rollout(d) => d.draw(frame, area, theme),
            Modal::Pick(p) => p.draw(frame, area, keymap, theme),
            Modal::Discard => dialog::draw_discard(frame, area, theme),
        }
    }
}
