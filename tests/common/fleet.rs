//! Sim fleets for tests: start one, point the library or the real binary at it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
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

    /// A library session over every cluster, settled.
    pub async fn session(&self) -> Session {
        let kc = targets::read_kubeconfig(self.sim.kubeconfig_path()).expect("kubeconfig");
        let list = targets::from_kubeconfig(kc, &[]).expect("targets");
        let mut s = Session::start(list, Thresholds::default());
        s.settle(Duration::from_secs(20)).await;
        s
    }

    /// A library session over every cluster whose watches count as stalled after `idle`
    /// without an event or a bookmark, settled.
    pub async fn session_with_idle(&self, idle: Duration) -> Session {
        let kc = targets::read_kubeconfig(self.sim.kubeconfig_path()).expect("kubeconfig");
        let list = targets::from_kubeconfig(kc, &[]).expect("targets");
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

    /// The audit log the binary writes.
    pub fn audit_path(&self) -> PathBuf {
        self.home.path().join("state").join("audit.jsonl")
    }
}

/// Runs the binary with a kubeconfig and an isolated home.
pub fn hubdeck_with(kubeconfig: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hubdeck"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("HUBDECK_CONFIG_DIR", home.join("config"))
        .env("HUBDECK_STATE_DIR", home.join("state"))
        .env_remove("HUBDECK_FLEET")
        .env_remove("HUBDECK_FLEET_REPO")
        .env("NO_COLOR", "1")
        .output()
        .expect("hubdeck runs")
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
    let kc = fleet.sim.kubeconfig_path().to_path_buf();
    let home = fleet.home.path().to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        hubdeck_with(&kc, &home, &refs)
    })
    .await
    .expect("the command ran")
}

/// `hubdeck config apply HUB -f FILE --yes` plus `extra` flags, against `fleet`.
pub async fn config_apply(fleet: &TestFleet, hub: &str, file: &Path, extra: &[&str]) -> Output {
    let file = file.to_str().expect("UTF-8 path");
    let mut args = vec!["config", "apply", hub, "-f", file, "--yes"];
    args.extend_from_slice(extra);
    cli(fleet, &args).await
}
