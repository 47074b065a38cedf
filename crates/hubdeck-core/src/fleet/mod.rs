//! The domain model of the fleet, pure and synchronous: ids, the small structs watchers map
//! objects into, the store applying `FleetUpdate`s, derived health and derived alerts.
//! No tokio, no kube types, no I/O.

mod changes;
mod dask;
mod declared;
mod derive;
pub mod fixtures;
mod hub;
mod ids;
mod intern;
mod nodes;
mod objects;
mod outside;
mod pods;
mod snapshot;
mod store;
mod story;
mod update;
mod usage;

pub use changes::{CHANGES_KEPT, Change};
pub use dask::{
    DaskCluster, DaskDelta, DaskObjects, DaskPod, DaskRole, DaskUse, GATEWAY_COMPONENTS,
    GatewayPart, HubDask,
};
pub use declared::{Chart, Declaration, DeclaredHub};
pub use derive::derived_alerts;
pub use hub::{
    Activity, Health, HealthLevel, HubState, HubSummary, Replicas, Thresholds, is_crashlooping,
};
pub use ids::{BadRef, ClusterId, HubId, HubKey, HubRef, ServerId};
pub use intern::Interner;
pub use nodes::{
    INSTANCE_TYPE_LABEL, NodeInfo, NodeLoad, NodeMap, POOL_LABELS, PURPOSE_LABEL, PoolSummary,
    Pressure, node_loads, pool_of, pool_summaries,
};
pub use objects::{
    AlertInfo, AlertOrigin, Component, EventInfo, ObjectKey, Owner, PendingAction, PodInfo,
    PodPhase, Requests, ServerActivity, Severity, Termination, Workload, WorkloadKind,
};
pub use outside::{CRITICAL_AFTER, OutsideCheck, OutsideState, Probe};
pub use pods::PodMap;
pub use snapshot::{Part, cluster_snapshot};
pub use store::{ClusterState, EVENTS_PER_CLUSTER, Fleet, UNCLAIMED_MAX, Unclaimed, tells_story};
pub use story::{MESSAGE_MAX, PodEvent, STORY_LEN, Step, Story};
pub use update::{ClusterMeta, ClusterStatus, Delta, FleetUpdate, Scope, SourceState};
pub use usage::{
    HubUsage, MemoryShare, MetricsSource, MetricsState, NodeUsage, NodeUsageMap, PodUsage, Sampled,
    Usage, UsageSample, UsageScope, memory_share,
};

#[cfg(test)]
mod dask_tests;
#[cfg(test)]
mod declared_tests;
#[cfg(test)]
mod nodes_tests;
#[cfg(test)]
mod outside_tests;
#[cfg(test)]
mod scope_tests;
#[cfg(test)]
mod story_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod usage_tests;
