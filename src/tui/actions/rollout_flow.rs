//! The console's side of a rollout over marked hubs: prompt → (read each hub's values.yaml for
//! a merge patch) → the wave plan's dialog → run it, each hub action the core hands out on a
//! task of its own (a few of a wave's at once), the core's progress stepped by the answers and
//! by the console's tick (for the settle gate).

use std::collections::BTreeMap;
use std::time::Instant;

use jiff::Timestamp;

use crate::action::{ActionError, HubConfig, Mode};
use crate::fleet::{Fleet, HubId};
use hubdeck_core::rollout::{self as core, Ending, Event, HubAction, Next, Pace, Progress};

use super::rollout::{RolloutDialog, RolloutKind};
use super::{ActionEvent, ActionFlow, Modal, RolloutRun, Running, Task, error_line};

impl ActionFlow {
    /// The prompt for a rollout over `hubs`.
    pub(super) fn rollout_prompt(&mut self, hubs: Vec<HubId>, kind: RolloutKind) {
        let (title, fields) = kind.prompt(hubs.len(), &self.rules.order.join(","));
        let fields: Vec<(&str, &str)> = fields.iter().map(|(l, v)| (*l, v.as_str())).collect();
        let p =
            super::prompt::Prompt::new(title, &fields, super::build::Begin::Rollout { hubs, kind });
        self.modal = Modal::Prompt(Box::new(p));
    }

    /// The prompt was filled: plan (after reading the values, for a merge patch).
    pub(super) fn rollout_asked(
        &mut self,
        hubs: Vec<HubId>,
        what: HubAction,
        pace: Pace,
        fleet: &Fleet,
    ) {
        // The console runs as many hubs at once as fleet.toml says (`[waves] parallel`).
        let pace = Pace {
            parallel: self.rules.parallel,
            ..pace
        };
        if !what.needs_config() {
            return self.show_rollout(fleet, &hubs, &what, &pace, &BTreeMap::new());
        }
        let (Some(runner), Some(tx)) = (self.runner.clone(), self.events.clone()) else {
            return self.notify("actions are off in this console", true);
        };
        let id = self.next_id();
        let label = format!("reading values.yaml of {} hubs", hubs.len());
        let to_read = hubs.clone();
        tokio::spawn(async move {
            let mut configs = BTreeMap::new();
            for h in to_read {
                let read = runner.read_config(&h).await;
                configs.insert(h, read);
            }
            let _ = tx.send(ActionEvent::ConfigsRead { id, configs });
        });
        self.started = true;
        self.running.push(Running {
            id,
            label,
            since: Instant::now(),
            task: Task::ReadConfigs { hubs, what, pace },
        });
    }

    /// Plans the rollout and opens its dialog.
    pub(super) fn show_rollout(
        &mut self,
        fleet: &Fleet,
        hubs: &[HubId],
        what: &HubAction,
        pace: &Pace,
        configs: &BTreeMap<HubId, Result<HubConfig, ActionError>>,
    ) {
        let Some(runner) = self.runner.clone() else {
            return;
        };
        match core::plan(
            fleet,
            &self.rules,
            hubs,
            what,
            pace,
            configs,
            Timestamp::now(),
        ) {
            Ok(plan) => {
                self.modal = Modal::Rollout(Box::new(RolloutDialog::new(plan, &runner)));
            }
            Err(e) => self.notify(format!("{} on marked hubs: {e}", what.describe()), true),
        }
    }

    /// Confirmed: the rollout starts with its first wave.
    pub(super) fn start_rollout(&mut self, plan: core::Rollout, fleet: &Fleet) {
        if self.rollout.is_some() {
            return self.notify("a rollout is already under way", true);
        }
        self.clear_marks = true;
        self.started = true;
        self.rollout = Some(RolloutRun {
            progress: Progress::new(plan),
            since: Instant::now(),
        });
        self.step_rollout(fleet, Timestamp::now());
    }

    /// Esc while a rollout runs: it stops after the hubs whose requests are out.
    pub fn cancel_rollout(&mut self) -> bool {
        let Some(run) = self.rollout.as_mut() else {
            return false;
        };
        run.progress.cancel();
        self.notify(
            "stopping the rollout: the hubs whose requests are out finish, no other is touched",
            false,
        );
        true
    }

    /// Moves the rollout on at `now` (the gate looks at the fleet); whether it is under way.
    pub fn tick(&mut self, fleet: &Fleet, now: Timestamp) -> bool {
        if self.rollout.is_none() {
            return false;
        }
        self.step_rollout(fleet, now);
        true
    }

    /// A rollout hub's action answered.
    pub(super) fn rollout_hub_answered(
        &mut self,
        hub: &HubId,
        result: Result<Vec<String>, ActionError>,
        fleet: &Fleet,
    ) {
        if let Some(run) = self.rollout.as_mut() {
            run.progress.hub_done(hub, result);
        }
        self.step_rollout(fleet, Timestamp::now());
    }

    fn step_rollout(&mut self, fleet: &Fleet, now: Timestamp) {
        // Every hub the core hands out now starts now; it says Busy once enough are out.
        loop {
            let Some(run) = self.rollout.as_mut() else {
                return;
            };
            let next = run.progress.next(fleet, now);
            let events = run.progress.take_events();
            let what = run.progress.rollout().what.clone();
            self.rollout_events(&what, events);
            match next {
                Next::Run { hub, action } => {
                    let (Some(runner), Some(tx)) = (self.runner.clone(), self.events.clone())
                    else {
                        return;
                    };
                    let id = self.next_id();
                    let spawned = action.clone();
                    tokio::spawn(async move {
                        let outcome = runner.execute(&spawned, Mode::Run).await;
                        let _ = tx.send(ActionEvent::Finished { id, outcome });
                    });
                    self.running.push(Running {
                        id,
                        label: format!("{what} {hub}"),
                        since: Instant::now(),
                        task: Task::RolloutHub { hub },
                    });
                }
                Next::Done(_) => {
                    self.rollout = None;
                    return;
                }
                Next::Busy | Next::Wait(_) => return,
            }
        }
    }

    fn rollout_events(&mut self, what: &str, events: Vec<Event>) {
        for e in events {
            match e {
                Event::HubDone {
                    hub,
                    result: Err(e),
                } => self.notify(format!("✖ {what} {hub}: {}", error_line(&e)), true),
                Event::WavePassed { name } => self.notify(
                    format!("wave {name} passed: its hubs stayed healthy"),
                    false,
                ),
                Event::Ended(Ending::Passed) => {
                    self.notify(format!("✔ rollout {what}: every wave passed"), false)
                }
                Event::Ended(Ending::Failed { wave, hub, why, .. }) => self.notify(
                    format!("✖ rollout {what}: wave {wave} failed: {hub}: {why}"),
                    true,
                ),
                Event::Ended(Ending::Cancelled { wave }) => self.notify(
                    format!("rollout {what} stopped in wave {wave}: later hubs untouched"),
                    false,
                ),
                _ => {}
            }
        }
    }
}
