//! Why a pod waits, in the words of the components that say it: the scheduler's FitError
//! ("0/12 nodes are available: ..."), cluster-autoscaler's scale-up verdicts, computed from the
//! cluster's nodes and pools rather than written out, so the counts add up.

use std::collections::BTreeMap;

use super::controller::State;
use super::nodes::{NodeCondition, bad_conditions};
use super::pools::{Pool, Scaler};
use super::resources::Kind;

/// Why each node refuses a user server, as `FitError.Error()` counts and sorts them.
pub(crate) fn unschedulable_user_pod(st: &State) -> String {
    let mut filter: BTreeMap<String, usize> = BTreeMap::new();
    let mut preemption: BTreeMap<&str, usize> = BTreeMap::new();
    let mut total = 0;
    for pool in &st.pools {
        for name in &pool.nodes {
            total += 1;
            let Some(node) = st.store.get(Kind::Node, "", name).map(|o| o.value()) else {
                continue;
            };
            let bad = bad_conditions(&node);
            let reason = if pool.purpose != "user" {
                "node(s) didn't match Pod's node affinity/selector".to_string()
            } else if node["spec"]["unschedulable"] == true {
                "node(s) were unschedulable".to_string()
            } else if let Some(c) = bad.first() {
                let key = match c {
                    NodeCondition::NotReady => "node.kubernetes.io/unreachable",
                    NodeCondition::MemoryPressure => "node.kubernetes.io/memory-pressure",
                    NodeCondition::DiskPressure => "node.kubernetes.io/disk-pressure",
                    NodeCondition::PidPressure => "node.kubernetes.io/pid-pressure",
                };
                format!("node(s) had untolerated taint {{{key}: }}")
            } else {
                let cpu_bound = Pool::servers_per_node(pool.machine(0))
                    < Pool::allocatable(pool.machine(0)).1 / super::pools::SERVER_MEM;
                let r = if cpu_bound {
                    "Insufficient cpu"
                } else {
                    "Insufficient memory"
                };
                *preemption
                    .entry("No preemption victims found for incoming pod")
                    .or_default() += 1;
                *filter.entry(r.to_string()).or_default() += 1;
                continue;
            };
            *preemption
                .entry("Preemption is not helpful for scheduling")
                .or_default() += 1;
            *filter.entry(reason).or_default() += 1;
        }
    }
    // Go sorts the "N reason" strings themselves, so "12 ..." sorts before "3 ...".
    let histogram = |m: Vec<(String, usize)>| {
        let mut v: Vec<String> = m.into_iter().map(|(r, n)| format!("{n} {r}")).collect();
        v.sort();
        v.join(", ")
    };
    let filter = histogram(filter.into_iter().collect());
    let preemption = histogram(
        preemption
            .into_iter()
            .map(|(r, n)| (r.to_string(), n))
            .collect(),
    );
    format!(
        "0/{total} nodes are available: {filter}. preemption: 0/{total} nodes are available: {preemption}."
    )
}

/// cluster-autoscaler's NotTriggerScaleUp message when the user pool cannot grow.
pub(crate) fn no_scale_up(st: &State) -> String {
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for pool in st
        .pools
        .iter()
        .filter(|p| p.scaler == Scaler::ClusterAutoscaler)
    {
        let r = if pool.purpose != "user" {
            "node(s) didn't match Pod's node affinity/selector"
        } else if pool.nodes.len() >= pool.max {
            "max node group size reached"
        } else {
            "in backoff after failed scale-up"
        };
        *reasons.entry(r).or_default() += 1;
    }
    let mut v: Vec<String> = reasons
        .into_iter()
        .map(|(r, n)| format!("{n} {r}"))
        .collect();
    v.sort();
    format!("pod didn't trigger scale-up: {}", v.join(", "))
}

/// cluster-autoscaler's TriggeredScaleUp message for growing `pool` by one node.
pub(crate) fn scale_up(pool: &Pool) -> String {
    let n = pool.nodes.len();
    format!(
        "pod triggered scale-up: [{{{} {n}->{} (max: {})}}]",
        pool.group,
        n + 1,
        pool.max
    )
}
