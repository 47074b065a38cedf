//! The real console binary, as an on-call engineer runs it: in a detached tmux pane of
//! 120x40 against the sim. Measures the time until the header shows every cluster ready, then
//! that process's steady RSS, peak RSS and CPU while nothing changes. Skipped without tmux.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Figures;
use crate::procs::{hubdeck_bin, proc_cpu_time, proc_status_kb};

/// After every cluster shows ready: time for the alert and hub-API polls to land.
const SETTLE: Duration = Duration::from_secs(10);

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// Runs the console binary against `kubeconfig` and records `console_*` figures in `f`.
pub fn console(kubeconfig: &Path, clusters: usize, dir: &Path, window: Duration, f: &mut Figures) {
    let tmux = Tmux {
        socket: format!("hubdeck-bench-{}", std::process::id()),
    };
    let cmd = format!(
        "exec env KUBECONFIG='{}' HUBDECK_CONFIG_DIR='{}' HUBDECK_STATE_DIR='{}' '{}'",
        kubeconfig.display(),
        dir.display(),
        dir.display(),
        hubdeck_bin().display()
    );
    let started = Instant::now();
    let new = [
        "new-session",
        "-d",
        "-s",
        "bench",
        "-x",
        "120",
        "-y",
        "40",
        &cmd,
    ];
    if tmux.run(&new).is_none() {
        eprintln!("bench:   no tmux: console binary not measured");
        return;
    }
    let Some(pid) = tmux
        .run(&["display", "-p", "-t", "bench", "#{pane_pid}"])
        .map(|s| s.trim().to_string())
    else {
        return;
    };
    let ready = format!("{clusters}/{clusters}");
    loop {
        let screen = tmux
            .run(&["capture-pane", "-p", "-t", "bench"])
            .unwrap_or_default();
        if screen.lines().next().is_some_and(|l| l.contains(&ready)) {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            eprintln!("bench:   console: clusters not ready within 600 s");
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f.insert(
        "console_ready_ms".into(),
        format!("{:.0}", started.elapsed().as_secs_f64() * 1000.0),
    );
    std::thread::sleep(SETTLE);
    let cpu = proc_cpu_time(&pid);
    let t = Instant::now();
    std::thread::sleep(window);
    let used = proc_cpu_time(&pid).saturating_sub(cpu);
    f.insert(
        "console_idle_cpu".into(),
        format!(
            "{:.2}",
            100.0 * used.as_secs_f64() / t.elapsed().as_secs_f64()
        ),
    );
    if let Some(kb) = proc_status_kb(&pid, "VmRSS") {
        f.insert("console_steady_kb".into(), kb.to_string());
    }
    if let Some(kb) = proc_status_kb(&pid, "VmHWM") {
        f.insert("console_peak_kb".into(), kb.to_string());
    }
    let _ = tmux.run(&["send-keys", "-t", "bench", "q"]);
    let gone = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() && gone.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
}
