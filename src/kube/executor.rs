//! The Kubernetes side of the action layer: [`KubeActions`] implements the core's
//! `KubeExecutor` (access reviews, precondition reads, the mutations, reading a hub's config)
//! over the fleet's clients (and, in `exec`, the `PodExec` port), and [`runner`] wires it into
//! an action `Runner`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

use super::clients::{ClientCache, identity};
use super::mapping::{RESTARTED_AT_ANNOTATION, z2jh_identity};
use super::watch::one_line;
use crate::action::{
    Action, ActionError, ApiCall, AuditLog, ClusterAccess, HubConfig, KubeExecutor, Pending, Runner,
};
use crate::fleet::{ClusterId, Component, HubId, WorkloadKind};

/// Acts on the clusters of a client cache.
pub struct KubeActions {
    clients: Arc<ClientCache>,
}

impl KubeActions {
    /// Actions through these clients.
    pub fn new(clients: Arc<ClientCache>) -> Self {
        Self { clients }
    }

    pub(super) async fn client(&self, cluster: &ClusterId) -> Result<Client, ActionError> {
        self.clients
            .client(cluster)
            .await
            .map_err(|e| ActionError::Unreachable(format!("cluster {cluster}: {e}")))
    }
}

/// An action runner over every cluster of `clients`; `readonly` refuses every action.
pub fn runner(clients: Arc<ClientCache>, readonly: bool, audit: AuditLog) -> Runner {
    let access: HashMap<ClusterId, ClusterAccess> = clients
        .targets()
        .map(|t| {
            let access = ClusterAccess {
                context: t.context.clone(),
                identity: identity(t),
                readonly: t.readonly,
            };
            (ClusterId::new(t.name.as_str()), access)
        })
        .collect();
    let actions = Arc::new(KubeActions::new(clients));
    Runner::new(access, actions.clone(), readonly, audit).with_exec(actions)
}

impl KubeExecutor for KubeActions {
    fn access_review<'a>(
        &'a self,
        cluster: &'a ClusterId,
        call: &'a ApiCall,
    ) -> Pending<'a, Option<String>> {
        Box::pin(async move { access_review(&self.client(cluster).await?, call).await })
    }

    fn precondition<'a>(&'a self, action: &'a Action) -> Pending<'a, ()> {
        Box::pin(async move { precondition(&self.client(&action.cluster()).await?, action).await })
    }

    fn restart<'a>(
        &'a self,
        cluster: &'a ClusterId,
        namespace: &'a str,
        deployment: &'a str,
    ) -> Pending<'a, String> {
        Box::pin(async move { restart(&self.client(cluster).await?, namespace, deployment).await })
    }

    fn scale<'a>(
        &'a self,
        cluster: &'a ClusterId,
        kind: WorkloadKind,
        namespace: &'a str,
        name: &'a str,
        replicas: u32,
    ) -> Pending<'a, String> {
        Box::pin(async move {
            let c = self.client(cluster).await?;
            match kind {
                WorkloadKind::Deployment => {
                    scale::<Deployment>(&c, namespace, name, replicas).await
                }
                WorkloadKind::StatefulSet => {
                    scale::<StatefulSet>(&c, namespace, name, replicas).await
                }
            }
        })
    }

    fn delete_pod<'a>(
        &'a self,
        cluster: &'a ClusterId,
        namespace: &'a str,
        pod: &'a str,
    ) -> Pending<'a, String> {
        Box::pin(async move { delete_pod(&self.client(cluster).await?, namespace, pod).await })
    }

    fn write_values<'a>(
        &'a self,
        cluster: &'a ClusterId,
        namespace: &'a str,
        secret: &'a str,
        resource_version: &'a str,
        values: &'a str,
    ) -> Pending<'a, String> {
        Box::pin(async move {
            let c = self.client(cluster).await?;
            write_values(&c, namespace, secret, resource_version, values).await
        })
    }

    fn read_values<'a>(&'a self, hub: &'a HubId) -> Pending<'a, HubConfig> {
        Box::pin(async move { read_values(&self.client(&hub.cluster).await?, hub).await })
    }

    fn stop_dask_cluster<'a>(
        &'a self,
        cluster: &'a ClusterId,
        namespace: &'a str,
        name: &'a str,
    ) -> Pending<'a, String> {
        Box::pin(
            async move { super::dask::stop(&self.client(cluster).await?, namespace, name).await },
        )
    }
}

