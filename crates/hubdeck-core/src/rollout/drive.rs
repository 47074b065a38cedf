//! Running a planned rollout, one step at a time: the front end asks [`Progress::next`] what
//! to do, runs each hub action it is handed through the runner (up to the rollout's
//! `parallel` at once: it asks again until it hears [`Next::Busy`]), reports each result with
//! [`Progress::hub_done`], and otherwise keeps showing it the fleet until the wave's gate
//! opens. After a hub's action fails no other is handed out; the rollout ends, naming that
//! hub, once the actions still out have answered. The headless command and the console drive
//! the same machine, so they stop at the same hub for the same reason.

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
    /// As many actions as may run at once are out (or the wave's last ones are): wait for an
    /// answer.
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
    /// Acting on the wave's hubs; `next` is the index of the next hub to look at, `out` the
    /// hubs whose action is under way (by index) and when each was handed out.
    Acting {
        next: usize,
        out: Vec<(usize, Timestamp)>,
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
    /// Hubs whose action failed (no new one starts after the first; those already out may
    /// fail too).
    pub failed: usize,
    /// The hubs whose action is out, in the wave's order.
    pub running: Vec<HubId>,
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
    /// The first failed action's ending, kept until the actions still out answer.
    failure: Option<Ending>,
}

impl Progress {
    /// Starts at the first wave.
    pub fn new(rollout: Rollout) -> Self {
        Self {
            rollout,
            wave: 0,
            phase: Phase::Acting {
                next: 0,
                out: Vec::new(),
            },
            baselines: Vec::new(),
            cancelled: false,
            events: Vec::new(),
            last_gate: None,
            failed: 0,
            done: 0,
            failure: None,
        }
    }

    /// The plan being run.
    pub fn rollout(&self) -> &Rollout {
        &self.rollout
    }

    /// Asks to stop: after the hubs whose action is out answer, never in the middle of one.
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
                Phase::Acting { next, out } => {
                    let (next, in_flight) = (*next, out.len());
                    if self.cancelled || self.failure.is_some() {
                        if in_flight > 0 {
                            return Next::Busy;
                        }
                        let ending = self.failure.take().unwrap_or_else(|| Ending::Cancelled {
                            wave: self.wave_name(),
                        });
                        return self.finish(ending);
                    }
                    let Some(wave) = self.rollout.waves.get(self.wave) else {
                        return self.finish(Ending::Passed);
                    };
                    if next == 0 && in_flight == 0 {
                        self.done = 0;
                        // Before the wave's first request: what "healthy again" means.
                        self.baselines = wave
                            .actions()
                            .map(|(h, a)| {
                                (h.clone(), Baseline::take(fleet, h, now), a.clone(), None)
                            })
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
                            Planned::Act(_) if in_flight >= self.rollout.parallel.max(1) => {
                                return Next::Busy;
                            }
                            Planned::Act(action) => {
                                let (hub, action) = (step.hub.clone(), action.clone());
                                if let Phase::Acting { next: n, out } = &mut self.phase {
                                    *n = next + 1;
                                    out.push((next, now));
                                }
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
                                if let Phase::Acting { next: n, .. } = &mut self.phase {
                                    *n = next + 1;
                                }
                            }
                        },
                        None if in_flight > 0 => return Next::Busy,
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
                            self.phase = Phase::Acting {
                                next: 0,
                                out: Vec::new(),
                            };
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

    /// The answer of a hub action [`Next::Run`] handed out.
    pub fn hub_done(&mut self, hub: &HubId, result: Result<Vec<String>, ActionError>) {
        let Phase::Acting { out, .. } = &mut self.phase else {
            return;
        };
        let Some(wave) = self.rollout.waves.get(self.wave) else {
            return;
        };
        let Some(pos) = out
            .iter()
            .position(|(i, _)| wave.hubs.get(*i).is_some_and(|s| &s.hub == hub))
        else {
            return;
        };
        let (_, started) = out.remove(pos);
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
            }
            Err(e) => {
                self.failed += 1;
                // The first failure is the one the rollout stops for; later answers of hubs
                // already out are reported as they come.
                if self.failure.is_none() {
                    self.failure = Some(Ending::Failed {
                        wave: self.wave_name(),
                        hub: hub.clone(),
                        why: e.to_string(),
                        error: Some(e),
                    });
                }
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
                Phase::Acting { out, .. } => out
                    .iter()
                    .filter_map(|(i, _)| wave.and_then(|w| w.hubs.get(*i)))
                    .map(|s| s.hub.clone())
                    .collect(),
                _ => Vec::new(),
            },
            gate: self.last_gate.clone(),
            ended: match &self.phase {
                Phase::Done(e) => Some(e.clone()),
                _ => None,
            },
        }
    }
}
