//! Frame times of the console at 120x40 over an in-process fleet (no simulator, no network):
//! cached frames, the first frame after the fleet changed, and frames under churn, for every
//! pane (the nodes pane over 20 user servers a node: ~5,000 nodes at 100,000 servers). Prints a
//! table; asserts nothing. Takes well under a minute.
//!
//! `cargo bench --bench frames -- [--clusters 30] [--hubs-per-cluster 20] [--servers 100000]
//! [--frames 200] [--changes 1,25]`
//!
//! "after N changes" applies N pod updates (restarts bumped, or a server stopped or started) to
//! random hubs, refreshes the model as the console does, then times one frame, at the console's
//! pace (one frame per 12 ms); 25 changes a frame is churn of 2,000 pod updates a second.

#[path = "fleet/heap.rs"]
mod heap;

use std::time::{Duration, Instant};

use hubdeck::config::keymap::{Command, Keymap};
use hubdeck::config::theme::Theme;
use hubdeck::fleet::fixtures::{node, pod, server, t0, workload};
use hubdeck::fleet::{
    ClusterId, ClusterMeta, ClusterStatus, Component, Delta, EVENTS_PER_CLUSTER, EventInfo, Fleet,
    FleetUpdate, NodeInfo, ObjectKey, PodInfo, Thresholds, WorkloadKind,
};
use hubdeck::tui::{App, ConsoleOptions};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[global_allocator]
static ALLOC: heap::Counting = heap::Counting;

/// The console redraws at most this often.
const FRAME: Duration = Duration::from_millis(12);

struct Opts {
    clusters: usize,
    hubs: usize,
    servers: usize,
    frames: usize,
    changes: Vec<usize>,
}

/// A small deterministic generator: the same fleet and the same changes on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn fleet_updates(o: &Opts) -> (Vec<FleetUpdate>, Vec<(ClusterId, PodInfo)>) {
    let per_hub = o.servers / (o.clusters * o.hubs).max(1);
    let mut updates = Vec::new();
    let mut servers = Vec::new();
    for c in 0..o.clusters {
        let cluster = ClusterId::new(format!("cluster-{c:02}"));
        updates.push(FleetUpdate::ClusterAdded {
            cluster: cluster.clone(),
            meta: ClusterMeta::default(),
        });
        updates.push(FleetUpdate::Status {
            cluster: cluster.clone(),
            status: ClusterStatus::Ready,
        });
        let mut workloads = Vec::new();
        let mut pods = Vec::new();
        let user_nodes = (per_hub * o.hubs).div_ceil(SERVERS_PER_NODE).max(1);
        let nodes = cluster_nodes(c, user_nodes);
        for h in 0..o.hubs {
            let ns = format!("hub-{h:03}");
            workloads.push(workload(&ns, &ns, Component::Hub, "hub", 1));
            workloads.push(workload(&ns, &ns, Component::Proxy, "proxy", 1));
            let mut hub = pod(&ns, &ns, Component::Hub, "hub-0");
            hub.node = Some(nodes[h % CORE_NODES].name.clone());
            pods.push(hub);
            for u in 0..per_hub {
                let mut p = server(&ns, &ns, &format!("user{u:05}"));
                let i = (h * per_hub + u) / SERVERS_PER_NODE;
                p.node = Some(nodes[CORE_NODES + i % user_nodes].name.clone());
                servers.push((cluster.clone(), p.clone()));
                pods.push(p);
            }
        }
        updates.push(FleetUpdate::Nodes {
            cluster: cluster.clone(),
            delta: Delta::Replace(nodes),
        });
        updates.push(FleetUpdate::Workloads {
            cluster: cluster.clone(),
            kind: WorkloadKind::Deployment,
            delta: Delta::Replace(workloads),
        });
        updates.push(FleetUpdate::Pods {
            cluster: cluster.clone(),
            delta: Delta::Replace(pods),
        });
        // A full ring of Warning events per cluster, as a troubled fleet has.
        let events = (0..EVENTS_PER_CLUSTER)
            .map(|e| EventInfo {
                key: ObjectKey {
                    namespace: "hub-000".into(),
                    name: format!("event-{e:04}").into(),
                },
                object: format!("Pod/jupyter-user{e:05}").into(),
                reason: "FailedScheduling".into(),
                message: "0/3 nodes are available: insufficient memory".into(),
                count: 1,
                last_seen: Some(t0() - jiff::SignedDuration::from_secs(e as i64)),
            })
            .collect();
        updates.push(FleetUpdate::Events {
            cluster,
            delta: Delta::Replace(events),
        });
    }
    (updates, servers)
}

/// User servers a user node holds, as a highmem node of 16 cores does.
const SERVERS_PER_NODE: usize = 20;
/// Nodes of each cluster's core pool.
const CORE_NODES: usize = 3;

/// A cluster's nodes: a core pool, then a user pool of `user` nodes, one of them NotReady and
/// one cordoned, as a troubled fleet has.
fn cluster_nodes(c: usize, user: usize) -> Vec<NodeInfo> {
    (0..CORE_NODES + user)
        .map(|i| {
            let (pool, purpose) = if i < CORE_NODES {
                ("core-pool", "core")
            } else {
                ("nb-n2-highmem-16", "user")
            };
            let mut n = node(&format!("gke-cluster-{c:02}-{pool}-{i:04}"), pool);
            n.purpose = purpose.into();
            n.allocatable.cpu_milli = 15_890;
            n.allocatable.memory_bytes = 120 << 30;
            n.ready = i != CORE_NODES;
            n.cordoned = i == CORE_NODES + 1;
            n
        })
        .collect()
}

