//! The scenario driver: one task that runs each cluster's timers and, depending on the scenario,
//! moves users in and out, keeps a crash loop crashing, fires and resolves alerts, records hub
//! activity, and injects game-day faults.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::cluster::SimCluster;
use super::names;
use super::resources::Kind;
use super::{Pending, Scenario};

/// How often timers run and the driver acts.
const TICK: Duration = Duration::from_millis(100);
/// Steady: how often a cluster drops off, and for how long.
const OUTAGE_EVERY: Duration = Duration::from_secs(240);
const OUTAGE_FOR: Duration = Duration::from_secs(20);
/// GameDay: a new fault this often, each lasting a while.
const FAULT_EVERY: Duration = Duration::from_secs(45);
const FAULT_FOR: Duration = Duration::from_secs(20);

/// Runs until `shutdown`.
pub(crate) async fn run(
    clusters: Vec<SimCluster>,
    scenario: Scenario,
    seed: u64,
    shutdown: CancellationToken,
) {
    if clusters.is_empty() {
        return;
    }
    let mut d = Driver {
        clusters,
        scenario,
        rng: fastrand::Rng::with_seed(seed ^ 0x5ce7_a210),
        next_user: 100_000,
        started: Instant::now(),
        last_crash_bump: Instant::now(),
        last_wait_bump: Instant::now(),
        last_fault: Instant::now(),
        fault_n: 0,
        churn_names: Vec::new(),
        churn_refreshed: Instant::now() - Duration::from_secs(60),
        churn_counter: 0,
        flapping: Vec::new(),
    };
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => d.step().await,
        }
    }
}

struct Driver {
    clusters: Vec<SimCluster>,
    scenario: Scenario,
    rng: fastrand::Rng,
    next_user: usize,
    started: Instant,
    last_crash_bump: Instant,
    last_wait_bump: Instant,
    last_fault: Instant,
    fault_n: usize,
    churn_names: Vec<Vec<(Box<str>, Box<str>)>>,
    churn_refreshed: Instant,
    churn_counter: u64,
    /// Alerts the driver fired: (cluster index, fingerprint).
    flapping: Vec<(usize, String)>,
}

impl Driver {
    async fn step(&mut self) {
        let now = Instant::now();
        for c in &self.clusters {
            c.inner.state().tick(now);
        }
        match self.scenario {
            Scenario::Quiet => {}
            Scenario::Steady => {
                self.users();
                self.preempt_placeholders();
                self.crash_loops();
                self.waiting();
                self.alerts();
                self.activity();
                self.outages().await;
            }
            Scenario::GameDay => {
                self.users();
                self.preempt_placeholders();
                self.crash_loops();
                self.waiting();
                self.alerts();
                self.activity();
                self.faults().await;
            }
            Scenario::Churn { updates_per_sec } => self.churn(updates_per_sec),
        }
    }

    /// About three server starts or stops per second across the fleet.
    fn users(&mut self) {
        if self.rng.u8(..10) >= 3 {
            return;
        }
        let c = self.clusters[self.rng.usize(..self.clusters.len())].clone();
        let hubs = c.hub_namespaces();
        if hubs.is_empty() {
            return;
        }
        let ns = &hubs[self.rng.usize(..hubs.len())];
        if self.rng.bool() {
            self.next_user += 1;
            let user = names::user(self.next_user);
            let how = {
                let st = c.inner.state();
                match st.pools.iter().find(|p| p.purpose == "user") {
                    // A full pool at its maximum leaves some newcomers waiting.
                    Some(p) if p.nodes.len() >= p.max => {
                        (self.rng.u8(..3) == 0).then_some(Pending::PoolAtMax)
                    }
                    Some(_) if self.rng.u8(..6) == 0 => Some(Pending::ScaleUp),
                    _ => None,
                }
            };
            c.start_server_pending(ns, &user, "", how);
        } else {
            let victim = {
                let st = c.inner.state();
                let pods = st.store.list(Kind::Pod, Some(ns));
                let users: Vec<_> = pods
                    .iter()
                    .filter(|p| p.name.starts_with("jupyter-"))
                    .collect();
                if users.is_empty() {
                    None
                } else {
                    Some(users[self.rng.usize(..users.len())].name.to_string())
                }
            };
            if let Some(v) = victim {
                c.inner.state().delete_pod(ns, &v, Some(1));
            }
        }
    }

