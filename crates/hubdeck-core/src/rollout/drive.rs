//! Running a planned rollout, one step at a time: the front end asks [`Progress::next`] what
//! to do, runs the hub action it is handed through the runner, reports the result with
//! [`Progress::hub_done`], and otherwise keeps showing it the fleet until the wave's gate
//! opens. The headless command and the console drive the same machine, so they stop at the
//! same hub for the same reason.

use jiff::Timestamp;

use crate::action::{Action, ActionError};
use crate::fleet::{Fleet, HubId};

use super::gate::{Baseline, Gate, GateState};
use super::{Planned, Rollout};

/// What the front end should do now.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Run this hub's action, then call [`Progress::hub_done`].
    Run {
        /// The hub.
        hub: HubId,
        /// Its action, as planned.
        action: Action,
    },
    /// A hub's action is under way: wait for its answer.
    Busy,
    /// The wave's gate is not open yet: look again in a moment.
    Wait(GateState),
    /// The rollout is over.
    Done(Ending),
}

/// How a rollout ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// Every wave passed.
    Passed,
    /// It stopped at a wave: a hub's action failed, or its hubs did not settle.
    Failed {
        /// The wave.
        wave: String,
        /// The hub.
        hub: HubId,
        /// Why, in one line.
        why: String,
        /// The action's error, when the action itself failed (not the gate).
        error: Option<ActionError>,
    },
    /// Cancelled by the person, between two requests.
    Cancelled {
        /// The wave it was in.
        wave: String,
    },
}

/// Something that happened, for a progress log.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A wave started (1-based index).
    WaveStarted {
        /// Its number.
        index: usize,
        /// How many waves.
        of: usize,
        /// Its name.
        name: String,
        /// Hubs it acts on.
        acting: usize,
    },
    /// A hub needed nothing.
    Skipped {
        /// The hub.
        hub: HubId,
        /// Why.
        why: String,
    },
    /// A hub's action finished.
    HubDone {
        /// The hub.
        hub: HubId,
        /// What it did, or why it failed.
        result: Result<Vec<String>, ActionError>,
    },
    /// The wave's gate opened (every hub it acted on settled).
    WavePassed {
        /// Its name.
        name: String,
    },
    /// The rollout ended.
    Ended(Ending),
}

#[derive(Debug, Clone)]
enum Phase {
    /// Acting on the wave's hubs; `next` is the index of the next hub to look at.
    Acting {
        next: usize,
    },
    /// A hub's action is out.
    Running {
        index: usize,
        started: Timestamp,
    },
    Gating(Gate),
    Done(Ending),
}

/// Where a running rollout stands, for a progress line.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// 1-based number of the current wave (the last one once done).
    pub wave: usize,
    /// How many waves.
    pub waves: usize,
    /// Its name.
    pub name: String,
    /// Hubs of this wave acted on so far.
    pub done: usize,
    /// Hubs this wave acts on.
    pub acting: usize,
    /// Hubs whose action failed (0 or 1: the rollout stops at the first).
    pub failed: usize,
    /// The hub whose action is out, if one is.
    pub running: Option<HubId>,
    /// The gate, once every hub of the wave was acted on.
    pub gate: Option<GateState>,
    /// Set once the rollout is over.
    pub ended: Option<Ending>,
}

/// A rollout being run.
#[derive(Debug, Clone)]
pub struct Progress {
    rollout: Rollout,
    wave: usize,
    phase: Phase,
    baselines: Vec<(HubId, Baseline, Action, Option<Timestamp>)>,
    cancelled: bool,
    events: Vec<Event>,
    last_gate: Option<GateState>,
    failed: usize,
    done: usize,
}

impl Progress {
    /// Starts at the first wave.
    pub fn new(rollout: Rollout) -> Self {
        Self {
            rollout,
            wave: 0,
            phase: Phase::Acting { next: 0 },
            baselines: Vec::new(),
            cancelled: false,
            events: Vec::new(),
            last_gate: None,
            failed: 0,
            done: 0,
        }
    }

    /// The plan being run.
    pub fn rollout(&self) -> &Rollout {
        &self.rollout
    }

    /// Asks to stop: after the hub whose action is out answers, never in the middle of it.
    pub fn cancel(&mut self) {
        self.cancelled = true;
    }

