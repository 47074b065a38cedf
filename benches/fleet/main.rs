//! Fleet-scale benchmark: how fast hubdeck builds and keeps the model of a fleet, how much memory
//! and CPU that costs, how quickly a change reaches the model and the screen, next to `kubectl`
//! and to a plain list of the same pods. Prints one table; asserts nothing.
//!
//! `cargo bench --bench fleet -- [--scales 1,5,30] [--quick]`
//!
//! For each scale a `hubdeck sim` runs as a separate process (the release binary Cargo builds
//! for this bench; `HUBDECK_BIN` overrides it) and this binary re-executes itself with `--child`
//! for the hubdeck measurements, so each scale's memory and CPU are measured in a fresh process.
//! Map: `procs` (sim, timed commands, /proc) · `child` (the measured process) · `console` (the
//! TUI draw loop) · `tty` (the console binary in tmux) · `exec` (the same with exec credential
//! plugins) · `table` (printing) · `faults` (fault recovery, in-process, printed after the table).
//! The `usage-off`/`usage-on` children measure what polling metrics.k8s.io adds.

mod child;
mod console;
mod exec;
mod faults;
mod heap;
mod procs;
#[path = "../shared/sim.rs"]
mod sim;
mod table;
mod tty;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;

use procs::{Sim, hubdeck_bin, kubectl, run_all};

#[global_allocator]
static ALLOC: heap::Counting = heap::Counting;

/// One fleet size.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Clusters.
    pub clusters: usize,
    /// Hubs, fleet-wide.
    pub hubs: usize,
    /// User servers, fleet-wide.
    pub servers: usize,
}

impl Scale {
    /// `C` (20 hubs and ~3,333 servers per cluster, the target fleet's density) or `C/H/S`.
    fn parse(s: &str) -> Result<Scale, String> {
        let nums: Vec<usize> = s
            .split('/')
            .map(|n| n.trim().parse().map_err(|_| format!("bad scale {s:?}")))
            .collect::<Result<_, _>>()?;
        match nums.as_slice() {
            [1] => Ok(Scale::new(1, 20, 3_300)),
            [5] => Ok(Scale::new(5, 100, 16_500)),
            [c] if *c > 0 => Ok(Scale::new(
                *c,
                20 * c,
                (c * 100_000 / 30).div_ceil(100) * 100,
            )),
            [c, h, s] if *c > 0 && h >= c => Ok(Scale::new(*c, *h, *s)),
            _ => Err(format!(
                "bad scale {s:?}: expected CLUSTERS or CLUSTERS/HUBS/SERVERS"
            )),
        }
    }

    fn new(clusters: usize, hubs: usize, servers: usize) -> Self {
        Self {
            clusters,
            hubs,
            servers,
        }
    }
}

struct Opts {
    scales: Vec<Scale>,
    window: Duration,
    samples: usize,
    churn: u32,
    /// The phases to run (`--only quiet,usage,tty,exec,cli,kubectl,churn,faults`); all when
    /// empty.
    only: Vec<String>,
}

impl Opts {
    fn runs(&self, phase: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == phase)
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("--child") {
        child_main(&args[1..]);
        return;
    }
    let mut opts = Opts {
        scales: ["1", "5", "30"]
            .iter()
            .map(|s| Scale::parse(s).unwrap())
            .collect(),
        window: Duration::from_secs(10),
        samples: 20,
        churn: 2000,
        only: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--scales" => {
                let v = it.next().map(String::as_str).unwrap_or("");
                opts.scales = match v.split(',').map(Scale::parse).collect() {
                    Ok(s) => s,
                    Err(e) => return eprintln!("bench: {e}"),
                };
            }
            "--quick" => {
                opts.window = Duration::from_secs(3);
                opts.samples = 8;
            }
            "--churn" => opts.churn = it.next().and_then(|v| v.parse().ok()).unwrap_or(2000),
            "--only" => {
                opts.only = it
                    .next()
                    .map(|v| v.split(',').map(str::to_string).collect())
                    .unwrap_or_default();
            }
            other => eprintln!("bench: ignoring argument {other:?}"),
        }
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    eprintln!("bench: hubdeck binary {}", hubdeck_bin().display());
    let mut results = Vec::new();
    for scale in &opts.scales {
        eprintln!(
            "bench: {} clusters / {} hubs / {} servers",
            scale.clusters, scale.hubs, scale.servers
        );
        results.push((*scale, run_scale(scale, &opts, dir.path())));
    }
    table::print(&results, kubectl().is_some(), &opts_note(&opts));
    if let Some(scale) = opts
        .scales
        .first()
        .filter(|_| opts.runs("faults"))
        .map(faults::fleet_of)
    {
        faults::print(&scale, &faults::measure(&scale));
    }
}