    /// About once a minute a real user preempts a placeholder pod somewhere.
    fn preempt_placeholders(&mut self) {
        if self.rng.u16(..600) != 0 {
            return;
        }
        let c = self.clusters[self.rng.usize(..self.clusters.len())].clone();
        let mut st = c.inner.state();
        let placeholders: Vec<_> = st
            .store
            .list(Kind::Pod, None)
            .into_iter()
            .filter(|p| p.name.contains("user-placeholder-"))
            .collect();
        if placeholders.is_empty() {
            return;
        }
        let victim = placeholders[self.rng.usize(..placeholders.len())].clone();
        let msg = format!(
            "Preempted by pod {} on node {}",
            st.store.new_uid(),
            st.pick_node(true)
        );
        // The scheduler tells the victim, as a Normal event (its own doing, not a failure).
        super::events::now_event(
            &mut st,
            &victim.namespace,
            &victim.name,
            super::events::Reporter::Scheduler("default-scheduler"),
            "Preempted",
            &msg,
            false,
        );
        st.delete_pod(&victim.namespace, &victim.name, Some(0));
    }

    /// About every 40 s an alert fires somewhere or one the driver fired resolves; at most three
    /// of the driver's alerts fire at once.
    fn alerts(&mut self) {
        if self.rng.u16(..400) != 0 {
            return;
        }
        let resolve = !self.flapping.is_empty() && (self.flapping.len() >= 3 || self.rng.bool());
        if resolve {
            let (c, fp) = self.flapping.remove(self.rng.usize(..self.flapping.len()));
            super::alerting::resolve(&self.clusters[c], &fp);
            return;
        }
        let c = self.rng.usize(..self.clusters.len());
        if let Some(fp) = super::alerting::fire_flapping(&self.clusters[c], &mut self.rng) {
            self.flapping.push((c, fp));
        }
    }

    /// People work: a few servers a second show fresh activity in their hub's API.
    fn activity(&mut self) {
        if self.rng.u8(..10) >= 3 {
            return;
        }
        let c = self.rng.usize(..self.clusters.len());
        super::hub_apis::touch_random(&self.clusters[c], &mut self.rng);
    }

    /// Crash-looping pods restart again every half minute.
    fn crash_loops(&mut self) {
        if self.last_crash_bump.elapsed() < Duration::from_secs(30) {
            return;
        }
        self.last_crash_bump = Instant::now();
        for c in &self.clusters {
            let mut st = c.inner.state();
            let looping: Vec<_> = st
                .store
                .list(Kind::Pod, None)
                .into_iter()
                .filter(|p| p.json.windows(23).any(|w| w == b"hubdeck.sim/crash-loopi"))
                .collect();
            for p in looping {
                let mut v = p.value();
                let statuses = v["status"]["containerStatuses"].as_array_mut();
                for s in statuses.into_iter().flatten() {
                    let n = s["restartCount"].as_u64().unwrap_or(0) + 1;
                    s["restartCount"] = json!(n);
                }
                st.store.put(Kind::Pod, v);
                bump_event(&mut st.store, &p.namespace, &p.name);
            }
        }
    }

    /// Every half minute waiting pods hear again from the scheduler and the autoscaler, and old
    /// events expire.
    fn waiting(&mut self) {
        if self.last_wait_bump.elapsed() < Duration::from_secs(30) {
            return;
        }
        self.last_wait_bump = Instant::now();
        for c in &self.clusters {
            let mut st = c.inner.state();
            super::pending::repeat_stuck(&mut st);
            super::events::expire(&mut st, jiff::Timestamp::now());
        }
    }

    /// Steady: one cluster at a time drops off for ~20 s every few minutes.
    async fn outages(&mut self) {
        let n = self.clusters.len();
        let since = self.started.elapsed();
        let phase = since.as_secs() % OUTAGE_EVERY.as_secs();
        let which = (since.as_secs() / OUTAGE_EVERY.as_secs()) as usize % n;
        let victim = &self.clusters[(which + n - 1) % n];
        // The first outage comes a minute in, so a fresh demo starts healthy.
        let down =
            since > Duration::from_secs(60) && phase >= 60 && phase < 60 + OUTAGE_FOR.as_secs();
        if down && victim.is_up() {
            victim.go_down().await;
        } else if !down && !victim.is_up() {
            victim.come_back().await;
        }
    }

