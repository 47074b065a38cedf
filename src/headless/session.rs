//! A headless session: the same supervisors and sources as the console, feeding a store owned
//! here, until every cluster has either listed or failed and every source has answered once.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::settings::Settings;
use crate::fleet::{ClusterStatus, Fleet, FleetUpdate, MetricsState, SourceState, Thresholds};
use crate::kube::{self, ClusterTarget};
use crate::sources::{self, Polls, Sources};

/// Which sources besides the watchers a command needs answered before it reads the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Alertmanager alerts (and whether there is an Alertmanager).
    pub alerts: bool,
    /// Hub API activity of every hub.
    pub activity: bool,
    /// A first metrics.k8s.io answer (or refusal) of every cluster, when metrics are polled.
    pub metrics: bool,
    /// A first check from outside of every declared hub with a domain, when they are checked.
    pub outside: bool,
}

impl Needs {
    /// Everything.
    pub const ALL: Needs = Needs {
        alerts: true,
        activity: true,
        metrics: true,
        outside: true,
    };
    /// The watchers' lists only.
    pub const LISTS: Needs = Needs {
        alerts: false,
        activity: false,
        metrics: false,
        outside: false,
    };
}

/// A running fleet model without a terminal.
pub struct Session {
    /// The model.
    pub fleet: Fleet,
    /// The clusters watched.
    pub targets: Vec<ClusterTarget>,
    /// Their clients, shared with the action layer.
    pub clients: Arc<kube::ClientCache>,
    /// Alertmanager and hub API adapters for the action layer.
    pub sources: Sources,
    updates: mpsc::Receiver<FleetUpdate>,
    shutdown: CancellationToken,
    applied: u64,
    recorder: Option<crate::recorder::Tap>,
    /// Whether metrics.k8s.io is polled (else nothing waits for it).
    metrics_polled: bool,
    /// Whether hubs are checked from outside (else nothing waits for them).
    outside_checked: bool,
}

impl Session {
    /// Starts watching the targets, polling Alertmanagers and hub APIs at the default interval.
    pub fn start(targets: Vec<ClusterTarget>, limits: Thresholds) -> Self {
        let poll = Polls::from_settings(&Settings::defaults());
        Self::start_polling(targets, limits, poll)
    }

    /// Starts watching the targets, polling Alertmanagers and hub APIs as `poll` says.
    pub fn start_polling(targets: Vec<ClusterTarget>, limits: Thresholds, poll: Polls) -> Self {
        Self::start_with(targets, limits, poll, kube::watch::DEFAULT_IDLE)
    }

    /// Starts watching the targets with `watch_idle` as the watches' idle deadline, polling as
    /// `poll` says.
    pub fn start_with(
        targets: Vec<ClusterTarget>,
        limits: Thresholds,
        poll: Polls,
        watch_idle: Duration,
    ) -> Self {
        let shutdown = CancellationToken::new();
        let clients = kube::ClientCache::new(&targets);
        let kube_updates = kube::start_with_idle(&clients, &shutdown, watch_idle);
        let (sources, updates) = sources::start(&clients, poll, kube_updates, &shutdown);
        Self {
            fleet: Fleet::new(limits),
            targets,
            clients,
            sources,
            updates,
            shutdown,
            applied: 0,
            recorder: None,
            metrics_polled: poll.metrics.is_some(),
            outside_checked: false,
        }
    }

    /// Checks the declared hubs' domains from outside as `checks` says, for as long as the
    /// session runs (`Needs::outside` then waits for a first check of each).
    pub fn check_outside(&mut self, checks: &crate::outside::Checks) -> Result<(), String> {
        let targets = crate::outside::targets(&self.targets);
        crate::outside::start(targets, checks, self.sources.feed.clone(), &self.shutdown)?;
        self.outside_checked = true;
        Ok(())
    }

    /// The action runner over this session's clients.
    pub fn runner(&self, readonly: bool, audit: crate::action::AuditLog) -> crate::action::Runner {
        crate::kube::executor::runner(self.clients.clone(), readonly, audit)
            .with_hub_api(self.sources.hub_api.clone())
            .with_silencer(self.sources.silencer.clone())
    }

    /// Records every batch this session applies from now on (with a snapshot first).
    pub fn record_to(&mut self, mut tap: crate::recorder::Tap) {
        tap.after_apply(&self.fleet, Timestamp::now());
        self.recorder = Some(tap);
    }

    /// Stops recording; the writer finishes what it was handed.
    pub fn stop_recording(&mut self) {
        if let Some(tap) = self.recorder.take() {
            tap.close(&self.fleet, Timestamp::now());
        }
    }

    /// Applies every update already waiting; returns how many.
    pub fn drain(&mut self) -> usize {
        let mut batch = Vec::new();
        while let Ok(u) = self.updates.try_recv() {
            batch.push(u);
        }
        let n = batch.len();
        if n > 0 {
            self.apply_batch(batch, Timestamp::now());
        }
        n
    }

