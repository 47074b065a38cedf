//! Hubs checked from outside: every hub the deployment repository declares with a `domain` is
//! asked `https://<domain>/hub/health` (JupyterHub's health endpoint, answered by the hub
//! through the proxy without a login) the way its users reach it, through DNS, the ingress and
//! its certificate. Each check becomes a `FleetUpdate::Outside`; core judges it against the
//! hub's expected status and derives `HubUnreachableOutside`.
//!
//! One task per hub: the first round goes at once (a one-shot `get hubs` wants every answer),
//! later rounds spread the hubs evenly over the interval, and a semaphore keeps at most
//! `outside_checks_at_once` requests in flight fleet-wide.

mod network;
pub mod probe;

use std::sync::Arc;
use std::time::Duration;

use hubdeck_core::fleet::{ClusterId, FleetUpdate, OutsideCheck};
use jiff::Timestamp;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::kube::ClusterTarget;
pub use network::Network;

/// How the checks run.
#[derive(Debug, Clone)]
pub struct Checks {
    /// Between two checks of one hub.
    pub every: Duration,
    /// Requests in flight at most, fleet-wide.
    pub at_once: usize,
    /// What one request may take, all of it (DNS, connect, TLS, the status line).
    pub timeout: Duration,
    /// Resolver and trusted CAs.
    pub network: Network,
}

impl Checks {
    /// As the settings say, over `network`; `None` when they turn the checks off.
    pub fn from_settings(
        settings: &crate::config::settings::Settings,
        network: Network,
    ) -> Option<Self> {
        (settings.outside_check_secs > 0).then(|| Self {
            every: Duration::from_secs(settings.outside_check_secs),
            at_once: usize::try_from(settings.outside_checks_at_once).unwrap_or(1),
            timeout: Duration::from_secs(settings.outside_timeout_secs),
            network,
        })
    }
}

/// One hub to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Its cluster.
    pub cluster: ClusterId,
    /// Its declared name.
    pub hub: Arc<str>,
    /// Where its users reach it.
    pub domain: Arc<str>,
    /// The status that counts as up.
    pub expected: u16,
}

/// Every declared hub with a domain, cluster by cluster.
pub fn targets(clusters: &[ClusterTarget]) -> Vec<Target> {
    clusters
        .iter()
        .flat_map(|c| {
            c.declared.iter().flatten().filter_map(|d| {
                Some(Target {
                    cluster: ClusterId::new(c.name.as_str()),
                    hub: d.name.clone(),
                    domain: d.domain.clone()?,
                    expected: d.expected_status,
                })
            })
        })
        .collect()
}

/// Starts checking `targets` until `shutdown`, sending each check into `tx`. Fails (one line)
/// only when the HTTP client cannot be built.
pub fn start(
    targets: Vec<Target>,
    checks: &Checks,
    tx: mpsc::Sender<FleetUpdate>,
    shutdown: &CancellationToken,
) -> Result<(), String> {
    if targets.is_empty() {
        return Ok(());
    }
    let client = checks.network.client(checks.timeout)?;
    let permits = Arc::new(Semaphore::new(checks.at_once.max(1)));
    let count = u32::try_from(targets.len()).unwrap_or(u32::MAX);
    let first = Instant::now();
    for (i, target) in (0u32..).zip(targets) {
        let hub = Hub {
            target,
            client: client.clone(),
            permits: permits.clone(),
            tx: tx.clone(),
            shutdown: shutdown.child_token(),
        };
        // Hub i of n checks at i/n of the interval in every round after the first.
        let offset = checks
            .every
            .checked_mul(i)
            .map_or(Duration::ZERO, |d| d / count);
        tokio::spawn(hub.run(first, checks.every, offset));
    }
    Ok(())
}

/// One hub's checks.
struct Hub {
    target: Target,
    client: reqwest::Client,
    permits: Arc<Semaphore>,
    tx: mpsc::Sender<FleetUpdate>,
    shutdown: CancellationToken,
}

impl Hub {
    async fn run(self, first: Instant, every: Duration, offset: Duration) {
        let mut due = first;
        let mut last: Option<OutsideCheck> = None;
        loop {
            tokio::select! {
                () = self.shutdown.cancelled() => return,
                () = tokio::time::sleep_until(due) => {}
            }
            let permit = tokio::select! {
                () = self.shutdown.cancelled() => return,
                p = self.permits.acquire() => match p {
                    Ok(p) => p,
                    Err(_) => return,
                },
            };
            let at = Timestamp::now();
            let (probe, detail, latency) = probe::check(&self.client, &self.target.domain).await;
            drop(permit);
            let check = OutsideCheck::after(
                last.as_ref(),
                probe,
                detail,
                latency,
                at,
                self.target.expected,
            );
            last = Some(check.clone());
            let update = FleetUpdate::Outside {
                cluster: self.target.cluster.clone(),
                hub: self.target.hub.clone(),
                check,
            };
            if self.tx.send(update).await.is_err() {
                return;
            }
            // From the round's start, not the answer's: a slow hub keeps its place.
            let next = if due == first {
                first.checked_add(every.saturating_add(offset))
            } else {
                due.checked_add(every)
            };
            // A hub fallen behind (slow checks, few permits) goes on at once, not in a burst.
            let now = Instant::now();
            due = next.map_or(now, |n| n.max(now));
        }
    }
}
