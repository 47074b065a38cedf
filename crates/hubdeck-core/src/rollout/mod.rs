//! Rolling one hub action out over many hubs in waves: the hubs a selector chose are grouped
//! by the [`WaveRules`] (`staging` hubs first, then `prod`), each hub's action is resolved on
//! its own (its own plan and precondition; for a values change its own merge and diff), and
//! the [`Progress`] runs wave after wave, each gated ([`Gate`]) on its hubs being healthy with
//! no new derived alert for a settle time, stopping at the first wave that fails. Pure: the
//! front ends run the actions through the runner and feed the model's snapshots and the time.

mod drive;
mod gate;
mod waves;

#[cfg(test)]
mod parallel_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;

use crate::action::{Action, ActionError, HubConfig, Request, ResolveError, resolve};
use crate::fleet::{Fleet, HubId, HubRef};

pub use drive::{Ending, Event, Next, Progress, Status};
pub use gate::{Baseline, Gate, GateState};
pub use waves::{Grouping, LeftOut, WaveRules};

/// The action each hub of a rollout gets.
#[derive(Debug, Clone, PartialEq)]
pub enum HubAction {
    /// Rollout restart of the hub (or the proxy).
    Restart {
        /// The proxy rather than the hub.
        proxy: bool,
    },
    /// Scale the hub (0 or 1) or its user placeholders.
    Scale {
        /// The placeholders rather than the hub.
        placeholders: bool,
        /// New replicas.
        replicas: u32,
    },
    /// A JSON merge patch of each hub's values.yaml (read first: see [`plan`]'s `configs`).
    MergeValues {
        /// The patch, a mapping.
        patch: serde_json::Value,
    },
}

impl HubAction {
    /// What it does, for people (`restart hub`).
    pub fn describe(&self) -> String {
        match self {
            HubAction::Restart { proxy: false } => "restart hub".into(),
            HubAction::Restart { proxy: true } => "restart proxy".into(),
            HubAction::Scale {
                placeholders: false,
                replicas,
            } => format!("scale hub to {replicas}"),
            HubAction::Scale {
                placeholders: true,
                replicas,
            } => format!("scale placeholders to {replicas}"),
            HubAction::MergeValues { .. } => "merge-patch values.yaml".into(),
        }
    }

    /// Whether each hub's config must be read before the rollout is planned.
    pub fn needs_config(&self) -> bool {
        matches!(self, HubAction::MergeValues { .. })
    }

    /// The request this action makes of one hub (`base`: its config, for a values change).
    pub fn request(&self, hub: &HubId, base: Option<&HubConfig>) -> Option<Request> {
        let hub = HubRef::from(hub);
        Some(match self {
            HubAction::Restart { proxy } => Request::Restart { hub, proxy: *proxy },
            HubAction::Scale {
                placeholders,
                replicas,
            } => Request::Scale {
                hub,
                placeholders: *placeholders,
                replicas: *replicas,
            },
            HubAction::MergeValues { patch } => Request::MergeValues {
                hub,
                base: base?.clone(),
                patch: patch.clone(),
            },
        })
    }
}

/// How a rollout paces itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Pace {
    /// The waves to run, in order (names of [`WaveRules`] waves); `None`: the rules' order.
    pub waves: Option<Vec<String>>,
    /// How long a wave's hubs must stay healthy, with no new derived alert, before the next.
    pub settle: Duration,
    /// How long after a wave's last action its hubs may take to get there before it fails.
    pub timeout: Duration,
    /// How many of a wave's hubs are acted on at once.
    pub parallel: usize,
}

/// How many of a wave's hubs are acted on at once unless told otherwise: a few requests in
/// flight, not a whole production wave restarting at the same second.
pub const DEFAULT_PARALLEL: usize = 4;

impl Default for Pace {
    fn default() -> Self {
        Self {
            waves: None,
            settle: Duration::from_secs(120),
            timeout: Duration::from_secs(600),
            parallel: DEFAULT_PARALLEL,
        }
    }
}

/// What one hub of a rollout will get.
#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    /// This action (its plan and precondition are the hub's own).
    Act(Action),
    /// Nothing: the hub is already as asked.
    Nothing(String),
    /// It cannot be done as asked; the rollout does not start.
    Problem(Problem),
}

/// Why a hub's action could not be planned.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// The resolver refused the request.
    Resolve(ResolveError),
    /// Its values.yaml could not be read.
    Read(ActionError),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Resolve(e) => write!(f, "{e}"),
            Problem::Read(e) => write!(f, "reading values.yaml: {e}"),
        }
    }
}

/// One hub of a wave and what it will get.
#[derive(Debug, Clone, PartialEq)]
pub struct HubStep {
    /// The hub.
    pub hub: HubId,
    /// Its action, or why none.
    pub planned: Planned,
}

/// One wave: a name and its hubs, acted on a few at a time (the rollout's `parallel`).
#[derive(Debug, Clone, PartialEq)]
pub struct Wave {
    /// The wave's name (`staging`).
    pub name: String,
    /// Its hubs, sorted by name.
    pub hubs: Vec<HubStep>,
}

