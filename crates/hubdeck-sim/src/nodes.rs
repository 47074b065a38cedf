//! Node objects as each cloud's kubelet registers them: the labels GKE, EKS/eksctl, AKS and
//! Karpenter set (pool, instance type, zone), z2jh's `hub.jupyter.org/node-purpose`, capacity and
//! allocatable, the four kubelet conditions, taints, and `spec.unschedulable` for cordoned ones.

use serde_json::{Value, json};

use super::controller::State;
use super::pools::{Layout, Pool, Scaler};
use super::resources::Kind;
use super::store::rfc3339;

/// A kubelet condition the sim can flip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeCondition {
    /// `Ready` False/Unknown: the kubelet stopped posting status.
    NotReady,
    /// `MemoryPressure` True.
    MemoryPressure,
    /// `DiskPressure` True.
    DiskPressure,
    /// `PIDPressure` True.
    PidPressure,
}

fn zone(layout: Layout, i: usize) -> (&'static str, String) {
    match layout {
        Layout::Gke => (
            "us-central1",
            format!("us-central1-{}", ["b", "c", "f"][i % 3]),
        ),
        Layout::Eks | Layout::Karpenter => {
            ("us-west-2", format!("us-west-2{}", ["a", "b", "c"][i % 3]))
        }
        Layout::Aks => ("eastus", format!("eastus-{}", i % 3 + 1)),
    }
}

fn labels(cluster: &str, layout: Layout, pool: &Pool, i: usize, name: &str) -> Value {
    let machine = pool.machine(i);
    let (region, zone) = zone(layout, i);
    let mut l = json!({
        "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/instance-type": machine.name,
        "kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux", "kubernetes.io/hostname": name,
        "node.kubernetes.io/instance-type": machine.name,
        "topology.kubernetes.io/region": region, "topology.kubernetes.io/zone": zone,
        "failure-domain.beta.kubernetes.io/region": region,
        "failure-domain.beta.kubernetes.io/zone": zone,
        "hub.jupyter.org/node-purpose": pool.purpose,
        "k8s.dask.org/node-purpose": if pool.purpose == "user" { "scheduler" } else { "core" },
    });
    let family = machine.name.split(['.', '-']).next().unwrap_or("");
    let extra = match (layout, pool.scaler) {
        (Layout::Gke, _) => json!({
            "cloud.google.com/gke-nodepool": pool.name, "cloud.google.com/machine-family": family,
            "cloud.google.com/gke-os-distribution": "cos", "cloud.google.com/gke-boot-disk": "pd-balanced",
            "cloud.google.com/gke-container-runtime": "containerd",
            "cloud.google.com/gke-provisioning": "standard", "cloud.google.com/private-node": "false",
        }),
        (Layout::Aks, _) => json!({
            "agentpool": pool.name, "kubernetes.azure.com/agentpool": pool.name,
            "kubernetes.azure.com/cluster": format!("MC_{cluster}_{cluster}_eastus"),
            "kubernetes.azure.com/mode": if pool.purpose == "core" { "system" } else { "user" },
            "kubernetes.azure.com/node-image-version": "AKSUbuntu-2204gen2containerd-202501.12.0",
            "kubernetes.azure.com/os-sku": "Ubuntu", "kubernetes.azure.com/role": "agent",
            "storageprofile": "managed", "storagetier": "Premium_LRS",
        }),
        (_, Scaler::Karpenter) => json!({
            "karpenter.sh/nodepool": pool.name, "karpenter.sh/capacity-type": "on-demand",
            "karpenter.sh/initialized": "true", "karpenter.sh/registered": "true",
            "karpenter.k8s.aws/instance-family": family,
            "karpenter.k8s.aws/instance-cpu": machine.cores.to_string(),
            "karpenter.k8s.aws/instance-memory": (machine.gib * 1024).to_string(),
            "eks.amazonaws.com/compute-type": "ec2",
        }),
        (_, Scaler::ClusterAutoscaler) => json!({
            "eks.amazonaws.com/nodegroup": pool.name,
            "eks.amazonaws.com/capacityType": "ON_DEMAND",
            "eks.amazonaws.com/nodegroup-image": "ami-0a1b2c3d4e5f60718",
            "alpha.eksctl.io/nodegroup-name": pool.name, "alpha.eksctl.io/cluster-name": cluster,
        }),
    };
    if let (Value::Object(l), Value::Object(extra)) = (&mut l, extra) {
        l.extend(extra);
    }
    l
}

