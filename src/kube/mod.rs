//! Everything that talks to Kubernetes API servers: which clusters, one supervised task per
//! cluster with its watchers, and (for actions) the calls that change things.

pub mod clients;
pub mod describe;
pub mod executor;
pub mod logs;
pub mod mapping;
#[cfg(test)]
mod mapping_tests;
pub mod supervisor;
pub mod targets;
pub mod watch;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use clients::ClientCache;
pub use targets::ClusterTarget;

use std::sync::Arc;

use crate::fleet::FleetUpdate;

/// Capacity of the update channel: enough for bursts; a slow consumer slows the producers.
pub const UPDATE_CHANNEL: usize = 8192;

/// Starts one supervisor task per cluster and returns the stream of their updates. Every
/// cluster is announced at once, before any of them is reached.
pub fn start(
    clients: &Arc<ClientCache>,
    shutdown: &CancellationToken,
) -> mpsc::Receiver<FleetUpdate> {
    let (tx, rx) = mpsc::channel(UPDATE_CHANNEL);
    let mut list: Vec<ClusterTarget> = clients.targets().cloned().collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    for target in list {
        let tx = tx.clone();
        let shutdown = shutdown.child_token();
        let clients = clients.clone();
        tokio::spawn(async move {
            if tx.send(supervisor::added(&target)).await.is_err() {
                return;
            }
            let client = clients
                .client(&crate::fleet::ClusterId::new(target.name.as_str()))
                .await;
            supervisor::supervise(target, client, tx, shutdown).await;
        });
    }
    rx
}
