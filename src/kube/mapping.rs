//! Maps Kubernetes objects into the fleet's small structs the moment a watcher yields them, so
//! full objects are never kept. Discovery rules for z2jh live here too.

use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Event, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::slim::{SlimContainerStatus, SlimNode, SlimPod, SlimPodSpec};
use crate::fleet::{
    Component, EventInfo, INSTANCE_TYPE_LABEL, Interner, NodeInfo, ObjectKey, Owner, PURPOSE_LABEL,
    PodInfo, PodPhase, Pressure, Requests, Termination, Workload, WorkloadKind, pool_of,
};

/// Label selector for every object of a z2jh release hubdeck watches. It does not require
/// `app=jupyterhub`, because the chart sets `app` from `nameOverride`; `component` and `release`
/// are always set (chart templates and KubeSpawner's `common_labels` alike).
pub const Z2JH_SELECTOR: &str =
    "component in (hub,proxy,autohttps,user-scheduler,user-placeholder,singleuser-server),release";

/// Annotation KubeSpawner sets to the unescaped user name.
pub const USERNAME_ANNOTATION: &str = "hub.jupyter.org/username";
/// Annotation KubeSpawner sets to the server name ("" for the default server).
pub const SERVERNAME_ANNOTATION: &str = "hub.jupyter.org/servername";
/// Pod template annotation `kubectl rollout restart` sets.
pub const RESTARTED_AT_ANNOTATION: &str = "kubectl.kubernetes.io/restartedAt";

/// The replica counts Deployments and StatefulSets both report, as the API gives them.
struct Replicas {
    desired: Option<i32>,
    ready: Option<i32>,
    updated: Option<i32>,
    observed_generation: Option<i64>,
}

/// Maps objects, sharing repeated strings through one interner per cluster.
#[derive(Debug, Default)]
pub struct Mapper {
    strings: Interner,
}

fn label<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.labels.as_ref()?.get(key).map(String::as_str)
}

fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

/// The z2jh component and release of an object, if it belongs to a release.
pub fn z2jh_identity(meta: &ObjectMeta) -> Option<(Component, &str)> {
    let release = label(meta, "release")?;
    let component = Component::from_label(label(meta, "component")?);
    Some((component, release))
}

impl Mapper {
    /// Drops strings no longer used after a re-list.
    pub fn sweep(&mut self) {
        self.strings.sweep();
    }

    /// `s`, shared with its other uses in this cluster.
    pub(crate) fn shared(&mut self, s: &str) -> Arc<str> {
        self.strings.get(s)
    }

    /// Namespace (shared) and name of an object.
    pub(crate) fn key(&mut self, meta: &ObjectMeta) -> ObjectKey {
        ObjectKey {
            namespace: self.strings.get(meta.namespace.as_deref().unwrap_or("")),
            name: Arc::from(meta.name.as_deref().unwrap_or("")),
        }
    }

    fn images(&mut self, spec: Option<&PodSpec>) -> Vec<Arc<str>> {
        spec.map(|s| {
            s.containers
                .iter()
                .filter_map(|c| c.image.as_deref())
                .map(|i| self.strings.get(i))
                .collect()
        })
        .unwrap_or_default()
    }

    /// A Deployment of a z2jh release (None for anything else).
    pub fn deployment(&mut self, d: &Deployment) -> Option<Workload> {
        let status = d.status.as_ref();
        let template = &d.spec.template;
        let restarted_at = template
            .metadata
            .as_ref()
            .and_then(|m| annotation(m, RESTARTED_AT_ANNOTATION))
            .map(Arc::from);
        self.workload(
            WorkloadKind::Deployment,
            &d.metadata,
            template,
            Replicas {
                desired: d.spec.replicas,
                ready: status.and_then(|s| s.ready_replicas),
                updated: status.and_then(|s| s.updated_replicas),
                observed_generation: status.and_then(|s| s.observed_generation),
            },
            restarted_at,
        )
    }

    /// A StatefulSet of a z2jh release (user-placeholder).
    pub fn stateful_set(&mut self, s: &StatefulSet) -> Option<Workload> {
        let status = s.status.as_ref();
        self.workload(
            WorkloadKind::StatefulSet,
            &s.metadata,
            &s.spec.template,
            Replicas {
                desired: s.spec.replicas,
                ready: status.and_then(|s| s.ready_replicas),
                updated: status.and_then(|s| s.updated_replicas),
                observed_generation: status.and_then(|s| s.observed_generation),
            },
            None,
        )
    }

    fn workload(
        &mut self,
        kind: WorkloadKind,
        meta: &ObjectMeta,
        template: &PodTemplateSpec,
        replicas: Replicas,
        restarted_at: Option<Arc<str>>,
    ) -> Option<Workload> {
        let (component, release) = z2jh_identity(meta)?;
        let release = self.strings.get(release);
        Some(Workload {
            kind,
            key: self.key(meta),
            release,
            component,
            desired: count(replicas.desired.unwrap_or(1)),
            ready: count(replicas.ready.unwrap_or(0)),
            updated: count(replicas.updated.unwrap_or(0)),
            images: self.images(template.spec.as_ref()),
            observed: replicas.observed_generation >= meta.generation,
            restarted_at,
        })
    }

