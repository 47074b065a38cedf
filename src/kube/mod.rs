//! Everything that talks to Kubernetes API servers: which clusters, one supervised task per
//! cluster with its watchers, and (for actions) the calls that change things.

pub mod executor;
pub mod mapping;
#[cfg(test)]
mod mapping_tests;
pub mod supervisor;
pub mod targets;
pub mod watch;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use targets::ClusterTarget;

use crate::fleet::FleetUpdate;

/// Capacity of the update channel: enough for bursts; a slow consumer slows the producers.
pub const UPDATE_CHANNEL: usize = 8192;

/// Starts one supervisor task per cluster and returns the stream of their updates. Every
/// cluster is announced at once, before any of them is reached.
pub fn start(
    targets: &[ClusterTarget],
    shutdown: &CancellationToken,
) -> mpsc::Receiver<FleetUpdate> {
    let (tx, rx) = mpsc::channel(UPDATE_CHANNEL);
    for target in targets {
        let target = target.clone();
        let tx = tx.clone();
        let shutdown = shutdown.child_token();
        tokio::spawn(async move {
            if tx.send(supervisor::added(&target)).await.is_err() {
                return;
            }
            let client = targets::client(&target).await;
            supervisor::supervise(target, client, tx, shutdown).await;
        });
    }
    rx
}
