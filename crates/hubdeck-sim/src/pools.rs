//! Node pools as each cloud names them: GKE node pools (`core-pool`, `nb-n2-highmem-4`), EKS
//! managed nodegroups made by eksctl (`core-a`, `nb-r5-xlarge`), AKS agent pools (`core`,
//! `nbuser`), and one Karpenter NodePool on an EKS cluster. A pool knows its machine shape and
//! the autoscaler's bounds; the Node objects themselves are built in `nodes`.

/// A machine type: its cloud name, vCPUs and memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Machine {
    pub name: &'static str,
    pub cores: u64,
    pub gib: u64,
}

const fn m(name: &'static str, cores: u64, gib: u64) -> Machine {
    Machine { name, cores, gib }
}

/// Highmem shapes, as 2i2c runs user pools: 4, 16 and 64 vCPUs at 8 GiB a vCPU.
const GCP: [Machine; 3] = [
    m("n2-highmem-4", 4, 32),
    m("n2-highmem-16", 16, 128),
    m("n2-highmem-64", 64, 512),
];
const AWS: [Machine; 3] = [
    m("r5.xlarge", 4, 32),
    m("r5.4xlarge", 16, 128),
    m("r5.16xlarge", 64, 512),
];
const AZURE: [Machine; 3] = [
    m("Standard_E4s_v5", 4, 32),
    m("Standard_E16s_v5", 16, 128),
    m("Standard_E64s_v5", 64, 512),
];
/// What Karpenter picks from for the user NodePool.
const KARPENTER: [Machine; 3] = [
    m("r5.xlarge", 4, 32),
    m("r5.2xlarge", 8, 64),
    m("m6i.2xlarge", 8, 32),
];

/// What each user server asks for (KubeSpawner's guarantees in `generate::user_pod`).
pub(crate) const SERVER_CPU_M: u64 = 500;
pub(crate) const SERVER_MEM: u64 = 2 << 30;
/// kubelet's default `maxPods`.
pub(crate) const MAX_PODS: u64 = 110;

/// Which autoscaler grows a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scaler {
    /// cluster-autoscaler, over the cloud's node group (MIG, ASG, VMSS).
    ClusterAutoscaler,
    /// Karpenter, over a NodePool.
    Karpenter,
}

/// One pool of nodes.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    pub name: String,
    /// z2jh's `hub.jupyter.org/node-purpose`: "core" or "user".
    pub purpose: &'static str,
    pub machines: Vec<Machine>,
    pub nodes: Vec<String>,
    pub max: usize,
    /// The node group as cluster-autoscaler names it in its events.
    pub group: String,
    pub scaler: Scaler,
    /// A hex id shared by the pool's node names, as GKE and AKS name nodes.
    pub hash: u32,
}

impl Pool {
    /// The machine of the pool's i-th node (Karpenter mixes shapes).
    pub fn machine(&self, i: usize) -> Machine {
        self.machines[i % self.machines.len()]
    }

    /// Allocatable millicores and bytes of a machine, with the reservations GKE documents (AKS
    /// and EKS reserve about as much).
    pub fn allocatable(m: Machine) -> (u64, u64) {
        let cores = m.cores;
        // 6% of the first core, 1% of the second, 0.5% of the next two, 0.25% of the rest.
        let reserved_m = 60
            + 10 * cores.min(2).saturating_sub(1)
            + 5 * cores.min(4).saturating_sub(2)
            + cores.saturating_sub(4) * 5 / 2;
        // 25% of the first 4 GiB, 20% of the next 4, 10% of the next 8, 6% up to 128, 2% above,
        // and the 100 MiB eviction threshold.
        let band = |lo: u64, hi: u64| m.gib.min(hi).saturating_sub(lo) * 1024;
        let reserved_mib = band(0, 4) / 4
            + band(4, 8) / 5
            + band(8, 16) / 10
            + band(16, 128) * 6 / 100
            + band(128, u64::MAX) / 50
            + 100;
        (
            cores * 1000 - reserved_m,
            (m.gib * 1024).saturating_sub(reserved_mib) << 20,
        )
    }

    /// How many user servers fit on a machine by their requests.
    pub fn servers_per_node(m: Machine) -> u64 {
        let (cpu, mem) = Pool::allocatable(m);
        // Daemonsets (kube-proxy, the CNI, the log agent) take their share first.
        let by_cpu = cpu.saturating_sub(300) / SERVER_CPU_M;
        let by_mem = mem.saturating_sub(512 << 20) / SERVER_MEM;
        by_cpu.min(by_mem).clamp(1, MAX_PODS - 10)
    }
}

/// How a cluster's nodes are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    Gke,
    Eks,
    Aks,
    /// EKS with a managed core nodegroup and a Karpenter NodePool for users.
    Karpenter,
}

impl Layout {
    /// The layout of cluster `index` on `provider`; one AWS cluster of a big enough fleet runs
    /// Karpenter.
    pub fn of(provider: &str, index: usize) -> Layout {
        match provider {
            "gcp" => Layout::Gke,
            "aws" if index == 4 => Layout::Karpenter,
            "aws" => Layout::Eks,
            _ => Layout::Aks,
        }
    }
}

