//! Sim fleets for tests: start one, point the library or the real binary at it.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use hubdeck::fleet::{Fleet, Thresholds};
use hubdeck::headless::session::Session;
use hubdeck::kube::targets;
use hubdeck_sim::{FleetSpec, SimCluster, SimFleet};

/// A running sim fleet plus an isolated config/state directory for the binary.
pub struct TestFleet {
    /// The fleet.
    pub sim: SimFleet,
    /// Config and state directories of this test only.
    pub home: tempfile::TempDir,
}

impl TestFleet {
    /// Starts the small, quiet fleet.
    pub async fn small() -> Self {
        Self::start(FleetSpec::small()).await
    }

    /// Starts a fleet.
    pub async fn start(spec: FleetSpec) -> Self {
        let sim = SimFleet::start(spec).await.expect("sim fleet starts");
        Self {
            sim,
            home: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A cluster of the fleet.
    pub fn cluster(&self, i: usize) -> &SimCluster {
        &self.sim.clusters()[i]
    }

    /// Every cluster of the sim's kubeconfig, as a session is given them.
    pub fn targets(&self) -> Vec<targets::ClusterTarget> {
        let kc = targets::read_kubeconfig(self.sim.kubeconfig_path()).expect("kubeconfig");
        targets::from_kubeconfig(kc, &[]).expect("targets")
    }

    /// A library session over every cluster, settled.
    pub async fn session(&self) -> Session {
        let mut s = Session::start(self.targets(), Thresholds::default());
        s.settle(Duration::from_secs(20)).await;
        s
    }

    /// A library session over every cluster whose watches count as stalled after `idle`
    /// without an event or a bookmark, settled.
    pub async fn session_with_idle(&self, idle: Duration) -> Session {
        let list = self.targets();
        let settings = hubdeck::config::settings::Settings::defaults();
        let poll = hubdeck::sources::Polls::from_settings(&settings);
        let mut s = Session::start_with(list, Thresholds::default(), poll, idle);
        s.settle(Duration::from_secs(20)).await;
        s
    }

    /// Runs the real binary against this fleet (through KUBECONFIG, like a user would).
    pub fn hubdeck(&self, args: &[&str]) -> Output {
        hubdeck_with(self.sim.kubeconfig_path(), self.home.path(), args)
    }

    /// Turns the checks from outside off for this fleet's binary runs: a deployment
    /// repository declares domains, which would otherwise be looked up in the system's DNS,
    /// and no test may reach beyond loopback (tests/outside.rs pins them instead).
    pub fn no_outside_checks(&self) {
        let config = self.home.path().join("config");
        std::fs::create_dir_all(&config).expect("config dir");
        std::fs::write(config.join("settings.toml"), "outside_check_secs = 0\n")
            .expect("settings.toml");
    }

    /// The audit log the binary writes.
    pub fn audit_path(&self) -> PathBuf {
        self.home.path().join("state").join("audit.jsonl")
    }
}

/// The binary with a kubeconfig and an isolated home, nothing of the caller's environment
/// that would point it elsewhere, ready for its arguments and pipes.
pub fn hubdeck_command(kubeconfig: &Path, home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hubdeck"));
    c.env("KUBECONFIG", kubeconfig)
        .env("HUBDECK_CONFIG_DIR", home.join("config"))
        .env("HUBDECK_STATE_DIR", home.join("state"))
        .env_remove("HUBDECK_FLEET")
        .env_remove("HUBDECK_FLEET_REPO")
        .env("NO_COLOR", "1");
    c
}

/// Runs the binary with a kubeconfig and an isolated home.
pub fn hubdeck_with(kubeconfig: &Path, home: &Path, args: &[&str]) -> Output {
    hubdeck_command(kubeconfig, home)
        .args(args)
        .output()
        .expect("hubdeck runs")
}

/// Runs the binary off the async runtime with a kubeconfig and an isolated home; `input`, when
/// given, is written to its stdin (a pipe, not a terminal), which is then closed.
pub async fn cli_at(kubeconfig: &Path, home: &Path, args: &[&str], input: Option<&str>) -> Output {
    let mut command = hubdeck_command(kubeconfig, home);
    command.args(args);
    let input = input.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        let Some(input) = input else {
            return command.output().expect("hubdeck runs");
        };
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hubdeck runs");
        let mut stdin = child.stdin.take().expect("a stdin pipe");
        stdin.write_all(input.as_bytes()).expect("stdin written");
        drop(stdin);
        child.wait_with_output().expect("hubdeck ends")
    })
    .await
    .expect("the command ran")
}