    /// Whether it is over.
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done(_))
    }

    /// What happened since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    fn finish(&mut self, ending: Ending) -> Next {
        self.events.push(Event::Ended(ending.clone()));
        self.phase = Phase::Done(ending.clone());
        Next::Done(ending)
    }

    fn wave_name(&self) -> String {
        self.rollout
            .waves
            .get(self.wave.min(self.rollout.waves.len().saturating_sub(1)))
            .map(|w| w.name.clone())
            .unwrap_or_default()
    }

    /// What to do now, given the fleet at `now`.
    pub fn next(&mut self, fleet: &Fleet, now: Timestamp) -> Next {
        loop {
            match &mut self.phase {
                Phase::Done(e) => return Next::Done(e.clone()),
                Phase::Running { .. } => return Next::Busy,
                Phase::Acting { next } => {
                    let next = *next;
                    if self.cancelled {
                        let wave = self.wave_name();
                        return self.finish(Ending::Cancelled { wave });
                    }
                    let Some(wave) = self.rollout.waves.get(self.wave) else {
                        return self.finish(Ending::Passed);
                    };
                    if next == 0 {
                        self.done = 0;
                        // Before the wave's first request: what "healthy again" means.
                        self.baselines = wave
                            .actions()
                            .map(|(h, a)| (h.clone(), Baseline::take(fleet, h), a.clone(), None))
                            .collect();
                        self.events.push(Event::WaveStarted {
                            index: self.wave + 1,
                            of: self.rollout.waves.len(),
                            name: wave.name.clone(),
                            acting: self.baselines.len(),
                        });
                    }
                    match wave.hubs.get(next) {
                        Some(step) => match &step.planned {
                            Planned::Act(action) => {
                                let (hub, action) = (step.hub.clone(), action.clone());
                                self.phase = Phase::Running {
                                    index: next,
                                    started: now,
                                };
                                return Next::Run { hub, action };
                            }
                            other => {
                                let why = match other {
                                    Planned::Nothing(w) => w.clone(),
                                    Planned::Problem(p) => p.to_string(),
                                    Planned::Act(_) => String::new(),
                                };
                                self.events.push(Event::Skipped {
                                    hub: step.hub.clone(),
                                    why,
                                });
                                self.phase = Phase::Acting { next: next + 1 };
                            }
                        },
                        None => {
                            let mut gate = Gate::new(self.rollout.settle, self.rollout.timeout);
                            for (hub, baseline, action, started) in self.baselines.drain(..) {
                                if let Some(started) = started {
                                    gate.watch(hub, action, baseline, started);
                                }
                            }
                            self.phase = Phase::Gating(gate);
                        }
                    }
                }
                Phase::Gating(gate) => {
                    if self.cancelled {
                        let wave = self.wave_name();
                        return self.finish(Ending::Cancelled { wave });
                    }
                    let state = if gate.is_empty() {
                        GateState::Passed
                    } else {
                        gate.observe(fleet, now)
                    };
                    self.last_gate = Some(state.clone());
                    match state {
                        GateState::Passed => {
                            let name = self.wave_name();
                            self.events.push(Event::WavePassed { name });
                            self.wave += 1;
                            self.last_gate = None;
                            self.phase = Phase::Acting { next: 0 };
                        }
                        GateState::Failed { hub, why } => {
                            let wave = self.wave_name();
                            return self.finish(Ending::Failed {
                                wave,
                                hub,
                                why,
                                error: None,
                            });
                        }
                        other => return Next::Wait(other),
                    }
                }
            }
        }
    }

    /// The answer of the hub action [`Next::Run`] handed out.
    pub fn hub_done(&mut self, hub: &HubId, result: Result<Vec<String>, ActionError>) {
        let Phase::Running { index, started } = self.phase else {
            return;
        };
        self.events.push(Event::HubDone {
            hub: hub.clone(),
            result: result.clone(),
        });
        match result {
            Ok(_) => {
                self.done += 1;
                if let Some(b) = self.baselines.iter_mut().find(|b| &b.0 == hub) {
                    b.3 = Some(started);
                }
                self.phase = Phase::Acting { next: index + 1 };
            }
            Err(e) => {
                self.failed += 1;
                let wave = self.wave_name();
                self.finish(Ending::Failed {
                    wave,
                    hub: hub.clone(),
                    why: e.to_string(),
                    error: Some(e),
                });
            }
        }
    }

    /// Where it stands.
    pub fn status(&self) -> Status {
        let waves = self.rollout.waves.len();
        let index = self.wave.min(waves.saturating_sub(1));
        let wave = self.rollout.waves.get(index);
        let acting = wave.map_or(0, |w| w.actions().count());
        Status {
            wave: index + 1,
            waves,
            name: self.wave_name(),
            done: self.done,
            acting,
            failed: self.failed,
            running: match &self.phase {
                Phase::Running { index: i, .. } => {
                    wave.and_then(|w| w.hubs.get(*i)).map(|s| s.hub.clone())
                }
                _ => None,
            },
            gate: self.last_gate.clone(),
            ended: match &self.phase {
                Phase::Done(e) => Some(e.clone()),
                _ => None,
            },
        }
    }
}
