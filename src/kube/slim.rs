//! A pod as the pod watcher reads it: only the fields `mapping` uses. A list of thousands of
//! full `Pod`s (managed fields, volumes, env, probes) is parsed into far more memory than the
//! model it becomes, and the allocator keeps that peak; serde skips every field named nowhere
//! here without allocating for it.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::mapping::{SERVERNAME_ANNOTATION, USERNAME_ANNOTATION};
use crate::fleet::{INSTANCE_TYPE_LABEL, POOL_LABELS, PURPOSE_LABEL};

/// Labels `mapping` reads; the others are skipped.
const LABELS: &[&str] = &[
    "component",
    "release",
    USERNAME_ANNOTATION,
    SERVERNAME_ANNOTATION,
];
/// Node labels `mapping` reads: the pool labels, instance type and z2jh's node purpose.
const NODE_LABELS: &[&str] = &[
    POOL_LABELS[0],
    POOL_LABELS[1],
    POOL_LABELS[2],
    POOL_LABELS[3],
    POOL_LABELS[4],
    POOL_LABELS[5],
    INSTANCE_TYPE_LABEL,
    PURPOSE_LABEL,
];
/// Annotations `mapping` reads.
const ANNOTATIONS: &[&str] = &[USERNAME_ANNOTATION, SERVERNAME_ANNOTATION];

/// A core/v1 Pod reduced to what the fleet keeps of it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlimPod {
    /// Name, namespace, the labels and annotations above, resource version, uid, times.
    #[serde(deserialize_with = "slim_meta")]
    pub metadata: ObjectMeta,
    /// Node and containers.
    #[serde(default)]
    pub spec: Option<SlimPodSpec>,
    /// Phase, conditions, container states.
    #[serde(default)]
    pub status: Option<SlimPodStatus>,
}

/// `spec` of a pod: where it runs and what its containers ask for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlimPodSpec {
    /// `spec.nodeName`.
    #[serde(default)]
    pub node_name: Option<String>,
    /// `spec.containers`.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub containers: Vec<SlimContainer>,
}

/// A container of the pod spec.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlimContainer {
    /// Container name.
    #[serde(default)]
    pub name: String,
    /// Image reference.
    #[serde(default)]
    pub image: Option<String>,
    /// Requests and limits.
    #[serde(default)]
    pub resources: Option<SlimResources>,
}

/// `resources` of a container.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlimResources {
    /// `resources.requests`, cpu and memory only.
    #[serde(default)]
    pub requests: Option<SlimRequests>,
    /// `resources.limits`, cpu and memory only.
    #[serde(default)]
    pub limits: Option<SlimRequests>,
}

/// CPU and memory requests or limits; extended resources (GPUs) are skipped.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlimRequests {
    /// `cpu`.
    #[serde(default)]
    pub cpu: Option<Quantity>,
    /// `memory`.
    #[serde(default)]
    pub memory: Option<Quantity>,
}

/// `status` of a pod.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlimPodStatus {
    /// `status.phase`.
    #[serde(default)]
    pub phase: Option<String>,
    /// `status.reason` (Evicted, ...).
    #[serde(default)]
    pub reason: Option<String>,
    /// `status.startTime`.
    #[serde(default)]
    pub start_time: Option<Time>,
    /// `status.conditions`.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub conditions: Vec<SlimCondition>,
    /// `status.containerStatuses`.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub container_statuses: Vec<SlimContainerStatus>,
}

/// A pod condition (Ready, PodScheduled, ...).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlimCondition {
    /// Condition type.
    #[serde(rename = "type")]
    pub type_: String,
    /// "True", "False" or "Unknown".
    #[serde(default)]
    pub status: String,
    /// Machine reason.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A container's restarts, waiting reason and how its previous run ended.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlimContainerStatus {
    /// Container name.
    #[serde(default)]
    pub name: String,
    /// `lastState`, of which only `terminated` is read.
    #[serde(default)]
    pub last_state: Option<SlimLastState>,
    /// `restartCount`.
    #[serde(default)]
    pub restart_count: i32,
    /// `state`, of which only `waiting.reason` is read.
    #[serde(default)]
    pub state: Option<SlimContainerState>,
}

/// A container state.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlimContainerState {
    /// Set while the container waits.
    #[serde(default)]
    pub waiting: Option<SlimWaiting>,
}

/// A container's previous state.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlimLastState {
    /// Set once the container has run and ended.
    #[serde(default)]
    pub terminated: Option<SlimTerminated>,
}

/// How a container's run ended.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlimTerminated {
    /// OOMKilled, Error, Completed, ...
    #[serde(default)]
    pub reason: Option<String>,
    /// Exit code.
    #[serde(default)]
    pub exit_code: i32,
    /// When it ended.
    #[serde(default)]
    pub finished_at: Option<Time>,
}

/// Why a container waits.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlimWaiting {
    /// CrashLoopBackOff, ImagePullBackOff, ContainerCreating, ...
    #[serde(default)]
    pub reason: Option<String>,
}