pub(super) fn failed(e: kube::Error) -> ActionError {
    match &e {
        kube::Error::Api(s) if s.code == 409 => ActionError::Conflict(s.message.clone()),
        kube::Error::Api(s) if s.code == 403 => ActionError::Refused(s.message.clone()),
        kube::Error::Api(s) if s.code == 404 => ActionError::Precondition(s.message.clone()),
        _ => ActionError::Failed(one_line(&e)),
    }
}

/// Asks the API server whether the current identity may make `call`; Some(reason) if not.
async fn access_review(client: &Client, call: &ApiCall) -> Result<Option<String>, ActionError> {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(call.verb.to_string()),
                group: Some(call.group.to_string()),
                resource: Some(call.resource.to_string()),
                subresource: call.subresource.map(str::to_string),
                namespace: Some(call.namespace.clone()),
                name: Some(call.name.clone()),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let answer = Api::<SelfSubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .map_err(failed)?;
    let status = answer.status.unwrap_or_default();
    if status.allowed {
        Ok(None)
    } else {
        let why = status.reason.filter(|r| !r.is_empty()).unwrap_or_default();
        let call = call.describe();
        Ok(Some(if why.is_empty() {
            format!("missing permission: {call}")
        } else {
            format!("missing permission: {call} ({why})")
        }))
    }
}

fn expect_component(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    hub: &HubId,
    component: Component,
    what: &str,
) -> Result<(), ActionError> {
    match z2jh_identity(meta) {
        Some((c, release)) if c == component && release == &*hub.key.release => Ok(()),
        _ => Err(ActionError::Precondition(format!(
            "{what} is no longer the {component:?} of release {}",
            hub.key.release
        ))),
    }
}

/// Checks that what the action targets still is what the person saw.
async fn precondition(client: &Client, action: &Action) -> Result<(), ActionError> {
    match action {
        Action::RestartHub { hub, deployment } | Action::RestartProxy { hub, deployment } => {
            let d = Api::<Deployment>::namespaced(client.clone(), &hub.key.namespace)
                .get(deployment)
                .await
                .map_err(failed)?;
            let component = if matches!(action, Action::RestartHub { .. }) {
                Component::Hub
            } else {
                Component::Proxy
            };
            expect_component(
                &d.metadata,
                hub,
                component,
                &format!("Deployment {deployment}"),
            )
        }
        Action::ScaleHub {
            hub,
            deployment,
            expected,
            ..
        } => {
            let d = Api::<Deployment>::namespaced(client.clone(), &hub.key.namespace)
                .get(deployment)
                .await
                .map_err(failed)?;
            expect_component(
                &d.metadata,
                hub,
                Component::Hub,
                &format!("Deployment {deployment}"),
            )?;
            replicas_as_expected(d.spec.replicas, *expected, deployment)
        }
        Action::ScalePlaceholders {
            hub,
            stateful_set,
            expected,
            ..
        } => {
            let s = Api::<StatefulSet>::namespaced(client.clone(), &hub.key.namespace)
                .get(stateful_set)
                .await
                .map_err(failed)?;
            expect_component(
                &s.metadata,
                hub,
                Component::UserPlaceholder,
                &format!("StatefulSet {stateful_set}"),
            )?;
            replicas_as_expected(s.spec.replicas, *expected, stateful_set)
        }
        Action::StopServers { servers } => {
            for s in servers {
                let pods = Api::<Pod>::namespaced(client.clone(), &s.namespace);
                if pods.get_opt(&s.pod).await.map_err(failed)?.is_none() {
                    return Err(ActionError::Precondition(format!(
                        "server {} has no pod {} any more",
                        s.id, s.pod
                    )));
                }
            }
            Ok(())
        }
        Action::EditHubConfig {
            hub,
            secret,
            resource_version,
            ..
        } => {
            let current = Api::<Secret>::namespaced(client.clone(), &hub.key.namespace)
                .get(secret)
                .await
                .map_err(failed)?;
            let rv = current.metadata.resource_version.unwrap_or_default();
            if &rv != resource_version {
                return Err(ActionError::Conflict(format!(
                    "Secret {secret} changed since it was read (resourceVersion {resource_version} → {rv})"
                )));
            }
            Ok(())
        }
        Action::Exec {
            namespace,
            pod,
            container,
            ..
        } => super::exec::exec_precondition(client, namespace, pod, container.as_deref()).await,
        Action::StopDaskClusters {
            hub,
            user,
            clusters,
        } => super::dask::precondition(client, &hub.key.namespace, user, clusters).await,
        Action::SilenceAlert { .. } | Action::ExpireSilence { .. } => Ok(()),
    }
}

