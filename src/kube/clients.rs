//! One `kube::Client` per cluster, built on first use (exec plugins may run then) and shared by
//! the watchers, log streams, describe views, pollers and the action layer. Callers that ask
//! while it is being built wait for that build rather than starting their own (each would run
//! the exec plugin); different clusters build at the same time.

use std::collections::HashMap;
use std::sync::Arc;

use kube::Client;
use tokio::sync::OnceCell;

use super::targets::{self, ClusterTarget};
use crate::fleet::ClusterId;

/// Why a cluster's client could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The cluster is not one of the fleet's.
    #[error("unknown cluster {0}")]
    UnknownCluster(ClusterId),
    /// A cluster of the deployment repository that no kubeconfig context matches.
    #[error("{0}")]
    NoContext(String),
    /// Its kubeconfig context could not be turned into a client (exec plugin, certificate).
    #[error("context {context}: {message}")]
    Build {
        /// The kubeconfig context.
        context: String,
        /// What went wrong, on one line.
        message: String,
    },
}

/// Clients by cluster.
#[derive(Default)]
pub struct ClientCache {
    targets: HashMap<ClusterId, ClusterTarget>,
    built: HashMap<ClusterId, OnceCell<Client>>,
}

impl ClientCache {
    /// A cache for these clusters.
    pub fn new(list: &[ClusterTarget]) -> Arc<Self> {
        Arc::new(Self {
            targets: list
                .iter()
                .map(|t| (ClusterId::new(t.name.as_str()), t.clone()))
                .collect(),
            built: list
                .iter()
                .map(|t| (ClusterId::new(t.name.as_str()), OnceCell::new()))
                .collect(),
        })
    }

    /// The target of a cluster.
    pub fn target(&self, cluster: &ClusterId) -> Option<&ClusterTarget> {
        self.targets.get(cluster)
    }

    /// Every target.
    pub fn targets(&self) -> impl Iterator<Item = &ClusterTarget> {
        self.targets.values()
    }

    /// The client of a cluster, building it on first use. A failed build is not kept: the next
    /// caller tries again (a plugin may succeed once its user has logged in).
    pub async fn client(&self, cluster: &ClusterId) -> Result<Client, ClientError> {
        let (Some(target), Some(cell)) = (self.targets.get(cluster), self.built.get(cluster))
        else {
            return Err(ClientError::UnknownCluster(cluster.clone()));
        };
        cell.get_or_try_init(|| targets::client(target))
            .await
            .cloned()
    }
}

/// The kubeconfig user of a target's context: the identity the audit log records.
pub fn identity(target: &ClusterTarget) -> String {
    target
        .kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == target.context)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.user.clone())
        .unwrap_or_else(|| "unknown".into())
}