    /// A pod of a z2jh release.
    pub fn pod(&mut self, p: &SlimPod) -> Option<PodInfo> {
        let (component, release) = z2jh_identity(&p.metadata)?;
        let release = self.strings.get(release);
        let status = p.status.as_ref();
        let statuses = status.map_or(&[][..], |s| &s.container_statuses);
        let conditions = status.map_or(&[][..], |s| &s.conditions);
        let mut phase =
            PodPhase::from_status(status.and_then(|s| s.phase.as_deref()).unwrap_or(""));
        if p.metadata.deletion_timestamp.is_some() {
            phase = PodPhase::Terminating;
        }
        let ready = conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .is_some_and(|c| c.status == "True");
        let restarts = statuses
            .iter()
            .map(|c| u32::try_from(c.restart_count).unwrap_or(0))
            .sum();
        let waiting = statuses
            .iter()
            .filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.as_deref())
            .find(|r| *r != "ContainerCreating" && *r != "PodInitializing");
        let reason = waiting
            .or_else(|| status.and_then(|s| s.reason.as_deref()))
            .or_else(|| {
                // A pod nobody could schedule says so in its PodScheduled condition.
                conditions
                    .iter()
                    .find(|c| c.type_ == "PodScheduled" && c.status == "False")?
                    .reason
                    .as_deref()
            })
            .map(|r| self.strings.get(r));
        let spec = p.spec.as_ref();
        let owner = (component == Component::SingleuserServer).then(|| owner(&p.metadata));
        Some(PodInfo {
            key: self.key(&p.metadata),
            release,
            component,
            phase,
            ready,
            restarts,
            reason,
            node: spec
                .and_then(|s| s.node_name.as_deref())
                .map(|n| self.strings.get(n)),
            started: status.and_then(|s| s.start_time.as_ref()).map(|t| t.0),
            created: p.metadata.creation_timestamp.as_ref().map(|t| t.0),
            image: spec
                .and_then(|s| s.containers.first())
                .and_then(|c| c.image.as_deref())
                .map(|i| self.strings.get(i)),
            requests: spec.map(requests).unwrap_or_default(),
            limits: spec.map(limits).unwrap_or_default(),
            owner: owner.map(|(user, server)| Owner {
                user: Arc::from(user.as_str()),
                server: self.strings.get(&server),
            }),
            last_termination: self.last_termination(spec, statuses),
        })
    }

    /// How the main container (the spec's first, else the first status) last ended.
    fn last_termination(
        &mut self,
        spec: Option<&SlimPodSpec>,
        statuses: &[SlimContainerStatus],
    ) -> Option<Box<Termination>> {
        let main = spec
            .and_then(|s| s.containers.first())
            .map(|c| c.name.as_str());
        let status = match main {
            Some(name) => statuses.iter().find(|c| c.name == name),
            None => statuses.first(),
        }?;
        let t = status.last_state.as_ref()?.terminated.as_ref()?;
        Some(Box::new(Termination {
            // A runtime that gives no reason still gave an exit code.
            reason: self
                .strings
                .get(t.reason.as_deref().unwrap_or("Terminated")),
            exit_code: t.exit_code,
            finished_at: t.finished_at.as_ref().map(|t| t.0),
        }))
    }

    /// A node, its pool read from the first pool label it carries.
    pub fn node(&mut self, n: &SlimNode) -> NodeInfo {
        let meta = &n.metadata;
        let conditions = n.status.as_ref().map_or(&[][..], |s| &s.conditions);
        let is_true = |t: &str| {
            conditions
                .iter()
                .any(|c| c.type_ == t && c.status == "True")
        };
        let allocatable = n.status.as_ref().and_then(|s| s.allocatable.as_ref());
        NodeInfo {
            name: Arc::from(meta.name.as_deref().unwrap_or("")),
            pool: self.strings.get(pool_of(|k| label(meta, k))),
            instance_type: self
                .strings
                .get(label(meta, INSTANCE_TYPE_LABEL).unwrap_or("")),
            purpose: self.strings.get(label(meta, PURPOSE_LABEL).unwrap_or("")),
            ready: is_true("Ready"),
            cordoned: n.spec.as_ref().and_then(|s| s.unschedulable) == Some(true),
            pressure: Pressure {
                memory: is_true("MemoryPressure"),
                disk: is_true("DiskPressure"),
                pid: is_true("PIDPressure"),
            },
            created: meta.creation_timestamp.as_ref().map(|t| t.0),
            allocatable: Requests {
                cpu_milli: allocatable
                    .and_then(|a| a.cpu.as_ref())
                    .map_or(0, cpu_milli),
                memory_bytes: allocatable
                    .and_then(|a| a.memory.as_ref())
                    .map_or(0, memory_bytes),
            },
        }
    }

    /// A Warning event.
    pub fn event(&mut self, e: &Event) -> EventInfo {
        let obj = &e.involved_object;
        let seen = EventTimes::of(e);
        EventInfo {
            key: self.key(&e.metadata),
            object: Arc::from(format!(
                "{}/{}",
                obj.kind.as_deref().unwrap_or("?"),
                obj.name.as_deref().unwrap_or("?")
            )),
            reason: self.strings.get(e.reason.as_deref().unwrap_or("")),
            message: Arc::from(e.message.as_deref().unwrap_or("").trim()),
            count: seen.count,
            last_seen: seen.last,
        }
    }
}

