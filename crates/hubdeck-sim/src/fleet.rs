//! Lays out a fleet from a [`FleetSpec`]: clusters and providers, hubs per cluster, servers per
//! hub, the odd prefixed release, and the trouble a demo should show from the first second.

use std::time::Duration;

use serde_json::json;

use super::controller::State;
use super::fake_alertmanager::FakeAlertmanager;
use super::generate::{self, Hub};
use super::names;
use super::nodes;
use super::pending::{self, Pending};
use super::podstatus::{set_pod_crash_looping, set_pod_unschedulable};
use super::pools::{self, Layout};
use super::resources::Kind;
use super::store::Store;
use super::{FleetSpec, Scenario};

/// One cluster ready to be served.
pub(crate) struct ClusterPlan {
    pub name: String,
    pub provider: String,
    pub state: State,
    /// The fake Alertmanager, for clusters with a `support` namespace.
    pub alertmanager: Option<FakeAlertmanager>,
}

fn split(total: usize, parts: usize, i: usize) -> usize {
    total / parts + usize::from(i < total % parts)
}

/// Builds every cluster's state; clusters are generated on blocking threads in parallel.
pub(crate) async fn build(spec: &FleetSpec) -> Vec<ClusterPlan> {
    let n = spec.clusters.max(1);
    let mut tasks = Vec::with_capacity(n);
    for c in 0..n {
        let hubs = split(spec.hubs, n, c);
        // Servers follow hubs so that a cluster with more hubs has more users.
        let servers = if spec.hubs == 0 {
            0
        } else {
            (0..hubs)
                .map(|k| split(spec.servers, spec.hubs, k * n + c))
                .sum()
        };
        let seed = spec
            .seed
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add(c as u64);
        let quiet = matches!(spec.scenario, Scenario::Quiet);
        tasks.push(tokio::task::spawn_blocking(move || {
            build_cluster(c, n, hubs, servers, seed, quiet)
        }));
    }
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        if let Ok(plan) = t.await {
            out.push(plan);
        }
    }
    out
}