    /// GameDay: rotate through outage, expiring restart, stalled watches and slow answers.
    async fn faults(&mut self) {
        if self.last_fault.elapsed() < FAULT_EVERY {
            if self.last_fault.elapsed() >= FAULT_FOR {
                self.heal().await;
            }
            return;
        }
        self.heal().await;
        self.last_fault = Instant::now();
        let c = self.clusters[self.fault_n % self.clusters.len()].clone();
        match self.fault_n % 4 {
            0 => c.go_down().await,
            1 => c.restart_expiring(),
            2 => c.stall_watches(true),
            _ => c.set_latency(Duration::from_millis(2500)),
        }
        tracing::info!(
            cluster = c.name(),
            fault = self.fault_n % 4,
            "sim: game-day fault"
        );
        self.fault_n += 1;
    }

    async fn heal(&self) {
        for c in &self.clusters {
            if !c.is_up() {
                c.come_back().await;
            }
            c.stall_watches(false);
            c.set_latency(Duration::ZERO);
        }
    }

    /// Churn: `rate` pod updates per second spread round-robin over clusters, each changing
    /// what a console shows: every other update a container restarts, the others flip the
    /// pod's readiness (as a failing probe does).
    fn churn(&mut self, rate: u32) {
        if self.churn_refreshed.elapsed() > Duration::from_secs(1) {
            self.churn_refreshed = Instant::now();
            self.churn_names = self
                .clusters
                .iter()
                .map(|c| {
                    c.inner
                        .state()
                        .store
                        .list(Kind::Pod, None)
                        .iter()
                        .map(|p| (p.namespace.clone(), p.name.clone()))
                        .collect()
                })
                .collect();
        }
        let per_tick = (u64::from(rate) * TICK.as_millis() as u64 / 1000).max(1);
        for i in 0..per_tick {
            let ci = (self.churn_counter + i) as usize % self.clusters.len();
            let names = &self.churn_names[ci];
            if names.is_empty() {
                continue;
            }
            let (ns, name) = &names[self.rng.usize(..names.len())];
            let mut st = self.clusters[ci].inner.state();
            if let Some(p) = st.store.get(Kind::Pod, ns, name) {
                let mut v = p.value();
                let n = self.churn_counter + i;
                v["metadata"]["annotations"]["hubdeck.sim/churn"] = json!(n.to_string());
                if n.is_multiple_of(2) {
                    bump_restarts(&mut v);
                } else {
                    flip_ready(&mut v);
                }
                st.store.put(Kind::Pod, v);
            }
        }
        self.churn_counter += per_tick;
    }
}

/// One more restart of the pod's first container.
fn bump_restarts(pod: &mut serde_json::Value) {
    // `get_mut`, not indexing: indexing a missing key would add it as null.
    if let Some(c) = pod
        .pointer_mut("/status/containerStatuses")
        .and_then(|cs| cs.get_mut(0))
    {
        let n = c["restartCount"].as_u64().unwrap_or(0);
        c["restartCount"] = json!(n + 1);
    }
}

/// Flips the pod's Ready condition and its containers' ready flags.
fn flip_ready(pod: &mut serde_json::Value) {
    let Some(ready) = pod
        .pointer_mut("/status/conditions")
        .and_then(|cs| cs.as_array_mut())
        .and_then(|cs| cs.iter_mut().find(|c| c["type"] == "Ready"))
    else {
        return;
    };
    let now = ready["status"] != "True";
    ready["status"] = json!(if now { "True" } else { "False" });
    if let Some(cs) = pod
        .pointer_mut("/status/containerStatuses")
        .and_then(|cs| cs.as_array_mut())
    {
        for c in cs {
            c["ready"] = json!(now);
        }
    }
}

/// Counts one more occurrence on the newest Warning event about a pod.
fn bump_event(store: &mut super::store::Store, ns: &str, pod: &str) {
    let prefix = format!("{pod}.");
    let ev: Option<Arc<super::store::Obj>> = store
        .list(Kind::Event, Some(ns))
        .into_iter()
        .find(|e| e.name.starts_with(&prefix));
    if let Some(e) = ev {
        let mut v = e.value();
        let n = v["count"].as_u64().unwrap_or(1) + 1;
        v["count"] = json!(n);
        v["lastTimestamp"] = json!(super::store::now_rfc3339());
        store.put(Kind::Event, v);
    }
}
