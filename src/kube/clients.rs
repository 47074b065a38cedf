//! One `kube::Client` per cluster, built on first use (exec plugins may run then) and shared by
//! the watchers, log streams, describe views and the action layer.

use std::collections::HashMap;
use std::sync::Arc;

use kube::Client;
use tokio::sync::Mutex;

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
    built: Mutex<HashMap<ClusterId, Client>>,
}

impl ClientCache {
    /// A cache for these clusters.
    pub fn new(list: &[ClusterTarget]) -> Arc<Self> {
        Arc::new(Self {
            targets: list
                .iter()
                .map(|t| (ClusterId::new(t.name.as_str()), t.clone()))
                .collect(),
            built: Mutex::new(HashMap::new()),
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

    /// The client of a cluster, building it on first use.
    pub async fn client(&self, cluster: &ClusterId) -> Result<Client, ClientError> {
        if let Some(c) = self.built.lock().await.get(cluster) {
            return Ok(c.clone());
        }
        let target = self
            .targets
            .get(cluster)
            .ok_or_else(|| ClientError::UnknownCluster(cluster.clone()))?;
        // Built outside the lock: one slow exec plugin must not hold up other clusters.
        let client = targets::client(target).await?;
        Ok(self
            .built
            .lock()
            .await
            .entry(cluster.clone())
            .or_insert(client)
            .clone())
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