/// The metadata fields hubdeck and the watcher read, in the wire's shape.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMeta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    resource_version: Option<String>,
    #[serde(default)]
    creation_timestamp: Option<Time>,
    #[serde(default)]
    deletion_timestamp: Option<Time>,
    #[serde(default, deserialize_with = "labels")]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "annotations")]
    annotations: Option<BTreeMap<String, String>>,
}

/// A list the server sent as `null`, as empty: k8s-openapi's `Option<Vec<_>>` accepts both, so
/// the slim pod must too, or one odd pod would fail the whole list.
fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn slim_meta<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectMeta, D::Error> {
    let m = RawMeta::deserialize(d)?;
    Ok(ObjectMeta {
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        resource_version: m.resource_version,
        creation_timestamp: m.creation_timestamp,
        deletion_timestamp: m.deletion_timestamp,
        labels: m.labels,
        annotations: m.annotations,
        ..ObjectMeta::default()
    })
}

fn labels<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    d.deserialize_option(Picked(LABELS))
}

fn annotations<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    d.deserialize_option(Picked(ANNOTATIONS))
}

/// A string map of which only the listed keys are kept. Annotations can be large (a
/// `last-applied-configuration` holds a whole object): the others are never copied.
#[derive(Clone, Copy)]
struct Picked(&'static [&'static str]);

impl<'de> Visitor<'de> for Picked {
    type Value = Option<BTreeMap<String, String>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of strings")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept = BTreeMap::new();
        while let Some(key) = map.next_key_seed(self)? {
            match key {
                Some(k) => {
                    kept.insert(k.to_string(), map.next_value::<String>()?);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(kept))
    }
}

impl<'de> DeserializeSeed<'de> for Picked {
    /// The key if it is one of the listed ones.
    type Value = Option<&'static str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(KeyOf(self.0))
    }
}

struct KeyOf(&'static [&'static str]);

impl Visitor<'_> for KeyOf {
    type Value = Option<&'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().copied().find(|k| *k == v))
    }
}

/// The kube `Resource` of a slim struct: the API path kube builds, the metadata kube reads;
/// the struct itself keeps only what the model needs. Group "" is the core API.
macro_rules! slim_resource {
    ($name:ident, $scope:ty, $group:expr, $version:expr, $kind:literal, $plural:literal) => {
        impl kube::Resource for $name {
            type DynamicType = ();
            type Scope = $scope;

            fn kind(_: &()) -> std::borrow::Cow<'_, str> {
                std::borrow::Cow::Borrowed($kind)
            }

            fn group(_: &()) -> std::borrow::Cow<'_, str> {
                std::borrow::Cow::Borrowed($group)
            }

            fn version(_: &()) -> std::borrow::Cow<'_, str> {
                std::borrow::Cow::Borrowed($version)
            }

            fn plural(_: &()) -> std::borrow::Cow<'_, str> {
                std::borrow::Cow::Borrowed($plural)
            }

            fn meta(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &self.metadata
            }

            fn meta_mut(
                &mut self,
            ) -> &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &mut self.metadata
            }
        }
    };
}
pub(crate) use slim_resource;

slim_resource!(SlimPod, NamespaceResourceScope, "", "v1", "Pod", "pods");

/// A core/v1 Node reduced to what the fleet keeps: a Node carries images, addresses, daemon
/// endpoints and dozens of labels that a fleet of thousands would hold for nothing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlimNode {
    /// Name, resource version, creation time and the labels in `NODE_LABELS`.
    #[serde(deserialize_with = "node_meta")]
    pub metadata: ObjectMeta,
    /// `spec.unschedulable`.
    #[serde(default)]
    pub spec: Option<SlimNodeSpec>,
    /// Conditions and allocatable.
    #[serde(default)]
    pub status: Option<SlimNodeStatus>,
}

/// `spec` of a node.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlimNodeSpec {
    /// Cordoned.
    #[serde(default)]
    pub unschedulable: Option<bool>,
}

/// `status` of a node.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlimNodeStatus {
    /// Kubelet conditions (Ready, MemoryPressure, DiskPressure, PIDPressure).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub conditions: Vec<SlimCondition>,
    /// cpu and memory of `status.allocatable`.
    #[serde(default)]
    pub allocatable: Option<SlimAllocatable>,
}

/// What a node offers pods.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlimAllocatable {
    /// `cpu`.
    #[serde(default)]
    pub cpu: Option<Quantity>,
    /// `memory`.
    #[serde(default)]
    pub memory: Option<Quantity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawNodeMeta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    resource_version: Option<String>,
    #[serde(default)]
    creation_timestamp: Option<Time>,
    #[serde(default, deserialize_with = "node_labels")]
    labels: Option<BTreeMap<String, String>>,
}

fn node_meta<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectMeta, D::Error> {
    let m = RawNodeMeta::deserialize(d)?;
    Ok(ObjectMeta {
        name: m.name,
        uid: m.uid,
        resource_version: m.resource_version,
        creation_timestamp: m.creation_timestamp,
        labels: m.labels,
        ..ObjectMeta::default()
    })
}

fn node_labels<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    d.deserialize_option(Picked(NODE_LABELS))
}

slim_resource!(SlimNode, ClusterResourceScope, "", "v1", "Node", "nodes");
