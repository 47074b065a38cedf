//! Processes around the measured one: the `hubdeck sim` fleet (`shared/sim.rs`), timed command runs (`kubectl`,
//! the `hubdeck get` CLI) and what `/proc` says about this process.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use crate::sim::{Sim, hubdeck_bin};

/// Wall time, peak RSS and success of one command run with stdout to /dev/null.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Wall time.
    pub wall: Duration,
    /// Peak RSS in KiB (from `/usr/bin/time -f %M`), if available.
    pub max_rss_kb: Option<u64>,
    /// Exit status was 0.
    pub ok: bool,
}

/// Spawns `program args` under `/usr/bin/time` (when present) with stdout to /dev/null.
fn spawn_timed(program: &Path, args: &[String], env: &[(&str, &Path)], rss_file: &Path) -> Child {
    let time = Path::new("/usr/bin/time");
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.arg("-f").arg("%M").arg("-o").arg(rss_file).arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap_or_else(|e| {
        eprintln!("bench: cannot run {}: {e}", program.display());
        Command::new("false").spawn().expect("/bin/false runs")
    })
}

fn rss_of(file: &Path) -> Option<u64> {
    std::fs::read_to_string(file)
        .ok()?
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

/// Runs several commands at once (one element: alone) and times the whole.
pub fn run_all(program: &Path, arg_sets: &[Vec<String>], env: &[(&str, &Path)], dir: &Path) -> Run {
    let started = Instant::now();
    let children: Vec<(Child, PathBuf)> = arg_sets
        .iter()
        .enumerate()
        .map(|(i, args)| {
            let rss = dir.join(format!("rss-{i}"));
            let _ = std::fs::remove_file(&rss);
            (spawn_timed(program, args, env, &rss), rss)
        })
        .collect();
    let mut ok = true;
    let mut max_rss = None;
    for (mut child, rss) in children {
        ok &= child.wait().map(|s| s.success()).unwrap_or(false);
        max_rss = max_rss.max(rss_of(&rss));
    }
    Run {
        wall: started.elapsed(),
        max_rss_kb: max_rss,
        ok,
    }
}

/// `kubectl`, if installed.
pub fn kubectl() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var_os("KUBECTL").unwrap_or_else(|| "/usr/bin/kubectl".into()));
    p.exists().then_some(p)
}

/// One field (in KiB) of `/proc/self/status`, e.g. `VmRSS`, `VmHWM`.
pub fn status_kb(field: &str) -> Option<u64> {
    proc_status_kb("self", field)
}

/// One field (in KiB) of `/proc/PID/status`.
pub fn proc_status_kb(pid: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User plus system CPU time of this process so far.
pub fn cpu_time() -> Duration {
    proc_cpu_time("self")
}

/// User plus system CPU time of process `pid` so far.
pub fn proc_cpu_time(pid: &str) -> Duration {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    let ticks = f.iter().sum::<u64>() as f64;
    Duration::from_secs_f64(ticks / clock_ticks())
}

fn clock_ticks() -> f64 {
    static TCK: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TCK.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Measures CPU use of this process over a stretch of wall time.
pub struct CpuMeter {
    cpu: Duration,
    wall: Instant,
}

impl CpuMeter {
    /// Starts measuring.
    pub fn start() -> Self {
        Self {
            cpu: cpu_time(),
            wall: Instant::now(),
        }
    }

    /// CPU time used since start, as a percentage of one core.
    pub fn percent(&self) -> f64 {
        let cpu = cpu_time().saturating_sub(self.cpu).as_secs_f64();
        100.0 * cpu / self.wall.elapsed().as_secs_f64().max(1e-9)
    }
}
