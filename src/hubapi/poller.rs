//! The per-hub task polling the hub API for server activity. A hub without a usable token is
//! reported once and retried rarely; other failures back off; only changes are sent and
//! logged, so a fleet of hubs without tokens does not flood anything.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::client::HubApiClient;
use super::error::HubApiError;
use super::token::TokenSource;
use super::transport::{HubPod, RunningPod};
use crate::fleet::{FleetUpdate, HubId, ServerActivity, SourceState};

/// Longest wait between attempts while failing.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Wait after a token problem: a person has to fix it; look again now and then.
const AUTH_BACKOFF: Duration = Duration::from_secs(900);

/// How a hub's API is reached.
#[derive(Clone)]
pub enum HubEndpoint {
    /// Port-forward to the hub pod of the hub's release (z2jh defaults: 8081, `/hub/api`): the
    /// one `running` names, else one found by labels.
    PortForward {
        /// The cluster's client.
        client: kube::Client,
        /// The hub pod as the model knows it.
        running: Option<RunningPod>,
    },
    /// A direct API URL (fleet.toml), e.g. `https://hub.example.org/hub/api`.
    Url(String),
}

/// Where a hub's activity comes from: endpoint and token.
#[derive(Clone)]
pub struct HubSource {
    /// How to reach the API.
    pub endpoint: HubEndpoint,
    /// Where the token comes from.
    pub token: TokenSource,
}

impl HubSource {
    /// Resolves the token and builds the client.
    pub async fn connect(&self, hub: &HubId) -> Result<HubApiClient, HubApiError> {
        let token = self.token.resolve(hub).await?;
        match &self.endpoint {
            HubEndpoint::PortForward { client, running } => {
                let mut pod = HubPod::new(&*hub.key.namespace, &*hub.key.release);
                pod.running = running.clone();
                Ok(HubApiClient::port_forward(hub, client.clone(), pod, token))
            }
            HubEndpoint::Url(url) => HubApiClient::at_url(hub, url, token),
        }
    }
}

/// Hub API polls running at once, fleet-wide.
static POLLS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(8);

/// Polls the hub API every `every` until `shutdown`, sending `FleetUpdate::Activity` whenever
/// the servers or the source state change.
pub async fn poll_activity(
    hub: HubId,
    source: HubSource,
    tx: mpsc::Sender<FleetUpdate>,
    every: Duration,
    shutdown: CancellationToken,
) {
    let mut reporter = Reporter {
        hub: hub.clone(),
        tx,
        last: None,
        last_source: None,
    };
    let mut client: Option<HubApiClient> = None;
    // The first retry after a failure waits two intervals, as the poll would anyway.
    let mut retry = crate::backoff::Backoff::new(every.saturating_mul(2), MAX_BACKOFF);
    loop {
        // Hundreds of hubs poll on a 2-core bastion: a few at a time keeps the watchers (and
        // the console) responsive while every hub is still read once per interval.
        let permit = POLLS.acquire().await;
        // Boxed: a poll's state (port-forward, HTTP exchange, JSON) is kilobytes, and inline it
        // would stay part of every one of hundreds of idle poller tasks between polls.
        let result = match &client {
            Some(c) => Box::pin(c.servers()).await,
            None => match Box::pin(source.connect(&hub)).await {
                Ok(c) => {
                    let r = Box::pin(c.servers()).await;
                    client = Some(c);
                    r
                }
                Err(e) => Err(e),
            },
        };
        drop(permit);
        let wait = match result {
            Ok(servers) => {
                retry.reset();
                if !reporter.send(SourceState::Ok, servers).await {
                    return;
                }
                every
            }
            Err(e) => {
                let state = match &e {
                    HubApiError::NoToken { .. } => SourceState::Absent {
                        note: "no hub token".into(),
                    },
                    other => SourceState::Failing {
                        error: other.to_string(),
                    },
                };
                if !reporter.send(state, Vec::new()).await {
                    return;
                }
                if e.is_auth() {
                    // The token may be rotated or added to the Secret: resolve it again.
                    client = None;
                    AUTH_BACKOFF.max(every)
                } else {
                    retry.delay()
                }
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

struct Reporter {
    hub: HubId,
    tx: mpsc::Sender<FleetUpdate>,
    /// A digest of what was last sent, to send only changes: a copy of every hub's servers
    /// would cost as much memory as the store's own.
    last: Option<u64>,
    /// The source state last sent, for logging transitions.
    last_source: Option<SourceState>,
}

impl Reporter {
    /// Sends the state if it changed; false when the store is gone.
    async fn send(&mut self, source: SourceState, mut servers: Vec<ServerActivity>) -> bool {
        servers.sort_by(|a, b| (&a.user, &a.server).cmp(&(&b.user, &b.server)));
        let digest = digest(&source, &servers);
        if self.last == Some(digest) {
            return true;
        }
        match &source {
            SourceState::Failing { error } => {
                tracing::warn!(hub = %self.hub, "hub API failing: {error}");
            }
            SourceState::Absent { note } if self.last_source.as_ref() != Some(&source) => {
                tracing::info!(hub = %self.hub, "hub API not polled: {note}");
            }
            SourceState::Ok if matches!(self.last_source, Some(SourceState::Failing { .. })) => {
                tracing::info!(hub = %self.hub, "hub API recovered");
            }
            _ => {}
        }
        self.last = Some(digest);
        self.last_source = Some(source.clone());
        let update = FleetUpdate::Activity {
            hub: self.hub.clone(),
            source,
            servers,
        };
        self.tx.send(update).await.is_ok()
    }
}

/// A 64-bit digest of a report. A collision would hide one change until the next one, once in
/// billions of polls.
fn digest(source: &SourceState, servers: &[ServerActivity]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    source.hash(&mut h);
    servers.hash(&mut h);
    h.finish()
}
