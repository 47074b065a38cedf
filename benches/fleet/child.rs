//! The measured process: hubdeck as a library (headless `Session`, `get`, the TUI's `App`)
//! against a running sim, alone in a fresh process so its RSS and CPU are hubdeck's own.
//! Results go to stdout as `key=value` lines for the parent to tabulate.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use hubdeck::config::keymap::{Command, Keymap};
use hubdeck::config::theme::Theme;
use hubdeck::fleet::{ClusterId, Fleet, ObjectKey, PodPhase, Thresholds};
use hubdeck::headless::get::{Filter, Kind, get};
use hubdeck::headless::output::Format;
use hubdeck::headless::session::{Needs, Session};
use hubdeck::kube::ClusterTarget;
use hubdeck::tui::{App, ConsoleOptions, render_offscreen};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::DeleteParams;

use crate::console;
use crate::procs::{CpuMeter, status_kb};

/// What the parent asked this process to measure.
pub struct Job<'a> {
    /// The sim's kubeconfig.
    pub kubeconfig: &'a Path,
    /// User servers the sim serves.
    pub expect: usize,
    /// Length of the idle, churn and console windows.
    pub window: Duration,
    /// Changes timed for latency.
    pub samples: usize,
}

/// One result line.
pub fn emit(key: &str, value: impl std::fmt::Display) {
    println!("{key}={value}");
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Every context of the sim's kubeconfig.
pub fn targets(kubeconfig: &Path) -> Vec<ClusterTarget> {
    let kc = hubdeck::kube::targets::read_kubeconfig(kubeconfig).expect("sim kubeconfig");
    hubdeck::kube::targets::from_kubeconfig(kc, &[]).expect("sim contexts")
}

/// The console options of a default install.
pub fn console_options() -> ConsoleOptions {
    ConsoleOptions {
        theme: Theme::builtin("default").expect("default theme"),
        keymap: Keymap::builtin("default").expect("default keymap"),
        readonly: false,
        state_dir: std::env::temp_dir().join("hubdeck-bench"),
    }
}

/// Quiet fleet: time to a complete model, memory, idle CPU, `get`, frames, change latency.
pub async fn quiet(job: &Job<'_>) {
    emit("rss_start_kb", status_kb("VmRSS").unwrap_or(0));
    let started = Instant::now();
    let mut session = Session::start(targets(job.kubeconfig), Thresholds::default());
    let objects = Needs::LISTS;
    if !complete(&mut session, job.expect, objects).await {
        emit("error", "objects not listed within 600 s");
        return;
    }
    emit("objects_ms", ms(started.elapsed()));
    if !complete(&mut session, job.expect, Needs::ALL).await {
        emit("error", "model not complete within 600 s");
        return;
    }
    emit("model_ms", ms(started.elapsed()));
    emit("peak_kb", status_kb("VmHWM").unwrap_or(0));
    pump_for(&mut session, Duration::from_secs(3)).await;
    emit("steady_kb", status_kb("VmRSS").unwrap_or(0));
    emit("heap_kb", crate::heap::live() / 1024);
    emit("heap_peak_kb", crate::heap::peak() / 1024);
    let before = crate::heap::live();
    let copy = session.fleet.clone();
    emit(
        "model_heap_kb",
        crate::heap::live().saturating_sub(before) / 1024,
    );
    drop(copy);

    let cpu = CpuMeter::start();
    let applied = session.applied();
    pump_for(&mut session, job.window).await;
    emit("idle_cpu", format!("{:.2}", cpu.percent()));
    emit("idle_updates", session.applied() - applied);

    get_json(&session.fleet);
    frames(&session.fleet);
    let deleted = latency(&mut session, job.samples, "quiet").await;
    drop(session);
    console::run(
        job,
        job.expect - deleted,
        Command::PaneServers,
        "console_idle",
    )
    .await;
}

/// A whole number of metrics intervals, at least `window`: each measuring window then holds
/// the same number of polls, with or without metrics.
fn usage_window(window: Duration, every: Duration) -> Duration {
    let n = window.as_secs().div_ceil(every.as_secs()).max(1);
    every * u32::try_from(n).unwrap_or(1)
}

/// Quiet fleet, metrics.k8s.io polled every 30 s (`polled`) or not at all: steady RSS and the
/// live heap after an interval, idle CPU over whole intervals. The difference between the two
/// runs is what the metrics polls cost.
pub async fn usage(job: &Job<'_>, polled: bool) {
    let every = Duration::from_secs(30);
    let tag = if polled { "on" } else { "off" };
    let settings = hubdeck::config::settings::Settings::defaults();
    let poll = hubdeck::sources::Polls {
        metrics: polled.then_some(every),
        ..hubdeck::sources::Polls::from_settings(&settings)
    };
    let mut session = Session::start_polling(targets(job.kubeconfig), Thresholds::default(), poll);
    if !complete(&mut session, job.expect, Needs::ALL).await {
        emit("error", "model not complete within 600 s");
        return;
    }
    let measured = session
        .fleet
        .hubs()
        .filter(|h| h.usage.total(Timestamp::now()).is_some())
        .count();
    emit(&format!("usage_{tag}_hubs_measured"), measured);
    // Past the first poll's burst, as a console left running is.
    pump_for(&mut session, every).await;
    let window = usage_window(job.window, every);
    let cpu = CpuMeter::start();
    pump_for(&mut session, window).await;
    emit(
        &format!("usage_{tag}_idle_cpu"),
        format!("{:.2}", cpu.percent()),
    );
    emit(
        &format!("usage_{tag}_steady_kb"),
        status_kb("VmRSS").unwrap_or(0),
    );
    emit(&format!("usage_{tag}_heap_kb"), crate::heap::live() / 1024);
    emit("usage_window_s", window.as_secs());
}

/// Churning fleet: time to a complete model, updates applied per second and CPU, latency.
pub async fn churn(job: &Job<'_>) {
    let started = Instant::now();
    let mut session = Session::start(targets(job.kubeconfig), Thresholds::default());
    if !complete(&mut session, job.expect, Needs::ALL).await {
        emit("error", "model not complete within 600 s");
        return;
    }
    emit("churn_model_ms", ms(started.elapsed()));
    pump_for(&mut session, Duration::from_secs(1)).await;
    let cpu = CpuMeter::start();
    let applied = session.applied();
    let t = Instant::now();
    pump_for(&mut session, job.window).await;
    let rate = (session.applied() - applied) as f64 / t.elapsed().as_secs_f64();
    emit("churn_cpu", format!("{:.1}", cpu.percent()));
    emit("churn_rate", format!("{rate:.0}"));
    let deleted = latency(&mut session, job.samples, "churn").await;
    drop(session);
    console::run(
        job,
        job.expect - deleted,
        Command::PaneServers,
        "console_churn",
    )
    .await;
}

/// Pumps until every cluster settled (as far as `needs` says) and every user server is in.
async fn complete(session: &mut Session, expect: usize, needs: Needs) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    while !(session.settled_for(needs) && session.fleet.server_count() == expect) {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        session.pump(deadline).await;
    }
    true
}