fn opts_note(o: &Opts) -> String {
    format!(
        "windows {} s, {} latency samples, churn {} pod updates/s",
        o.window.as_secs(),
        o.samples,
        o.churn
    )
}

/// Every figure of one scale, by key.
pub type Figures = BTreeMap<String, String>;

fn run_scale(scale: &Scale, opts: &Opts, dir: &Path) -> Figures {
    let mut f = Figures::new();
    let sim = match Sim::start((scale.clusters, scale.hubs, scale.servers), "quiet", dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench: {e}");
            return f;
        }
    };
    f.insert(
        "sim_start_s".into(),
        format!("{:.1}", sim.startup.as_secs_f64()),
    );
    let expect = plain_list(&sim.kubeconfig, Some(&mut f));
    if opts.runs("quiet") {
        eprintln!("bench:   {expect} user servers listed; measuring hubdeck (quiet)");
        child(&sim.kubeconfig, "quiet", expect, opts, &mut f);
    }
    if opts.runs("usage") {
        eprintln!("bench:   hubdeck without and with metrics.k8s.io polls (quiet)");
        child(&sim.kubeconfig, "usage-off", expect, opts, &mut f);
        child(&sim.kubeconfig, "usage-on", expect, opts, &mut f);
    }
    if opts.runs("tty") {
        eprintln!("bench:   the console binary in tmux");
        tty::console(&sim.kubeconfig, scale.clusters, dir, opts.window, &mut f);
    }
    if opts.runs("exec") {
        eprintln!("bench:   the console binary, users authenticating through a 1 s exec plugin");
        exec::console(&sim.kubeconfig, scale.clusters, dir, opts.window, &mut f);
    }
    if opts.runs("cli") {
        cli_get(&sim, dir, &mut f);
    }
    if opts.runs("kubectl") {
        kubectl_baseline(&sim, dir, &mut f);
    }
    sim.stop();
    if opts.runs("churn") {
        churn(scale, opts, dir, &mut f);
    }
    f
}

/// `hubdeck get servers -o json`, the whole CLI.
fn cli_get(sim: &Sim, dir: &Path, f: &mut Figures) {
    eprintln!("bench:   hubdeck get servers -o json (CLI)");
    let env = [
        ("KUBECONFIG", sim.kubeconfig.as_path()),
        ("HUBDECK_CONFIG_DIR", dir),
        ("HUBDECK_STATE_DIR", dir),
    ];
    let cli: Vec<String> = ["--timeout", "600", "get", "servers", "-o", "json"]
        .map(String::from)
        .to_vec();
    let run = run_all(&hubdeck_bin(), &[cli], &env, dir);
    f.insert("cli_ms".into(), format!("{:.0}", ms(run.wall)));
    f.insert("cli_ok".into(), run.ok.to_string());
    if let Some(kb) = run.max_rss_kb {
        f.insert("cli_rss_kb".into(), kb.to_string());
    }
}

/// `kubectl get pods -A -o json` for every context, one after another and all at once.
fn kubectl_baseline(sim: &Sim, dir: &Path, f: &mut Figures) {
    if let Some(kubectl) = kubectl() {
        eprintln!("bench:   kubectl get pods -A -o json, per context");
        let sets: Vec<Vec<String>> = sim
            .contexts()
            .iter()
            .map(|c| {
                let kc = sim.kubeconfig.display().to_string();
                [
                    "--kubeconfig",
                    &kc,
                    "--context",
                    c,
                    "get",
                    "pods",
                    "-A",
                    "-o",
                    "json",
                ]
                .map(String::from)
                .to_vec()
            })
            .collect();
        let mut seq = Duration::ZERO;
        let mut rss = None;
        let mut ok = true;
        for set in &sets {
            let r = run_all(&kubectl, std::slice::from_ref(set), &[], dir);
            seq += r.wall;
            rss = rss.max(r.max_rss_kb);
            ok &= r.ok;
        }
        let par = run_all(&kubectl, &sets, &[], dir);
        f.insert("kubectl_seq_ms".into(), format!("{:.0}", ms(seq)));
        f.insert("kubectl_par_ms".into(), format!("{:.0}", ms(par.wall)));
        f.insert("kubectl_ok".into(), (ok && par.ok).to_string());
        if let Some(kb) = rss.max(par.max_rss_kb) {
            f.insert("kubectl_rss_kb".into(), kb.to_string());
        }
    }
}

