//! The gate between two waves: a wave passes once every hub it acted on shows its change, is
//! rolled out and healthy, and has no alert it did not have before the wave started (derived
//! by hubdeck, or an Alertmanager alert the model ties to the hub, firing and not silenced),
//! all of that for the settle time without a break. Pure over model snapshots and times, so a
//! fake clock tests it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::action::{Action, effect_visible};
use crate::duration::humanize;
use crate::fleet::{AlertInfo, AlertOrigin, Component, Fleet, HealthLevel, HubId, PodPhase};

/// A hub as it was before its wave touched it: what "healthy again" is measured against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// Its health level then.
    pub level: HealthLevel,
    /// Fingerprints of the alerts about it then (derived and Alertmanager's).
    pub alerts: BTreeSet<Arc<str>>,
    /// When it was taken: an Alertmanager alert that starts firing again after this is new,
    /// though its fingerprint (its labels) is the same as before.
    pub taken: Timestamp,
}

/// The alerts about one hub: hubdeck's derived ones and the Alertmanager alerts whose labels
/// name its namespace (and release, when they name one) that fire unsilenced.
fn hub_alerts<'a>(fleet: &'a Fleet, hub: &'a HubId) -> impl Iterator<Item = &'a AlertInfo> + 'a {
    fleet
        .cluster(hub.cluster.as_str())
        .into_iter()
        .flat_map(|c| {
            c.derived
                .iter()
                .chain(c.alerts.iter().filter(|a| a.silenced_by.is_empty()))
        })
        .filter(move |a| {
            a.namespace.as_deref() == Some(&*hub.key.namespace)
                && a.release.as_deref().is_none_or(|r| r == &*hub.key.release)
        })
}

impl Baseline {
    /// The hub as the model shows it at `now`.
    pub fn take(fleet: &Fleet, hub: &HubId, now: Timestamp) -> Self {
        Self {
            level: fleet
                .hub(hub)
                .map_or(HealthLevel::Unknown, |h| h.summary.health.level),
            alerts: hub_alerts(fleet, hub)
                .map(|a| a.fingerprint.clone())
                .collect(),
            taken: now,
        }
    }

    /// Whether `a` is an alert the hub did not have when this was taken.
    fn is_new(&self, a: &AlertInfo) -> bool {
        !self.alerts.contains(&a.fingerprint)
            || (a.origin == AlertOrigin::Alertmanager && a.since.is_some_and(|s| s > self.taken))
    }
}

/// One hub the gate watches.
#[derive(Debug, Clone)]
struct Watched {
    hub: HubId,
    action: Action,
    baseline: Baseline,
    started: Timestamp,
}

/// Where a wave stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateState {
    /// A hub is not (yet) as it should be; `left` until the wave fails if it stays so.
    Waiting {
        /// The first such hub.
        hub: HubId,
        /// Why, in a person's words.
        why: String,
        /// Time left before the wave times out.
        left: Duration,
    },
    /// Every hub is fine; `left` of the settle time remains.
    Settling {
        /// Settle time remaining.
        left: Duration,
    },
    /// Every hub stayed fine for the settle time.
    Passed,
    /// A hub was still in trouble after the timeout.
    Failed {
        /// The hub.
        hub: HubId,
        /// Why.
        why: String,
    },
}

/// The gate of one wave.
#[derive(Debug, Clone)]
pub struct Gate {
    watched: Vec<Watched>,
    settle: Duration,
    timeout: Duration,
    opened: Option<Timestamp>,
    calm_since: Option<Timestamp>,
}

fn until(from: Timestamp, span: Duration, now: Timestamp) -> Duration {
    let end = from.saturating_add(SignedDuration::try_from(span).unwrap_or(SignedDuration::MAX));
    match end {
        Ok(end) if end > now => now.duration_until(end).unsigned_abs(),
        _ => Duration::ZERO,
    }
}

impl Gate {
    /// A gate asking `settle` of calm within `timeout` of its opening.
    pub fn new(settle: Duration, timeout: Duration) -> Self {
        Self {
            watched: Vec::new(),
            settle,
            timeout,
            opened: None,
            calm_since: None,
        }
    }