async fn pump_for(session: &mut Session, d: Duration) {
    let deadline = tokio::time::Instant::now() + d;
    while tokio::time::Instant::now() < deadline {
        session.pump(deadline).await;
    }
}

/// A writer that only counts.
#[derive(Default)]
pub struct Count(pub u64);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `get servers -o json` over the model into a sink, buffered like the CLI's stdout.
fn get_json(fleet: &Fleet) {
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..3 {
        let mut out = BufWriter::with_capacity(1 << 16, Count::default());
        let t = Instant::now();
        let rows = get(
            fleet,
            Kind::Servers,
            &Filter::default(),
            Format::Json,
            &mut out,
            Timestamp::now(),
        )
        .expect("get into a sink");
        out.flush().expect("flush a sink");
        times.push(t.elapsed());
        bytes = out.get_ref().0;
        emit("get_rows", rows);
    }
    times.sort();
    emit("get_json_ms", ms(times[times.len() / 2]));
    emit("get_json_bytes", bytes);
}

/// Frame render times at 120x40 of the Hubs and Servers panes: first and cached.
fn frames(fleet: &Fleet) {
    let t = Instant::now();
    let mut app = App::new(console_options(), fleet.clone());
    emit("app_new_ms", ms(t.elapsed()));
    let pane = |app: &mut App, name: &str| {
        let t = Instant::now();
        render_offscreen(app, 120, 40).expect("render");
        emit(&format!("{name}_first_ms"), ms(t.elapsed()));
        let mut cached: Vec<Duration> = (0..30)
            .map(|_| {
                let t = Instant::now();
                render_offscreen(app, 120, 40).expect("render");
                t.elapsed()
            })
            .collect();
        cached.sort();
        emit(&format!("{name}_cached_ms"), ms(cached[cached.len() / 2]));
    };
    pane(&mut app, "hubs");
    app.run_command(Command::PaneServers);
    pane(&mut app, "servers");
}

/// Deletes user pods through a kube client and times until the model shows each deletion;
/// returns how many pods were deleted.
async fn latency(session: &mut Session, samples: usize, name: &str) -> usize {
    let victims = victims(&session.fleet, samples);
    let mut lat = Vec::new();
    let mut deleted = 0;
    for (cluster, key) in victims {
        let Ok(client) = session.clients.client(&cluster).await else {
            continue;
        };
        let api: Api<Pod> = Api::namespaced(client, &key.namespace);
        let pod = key.name.to_string();
        let t = Instant::now();
        let delete = tokio::spawn(async move { api.delete(&pod, &DeleteParams::default()).await });
        let shown = session
            .wait_for(Duration::from_secs(10), |f| {
                f.pod(&cluster, &key)
                    .is_none_or(|p| p.phase == PodPhase::Terminating)
            })
            .await;
        if shown {
            lat.push(t.elapsed());
        }
        if matches!(delete.await, Ok(Ok(_))) {
            deleted += 1;
        }
        pump_for(session, Duration::from_millis(50)).await;
    }
    lat.sort();
    if lat.is_empty() {
        emit(&format!("lat_{name}_n"), 0);
        return deleted;
    }
    let p = |q: f64| lat[((lat.len() - 1) as f64 * q).round() as usize];
    emit(&format!("lat_{name}_n"), lat.len());
    emit(&format!("lat_{name}_p50_ms"), ms(p(0.5)));
    emit(&format!("lat_{name}_p95_ms"), ms(p(0.95)));
    deleted
}

/// User server pods spread over the clusters, one cluster after another.
fn victims(fleet: &Fleet, n: usize) -> Vec<(ClusterId, ObjectKey)> {
    let per_cluster: Vec<Vec<(ClusterId, ObjectKey)>> = fleet
        .clusters()
        .map(|c| {
            c.hubs
                .values()
                .flat_map(|h| h.servers())
                .filter(|p| p.phase == PodPhase::Running)
                .take(n)
                .map(|p| (c.id.clone(), p.key.clone()))
                .collect()
        })
        .collect();
    let mut out = Vec::new();
    for i in 0..n {
        for list in &per_cluster {
            if out.len() < n
                && let Some(v) = list.get(i)
            {
                out.push(v.clone());
            }
        }
    }
    out
}