fn node_info(layout: Layout, i: usize) -> Value {
    let (kubelet, os, kernel) = match layout {
        Layout::Gke => (
            "v1.31.4-gke.1256000",
            "Container-Optimized OS from Google",
            "6.1.112+",
        ),
        Layout::Eks | Layout::Karpenter => (
            "v1.31.4-eks-aeac579",
            "Amazon Linux 2023.6.20250107",
            "6.1.119-129.201.amzn2023.x86_64",
        ),
        Layout::Aks => ("v1.31.4", "Ubuntu 22.04.5 LTS", "5.15.0-1079-azure"),
    };
    let id = format!(
        "{:032x}",
        (i as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
    );
    json!({"architecture": "amd64", "operatingSystem": "linux", "osImage": os,
        "kernelVersion": kernel, "kubeletVersion": kubelet, "kubeProxyVersion": kubelet,
        "containerRuntimeVersion": "containerd://1.7.24", "machineID": id, "systemUUID": id,
        "bootID": id})
}

/// The Node the i-th machine of `pool` registers as `name`, created at `created`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn node(
    cluster: &str,
    layout: Layout,
    pool: &Pool,
    i: usize,
    name: &str,
    ip: (u8, u8),
    created: jiff::Timestamp,
) -> Value {
    let machine = pool.machine(i);
    let (cpu, mem) = Pool::allocatable(machine);
    let cap_ki = machine.gib * 1024 * 1024 - 1_200_000 * machine.gib / 32;
    let (_, zone) = zone(layout, i);
    let ip = format!("192.168.{}.{}", ip.0, ip.1);
    let provider_id = match layout {
        Layout::Gke => format!("gce://{cluster}/{zone}/{name}"),
        Layout::Eks | Layout::Karpenter => {
            format!(
                "aws:///{zone}/i-0{:016x}",
                u64::from(pool.hash) << 20 | i as u64
            )
        }
        Layout::Aks => format!(
            "azure:///subscriptions/0f3a9c2e-5b1d-4e7a-9c8f-2d6b4a1e7c90/resourceGroups/mc_{cluster}_{cluster}_eastus/providers/Microsoft.Compute/virtualMachineScaleSets/aks-{}-{}-vmss/virtualMachines/{i}",
            pool.name,
            pool.hash % 100_000_000
        ),
    };
    let mut taints = Vec::new();
    if pool.purpose == "user" {
        // z2jh's user-node taint; GKE's API once refused '/' in taint keys, so 2i2c's GKE pools
        // use '_' and the chart tolerates both.
        let key = if layout == Layout::Gke {
            "hub.jupyter.org_dedicated"
        } else {
            "hub.jupyter.org/dedicated"
        };
        taints.push(json!({"key": key, "value": "user", "effect": "NoSchedule"}));
    }
    let t = rfc3339(created);
    let mut node = json!({
        "metadata": {"name": name, "creationTimestamp": t,
            "labels": labels(cluster, layout, pool, i, name),
            "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
        "spec": {"podCIDR": format!("10.4.{}.0/24", i % 250), "podCIDRs": [format!("10.4.{}.0/24", i % 250)],
            "providerID": provider_id, "taints": taints},
        "status": {
            "capacity": {"cpu": machine.cores.to_string(), "memory": format!("{cap_ki}Ki"),
                "pods": "110", "ephemeral-storage": "98831908Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0"},
            "allocatable": {"cpu": format!("{cpu}m"), "memory": format!("{}Ki", mem >> 10),
                "pods": "110", "ephemeral-storage": "47060071478", "hugepages-1Gi": "0", "hugepages-2Mi": "0"},
            "conditions": [],
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": node_info(layout, i),
        },
    });
    set_conditions(&mut node, &[], created);
    node
}

/// Rewrites the kubelet conditions with `bad` ones set, and the taints the node lifecycle
/// controller keeps in step with them.
pub(crate) fn set_conditions(node: &mut Value, bad: &[NodeCondition], since: jiff::Timestamp) {
    let has = |c| bad.contains(&c);
    let not_ready = has(NodeCondition::NotReady);
    let t = rfc3339(since);
    let cond = |ty: &str, on: bool, ok: (&str, &str), trouble: (&str, &str)| {
        // A node whose kubelet went silent has every condition Unknown.
        let (status, (reason, message)) = if not_ready {
            (
                "Unknown",
                ("NodeStatusUnknown", "Kubelet stopped posting node status."),
            )
        } else if on {
            (if ty == "Ready" { "False" } else { "True" }, trouble)
        } else {
            (if ty == "Ready" { "True" } else { "False" }, ok)
        };
        json!({"type": ty, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": t, "lastTransitionTime": t})
    };
    node["status"]["conditions"] = json!([
        cond(
            "MemoryPressure",
            has(NodeCondition::MemoryPressure),
            (
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available"
            ),
            (
                "KubeletHasInsufficientMemory",
                "kubelet has insufficient memory available"
            )
        ),
        cond(
            "DiskPressure",
            has(NodeCondition::DiskPressure),
            ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("KubeletHasDiskPressure", "kubelet has disk pressure")
        ),
        cond(
            "PIDPressure",
            has(NodeCondition::PidPressure),
            (
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available"
            ),
            (
                "KubeletHasInsufficientPID",
                "kubelet has insufficient PID available"
            )
        ),
        cond(
            "Ready",
            false,
            ("KubeletReady", "kubelet is posting ready status"),
            ("KubeletNotReady", "container runtime is down")
        ),
    ]);
    sync_taints(node);
}

/// The conditions currently in trouble.
pub(crate) fn bad_conditions(node: &Value) -> Vec<NodeCondition> {
    let conds = node["status"]["conditions"].as_array();
    let status = |ty: &str| {
        conds
            .into_iter()
            .flatten()
            .find(|c| c["type"] == ty)
            .and_then(|c| c["status"].as_str())
            .unwrap_or("")
            .to_string()
    };
    let mut out = Vec::new();
    if status("Ready") != "True" {
        out.push(NodeCondition::NotReady);
        return out;
    }
    for (ty, c) in [
        ("MemoryPressure", NodeCondition::MemoryPressure),
        ("DiskPressure", NodeCondition::DiskPressure),
        ("PIDPressure", NodeCondition::PidPressure),
    ] {
        if status(ty) == "True" {
            out.push(c);
        }
    }
    out
}

/// Whether new pods may land on the node: Ready, no pressure, not cordoned.
pub(crate) fn schedulable(node: &Value) -> bool {
    node["spec"]["unschedulable"] != true && bad_conditions(node).is_empty()
}

/// The `node.kubernetes.io/*` taints for the node's conditions and `spec.unschedulable`, as the
/// node lifecycle controller sets them; other taints are kept.
pub(crate) fn sync_taints(node: &mut Value) {
    let bad = bad_conditions(node);
    let mut want: Vec<Value> = Vec::new();
    let t = |key: &str, effect: &str| json!({"key": key, "effect": effect});
    if bad.contains(&NodeCondition::NotReady) {
        want.push(t("node.kubernetes.io/unreachable", "NoSchedule"));
        let mut e = t("node.kubernetes.io/unreachable", "NoExecute");
        e["timeAdded"] = node["status"]["conditions"][3]["lastTransitionTime"].clone();
        want.push(e);
    }
    for (c, key) in [
        (
            NodeCondition::MemoryPressure,
            "node.kubernetes.io/memory-pressure",
        ),
        (
            NodeCondition::DiskPressure,
            "node.kubernetes.io/disk-pressure",
        ),
        (
            NodeCondition::PidPressure,
            "node.kubernetes.io/pid-pressure",
        ),
    ] {
        if bad.contains(&c) {
            want.push(t(key, "NoSchedule"));
        }
    }
    if node["spec"]["unschedulable"] == true {
        want.push(t("node.kubernetes.io/unschedulable", "NoSchedule"));
    }
    let mut taints: Vec<Value> = node["spec"]["taints"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|t| {
            !t["key"]
                .as_str()
                .is_some_and(|k| k.starts_with("node.kubernetes.io/"))
        })
        .collect();
    taints.extend(want);
    if taints.is_empty() {
        if let Some(spec) = node["spec"].as_object_mut() {
            spec.remove("taints");
        }
    } else {
        node["spec"]["taints"] = Value::Array(taints);
    }
}

/// Cordons or uncordons, as `kubectl cordon` does (plus the taint the controller adds).
pub(crate) fn set_cordoned(node: &mut Value, on: bool) {
    if on {
        node["spec"]["unschedulable"] = json!(true);
    } else if let Some(spec) = node["spec"].as_object_mut() {
        spec.remove("unschedulable");
    }
    sync_taints(node);
}

/// Stores the Node objects of every pool: core nodes up for weeks, user nodes for hours.
pub(crate) fn add_all(st: &mut State) {
    let now = jiff::Timestamp::now();
    let pools = st.pools.clone();
    for pool in &pools {
        for (i, name) in pool.nodes.iter().enumerate() {
            let age = if pool.purpose == "core" {
                jiff::SignedDuration::from_hours(24 * st.rng.i64(9..60))
            } else {
                jiff::SignedDuration::from_mins(st.rng.i64(30..3000))
            };
            let ip = (st.rng.u8(..), st.rng.u8(1..250));
            let v = node(&st.cluster, st.layout, pool, i, name, ip, now - age);
            st.store.put(Kind::Node, v);
        }
    }
}

/// Changes a node's conditions (`bad` replaces the current trouble) or cordon, and lets the
/// scheduler side know.
pub(crate) fn update(st: &mut State, name: &str, f: impl FnOnce(&mut Value)) -> bool {
    let Some(obj) = st.store.get(Kind::Node, "", name) else {
        return false;
    };
    let mut v = obj.value();
    f(&mut v);
    st.store.put(Kind::Node, v);
    st.node_changed(name);
    true
}
