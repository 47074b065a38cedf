//! Synthetic fleet objects for tests, benches and screenshots: plausible values, no I/O.

use std::sync::Arc;

use jiff::Timestamp;

use super::ids::ClusterId;
use super::objects::{
    Component, ObjectKey, Owner, PodInfo, PodPhase, Requests, Workload, WorkloadKind,
};
use super::story::{PodEvent, Step};
use super::update::{ClusterMeta, ClusterStatus, Delta, FleetUpdate};
use super::usage::{PodUsage, Sampled, Usage, UsageSample, UsageScope};

/// The id of the hub in namespace `ns` of `cluster` (release named like the namespace, as
/// [`healthy_hub`] builds it).
pub fn hub_id(cluster: &str, ns: &str) -> super::ids::HubId {
    super::ids::HubId {
        cluster: ClusterId::new(cluster),
        key: super::ids::HubKey {
            namespace: ns.into(),
            release: ns.into(),
        },
    }
}

/// A fixed instant, so that tests do not depend on the clock.
pub fn t0() -> Timestamp {
    Timestamp::from_second(1_780_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn key(ns: &str, name: &str) -> ObjectKey {
    ObjectKey {
        namespace: ns.into(),
        name: name.into(),
    }
}

/// A workload of a release, ready and with `replicas` replicas.
pub fn workload(
    ns: &str,
    release: &str,
    component: Component,
    name: &str,
    replicas: u32,
) -> Workload {
    Workload {
        kind: if component == Component::UserPlaceholder {
            WorkloadKind::StatefulSet
        } else {
            WorkloadKind::Deployment
        },
        key: key(ns, name),
        release: release.into(),
        component,
        desired: replicas,
        ready: replicas,
        updated: replicas,
        images: vec![Arc::from("quay.io/jupyterhub/k8s-hub:4.2.0")],
        observed: true,
        restarted_at: None,
    }
}

/// A running, ready pod of a component.
pub fn pod(ns: &str, release: &str, component: Component, name: &str) -> PodInfo {
    PodInfo {
        key: key(ns, name),
        release: release.into(),
        component,
        phase: PodPhase::Running,
        ready: true,
        restarts: 0,
        reason: None,
        node: Some("node-a".into()),
        started: Some(t0()),
        created: Some(t0()),
        image: Some("quay.io/jupyter/scipy-notebook:2025-01-01".into()),
        requests: Requests {
            cpu_milli: 500,
            memory_bytes: 2 << 30,
        },
        owner: None,
        last_termination: None,
        limits: Requests::default(),
    }
}

/// A running user server of `user`.
pub fn server(ns: &str, release: &str, user: &str) -> PodInfo {
    let mut p = pod(
        ns,
        release,
        Component::SingleuserServer,
        &format!("jupyter-{}", user.replace(['@', '.'], "-")),
    );
    p.owner = Some(Owner {
        user: user.into(),
        server: "".into(),
    });
    // As KubeSpawner's pods in z2jh: a memory limit above the guarantee.
    p.limits = Requests {
        cpu_milli: 2000,
        memory_bytes: 4 << 30,
    };
    p
}

/// Updates that build one healthy hub (hub, proxy, placeholders and their pods) plus `users`
/// running servers, on a cluster that is ready.
pub fn healthy_hub(cluster: &str, ns: &str, users: &[&str]) -> Vec<FleetUpdate> {
    let c = ClusterId::new(cluster);
    let mut pods = vec![
        pod(ns, ns, Component::Hub, "hub-7d9f-abcde"),
        pod(ns, ns, Component::Proxy, "proxy-5c4b-fghij"),
        pod(ns, ns, Component::UserPlaceholder, "user-placeholder-0"),
    ];
    pods.extend(users.iter().map(|u| server(ns, ns, u)));
    vec![
        FleetUpdate::ClusterAdded {
            cluster: c.clone(),
            meta: ClusterMeta {
                context: cluster.into(),
                provider: Some("gcp".into()),
                server: None,
            },
        },
        FleetUpdate::Status {
            cluster: c.clone(),
            status: ClusterStatus::Ready,
        },
        FleetUpdate::Workloads {
            cluster: c.clone(),
            kind: WorkloadKind::Deployment,
            delta: Delta::Replace(vec![
                workload(ns, ns, Component::Hub, "hub", 1),
                workload(ns, ns, Component::Proxy, "proxy", 1),
            ]),
        },
        FleetUpdate::Workloads {
            cluster: c.clone(),
            kind: WorkloadKind::StatefulSet,
            delta: Delta::Replace(vec![workload(
                ns,
                ns,
                Component::UserPlaceholder,
                "user-placeholder",
                1,
            )]),
        },
        FleetUpdate::Pods {
            cluster: c,
            delta: Delta::Replace(pods),
        },
    ]
}

/// A list as upserts, one per object, so that a second hub's lists add to the first's
/// instead of replacing them.
pub fn as_upserts(u: FleetUpdate) -> Vec<FleetUpdate> {
    match u {
        FleetUpdate::Pods {
            cluster,
            delta: Delta::Replace(all),
        } => all
            .into_iter()
            .map(|p| FleetUpdate::Pods {
                cluster: cluster.clone(),
                delta: Delta::Upsert(p),
            })
            .collect(),
        FleetUpdate::Workloads {
            cluster,
            kind,
            delta: Delta::Replace(all),
        } => all
            .into_iter()
            .map(|w| FleetUpdate::Workloads {
                cluster: cluster.clone(),
                kind,
                delta: Delta::Upsert(w),
            })
            .collect(),
        other => vec![other],
    }
}

/// A Ready, schedulable node of `pool` with 4 CPUs and 16 GiB allocatable.
pub fn node(name: &str, pool: &str) -> super::nodes::NodeInfo {
    super::nodes::NodeInfo {
        name: name.into(),
        pool: pool.into(),
        instance_type: "n2-standard-4".into(),
        purpose: "user".into(),
        ready: true,
        cordoned: false,
        pressure: super::nodes::Pressure::default(),
        created: Some(t0()),
        allocatable: Requests {
            cpu_milli: 3_920,
            memory_bytes: 16 << 30,
        },
    }
}

/// A user server of `user` waiting to be scheduled, created at [`t0`].
pub fn pending_server(ns: &str, release: &str, user: &str) -> PodInfo {
    let mut p = server(ns, release, user);
    p.phase = PodPhase::Pending;
    p.ready = false;
    p.node = None;
    p.started = None;
    p.reason = Some("Unschedulable".into());
    p
}

/// An Event `event` of `step` about `pod`, seen once, `at` seconds after [`t0`].
pub fn pod_event(ns: &str, pod: &str, event: &str, step: Step, message: &str, at: i64) -> PodEvent {
    let when = t0() + jiff::SignedDuration::from_secs(at);
    PodEvent {
        key: key(ns, event),
        pod: pod.into(),
        step,
        message: message.into(),
        count: 1,
        first: Some(when),
        last: Some(when),
    }
}

/// A cluster-wide pods usage list of `cluster` answered at `at` and fresh for 90 s, as
/// (namespace = release, pod, millicores, bytes).
pub fn usage(cluster: &str, at: Timestamp, pods: &[(&str, &str, u32, u64)]) -> FleetUpdate {
    FleetUpdate::Usage {
        cluster: ClusterId::new(cluster),
        sample: UsageSample {
            at,
            fresh_for: std::time::Duration::from_secs(90),
            of: Sampled::Pods {
                scope: UsageScope::Cluster,
                pods: pods
                    .iter()
                    .map(|&(ns, name, cpu_milli, memory_bytes)| PodUsage {
                        key: key(ns, name),
                        release: ns.into(),
                        usage: Usage {
                            cpu_milli,
                            memory_bytes,
                        },
                    })
                    .collect(),
            },
        },
    }
}

/// A dask-gateway pod of `role` in `ns`, running and ready; `cluster` names the dask cluster
/// of a scheduler or worker.
pub fn dask_pod(
    ns: &str,
    role: super::dask::DaskRole,
    name: &str,
    cluster: Option<&str>,
) -> super::dask::DaskPod {
    super::dask::DaskPod {
        key: key(ns, name),
        role,
        cluster: cluster.map(Arc::from),
        phase: PodPhase::Running,
        ready: true,
    }
}

/// A running `DaskCluster` of `user` in `ns`.
pub fn dask_cluster(ns: &str, name: &str, user: &str) -> super::dask::DaskCluster {
    super::dask::DaskCluster {
        key: key(ns, name),
        user: user.into(),
        active: true,
        phase: "Running".into(),
    }
}

/// The gateway's three components in `ns`, and for each `(user, workers)` one running dask
/// cluster with a scheduler and that many workers; as the two watches send them.
pub fn dask_gateway(cluster: &str, ns: &str, users: &[(&str, u32)]) -> Vec<FleetUpdate> {
    use super::dask::{DaskDelta, DaskRole};
    let mut pods = vec![
        dask_pod(ns, DaskRole::Gateway, "api-daskhub-dask-gateway-6f7c", None),
        dask_pod(
            ns,
            DaskRole::Controller,
            "controller-daskhub-dask-gateway-5d4b",
            None,
        ),
        dask_pod(
            ns,
            DaskRole::Traefik,
            "traefik-daskhub-dask-gateway-7a8e",
            None,
        ),
    ];
    let mut clusters = Vec::new();
    for (i, (user, workers)) in users.iter().enumerate() {
        let name = format!("{i:032x}");
        clusters.push(dask_cluster(ns, &name, user));
        pods.push(dask_pod(
            ns,
            DaskRole::Scheduler,
            &format!("dask-scheduler-{name}"),
            Some(&name),
        ));
        for w in 0..*workers {
            pods.push(dask_pod(
                ns,
                DaskRole::Worker,
                &format!("dask-worker-{name}-{w:05}"),
                Some(&name),
            ));
        }
    }
    let c = ClusterId::new(cluster);
    vec![
        FleetUpdate::Dask {
            cluster: c.clone(),
            delta: DaskDelta::Pods(Delta::Replace(pods)),
        },
        FleetUpdate::Dask {
            cluster: c,
            delta: DaskDelta::Clusters(Delta::Replace(clusters)),
        },
    ]
}