fn build_cluster(
    c: usize,
    n: usize,
    hubs: usize,
    servers: usize,
    seed: u64,
    quiet: bool,
) -> ClusterPlan {
    let (name, provider) = names::cluster(c);
    let mut rng = fastrand::Rng::with_seed(seed);
    let layout = Layout::of(provider, c);
    let pools = pools::plan(&name, layout, servers, &mut rng);
    let mut st = State {
        store: Store::new(u32::try_from(c).unwrap_or(0).wrapping_mul(0x0101_0101) ^ seed as u32),
        timers: Vec::new(),
        rng,
        quiet,
        pools,
        unschedulable: Default::default(),
        next_node: 0,
        hubs: Vec::new(),
        layout,
        cluster: name.clone(),
        oom: Vec::new(),
        events: Default::default(),
        stuck: Vec::new(),
        crash_new: Default::default(),
        dask_crd: false,
        scrape: None,
    };
    nodes::add_all(&mut st);
    // Hub weights: prod-like hubs busy, staging quiet.
    let weights: Vec<f64> = (0..hubs)
        .map(|k| match k {
            0 => 0.3,
            1 => 3.0,
            _ => 0.5 + st.rng.f64() * 1.5,
        })
        .collect();
    let total_w: f64 = weights.iter().sum();
    let mut counts: Vec<usize> = weights
        .iter()
        .map(|w| (servers as f64 * w / total_w).floor() as usize)
        .collect();
    let assigned: usize = counts.iter().sum();
    for k in 0..servers.saturating_sub(assigned) {
        counts[k % hubs.max(1)] += 1;
    }
    for (k, &count) in counts.iter().enumerate() {
        let ns = names::hub(k);
        // One release per fleet shows each way the chart prefixes names when fullnameOverride is null.
        let (release, prefix) = match (c, k) {
            (0, 2) => (ns.clone(), format!("{ns}-jupyterhub-")),
            (1, 2) => (format!("{ns}-jupyterhub"), format!("{ns}-jupyterhub-")),
            _ => (ns.clone(), String::new()),
        };
        let hub = Hub {
            namespace: ns,
            release,
            prefix,
        };
        let image = generate_image(c + k);
        generate::add_hub(&mut st, &hub, image);
        let base = (c * 7 + k * 131) % 997;
        let now = jiff::Timestamp::now();
        let mut users = Vec::new();
        for i in 0..count {
            let (user, server) = if i % 12 == 11 {
                (
                    names::user(base + i - 1),
                    names::SERVER_NAMES[i % names::SERVER_NAMES.len()],
                )
            } else {
                (names::user(base + i), "")
            };
            let age = Duration::from_secs(300 + st.rng.u64(..36_000));
            let started = now - jiff::SignedDuration::try_from(age).unwrap_or_default();
            let node = st.pick_node(true);
            let pod = generate::user_pod(&hub, &user, server, image, Some(node), started, false);
            st.store.put(Kind::Pod, pod);
            users.push(user);
        }
        // The first cluster's second hub (`prod`, which its deployment repository declares a
        // daskhub) runs dask-gateway: its first user has two clusters, its second one.
        if c == 0 && k == 1 {
            let mut clusters = Vec::new();
            if let Some(u) = users.first() {
                clusters.extend([(u.clone(), 3), (u.clone(), 4)]);
            }
            if let Some(u) = users.get(1) {
                clusters.push((u.clone(), 2));
            }
            super::dask::install(&mut st, &hub, &clusters);
        }
        st.hubs.push(hub);
    }
    // Every fourth cluster, and the last one of a small fleet, has no Alertmanager.
    let support = n == 1 || (c % 4 != 3 && !(n < 4 && c == n - 1));
    if support {
        generate::add_support(&mut st);
    }
    if !quiet {
        add_trouble(&mut st, c, n);
    }
    let alertmanager = support.then(|| {
        let am = FakeAlertmanager::new();
        if !quiet {
            super::alerting::seed(&am, &st, c, n);
        }
        am
    });
    st.store.seal_history();
    ClusterPlan {
        name,
        provider: provider.to_string(),
        state: st,
        alertmanager,
    }
}

fn generate_image(i: usize) -> &'static str {
    const IMAGES: &[&str] = &[
        "quay.io/2i2c/pangeo-image:2024.10.11",
        "pangeo/pangeo-notebook:2024.11.11",
        "quay.io/jupyter/scipy-notebook:2024-12-02",
        "rocker/binder:4.4.1",
    ];
    IMAGES[i % IMAGES.len()]
}

