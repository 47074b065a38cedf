//! The per-cluster task polling Alertmanager and sending the full set of firing alerts to the
//! fleet store. Failures are reported once per change of error and retried with backoff, so a
//! cluster whose Alertmanager is down does not flood the logs.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::client::AlertmanagerClient;
use super::discover::discover_alertmanager;
use super::error::AlertsError;
use super::transport::ServiceRef;
use crate::fleet::{AlertInfo, ClusterId, FleetUpdate, SourceState};

/// Longest wait between attempts while failing.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How often a cluster without an Alertmanager is looked at again.
const REDISCOVER: Duration = Duration::from_secs(600);

/// Where a cluster's alerts come from.
#[derive(Clone)]
pub enum AlertSource {
    /// Find the Alertmanager Service by labels (again whenever it disappears), also in these
    /// namespaces when Services may not be listed cluster-wide.
    Discover(kube::Client, Vec<String>),
    /// A known Service, through the API-server proxy.
    Service(kube::Client, ServiceRef),
    /// A direct base URL (fleet.toml override).
    Url(String),
    /// A ready client.
    Client(AlertmanagerClient),
}

/// Polls the cluster's Alertmanager every `every` (and at once when `nudge` is notified, e.g.
/// after a silence was created) until `shutdown`, sending `FleetUpdate::Alerts` whenever the
/// set or the source state changes.
pub async fn poll_alerts(
    cluster: ClusterId,
    source: AlertSource,
    tx: mpsc::Sender<FleetUpdate>,
    every: Duration,
    nudge: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let mut poller = Poller {
        cluster,
        tx,
        last: None,
    };
    let mut client = match &source {
        AlertSource::Discover(..) => None,
        AlertSource::Service(kube, svc) => Some(AlertmanagerClient::via_service(
            &poller.cluster,
            kube.clone(),
            svc.clone(),
        )),
        AlertSource::Client(c) => Some(c.clone()),
        AlertSource::Url(url) => match AlertmanagerClient::at_url(&poller.cluster, url) {
            Ok(c) => Some(c),
            Err(e) => {
                // A bad URL will not get better: say so once and wait for shutdown.
                poller.report(failing(&e), Vec::new()).await;
                shutdown.cancelled().await;
                return;
            }
        },
    };
    // The first retry after a failure waits two intervals, as the poll would anyway.
    let mut retry = crate::backoff::Backoff::new(every.saturating_mul(2), MAX_BACKOFF);
    loop {
        let wait = match (&client, &source) {
            (None, AlertSource::Discover(kube, also)) => {
                match discover_alertmanager(kube, also).await {
                    Ok(Some(svc)) => {
                        tracing::debug!(cluster = %poller.cluster, service = %svc, "found alertmanager");
                        client = Some(AlertmanagerClient::via_service(
                            &poller.cluster,
                            kube.clone(),
                            svc,
                        ));
                        Duration::ZERO
                    }
                    Ok(None) => {
                        let note = "no Alertmanager service found".to_string();
                        retry.reset();
                        if !poller
                            .report(SourceState::Absent { note }, Vec::new())
                            .await
                        {
                            return;
                        }
                        REDISCOVER
                    }
                    Err(e) => {
                        if !poller.report(failing(&e), Vec::new()).await {
                            return;
                        }
                        retry.delay()
                    }
                }
            }
            (None, _) => return,
            (Some(c), _) => match c.alerts().await {
                Ok(alerts) => {
                    retry.reset();
                    if !poller.report(SourceState::Ok, alerts).await {
                        return;
                    }
                    every
                }
                Err(e) => {
                    // Through the proxy, 404 or 503 means the Service or its pods went away:
                    // look for it again rather than hammering a dead name.
                    let gone = matches!(
                        e,
                        AlertsError::Http {
                            status: 404 | 503,
                            ..
                        }
                    );
                    if gone && matches!(source, AlertSource::Discover(..)) {
                        client = None;
                    }
                    if !poller.report(failing(&e), Vec::new()).await {
                        return;
                    }
                    retry.delay()
                }
            },
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
            () = nudge.notified() => {}
        }
    }
}

struct Poller {
    cluster: ClusterId,
    tx: mpsc::Sender<FleetUpdate>,
    /// What was last sent, to send only changes.
    last: Option<(SourceState, Vec<AlertInfo>)>,
}

impl Poller {
    /// Sends the state if it changed; false when the store is gone.
    async fn report(&mut self, source: SourceState, alerts: Vec<AlertInfo>) -> bool {
        let next = (source, alerts);
        if self.last.as_ref() == Some(&next) {
            return true;
        }
        match &next.0 {
            SourceState::Failing { error } => {
                tracing::warn!(cluster = %self.cluster, "alert source failing: {error}");
            }
            SourceState::Ok if matches!(self.last, Some((SourceState::Failing { .. }, _))) => {
                tracing::info!(cluster = %self.cluster, "alert source recovered");
            }
            _ => {}
        }
        self.last = Some(next.clone());
        let update = FleetUpdate::Alerts {
            cluster: self.cluster.clone(),
            source: next.0,
            alerts: next.1,
        };
        self.tx.send(update).await.is_ok()
    }
}

fn failing(e: &AlertsError) -> SourceState {
    SourceState::Failing {
        error: e.to_string(),
    }
}
