//! dask-gateway's objects as the watches read them, and the one change hubdeck makes to them.
//!
//! Labels are dask-gateway's own: its Helm chart labels the gateway's pods
//! `app.kubernetes.io/name=dask-gateway` with `app.kubernetes.io/component` = `gateway`,
//! `controller` or `traefik`; its Kubernetes controller labels each cluster's pods with the
//! same name, `app.kubernetes.io/component` = `dask-scheduler` or `dask-worker` and
//! `gateway.dask.org/cluster=<DaskCluster name>`. The user is on no pod: only the
//! `DaskCluster`'s `spec.username` says whose a cluster is, so both are watched.

use std::collections::BTreeMap;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Patch, PatchParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use kube::{Api, Client};
use serde::{Deserialize, Deserializer};
use serde_json::json;

use super::executor::failed;
use super::mapping::Mapper;
use super::slim::slim_resource;
use crate::action::ActionError;
use crate::fleet::{DaskCluster, DaskPod, DaskRole, PodPhase};

/// Every pod of dask-gateway: the gateway's and its clusters'.
pub const POD_SELECTOR: &str = "app.kubernetes.io/name=dask-gateway,app.kubernetes.io/component";
/// The component label.
const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
/// The dask cluster a scheduler or worker belongs to.
const CLUSTER_LABEL: &str = "gateway.dask.org/cluster";
/// The version of dask-gateway's CRD its backend and controller use by default.
pub const VERSION: &str = "v1alpha1";

/// The metadata a watch and the mapping read (labels are few on these pods; annotations and
/// managed fields are skipped).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMeta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    resource_version: Option<String>,
    #[serde(default)]
    deletion_timestamp: Option<Time>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

fn meta<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectMeta, D::Error> {
    let m = RawMeta::deserialize(d)?;
    Ok(ObjectMeta {
        name: m.name,
        namespace: m.namespace,
        resource_version: m.resource_version,
        deletion_timestamp: m.deletion_timestamp,
        labels: m.labels,
        ..ObjectMeta::default()
    })
}

/// A dask-gateway pod reduced to its role, cluster, phase and readiness.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlimDaskPod {
    #[serde(deserialize_with = "meta")]
    metadata: ObjectMeta,
    #[serde(default)]
    status: Option<PodStatus>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct PodStatus {
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    conditions: Option<Vec<Condition>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Condition {
    #[serde(rename = "type", default)]
    type_: String,
    #[serde(default)]
    status: String,
}

/// A `DaskCluster` reduced to whose it is and whether it runs.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlimDaskCluster {
    #[serde(deserialize_with = "meta")]
    metadata: ObjectMeta,
    #[serde(default)]
    spec: Option<ClusterSpec>,
    #[serde(default)]
    status: Option<ClusterStatus>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct ClusterSpec {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    active: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct ClusterStatus {
    #[serde(default)]
    phase: Option<String>,
}

slim_resource!(SlimDaskPod, NamespaceResourceScope, "", "v1", "Pod", "pods");
slim_resource!(
    SlimDaskCluster,
    NamespaceResourceScope,
    "gateway.dask.org",
    VERSION,
    "DaskCluster",
    "daskclusters"
);

/// A dask-gateway pod, if it is one of the roles the model tracks.
pub fn pod(m: &mut Mapper, p: &SlimDaskPod) -> Option<DaskPod> {
    let labels = p.metadata.labels.as_ref()?;
    let role = DaskRole::from_label(labels.get(COMPONENT_LABEL)?)?;
    let status = p.status.as_ref();
    let mut phase = PodPhase::from_status(status.and_then(|s| s.phase.as_deref()).unwrap_or(""));
    if p.metadata.deletion_timestamp.is_some() {
        phase = PodPhase::Terminating;
    }
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    Some(DaskPod {
        key: m.key(&p.metadata),
        role,
        cluster: labels.get(CLUSTER_LABEL).map(|c| m.shared(c)),
        phase,
        ready,
    })
}

/// A `DaskCluster`: its user, whether it is asked to run and how far it got.
pub fn cluster(m: &mut Mapper, c: &SlimDaskCluster) -> Option<DaskCluster> {
    let spec = c.spec.as_ref();
    Some(DaskCluster {
        key: m.key(&c.metadata),
        user: m.shared(spec.and_then(|s| s.username.as_deref()).unwrap_or("")),
        // The controller treats a missing `active` as true.
        active: spec.and_then(|s| s.active).unwrap_or(true),
        phase: m.shared(
            c.status
                .as_ref()
                .and_then(|s| s.phase.as_deref())
                .unwrap_or(""),
        ),
    })
}

fn api(client: &Client, namespace: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("gateway.dask.org", VERSION, "DaskCluster");
    Api::namespaced_with(
        client.clone(),
        namespace,
        &ApiResource::from_gvk_with_plural(&gvk, "daskclusters"),
    )
}

/// Checks each cluster is still there and still the user's.
pub async fn precondition(
    client: &Client,
    namespace: &str,
    user: &str,
    clusters: &[String],
) -> Result<(), ActionError> {
    let api = api(client, namespace);
    for name in clusters {
        let Some(c) = api.get_opt(name).await.map_err(failed)? else {
            return Err(ActionError::Precondition(format!(
                "DaskCluster {namespace}/{name} is gone (stopped and cleaned up already?)"
            )));
        };
        let owner = c.data.pointer("/spec/username").and_then(|u| u.as_str());
        if owner != Some(user) {
            return Err(ActionError::Precondition(format!(
                "DaskCluster {namespace}/{name} is not {user}'s"
            )));
        }
    }
    Ok(())
}

/// Stops one cluster as dask-gateway's own backend does: `spec.active` set to false, which
/// its controller answers by deleting the scheduler and workers. A merge patch: custom
/// resources take no strategic merge, and this one sets a single field.
pub async fn stop(client: &Client, namespace: &str, name: &str) -> Result<String, ActionError> {
    api(client, namespace)
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"active": false}})),
        )
        .await
        .map_err(failed)?;
    Ok(format!(
        "DaskCluster {namespace}/{name} stopped (spec.active=false)"
    ))
}