    /// Applies one batch at one time, as the console does; the recorder sees the same.
    fn apply_batch(&mut self, batch: Vec<FleetUpdate>, now: Timestamp) {
        self.applied += batch.len() as u64;
        if let Some(r) = &mut self.recorder {
            r.batch(&self.fleet, &batch, now);
        }
        self.fleet.apply_all(batch, now);
        if let Some(r) = &mut self.recorder {
            r.after_apply(&self.fleet, now);
        }
    }

    /// Applies every update waiting as one batch at `now`, and refreshes at `now` even when
    /// none waited: the model at a known moment, which a replay at that moment must equal.
    pub fn drain_at(&mut self, now: Timestamp) -> usize {
        let mut batch = Vec::new();
        while let Ok(u) = self.updates.try_recv() {
            batch.push(u);
        }
        let n = batch.len();
        self.apply_batch(batch, now);
        n
    }

    /// Waits for the next batch of updates (or the deadline) and applies it.
    pub async fn pump(&mut self, deadline: Instant) -> bool {
        let mut batch = Vec::with_capacity(256);
        match tokio::time::timeout_at(deadline, self.updates.recv_many(&mut batch, 4096)).await {
            Ok(0) | Err(_) => false,
            Ok(_) => {
                self.apply_batch(batch, Timestamp::now());
                true
            }
        }
    }

    /// How many updates this session applied so far (for benchmarks: updates per second).
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// Whether every cluster has been announced and is past connecting, and every reachable
    /// cluster's Alertmanager and hub APIs have answered (or failed) once.
    pub fn settled(&self) -> bool {
        self.settled_for(Needs::ALL)
    }

    /// Whether every cluster listed (or failed) and the sources `needs` names answered once.
    pub fn settled_for(&self, needs: Needs) -> bool {
        let clusters: Vec<_> = self.fleet.clusters().collect();
        let checked = |c: &&crate::fleet::ClusterState| {
            c.declared
                .iter()
                .flatten()
                .filter(|d| d.domain.is_some())
                .all(|d| c.outside.contains_key(&d.name))
        };
        clusters.len() == self.targets.len()
            && (!needs.outside || !self.outside_checked || clusters.iter().all(checked))
            && clusters.iter().all(|c| match c.status {
                ClusterStatus::Connecting | ClusterStatus::Recorded { .. } => false,
                ClusterStatus::Unreachable { .. } => true,
                ClusterStatus::Ready | ClusterStatus::Degraded { .. } => {
                    (!needs.alerts || c.alert_source != SourceState::Unknown)
                        && (!needs.metrics
                            || !self.metrics_polled
                            || c.metrics.pods != MetricsState::Unknown)
                        && (!needs.activity
                            || c.hubs.values().all(|h| {
                                h.summary.hub.is_none() || h.activity.source != SourceState::Unknown
                            }))
                }
            })
    }

    /// Pumps updates until every cluster settled or `timeout` passed.
    pub async fn settle(&mut self, timeout: Duration) {
        self.settle_for(timeout, Needs::ALL).await;
    }

    /// Like `settle`, waiting only for the sources a command prints or acts on: on a big
    /// fleet, hub activity takes a poll round over every hub.
    pub async fn settle_for(&mut self, timeout: Duration, needs: Needs) {
        let deadline = deadline_after(timeout);
        while !self.settled_for(needs) && Instant::now() < deadline {
            if !self.pump(deadline).await && Instant::now() >= deadline {
                break;
            }
        }
        self.drain();
    }

    /// Pumps updates until `done` holds or `timeout` passed; returns whether it held.
    pub async fn wait_for(&mut self, timeout: Duration, done: impl Fn(&Fleet) -> bool) -> bool {
        let deadline = deadline_after(timeout);
        loop {
            self.drain();
            if done(&self.fleet) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            self.pump(deadline).await;
        }
    }

    /// Clusters that could not be read completely, with a one-line reason each.
    pub fn unread(&self) -> Vec<(String, String)> {
        self.fleet
            .clusters()
            .filter_map(|c| match &c.status {
                ClusterStatus::Ready => None,
                ClusterStatus::Connecting | ClusterStatus::Recorded { .. } => {
                    Some((c.id.to_string(), "no answer in time".into()))
                }
                ClusterStatus::Degraded { reason } => Some((c.id.to_string(), reason.clone())),
                ClusterStatus::Unreachable { error, .. } => {
                    Some((c.id.to_string(), format!("unreachable: {error}")))
                }
            })
            .collect()
    }

    /// Ready clusters whose nodes could not be listed (the identity may not), with the reason.
    pub fn unread_nodes(&self) -> Vec<(String, String)> {
        self.fleet
            .clusters()
            .filter(|c| c.status == ClusterStatus::Ready)
            .filter_map(|c| match &c.node_source {
                SourceState::Absent { note } => Some((c.id.to_string(), note.clone())),
                SourceState::Failing { error } => Some((c.id.to_string(), error.clone())),
                _ => None,
            })
            .collect()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// `timeout` from now, saturating: a huge timeout waits very long instead of overflowing the
/// clock.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(366 * 86_400)))
        .unwrap_or(now)
}
