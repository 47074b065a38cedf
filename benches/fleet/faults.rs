//! Fault recovery: how soon the model tells the truth after each fault the sim can play, the
//! same scenarios `tests/faults.rs` checks, measured at a benchmark's density and printed as a
//! second table. The sim runs in this process (its fault switches are not reachable in a
//! separate `hubdeck sim`); hubdeck runs as a library session, as in the child.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use hubdeck::fleet::{ClusterStatus, Fleet, Thresholds};
use hubdeck::headless::session::Session;
use hubdeck_sim::{FleetSpec, Scenario, SimCluster, SimFleet};

use crate::{Figures, Scale};

/// The sim's bookmark interval here; the watches' idle deadline is twice it, as hubdeck's
/// default (120 s) is twice kube-apiserver's (about a minute).
const BOOKMARKS: Duration = Duration::from_secs(1);
/// How long any one wait may take before its figure is reported as missing.
const GIVE_UP: Duration = Duration::from_secs(60);

/// The fault fleet: the density of `scale`, at most 3 clusters (the faults hit one of them).
pub fn fleet_of(scale: &Scale) -> Scale {
    let clusters = scale.clusters.min(3);
    Scale {
        clusters,
        hubs: scale.hubs * clusters / scale.clusters,
        servers: scale.servers * clusters / scale.clusters,
    }
}

/// Runs every fault once on a fresh in-process fleet; figures in seconds, by key.
pub fn measure(scale: &Scale) -> Figures {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut f = Figures::new();
    rt.block_on(run(scale, &mut f));
    rt.shutdown_timeout(Duration::from_millis(200));
    f
}

async fn run(scale: &Scale, f: &mut Figures) {
    eprintln!(
        "bench: fault recovery, {} clusters / {} hubs / {} servers in-process",
        scale.clusters, scale.hubs, scale.servers
    );
    let spec = FleetSpec {
        clusters: scale.clusters,
        hubs: scale.hubs,
        servers: scale.servers,
        seed: 7,
        scenario: Scenario::Quiet,
    };
    let sim = match SimFleet::start(spec).await {
        Ok(s) => s,
        Err(e) => return eprintln!("bench: fault fleet: {e}"),
    };
    for c in sim.clusters() {
        c.set_bookmark_interval(BOOKMARKS);
    }
    let kc = hubdeck::kube::targets::read_kubeconfig(sim.kubeconfig_path()).expect("kubeconfig");
    let targets = hubdeck::kube::targets::from_kubeconfig(kc, &[]).expect("targets");
    let settings = hubdeck::config::settings::Settings::defaults();
    let poll = hubdeck::sources::Polls::from_settings(&settings);
    let mut s = Session::start_with(targets, Thresholds::default(), poll, 2 * BOOKMARKS);
    let c = sim.clusters()[0].clone();
    let name = c.name().to_string();
    let ready = |f: &Fleet| matches!(status(f, &name), Some(ClusterStatus::Ready));
    let truth = |f: &Fleet| servers_match(f, &sim);
    if !s.wait_for(GIVE_UP, |m| ready(m) && truth(m)).await {
        return eprintln!("bench: fault fleet never settled");
    }

    eprintln!("bench:   faults: a hung API server");
    c.set_latency(Duration::from_secs(600));
    let t = Instant::now();
    let down = |m: &Fleet| matches!(status(m, &name), Some(ClusterStatus::Unreachable { .. }));
    record(f, "hung_unreachable_s", s.wait_for(GIVE_UP, down).await, t);
    c.set_latency(Duration::ZERO);
    s.wait_for(GIVE_UP, |m| ready(m) && truth(m)).await;

    eprintln!("bench:   faults: an outage with changes meanwhile");
    c.go_down().await;
    s.wait_for(GIVE_UP, down).await;
    // Long enough for every watch's retry delay to reach its maximum.
    tokio::time::sleep(Duration::from_secs(10)).await;
    change_one_server(&c, "away");
    c.come_back().await;
    let t = Instant::now();
    let back = s.wait_for(GIVE_UP, |m| ready(m) && truth(m)).await;
    record(f, "outage_correct_s", back, t);

    eprintln!("bench:   faults: an API server restart expiring every version (410)");
    c.restart_expiring();
    change_one_server(&c, "restart");
    let t = Instant::now();
    record(f, "gone_correct_s", s.wait_for(GIVE_UP, truth).await, t);
    s.wait_for(GIVE_UP, ready).await;

    eprintln!("bench:   faults: stalled watches");
    // Every watch has heard a bookmark since it last (re)started.
    tokio::time::sleep(BOOKMARKS * 3 / 2).await;
    c.stall_watches(true);
    let t = Instant::now();
    let stalled = |m: &Fleet| {
        matches!(status(m, &name), Some(ClusterStatus::Degraded { reason })
            if reason.contains("watch stalled"))
    };
    record(f, "stall_degraded_s", s.wait_for(GIVE_UP, stalled).await, t);
    change_one_server(&c, "stall");
    tokio::time::sleep(BOOKMARKS).await;
    c.stall_watches(false);
    let t = Instant::now();
    record(f, "unstall_correct_s", s.wait_for(GIVE_UP, truth).await, t);
    record(f, "unstall_ready_s", s.wait_for(GIVE_UP, ready).await, t);
    sim.shutdown().await;
}

