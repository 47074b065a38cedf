//! A stand-in for gke-gcloud-auth-plugin, `aws eks get-token` or kubelogin: a small shell script
//! that takes its time, records each run, and prints an ExecCredential with the sim's token and
//! an expiry, so tests and benchmarks can count how often a client runs its plugin.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The plugin script and the file it records its runs in (one line per run: the cluster).
#[derive(Debug, Clone)]
pub struct CountingPlugin {
    script: PathBuf,
    runs: PathBuf,
}

impl CountingPlugin {
    /// Writes a plugin into `dir` that sleeps `delay` per run and issues tokens valid for
    /// `lifetime` (whole seconds, as RFC 3339 timestamps carry them).
    pub fn write(dir: &Path, delay: Duration, lifetime: Duration) -> io::Result<CountingPlugin> {
        let script = dir.join("sim-exec-plugin.sh");
        let runs = dir.join("sim-exec-plugin.runs");
        std::fs::write(&runs, "")?;
        let text = format!(
            "#!/bin/sh\n\
             # Called as: PLUGIN CLUSTER TOKEN. One short append per run (atomic under O_APPEND).\n\
             echo \"$1\" >> '{runs}'\n\
             sleep {delay}\n\
             exp=$(date -u -d \"@$(( $(date +%s) + {lifetime} ))\" +%Y-%m-%dT%H:%M:%SZ)\n\
             printf '{{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\
             \"status\":{{\"token\":\"%s\",\"expirationTimestamp\":\"%s\"}}}}\\n' \"$2\" \"$exp\"\n",
            runs = runs.display(),
            delay = delay.as_secs_f64(),
            lifetime = lifetime.as_secs(),
        );
        std::fs::write(&script, text)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(CountingPlugin { script, runs })
    }

    /// The command to put in a kubeconfig (see `SimFleet::write_exec_kubeconfig`).
    pub fn command(&self) -> &Path {
        &self.script
    }

    /// The cluster of each run so far, in the order they started.
    pub fn runs(&self) -> Vec<String> {
        std::fs::read_to_string(&self.runs)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// How many times the plugin ran for `cluster`.
    pub fn runs_for(&self, cluster: &str) -> usize {
        self.runs().iter().filter(|c| *c == cluster).count()
    }
}