    /// Watches a hub that `action` was run on at `started`, measured against `baseline`.
    pub fn watch(&mut self, hub: HubId, action: Action, baseline: Baseline, started: Timestamp) {
        self.watched.push(Watched {
            hub,
            action,
            baseline,
            started,
        });
    }

    /// The hubs watched.
    pub fn hubs(&self) -> impl Iterator<Item = &HubId> {
        self.watched.iter().map(|w| &w.hub)
    }

    /// Whether it watches no hub (its wave changed nothing, so there is nothing to wait for).
    pub fn is_empty(&self) -> bool {
        self.watched.is_empty()
    }

    /// Looks at the fleet at `now` (the first look opens the gate and starts its timeout).
    pub fn observe(&mut self, fleet: &Fleet, now: Timestamp) -> GateState {
        let opened = *self.opened.get_or_insert(now);
        let trouble = self
            .watched
            .iter()
            .find_map(|w| trouble(fleet, w).map(|why| (w.hub.clone(), why)));
        match trouble {
            Some((hub, why)) => {
                self.calm_since = None;
                let left = until(opened, self.timeout, now);
                if left.is_zero() {
                    GateState::Failed {
                        hub,
                        why: format!(
                            "not healthy {} after the wave's last action: {why}",
                            humanize(self.timeout)
                        ),
                    }
                } else {
                    GateState::Waiting { hub, why, left }
                }
            }
            None => {
                let since = *self.calm_since.get_or_insert(now);
                let left = until(since, self.settle, now);
                if left.is_zero() {
                    GateState::Passed
                } else {
                    GateState::Settling { left }
                }
            }
        }
    }
}

/// Whether the action is the hub's maintenance (scaled to 0): down is what was asked for.
fn expects_down(action: &Action) -> bool {
    matches!(action, Action::ScaleHub { replicas: 0, .. })
}

/// The Deployment whose rollout the action starts, if any.
fn rolled_component(action: &Action) -> Option<(Component, &'static str)> {
    match action {
        Action::RestartHub { .. } => Some((Component::Hub, "hub")),
        Action::ScaleHub { replicas, .. } if *replicas > 0 => Some((Component::Hub, "hub")),
        Action::RestartProxy { .. } => Some((Component::Proxy, "proxy")),
        _ => None,
    }
}

/// What is wrong with a watched hub now, if anything.
fn trouble(fleet: &Fleet, w: &Watched) -> Option<String> {
    let Some(h) = fleet.hub(&w.hub) else {
        return Some("gone from the fleet".into());
    };
    if !effect_visible(fleet, &w.action, w.started) {
        return Some("its change does not show in the fleet yet".into());
    }
    let health = &h.summary.health;
    let healthy = match health.level {
        HealthLevel::Ok => true,
        HealthLevel::Degraded => w.baseline.level != HealthLevel::Ok,
        HealthLevel::Down => expects_down(&w.action),
        HealthLevel::Unknown | HealthLevel::Missing => false,
    };
    if !healthy {
        let was = if w.baseline.level == health.level {
            String::new()
        } else {
            format!(" (was {})", w.baseline.level.as_str())
        };
        return Some(format!("{}{was}: {}", health.level.as_str(), health.reason));
    }
    if let Some((component, name)) = rolled_component(&w.action)
        && let Some(wl) = h.workload(component)
    {
        if !(wl.observed && wl.ready == wl.desired && wl.updated == wl.desired) {
            return Some(format!(
                "{name} Deployment rolling out ({}/{} ready, {}/{} updated)",
                wl.ready, wl.desired, wl.updated, wl.desired
            ));
        }
        // Its counts include an old pod still terminating: the rollout is not over until
        // only ready pods of the new template are left.
        if let Some(p) = h
            .pods
            .values()
            .find(|p| p.component == component && (p.phase == PodPhase::Terminating || !p.ready))
        {
            return Some(format!(
                "{name} Deployment rolling out (pod {} {})",
                p.key.name,
                if p.phase == PodPhase::Terminating {
                    "terminating"
                } else {
                    "not ready"
                }
            ));
        }
    }
    hub_alerts(fleet, &w.hub)
        .find(|a| w.baseline.is_new(a))
        .map(|a| {
            let source = match a.origin {
                AlertOrigin::Alertmanager => "Alertmanager alert",
                AlertOrigin::Derived => "alert",
            };
            format!("new {source} {}: {}", a.name, a.summary)
        })
}