fn record(f: &mut Figures, key: &str, happened: bool, since: Instant) {
    if happened {
        f.insert(key.into(), format!("{:.2}", since.elapsed().as_secs_f64()));
    } else {
        eprintln!("bench: {key}: not within {} s", GIVE_UP.as_secs());
    }
}

fn status<'a>(f: &'a Fleet, name: &str) -> Option<&'a ClusterStatus> {
    f.cluster(name).map(|c| &c.status)
}

/// Stops one user server of the cluster's first hub and starts another.
fn change_one_server(c: &SimCluster, tag: &str) {
    let ns = c.hub_namespaces()[0].clone();
    let one = servers_of(c).into_iter().find(|s| s.1 == ns);
    if let Some((_, ns, user, server)) = one {
        c.stop_server(&ns, &user, &server);
    }
    c.start_server(&ns, &format!("bench.{tag}"), "");
}

type ServerKey = (String, String, String, String);

/// Whether the model holds exactly the user servers the sim has, each once.
fn servers_match(f: &Fleet, sim: &SimFleet) -> bool {
    let want: BTreeSet<ServerKey> = sim.clusters().iter().flat_map(servers_of).collect();
    let mut have = BTreeSet::new();
    let mut pods = 0;
    for h in f.hubs() {
        for p in h.servers() {
            pods += 1;
            if let Some(o) = &p.owner {
                have.insert((
                    h.id.cluster.to_string(),
                    p.key.namespace.to_string(),
                    o.user.to_string(),
                    o.server.to_string(),
                ));
            }
        }
    }
    have == want && pods == want.len()
}

/// (cluster, namespace, user, server) of every live user server pod of a sim cluster.
fn servers_of(c: &SimCluster) -> Vec<ServerKey> {
    c.pods()
        .into_iter()
        .filter_map(|p| {
            let meta = p.metadata;
            let labels = meta.labels.unwrap_or_default();
            if labels.get("component").map(String::as_str) != Some("singleuser-server")
                || meta.deletion_timestamp.is_some()
            {
                return None;
            }
            let ann = meta.annotations.unwrap_or_default();
            let get = |k: &str| ann.get(k).cloned().unwrap_or_default();
            Some((
                c.name().to_string(),
                meta.namespace.unwrap_or_default(),
                get("hub.jupyter.org/username"),
                get("hub.jupyter.org/servername"),
            ))
        })
        .collect()
}

/// Prints the fault table beside the scale table.
pub fn print(scale: &Scale, f: &Figures) {
    let cell = |k: &str| f.get(k).map_or_else(|| "-".into(), |v| format!("{v} s"));
    let rows = [
        (
            "hung API server -> shown unreachable",
            "hung_unreachable_s",
            "<= 6 s",
        ),
        (
            "outage over -> model correct, cluster ready",
            "outage_correct_s",
            "<= 2 s",
        ),
        (
            "API server restart (410 on resume) -> model correct",
            "gone_correct_s",
            "<= 2 s",
        ),
        (
            "watches stall -> cluster degraded (bookmarks every 1 s)",
            "stall_degraded_s",
            "<= 2 s (2x bookmarks)",
        ),
        ("stall over -> model correct", "unstall_correct_s", ""),
        ("stall over -> cluster ready again", "unstall_ready_s", ""),
    ];
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    println!();
    println!(
        "fault recovery ({}/{}/{}, one cluster faulted, in-process sim)",
        scale.clusters, scale.hubs, scale.servers
    );
    for (label, key, target) in rows {
        println!("{label:<w$}  {:>8}  {target}", cell(key));
    }
}
