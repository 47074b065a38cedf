//! The runner's side of stopping a user's dask clusters: one `DaskCluster` patch each, every
//! cluster tried even when one fails, as servers are.

use hubdeck_core::fleet::ClusterId;

use super::{Runner, with_message};
use crate::action::ActionError;

impl Runner {
    /// Stops each cluster in turn; the first error's kind, with every cluster's line.
    pub(super) async fn stop_dask(
        &self,
        cluster: &ClusterId,
        namespace: &str,
        clusters: &[String],
    ) -> Result<Vec<String>, ActionError> {
        let mut lines = Vec::with_capacity(clusters.len());
        let mut first_error = None;
        for name in clusters {
            match self.kube.stop_dask_cluster(cluster, namespace, name).await {
                Ok(m) => lines.push(m),
                Err(e) => {
                    lines.push(format!("DaskCluster {namespace}/{name}: {e}"));
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            None => Ok(lines),
            Some(e) if clusters.len() == 1 => Err(e),
            Some(e) => Err(with_message(&e, lines.join("; "))),
        }
    }
}