/// `n` pod updates on random hubs: mostly restarts bumped, some servers stopped or started.
fn changes(rng: &mut Rng, servers: &mut [(ClusterId, PodInfo)], n: usize) -> Vec<FleetUpdate> {
    (0..n)
        .map(|_| {
            let (cluster, p) = &mut servers[rng.below(servers.len())];
            let delta = match rng.below(10) {
                0 => Delta::Remove(p.clone()),
                _ => {
                    p.restarts += 1;
                    p.ready = !p.ready;
                    Delta::Upsert(p.clone())
                }
            };
            FleetUpdate::Pods {
                cluster: cluster.clone(),
                delta,
            }
        })
        .collect()
}

struct Timer(Terminal<TestBackend>);

impl Timer {
    fn frame(&mut self, app: &mut App) -> Duration {
        let t = Instant::now();
        if let Err(e) = self.0.draw(|f| app.draw(f)) {
            eprintln!("frames: draw failed: {e}");
        }
        t.elapsed()
    }
}

fn pct(times: &mut [Duration], p: usize) -> f64 {
    times.sort_unstable();
    let i = (times.len() * p / 100).min(times.len().saturating_sub(1));
    times.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn row(label: &str, times: &mut [Duration]) {
    let (p50, p95, p99) = (pct(times, 50), pct(times, 95), pct(times, 99));
    let max = pct(times, 100);
    println!("{label:<44} {p50:>9.3} {p95:>9.3} {p99:>9.3} {max:>9.3}");
}

fn main() {
    let mut o = Opts {
        clusters: 30,
        hubs: 20,
        servers: 100_000,
        frames: 200,
        changes: vec![1, 25],
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter().filter(|a| *a != "--bench");
    while let Some(a) = it.next() {
        let mut num = || it.next().and_then(|v| v.parse().ok());
        match a.as_str() {
            "--clusters" => o.clusters = num().unwrap_or(o.clusters),
            "--hubs-per-cluster" => o.hubs = num().unwrap_or(o.hubs),
            "--servers" => o.servers = num().unwrap_or(o.servers),
            "--frames" => o.frames = num().unwrap_or(o.frames),
            "--changes" => {
                o.changes = it
                    .next()
                    .map(|v| v.split(',').filter_map(|n| n.parse().ok()).collect())
                    .unwrap_or_default();
            }
            other => eprintln!("frames: ignoring argument {other:?}"),
        }
    }
    let (updates, mut servers) = fleet_updates(&o);
    let mut fleet = Fleet::new(Thresholds::default());
    fleet.apply_all(updates, t0());
    let opts = ConsoleOptions {
        theme: Theme::builtin("default").expect("default theme"),
        keymap: Keymap::builtin("default").expect("default keymap"),
        readonly: false,
        state_dir: std::env::temp_dir().join("hubdeck-bench"),
    };
    let mut app = App::new(opts, fleet);
    let mut timer = Timer(Terminal::new(TestBackend::new(120, 40)).expect("a test terminal"));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut now = t0();
    println!(
        "frames at 120x40: {} clusters, {} hubs, {} servers; times in ms",
        o.clusters,
        o.clusters * o.hubs,
        app.fleet().server_count()
    );
    println!(
        "{:<44} {:>9} {:>9} {:>9} {:>9}",
        "", "p50", "p95", "p99", "max"
    );
    let panes: [(&str, &[Command]); 9] = [
        ("hubs", &[Command::PaneHubs]),
        ("hubs by servers", &[Command::PaneHubs, Command::SortNext]),
        ("servers", &[Command::PaneServers]),
        (
            "servers by user",
            &[Command::PaneServers, Command::SortNext],
        ),
        ("clusters", &[Command::PaneClusters]),
        ("alerts", &[Command::PaneAlerts]),
        ("events", &[Command::PaneEvents]),
        ("nodes", &[Command::PaneNodes]),
        ("nodes by servers", &[Command::PaneNodes, Command::SortNext]),
    ];
    for (name, keys) in panes {
        app.run_command(Command::PaneClusters);
        timer.frame(&mut app);
        let heap_before = heap::live();
        for k in keys {
            app.run_command(*k);
        }
        // "hubs by servers": the sixth column; "nodes by servers": the fourth.
        let more = match name {
            "hubs by servers" => 5,
            "nodes by servers" => 3,
            _ => 0,
        };
        for _ in 0..more {
            app.run_command(Command::SortNext);
        }
        let mut open = vec![timer.frame(&mut app)];
        let held = heap::live().saturating_sub(heap_before);
        row(&format!("{name}: opening (full build)"), &mut open);
        let mut cached: Vec<_> = (0..o.frames).map(|_| timer.frame(&mut app)).collect();
        row(&format!("{name}: cached"), &mut cached);
        for &n in &o.changes {
            let mut after = Vec::with_capacity(o.frames);
            for _ in 0..o.frames {
                now += jiff::SignedDuration::try_from(FRAME).unwrap_or_default();
                let batch = changes(&mut rng, &mut servers, n);
                app.apply_updates(batch, now);
                after.push(timer.frame(&mut app));
                // The console's pace in real time too: what a view may defer for a while
                // comes due within the run, as it would on screen.
                std::thread::sleep(FRAME);
            }
            row(
                &format!("{name}: first frame after {n} changes"),
                &mut after,
            );
        }
        println!(
            "{:<44} {:>9.1} MB",
            format!("{name}: heap held by the pane"),
            held as f64 / 1e6
        );
    }
    println!(
        "{:<44} {:>9.1} MB",
        "peak heap of the run",
        heap::peak() as f64 / 1e6
    );
}