/// Trouble a fleet shows at once: a crash-looping proxy, long-pending users, pending placeholders.
fn add_trouble(st: &mut State, c: usize, n: usize) {
    let Some(first) = st.hubs.first().cloned() else {
        return;
    };
    let long_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(40);
    node_trouble(st, c, n);
    if c == 1 % n {
        let hub = st.hubs.get(1).cloned().unwrap_or(first.clone());
        crash_loop_proxy(st, &hub, long_ago);
    }
    if c == 0 {
        // The user pool is at its maximum size: these servers wait for good.
        let now = jiff::Timestamp::now();
        for i in 0..4 {
            let user = names::user(5000 + i);
            let created = now - jiff::SignedDuration::from_mins(25 + i as i64 * 3);
            let how = Some(Pending::PoolAtMax);
            let pod = pending::start(st, &first, &user, "", generate_image(0), how);
            backdate_stuck(st, &first.namespace, &pod, created, 12 + i as u32);
        }
    }
    if c == 1 % n {
        // One user works near their memory limit and gets OOM-killed every few minutes.
        let hub = st.hubs.get(1).cloned().unwrap_or(first.clone());
        let victim = st
            .store
            .list(Kind::Pod, Some(&hub.namespace))
            .into_iter()
            .find(|p| p.name.starts_with("jupyter-"));
        if let Some(p) = victim {
            super::oom::set_course(st, &hub.namespace, &p.name, 150);
            super::oom::kill(st, &hub.namespace, &p.name);
        }
        let user = names::user(5100);
        let how = Some(Pending::VolumeAttach);
        let pod = pending::start(st, &hub, &user, "", generate_image(1), how);
        let since = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(6);
        backdate_stuck(st, &hub.namespace, &pod, since, 4);
    }
    if c == 2 % n {
        let hub = st.hubs.last().cloned().unwrap_or(first);
        let msg = super::reasons::unschedulable_user_pod(st);
        let msg = match msg.split_once(" preemption: ") {
            Some((filter, _)) => {
                format!("{filter} preemption: not eligible due to preemptionPolicy=Never.")
            }
            None => msg,
        };
        let msg = msg.as_str();
        for p in st.store.list(Kind::Pod, Some(&hub.namespace)) {
            if !p.name.starts_with(&hub.object("user-placeholder-")) {
                continue;
            }
            let mut pod = p.value();
            set_pod_unschedulable(&mut pod, msg);
            st.store.put(Kind::Pod, pod);
            generate::warning(
                st,
                &hub.namespace,
                "Pod",
                &p.name,
                "FailedScheduling",
                msg,
                31,
                long_ago,
            );
        }
        st.refresh_workload_status(
            Kind::StatefulSet,
            &hub.namespace,
            &hub.object("user-placeholder"),
        );
    }
}

/// Ages a waiting pod and the events it keeps getting.
fn backdate_stuck(st: &mut State, ns: &str, pod: &str, since: jiff::Timestamp, count: u32) {
    if let Some(o) = st.store.get(Kind::Pod, ns, pod) {
        let mut v = o.value();
        v["metadata"]["creationTimestamp"] = json!(super::store::rfc3339(since));
        st.store.put(Kind::Pod, v);
    }
    let evs = st
        .stuck
        .iter()
        .find(|(n, p, _)| n == ns && p == pod)
        .map(|s| s.2.clone())
        .unwrap_or_default();
    for e in evs {
        super::events::backdate(st, ns, &e, since, count);
    }
}

/// A cordoned node on the first cluster, a silent kubelet on the second, memory pressure on the
/// third.
fn node_trouble(st: &mut State, c: usize, n: usize) {
    let users = st.nodes_of("user");
    let Some(node) = users.last() else {
        return;
    };
    let since = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(7);
    if c == 0 {
        nodes::update(st, node, |v| nodes::set_cordoned(v, true));
    }
    if c == 1 % n {
        nodes::update(st, node, |v| {
            nodes::set_conditions(v, &[nodes::NodeCondition::NotReady], since)
        });
    }
    if c == 2 % n {
        nodes::update(st, node, |v| {
            nodes::set_conditions(v, &[nodes::NodeCondition::MemoryPressure], since)
        });
    }
}

/// Makes a hub's proxy pod crash-loop, with its BackOff event.
pub(crate) fn crash_loop_proxy(st: &mut State, hub: &Hub, since: jiff::Timestamp) {
    let proxy = hub.object("proxy");
    let Some(p) = st
        .store
        .list(Kind::Pod, Some(&hub.namespace))
        .into_iter()
        .find(|p| p.name.starts_with(&format!("{proxy}-")))
    else {
        return;
    };
    let mut pod = p.value();
    set_pod_crash_looping(&mut pod, 14);
    pod["metadata"]["annotations"] = json!({"hubdeck.sim/crash-looping": "true"});
    st.store.put(Kind::Pod, pod);
    let msg = "Back-off restarting failed container chp in pod ".to_string() + &p.name;
    generate::warning(
        st,
        &hub.namespace,
        "Pod",
        &p.name,
        "BackOff",
        &msg,
        60,
        since,
    );
    st.refresh_workload_status(Kind::Deployment, &hub.namespace, &proxy);
}
