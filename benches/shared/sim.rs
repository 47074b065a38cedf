//! A `hubdeck sim` fleet in its own process, so that what a bench measures in its own process
//! is hubdeck's alone. Shared by the benches through `#[path]`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The `hubdeck` release binary: `HUBDECK_BIN`, else the one Cargo built for this bench, else
/// the `hubdeck` next to the bench executable (`$CARGO_TARGET_DIR/release/`).
pub fn hubdeck_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("HUBDECK_BIN") {
        return PathBuf::from(p);
    }
    if let Some(p) = option_env!("CARGO_BIN_EXE_hubdeck") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    // .../release/deps/fleet-HASH -> .../release/hubdeck
    exe.parent()
        .and_then(Path::parent)
        .map(|d| d.join("hubdeck"))
        .unwrap_or_else(|| PathBuf::from("hubdeck"))
}

/// Makes the child get SIGKILL when the bench dies: a bench stopped by a signal runs no `Drop`,
/// and an orphaned 100,000-server sim would go on taking a core and 2 GB from the next run.
/// The signal follows the thread that forked, so benches start their sims on the main thread.
fn die_with_parent(command: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches no memory of the forked process.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

/// A `hubdeck sim` process serving a fleet; stopped on drop.
pub struct Sim {
    child: Child,
    /// The kubeconfig it wrote (kube and kubectl both accept it).
    pub kubeconfig: PathBuf,
    /// From spawn to the kubeconfig being written.
    pub startup: Duration,
}

impl Sim {
    /// Starts the sim and waits until its kubeconfig is written.
    pub fn start(
        (clusters, hubs, servers): (usize, usize, usize),
        scenario: &str,
        dir: &Path,
    ) -> Result<Sim, String> {
        let kubeconfig = dir.join(format!("sim-{clusters}-{scenario}.kubeconfig"));
        let _ = std::fs::remove_file(&kubeconfig);
        let started = Instant::now();
        let mut command = Command::new(hubdeck_bin());
        die_with_parent(&mut command);
        let mut child = command
            .arg("sim")
            .arg("--kubeconfig-out")
            .arg(&kubeconfig)
            .args(["--clusters", &clusters.to_string()])
            .args(["--hubs", &hubs.to_string()])
            .args(["--servers", &servers.to_string()])
            .args(["--scenario", scenario])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", hubdeck_bin().display()))?;
        let stderr = child.stderr.take().ok_or("sim stderr")?;
        let (tx, rx) = mpsc::channel();
        // Keeps draining stderr after the kubeconfig line, so the sim never blocks on it.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.starts_with("kubeconfig written") {
                    let _ = tx.send(());
                }
            }
        });
        let mut sim = Sim {
            child,
            kubeconfig,
            startup: Duration::ZERO,
        };
        match rx.recv_timeout(Duration::from_secs(600)) {
            Ok(()) => {
                sim.startup = started.elapsed();
                Ok(sim)
            }
            Err(_) => Err("sim: no kubeconfig within 600 s".into()),
        }
    }

    /// The context names of its kubeconfig.
    #[allow(
        dead_code,
        reason = "the fleet bench's; the recorder bench takes every context"
    )]
    pub fn contexts(&self) -> Vec<String> {
        hubdeck::kube::targets::read_kubeconfig(&self.kubeconfig)
            .map(|kc| kc.contexts.into_iter().map(|c| c.name).collect())
            .unwrap_or_default()
    }

    /// Stops it (SIGTERM, then SIGKILL after 5 s).
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}
