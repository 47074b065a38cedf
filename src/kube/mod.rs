//! Everything that talks to Kubernetes API servers: which clusters, one supervised task per
//! cluster with its watchers, and (for actions) the calls that change things.

pub mod clients;
pub mod dask;
pub mod describe;
pub mod exec;
pub mod exec_auth;
pub mod executor;
pub mod logs;
pub mod mapping;
#[cfg(test)]
mod mapping_tests;
pub mod pod_events;
pub mod repo_targets;
pub mod scope;
pub mod slim;
mod stack;
pub mod supervisor;
pub mod targets;
mod tls;
pub mod watch;
mod watch_list;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use clients::ClientCache;
pub use targets::ClusterTarget;
pub(crate) use tls::{provider as tls_provider, system_verifier};

use std::sync::Arc;

use crate::fleet::FleetUpdate;

/// Capacity of the update channel: enough for bursts; a slow consumer slows the producers.
pub const UPDATE_CHANNEL: usize = 8192;

/// How many clusters may list their pods at once, fleet-wide. Each list arrives in pages of 500
/// (kube's watcher default, as client-go) parsed into `SlimPod`s before each is mapped to its
/// small struct, so a bound keeps a hundred clusters from holding their pages at once. It is not
/// the number of cores: against real API servers a list waits on the network and on the server
/// far more than on parsing here, and at 100 clusters two at a time meant fifty rounds of
/// round trips. Eight was as fast as all at once against the sim (objects in 6.2 s against 6.8 s
/// with two, 100 clusters / 100,000 servers on 2 cores) and added nothing to the RSS peak.
pub fn pod_list_permits() -> usize {
    POD_LISTS
}

/// See [`pod_list_permits`].
const POD_LISTS: usize = 8;

/// Starts one supervisor task per cluster and returns the stream of their updates. Every
/// cluster is announced at once, before any of them is reached.
pub fn start(
    clients: &Arc<ClientCache>,
    shutdown: &CancellationToken,
) -> mpsc::Receiver<FleetUpdate> {
    start_with_idle(clients, shutdown, watch::DEFAULT_IDLE)
}

/// `start`, with `idle` as every watch's idle deadline (`watch_idle_secs` in settings.toml).
pub fn start_with_idle(
    clients: &Arc<ClientCache>,
    shutdown: &CancellationToken,
    idle: std::time::Duration,
) -> mpsc::Receiver<FleetUpdate> {
    let (tx, rx) = mpsc::channel(UPDATE_CHANNEL);
    spawn_memory_janitor(shutdown.child_token());
    let pod_lists = Arc::new(tokio::sync::Semaphore::new(pod_list_permits()));
    let mut list: Vec<ClusterTarget> = clients.targets().cloned().collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    for target in list {
        let tx = tx.clone();
        let shutdown = shutdown.child_token();
        let clients = clients.clone();
        let pod_lists = pod_lists.clone();
        tokio::spawn(async move {
            if tx.send(supervisor::added(&target)).await.is_err() {
                return;
            }
            if let Some(hubs) = &target.declared {
                let declared = FleetUpdate::Declared {
                    cluster: crate::fleet::ClusterId::new(target.name.as_str()),
                    hubs: hubs.clone(),
                };
                if tx.send(declared).await.is_err() {
                    return;
                }
            }
            let client = clients
                .client(&crate::fleet::ClusterId::new(target.name.as_str()))
                .await;
            supervisor::supervise(target, client, tx, shutdown, pod_lists, idle).await;
        });
    }
    rx
}

/// How often memory freed by polls and re-lists is handed back to the OS.
const RELEASE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Periodically returns freed memory to the OS (see `watch::release_freed_memory`): watch
/// re-lists and hub API polls allocate in bursts on many threads.
fn spawn_memory_janitor(shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(RELEASE_EVERY);
        every.tick().await;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = every.tick() => watch::release_freed_memory(),
            }
        }
    });
}