/// The pools of a cluster serving `servers` user servers: a core pool of two or three nodes and a
/// user pool big enough for the servers with some room, of the smallest shape that keeps it
/// under 40 nodes.
pub(crate) fn plan(
    cluster: &str,
    layout: Layout,
    servers: usize,
    rng: &mut fastrand::Rng,
) -> Vec<Pool> {
    let shapes: &[Machine; 3] = match layout {
        Layout::Gke => &GCP,
        Layout::Eks | Layout::Karpenter => &AWS,
        Layout::Aks => &AZURE,
    };
    let fit = |m: Machine| {
        let per = Pool::servers_per_node(m) as usize;
        // A quarter more than needed: servers come and go unevenly, and the placeholders sit there.
        (servers + servers / 4).div_ceil(per).max(2)
    };
    let user_machine = shapes
        .iter()
        .copied()
        .find(|m| fit(*m) <= 40)
        .unwrap_or(shapes[2]);
    let user_count = fit(user_machine);
    let core_count = if servers > 300 { 3 } else { 2 };
    let core_machine = shapes[0];
    let slug = |m: Machine| m.name.to_ascii_lowercase().replace(['.', '_'], "-");
    let (core_name, user_name) = match layout {
        Layout::Gke => (
            "core-pool".to_string(),
            format!("nb-{}", slug(user_machine)),
        ),
        Layout::Eks => ("core-a".to_string(), format!("nb-{}", slug(user_machine))),
        Layout::Karpenter => ("core-a".to_string(), "user".to_string()),
        Layout::Aks => ("core".to_string(), "nbuser".to_string()),
    };
    let group = |pool: &str, hash: u32| match layout {
        Layout::Gke => format!(
            "https://www.googleapis.com/compute/v1/projects/{cluster}/zones/us-central1-b/instanceGroups/gke-{cluster}-{pool}-{hash:08x}-grp"
        ),
        Layout::Eks | Layout::Karpenter => {
            format!(
                "eks-{pool}-{:08x}-{:04x}-{:04x}",
                hash,
                hash >> 16,
                hash & 0xffff
            )
        }
        Layout::Aks => format!("aks-{pool}-{}-vmss", hash % 100_000_000),
    };
    let core_hash = rng.u32(..);
    let user_hash = rng.u32(..);
    let core = Pool {
        group: group(&core_name, core_hash),
        name: core_name,
        purpose: "core",
        machines: vec![core_machine],
        nodes: Vec::new(),
        max: core_count + 2,
        scaler: Scaler::ClusterAutoscaler,
        hash: core_hash,
    };
    let user = Pool {
        group: group(&user_name, user_hash),
        name: user_name,
        purpose: "user",
        machines: if layout == Layout::Karpenter {
            KARPENTER.to_vec()
        } else {
            vec![user_machine]
        },
        nodes: Vec::new(),
        max: user_count + user_count / 2 + 2,
        scaler: if layout == Layout::Karpenter {
            Scaler::Karpenter
        } else {
            Scaler::ClusterAutoscaler
        },
        hash: user_hash,
    };
    let mut pools = vec![core, user];
    for (pool, count) in pools.iter_mut().zip([core_count, user_count]) {
        for i in 0..count {
            let name = node_name(cluster, layout, pool, i, rng);
            pool.nodes.push(name);
        }
    }
    pools
}

/// The name the cloud gives the i-th node of a pool.
pub(crate) fn node_name(
    cluster: &str,
    layout: Layout,
    pool: &Pool,
    i: usize,
    rng: &mut fastrand::Rng,
) -> String {
    match layout {
        Layout::Gke => {
            // GKE keeps node names within 40 characters of cluster and pool.
            let prefix: String = format!("{cluster}-{}", pool.name)
                .chars()
                .take(40)
                .collect();
            let suffix: String = (0..4)
                .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.usize(..36)]))
                .collect();
            format!("gke-{prefix}-{:08x}-{suffix}", pool.hash)
        }
        Layout::Eks | Layout::Karpenter => format!(
            "ip-192-168-{}-{}.us-west-2.compute.internal",
            rng.u8(..),
            rng.u8(1..250)
        ),
        Layout::Aks => format!("aks-{}-{}-vmss{:06}", pool.name, pool.hash % 100_000_000, i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocatable_is_a_little_under_capacity() {
        let (cpu, mem) = Pool::allocatable(GCP[0]);
        assert_eq!(cpu, 3920, "GKE reserves 80m of 4 cores");
        assert!(mem < 32 << 30 && mem > 28 << 30, "{mem}");
        assert_eq!(Pool::servers_per_node(GCP[0]), 7, "500m each on 3.92 cores");
        assert!(Pool::servers_per_node(GCP[2]) >= 50);
    }

    #[test]
    fn pools_are_named_as_each_cloud_names_them() {
        let mut rng = fastrand::Rng::with_seed(1);
        let gke = plan("leap", Layout::Gke, 100, &mut rng);
        assert_eq!(gke[0].name, "core-pool");
        assert_eq!(gke[1].name, "nb-n2-highmem-4");
        assert!(
            gke[1].nodes[0].starts_with("gke-leap-nb-n2-highmem-4-"),
            "{:?}",
            gke[1].nodes
        );
        let eks = plan("openscapes", Layout::Eks, 3000, &mut rng);
        assert_eq!(eks[1].name, "nb-r5-16xlarge");
        assert!(eks[1].nodes.len() <= 40);
        let aks = plan("utoronto", Layout::Aks, 10, &mut rng);
        assert_eq!(aks[1].name, "nbuser");
        assert!(
            aks[1].nodes[0].starts_with("aks-nbuser-") && aks[1].nodes[0].ends_with("vmss000000")
        );
        let k = plan("nasa-cryo", Layout::Karpenter, 100, &mut rng);
        assert_eq!(
            (k[1].name.as_str(), k[1].scaler),
            ("user", Scaler::Karpenter)
        );
    }
}