impl Wave {
    /// The hubs the wave acts on, with their actions.
    pub fn actions(&self) -> impl Iterator<Item = (&HubId, &Action)> {
        self.hubs.iter().filter_map(|s| match &s.planned {
            Planned::Act(a) => Some((&s.hub, a)),
            _ => None,
        })
    }
}

/// A planned rollout: what every hub of every wave gets, before anything runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    /// What each hub gets (`restart hub`).
    pub what: String,
    /// The waves in run order.
    pub waves: Vec<Wave>,
    /// Hubs the selector chose that no wave of this rollout runs, and why.
    pub left_out: Vec<LeftOut>,
    /// Settle time of each wave.
    pub settle: Duration,
    /// How long a wave may take to settle after its last action.
    pub timeout: Duration,
    /// How many of a wave's hubs are acted on at once.
    pub parallel: usize,
}

impl Rollout {
    /// Every hub whose action could not be planned, with why.
    pub fn problems(&self) -> Vec<(&HubId, &Problem)> {
        self.waves
            .iter()
            .flat_map(|w| &w.hubs)
            .filter_map(|s| match &s.planned {
                Planned::Problem(p) => Some((&s.hub, p)),
                _ => None,
            })
            .collect()
    }

    /// How many hubs it acts on.
    pub fn acting(&self) -> usize {
        self.waves.iter().map(|w| w.actions().count()).sum()
    }

    /// How many hubs are in its waves.
    pub fn hubs(&self) -> usize {
        self.waves.iter().map(|w| w.hubs.len()).sum()
    }
}

/// Why a rollout cannot be planned at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RolloutError {
    /// Bad waves, settle or timeout.
    #[error("{0}")]
    Invalid(String),
    /// The selector chose no hub that runs.
    #[error("{0}")]
    NoHubs(String),
}

/// Plans `what` over `hubs` in the waves of `rules` as `pace` says. `configs` holds each hub's
/// values.yaml as read for a values change (a hub missing from it was not read).
pub fn plan(
    fleet: &Fleet,
    rules: &WaveRules,
    hubs: &[HubId],
    what: &HubAction,
    pace: &Pace,
    configs: &BTreeMap<HubId, Result<HubConfig, ActionError>>,
    now: Timestamp,
) -> Result<Rollout, RolloutError> {
    rules.check().map_err(RolloutError::Invalid)?;
    if pace.parallel == 0 {
        return Err(RolloutError::Invalid(
            "parallel must be at least 1 (hubs acted on at once)".into(),
        ));
    }
    if pace.settle > pace.timeout {
        return Err(RolloutError::Invalid(format!(
            "the settle time ({}) is longer than the wave timeout ({}): no wave could pass",
            crate::duration::humanize(pace.settle),
            crate::duration::humanize(pace.timeout)
        )));
    }
    let run = rules
        .run_order(pace.waves.as_deref())
        .map_err(RolloutError::Invalid)?;
    let (running, idle): (Vec<HubId>, Vec<HubId>) = hubs
        .iter()
        .cloned()
        .partition(|h| fleet.hub(h).is_some_and(|s| s.runs()));
    if running.is_empty() {
        return Err(RolloutError::NoHubs(if hubs.is_empty() {
            "the selector matches no hub".into()
        } else {
            format!(
                "the selector matches no running hub ({} declared but not running)",
                hubs.len()
            )
        }));
    }
    let grouping = rules.group(&running, &run);
    let mut left_out = grouping.left_out;
    left_out.extend(idle.into_iter().map(|hub| LeftOut {
        hub,
        why: "declared, not running".into(),
    }));
    let waves = grouping
        .waves
        .into_iter()
        .map(|(name, ids)| Wave {
            name,
            hubs: ids
                .into_iter()
                .map(|hub| {
                    let planned = plan_hub(fleet, &hub, what, configs, now);
                    HubStep { hub, planned }
                })
                .collect(),
        })
        .collect();
    Ok(Rollout {
        what: what.describe(),
        waves,
        left_out,
        settle: pace.settle,
        timeout: pace.timeout,
        parallel: pace.parallel,
    })
}

fn plan_hub(
    fleet: &Fleet,
    hub: &HubId,
    what: &HubAction,
    configs: &BTreeMap<HubId, Result<HubConfig, ActionError>>,
    now: Timestamp,
) -> Planned {
    let base = match (what.needs_config(), configs.get(hub)) {
        (false, _) => None,
        (true, Some(Ok(c))) => Some(c),
        (true, Some(Err(e))) => return Planned::Problem(Problem::Read(e.clone())),
        (true, None) => {
            return Planned::Problem(Problem::Read(ActionError::Precondition(
                "its values.yaml was not read".into(),
            )));
        }
    };
    let Some(request) = what.request(hub, base) else {
        return Planned::Problem(Problem::Read(ActionError::Precondition(
            "its values.yaml was not read".into(),
        )));
    };
    match resolve(fleet, &request, now) {
        Ok(a) => Planned::Act(a),
        Err(ResolveError::NothingToDo(why)) => Planned::Nothing(why),
        Err(e) => Planned::Problem(Problem::Resolve(e)),
    }
}