/// A running default user server of the sim, as tests name it.
#[derive(Debug, Clone)]
pub struct SimServer {
    /// Its cluster.
    pub cluster: SimCluster,
    /// Its hub's namespace.
    pub namespace: String,
    /// Its pod.
    pub pod: String,
    /// Its user.
    pub user: String,
}

impl SimServer {
    /// `CLUSTER/NAMESPACE/USER`, as `hubdeck logs` and `exec` take it.
    pub fn target(&self) -> String {
        format!("{}/{}/{}", self.cluster.name(), self.namespace, self.user)
    }
}

/// The first running default server (not being deleted) the sim has.
pub fn a_running_server(sim: &SimFleet) -> SimServer {
    for c in sim.clusters() {
        for p in c.pods() {
            let meta = &p.metadata;
            let labels = meta.labels.clone().unwrap_or_default();
            let ann = meta.annotations.clone().unwrap_or_default();
            let running = p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
            let default = ann
                .get("hub.jupyter.org/servername")
                .is_none_or(|s| s.is_empty());
            if labels.get("component").map(String::as_str) == Some("singleuser-server")
                && running
                && default
                && meta.deletion_timestamp.is_none()
            {
                return SimServer {
                    cluster: c.clone(),
                    namespace: meta.namespace.clone().unwrap_or_default(),
                    pod: meta.name.clone().unwrap_or_default(),
                    user: ann
                        .get("hub.jupyter.org/username")
                        .cloned()
                        .unwrap_or_default(),
                };
            }
        }
    }
    panic!("the sim has no running default server");
}

/// (cluster, namespace, user, server) of every user server pod the sim has.
pub fn sim_servers(sim: &SimFleet) -> BTreeSet<(String, String, String, String)> {
    let mut out = BTreeSet::new();
    for c in sim.clusters() {
        for p in c.pods() {
            let meta = &p.metadata;
            let labels = meta.labels.clone().unwrap_or_default();
            if labels.get("component").map(String::as_str) != Some("singleuser-server") {
                continue;
            }
            if meta.deletion_timestamp.is_some() {
                continue;
            }
            let ann = meta.annotations.clone().unwrap_or_default();
            out.insert((
                c.name().to_string(),
                meta.namespace.clone().unwrap_or_default(),
                ann.get("hub.jupyter.org/username")
                    .cloned()
                    .unwrap_or_default(),
                ann.get("hub.jupyter.org/servername")
                    .cloned()
                    .unwrap_or_default(),
            ));
        }
    }
    out
}

/// The same set as the fleet model has it.
pub fn model_servers(fleet: &Fleet) -> BTreeSet<(String, String, String, String)> {
    fleet
        .hubs()
        .flat_map(|h| {
            h.servers().filter_map(move |p| {
                let o = p.owner.as_ref()?;
                Some((
                    h.id.cluster.to_string(),
                    p.key.namespace.to_string(),
                    o.user.to_string(),
                    o.server.to_string(),
                ))
            })
        })
        .collect()
}

/// How many user pods the model holds (to catch duplicates the set would hide).
pub fn model_server_pods(fleet: &Fleet) -> usize {
    fleet.hubs().map(|h| h.servers().count()).sum()
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The hub Secret's values.yaml as the sim stores it.
pub fn hub_values(c: &SimCluster, ns: &str) -> String {
    let secret = c.secret(ns, "hub").expect("hub Secret");
    String::from_utf8(secret.data.expect("data")["values.yaml"].0.clone()).expect("UTF-8")
}

/// Replaces the hub Secret's values.yaml, as someone else's change would.
pub fn set_hub_values(c: &SimCluster, ns: &str, values: &str) {
    assert!(
        c.mutate::<k8s_openapi::api::core::v1::Secret>(ns, "hub", |s| {
            s.data.get_or_insert_default().insert(
                "values.yaml".into(),
                k8s_openapi::ByteString(values.as_bytes().to_vec()),
            );
        })
    );
}

/// Runs the binary against `fleet` off the async runtime (it blocks until the command ends).
pub async fn cli(fleet: &TestFleet, args: &[&str]) -> Output {
    cli_at(fleet.sim.kubeconfig_path(), fleet.home.path(), args, None).await
}

/// `hubdeck config apply HUB -f FILE --yes` plus `extra` flags, against `fleet`.
pub async fn config_apply(fleet: &TestFleet, hub: &str, file: &Path, extra: &[&str]) -> Output {
    let file = file.to_str().expect("UTF-8 path");
    let mut args = vec!["config", "apply", hub, "-f", file, "--yes"];
    args.extend_from_slice(extra);
    cli(fleet, &args).await
}
