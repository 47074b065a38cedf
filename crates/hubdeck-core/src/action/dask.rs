//! "Stop the dask clusters of a user": dask-gateway's own way of stopping a cluster, which is
//! to set `spec.active` of its `DaskCluster` to false (its controller then deletes the
//! scheduler and workers and marks the cluster Stopped). Deleting the pods instead would only
//! have the controller start them again.

use crate::fleet::{Fleet, HubId, HubRef};

use super::error::ResolveError;
use super::model::{Action, ApiCall, Confirm, Step, Via};
use super::resolve::find_hub;

/// The API group of dask-gateway's custom resources.
pub const DASK_GROUP: &str = "gateway.dask.org";
/// The `DaskCluster` resource's plural.
pub const DASK_CLUSTERS: &str = "daskclusters";

/// Binds "stop the dask clusters of `user` on `hub`" to the clusters the model shows running.
pub(super) fn resolve_stop_dask(
    fleet: &Fleet,
    hub: &HubRef,
    user: &str,
) -> Result<Action, ResolveError> {
    let h = find_hub(fleet, hub)?;
    let clusters: Vec<String> = fleet
        .dask_clusters_of(&h.id, user)
        .map(|c| c.key.name.to_string())
        .collect();
    if clusters.is_empty() {
        return Err(ResolveError::NothingToDo(format!(
            "{user} has no running dask cluster on {}",
            h.id
        )));
    }
    Ok(Action::StopDaskClusters {
        hub: h.id.clone(),
        user: user.to_string(),
        clusters,
    })
}

/// The patch of one cluster (what the runner sends and the access review asks about).
pub fn stop_call(hub: &HubId, cluster: &str) -> ApiCall {
    ApiCall {
        verb: "patch",
        group: DASK_GROUP,
        resource: DASK_CLUSTERS,
        subresource: None,
        namespace: hub.key.namespace.to_string(),
        name: cluster.to_string(),
    }
}

/// Summary, steps, confirmation and warnings of the action's plan.
pub(super) fn plan_stop_dask(
    hub: &HubId,
    user: &str,
    clusters: &[String],
) -> (String, Vec<Step>, Confirm, Vec<String>) {
    let steps = clusters
        .iter()
        .map(|c| Step {
            what: format!("stop dask cluster {c} (set spec.active of DaskCluster {c} to false)"),
            via: Via::Kubernetes {
                call: stop_call(hub, c),
            },
        })
        .collect();
    let warning = "dask-gateway's controller deletes the clusters' schedulers and workers: \
                   whatever they were computing is lost"
        .to_string();
    let n = clusters.len();
    let summary = match n {
        1 => format!("stop the dask cluster of {hub}/{user}"),
        _ => format!("stop {n} dask clusters of {hub}/{user}"),
    };
    let confirm = if n > 1 {
        Confirm::Explicit
    } else {
        Confirm::Simple
    };
    (summary, steps, confirm, vec![warning])
}

/// Whether the model shows none of the clusters running any more.
pub(super) fn stopped(fleet: &Fleet, hub: &HubId, user: &str, clusters: &[String]) -> bool {
    fleet
        .dask_clusters_of(hub, user)
        .all(|c| !clusters.iter().any(|n| *n == *c.key.name))
}