/// The same fleet under churn, in a sim of its own.
fn churn(scale: &Scale, opts: &Opts, dir: &Path, f: &mut Figures) {
    let scenario = format!("churn:{}", opts.churn);
    eprintln!("bench:   hubdeck under {scenario}");
    match Sim::start((scale.clusters, scale.hubs, scale.servers), &scenario, dir) {
        Ok(sim) => {
            // A moving fleet is laid out a little differently: count its servers again.
            let expect = plain_list(&sim.kubeconfig, None);
            child(&sim.kubeconfig, "churn", expect, opts, f);
            sim.stop();
        }
        Err(e) => eprintln!("bench: {e}"),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Lists every pod of each cluster with a plain `Api::<Pod>::all(client).list(..)`: each
/// cluster alone (slowest kept), then all clusters at once, recorded in `f` if given. Returns the
/// user server count.
fn plain_list(kubeconfig: &Path, f: Option<&mut Figures>) -> usize {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        let mut clients = Vec::new();
        for t in child::targets(kubeconfig) {
            clients.push(
                hubdeck::kube::targets::client(&t)
                    .await
                    .expect("sim client"),
            );
        }
        let list = |client: kube::Client| async move {
            let t = Instant::now();
            let pods = Api::<Pod>::all(client)
                .list(&ListParams::default())
                .await
                .expect("plain list");
            let servers = pods
                .items
                .iter()
                .filter(|p| {
                    p.metadata.labels.as_ref().and_then(|l| l.get("component"))
                        == Some(&"singleuser-server".to_string())
                })
                .count();
            (t.elapsed(), servers)
        };
        let mut slowest = Duration::ZERO;
        let mut servers = 0;
        for c in &clients {
            let (d, n) = list(c.clone()).await;
            slowest = slowest.max(d);
            servers += n;
        }
        if let Some(f) = f {
            let t = Instant::now();
            futures::future::join_all(clients.iter().map(|c| list(c.clone()))).await;
            f.insert("list_one_ms".into(), format!("{:.0}", ms(slowest)));
            f.insert("list_all_ms".into(), format!("{:.0}", ms(t.elapsed())));
        }
        servers
    })
}

/// Runs this binary again with `--child MODE` and collects its `key=value` lines.
fn child(kubeconfig: &Path, mode: &str, expect: usize, opts: &Opts, f: &mut Figures) {
    let exe: PathBuf = std::env::current_exe().expect("the bench executable");
    let out = Command::new(exe)
        .args(["--child", mode])
        .arg(kubeconfig)
        .args([
            expect.to_string(),
            opts.window.as_secs().to_string(),
            opts.samples.to_string(),
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output();
    match out {
        Ok(o) => {
            for line in String::from_utf8_lossy(&o.stdout).lines() {
                if let Some((k, v)) = line.split_once('=') {
                    f.insert(k.to_string(), v.to_string());
                }
            }
            if !o.status.success() {
                eprintln!("bench: child {mode} failed: {}", o.status);
            }
        }
        Err(e) => eprintln!("bench: child {mode}: {e}"),
    }
}

/// `--child MODE KUBECONFIG EXPECT WINDOW_SECS SAMPLES`
fn child_main(args: &[String]) {
    let [mode, kubeconfig, expect, window, samples] = args else {
        eprintln!("bench: --child MODE KUBECONFIG EXPECT WINDOW_SECS SAMPLES");
        std::process::exit(2);
    };
    let job = child::Job {
        kubeconfig: Path::new(kubeconfig),
        expect: expect.parse().unwrap_or(0),
        window: Duration::from_secs(window.parse().unwrap_or(10)),
        samples: samples.parse().unwrap_or(20),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        match mode.as_str() {
            "quiet" => child::quiet(&job).await,
            "churn" => child::churn(&job).await,
            "usage-off" => child::usage(&job, false).await,
            "usage-on" => child::usage(&job, true).await,
            other => eprintln!("bench: unknown child mode {other}"),
        }
    });
    rt.shutdown_timeout(Duration::from_millis(200));
}