fn replicas_as_expected(
    actual: Option<i32>,
    expected: Option<u32>,
    name: &str,
) -> Result<(), ActionError> {
    let actual = actual.unwrap_or(1);
    match expected {
        Some(e) if i64::from(e) != i64::from(actual) => Err(ActionError::Precondition(format!(
            "{name} has {actual} replicas, expected {e}: someone else changed it"
        ))),
        _ => Ok(()),
    }
}

/// Rollout restart: the same patch `kubectl rollout restart` sends.
async fn restart(
    client: &Client,
    namespace: &str,
    deployment: &str,
) -> Result<String, ActionError> {
    let now = jiff::Timestamp::now().to_string();
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: now}}}}});
    Api::<Deployment>::namespaced(client.clone(), namespace)
        .patch(
            deployment,
            &PatchParams::default(),
            &Patch::Strategic(patch),
        )
        .await
        .map_err(failed)?;
    Ok(format!(
        "Deployment {namespace}/{deployment} restarted at {now}"
    ))
}

/// Sets replicas of a Deployment or StatefulSet through its scale subresource.
async fn scale<K>(
    client: &Client,
    namespace: &str,
    name: &str,
    replicas: u32,
) -> Result<String, ActionError>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    Api::<K>::namespaced(client.clone(), namespace)
        .patch_scale(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": replicas}})),
        )
        .await
        .map_err(failed)?;
    Ok(format!(
        "{} {namespace}/{name} scaled to {replicas}",
        K::kind(&())
    ))
}

/// Deletes a user pod gracefully.
async fn delete_pod(client: &Client, namespace: &str, pod: &str) -> Result<String, ActionError> {
    Api::<Pod>::namespaced(client.clone(), namespace)
        .delete(pod, &DeleteParams::default())
        .await
        .map_err(failed)?;
    Ok(format!("pod {namespace}/{pod} deleted"))
}

/// Writes values.yaml into the hub Secret only if it is still at `resource_version`.
async fn write_values(
    client: &Client,
    namespace: &str,
    secret: &str,
    resource_version: &str,
    values: &str,
) -> Result<String, ActionError> {
    let mut data = BTreeMap::new();
    data.insert(
        "values.yaml".to_string(),
        ByteString(values.as_bytes().to_vec()),
    );
    let patch = json!({
        "metadata": {"resourceVersion": resource_version},
        "data": serde_json::to_value(&data).map_err(|e| ActionError::Failed(e.to_string()))?,
    });
    let updated = Api::<Secret>::namespaced(client.clone(), namespace)
        .patch(secret, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .map_err(failed)?;
    Ok(format!(
        "Secret {namespace}/{secret} updated (resourceVersion {})",
        updated.metadata.resource_version.unwrap_or_default()
    ))
}

/// Reads the hub Secret's values.yaml.
async fn read_values(client: &Client, hub: &HubId) -> Result<HubConfig, ActionError> {
    let api = Api::<Secret>::namespaced(client.clone(), &hub.key.namespace);
    let selector = format!("component=hub,release={}", hub.key.release);
    let list = api
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(failed)?;
    let secret = list
        .items
        .into_iter()
        .find(|s| {
            s.data
                .as_ref()
                .is_some_and(|d| d.contains_key("values.yaml"))
        })
        .ok_or_else(|| {
            ActionError::Precondition(format!(
                "no Secret with values.yaml labelled {selector} in namespace {}",
                hub.key.namespace
            ))
        })?;
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get("values.yaml"))
        .map(|b| b.0.clone())
        .unwrap_or_default();
    Ok(HubConfig {
        secret: secret.metadata.name.clone().unwrap_or_default(),
        resource_version: secret.metadata.resource_version.clone().unwrap_or_default(),
        values: String::from_utf8(bytes)
            .map_err(|_| ActionError::Failed("values.yaml is not UTF-8".into()))?,
    })
}