/// When and how often an Event happened, whichever way it was recorded. Reporters on
/// events.k8s.io (the scheduler, since 1.19) set `eventTime` and, once it repeats, `series`,
/// leaving `firstTimestamp`/`lastTimestamp` null and `count` unset; the older recorder (kubelet,
/// cluster-autoscaler, most controllers) sets `firstTimestamp`, `lastTimestamp` and `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTimes {
    /// When it first happened.
    pub first: Option<Timestamp>,
    /// When it last happened.
    pub last: Option<Timestamp>,
    /// How often (at least 1).
    pub count: u32,
}

impl EventTimes {
    /// Reads both styles; the object's creation is the last resort.
    pub fn of(e: &Event) -> Self {
        let created = e.metadata.creation_timestamp.as_ref().map(|t| t.0);
        let first = e
            .event_time
            .as_ref()
            .map(|t| t.0)
            .or_else(|| e.first_timestamp.as_ref().map(|t| t.0))
            .or(created);
        let series = e.series.as_ref();
        let last = series
            .and_then(|s| s.last_observed_time.as_ref())
            .map(|t| t.0)
            .or_else(|| e.last_timestamp.as_ref().map(|t| t.0))
            .or(first);
        let count = series
            .and_then(|s| s.count)
            .or(e.count)
            .and_then(|c| u32::try_from(c).ok())
            .filter(|c| *c > 0)
            .unwrap_or(1);
        Self { first, last, count }
    }
}

/// User and server name of a user pod: from KubeSpawner's annotations; escaped labels and the
/// pod name are the last resort (they are escaped and lossy).
fn owner(meta: &ObjectMeta) -> (String, String) {
    let user = annotation(meta, USERNAME_ANNOTATION)
        .or_else(|| label(meta, USERNAME_ANNOTATION))
        .map(str::to_string)
        .or_else(|| {
            meta.name
                .as_deref()
                .and_then(|n| n.strip_prefix("jupyter-"))
                .map(|n| n.split("--").next().unwrap_or(n).to_string())
        })
        .unwrap_or_default();
    let server = annotation(meta, SERVERNAME_ANNOTATION)
        .or_else(|| label(meta, SERVERNAME_ANNOTATION))
        .unwrap_or("")
        .to_string();
    (user, server)
}

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

fn requests(spec: &SlimPodSpec) -> Requests {
    let mut r = Requests::default();
    for c in &spec.containers {
        let Some(req) = c.resources.as_ref().and_then(|r| r.requests.as_ref()) else {
            continue;
        };
        r.cpu_milli = r
            .cpu_milli
            .saturating_add(req.cpu.as_ref().map_or(0, cpu_milli));
        r.memory_bytes = r
            .memory_bytes
            .saturating_add(req.memory.as_ref().map_or(0, memory_bytes));
    }
    r
}

/// Limits summed over the containers; a figure stays 0 (no limit) when any container lacks
/// it, as the kubelet then leaves the pod's cgroup unbounded for that resource.
fn limits(spec: &SlimPodSpec) -> Requests {
    let each = |get: &dyn Fn(&super::slim::SlimRequests) -> Option<u64>| -> u64 {
        let all: Option<Vec<u64>> = spec
            .containers
            .iter()
            .map(|c| c.resources.as_ref()?.limits.as_ref().and_then(get))
            .collect();
        all.map_or(0, |v| v.into_iter().fold(0, u64::saturating_add))
    };
    Requests {
        cpu_milli: u32::try_from(each(&|l| l.cpu.as_ref().map(|q| u64::from(cpu_milli(q)))))
            .unwrap_or(u32::MAX),
        memory_bytes: each(&|l| l.memory.as_ref().map(memory_bytes)),
    }
}

/// A CPU quantity ("500m", "2", "0.5") in millicores; 0 when malformed.
pub fn cpu_milli(q: &Quantity) -> u32 {
    hubdeck_core::quantity::cpu_milli(&q.0).unwrap_or(0)
}

/// A memory quantity ("2Gi", "512M", "1e9", "1073741824") in bytes; 0 when malformed.
pub fn memory_bytes(q: &Quantity) -> u64 {
    hubdeck_core::quantity::bytes(&q.0).unwrap_or(0)
}
