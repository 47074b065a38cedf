//! hubdeck's demo fleet: loopback fake Kubernetes API servers, Alertmanagers and hub REST
//! APIs, and the scenarios that move them. A crate of its own that depends on nothing of the
//! console's, so that it checks hubdeck's clients from the protocols' side instead of
//! repeating their reading of them.
//!
//! [`SimFleet::start`] builds a fleet from a [`FleetSpec`], serves each cluster over plain HTTP on
//! 127.0.0.1 with the real wire format (lists, watches, patches, scale, logs, access reviews), and
//! writes a kubeconfig so the normal kube path can talk to it. A scenario driver keeps it moving.
//!
//! Map: `store` (objects, resourceVersion, change log) · `api` (routing, auth) · `objects` (verbs)
//! · `watch` · `logs` · `selectors` · `patch` · `access` (tokens, identities, SSAR, SSRR) with `rbac` (the roles' rules) · `controller`
//! (workloads and pod lifecycle) · `proxy` (service proxy to `fake_alertmanager`, fed by
//! `alerting`, muted by `silencing`) · `portforward` (to each hub's `fake_hub`, listing by
//! `hub_paging`, kept in step with `user_pods` by `hub_apis`) · `wire` (the fakes' JSON, from
//! the protocols' documents) · `generate`/`fleet`/`names` (the fleet) · `pools`/`nodes` (nodes
//! per cloud) · `metrics` (metrics.k8s.io) · `pending`/`reasons`/`events` (why a pod waits) ·
//! `oom` (OOM kills) · `exec`/`shell` (pod exec) · `scenario` (driver) ·
//! `inspect` (helpers for tests) · `kubeconfig` with `exec_plugin` (a counting credential
//! plugin) · `deploy_repo` (the demo's deployment repository).
//!
//! As strict as kube-apiserver, in its words: `query` (parameters, decoded as it decodes them) ·
//! `label_selector` and `validation` (selectors, names, labels) · `openapi` (`/openapi/v3`) with
//! `field_validation` (unknown fields) · `admission` (what it changes on the way in).

#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod access;
mod admission;
mod alerting;
mod api;
mod cluster;
mod controller;
mod dask;
pub mod deploy_repo;
mod events;
mod exec;
pub mod exec_plugin;
pub mod fake_alertmanager;
pub mod fake_hub;
mod field_validation;
mod fleet;
mod generate;
mod hub_apis;
mod hub_paging;
pub mod ingress;
mod inspect;
mod kubeconfig;
mod label_selector;
mod logs;
mod metrics;
mod names;
mod nodes;
mod objects;
mod oom;
mod openapi;
mod paging;
mod patch;
mod pending;
mod podstatus;
mod pools;
mod portforward;
mod proxy;
mod query;
mod rbac;
mod reasons;
mod resources;
mod scenario;
mod selectors;
mod shell;
mod silencing;
mod status;
mod store;
mod table;
mod user_pods;
mod validation;
mod values;
mod watch;
pub mod wire;

#[cfg(test)]
mod tests;

use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use access::Identity;
pub use cluster::{RecordedRequest, SimCluster};
pub use kubeconfig::{Credentials, KubeconfigOptions};
pub use metrics::MetricsApi;
pub use nodes::NodeCondition;
pub use pending::Pending;

/// What fleet to simulate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSpec {
    /// Number of clusters (each its own API server).
    pub clusters: usize,
    /// Hubs across the whole fleet.
    pub hubs: usize,
    /// User servers across the whole fleet.
    pub servers: usize,
    /// Seed for names, shapes and the scenario's choices.
    pub seed: u64,
    /// How the fleet moves after start.
    pub scenario: Scenario,
}

impl FleetSpec {
    /// The `--demo` fleet: 6 clusters on 3 clouds, 18 hubs, 650 servers, moving steadily.
    pub fn demo() -> Self {
        FleetSpec {
            clusters: 6,
            hubs: 18,
            servers: 650,
            seed: DEMO_SEED,
            scenario: Scenario::Steady,
        }
    }

    /// A small, still fleet for tests: 3 clusters, 5 hubs, 30 servers, Quiet.
    pub fn small() -> Self {
        FleetSpec {
            clusters: 3,
            hubs: 5,
            servers: 30,
            seed: 7,
            scenario: Scenario::Quiet,
        }
    }
}

/// The demo's seed, so every `--demo` shows the same fleet.
const DEMO_SEED: u64 = 0x2122_c0de;

/// How the scenario driver moves the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// No automatic changes; transitions caused by requests happen at once.
    Quiet,
    /// Users arrive and leave, pods start slowly, some fail; a cluster drops off now and then.
    Steady,
    /// Steady plus faults: outages, expiring restarts, stalled watches, slow answers.
    GameDay,
    /// Pod updates at a fixed rate spread over clusters, for benchmarks.
    Churn {
        /// Pod updates per second across the fleet.
        updates_per_sec: u32,
    },
}

impl FromStr for Scenario {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, arg) = match s.split_once(':').or_else(|| s.split_once('=')) {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        match (name.trim().to_ascii_lowercase().as_str(), arg) {
            ("quiet", None) => Ok(Scenario::Quiet),
            ("steady", None) => Ok(Scenario::Steady),
            ("gameday" | "game-day", None) => Ok(Scenario::GameDay),
            ("churn", None) => Ok(Scenario::Churn {
                updates_per_sec: 2000,
            }),
            ("churn", Some(n)) => n
                .trim()
                .parse()
                .map(|updates_per_sec| Scenario::Churn { updates_per_sec })
                .map_err(|_| SimError::Scenario(s.to_string())),
            _ => Err(SimError::Scenario(s.to_string())),
        }
    }
}

/// Why the simulated fleet could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Binding a listener or writing the kubeconfig failed.
    #[error("sim: {what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: io::Error,
    },
    /// An ingress could not start.
    #[error("sim: {0}")]
    Ingress(#[from] ingress::IngressError),
    /// A scenario name that is not one of quiet, steady, gameday, churn[:N].
    #[error("unknown scenario {0:?} (expected quiet, steady, gameday or churn[:N])")]
    Scenario(String),
}

/// A running simulated fleet; dropping it without [`SimFleet::shutdown`] also stops it.
pub struct SimFleet {
    clusters: Vec<SimCluster>,
    /// Each cluster's ingress: `*.<cluster>.hubdeck-demo.test` and its address.
    ingress: Vec<(String, std::net::SocketAddr)>,
    ingress_ca: String,
    expired_certificate: Option<String>,
    kubeconfig: tempfile::NamedTempFile,
    shutdown: CancellationToken,
    driver: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SimFleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimFleet")
            .field("clusters", &self.clusters)
            .field("kubeconfig", &self.kubeconfig.path())
            .finish()
    }
}

impl SimFleet {
    /// Builds the fleet, binds each cluster on 127.0.0.1:0, writes a temporary admin kubeconfig.
    pub async fn start(spec: FleetSpec) -> Result<SimFleet, SimError> {
        let shutdown = CancellationToken::new();
        let plans = fleet::build(&spec).await;
        let mut clusters = Vec::with_capacity(plans.len());
        for p in plans {
            let c = SimCluster::start(
                p.name.clone(),
                p.provider,
                p.state,
                p.alertmanager,
                shutdown.clone(),
            )
            .await
            .map_err(|source| SimError::Io {
                what: format!("binding cluster {} on 127.0.0.1", p.name),
                source,
            })?;
            clusters.push(c);
        }
        let ca = ingress::IngressCa::new()?;
        // One hub of the fleet shows a certificate that expired: the third cluster's first.
        let expired_at = clusters.len().min(3).saturating_sub(1);
        let mut ingresses = Vec::with_capacity(clusters.len());
        let mut expired_certificate = None;
        for (i, c) in clusters.iter().enumerate() {
            let expired = (i == expired_at)
                .then(|| c.hub_namespaces().into_iter().min())
                .flatten()
                .map(|hub| ingress::domain(c.name(), &hub));
            if expired.is_some() {
                expired_certificate.clone_from(&expired);
            }
            let addr = ingress::start(c.clone(), &ca, expired, shutdown.clone()).await?;
            ingresses.push((format!("*.{}.{}", c.name(), ingress::DOMAIN_SUFFIX), addr));
        }
        let io_err = |what: &str| {
            let what = what.to_string();
            move |source| SimError::Io { what, source }
        };
        let kubeconfig = tempfile::Builder::new()
            .prefix("hubdeck-sim-")
            .suffix(".kubeconfig")
            .tempfile()
            .map_err(io_err("creating the kubeconfig"))?;
        kubeconfig::write(
            kubeconfig.path(),
            &clusters,
            &Identity::Admin,
            &KubeconfigOptions::default(),
        )
        .map_err(io_err("writing the kubeconfig"))?;
        let driver = tokio::spawn(scenario::run(
            clusters.clone(),
            spec.scenario,
            spec.seed,
            shutdown.clone(),
        ));
        Ok(SimFleet {
            clusters,
            ingress: ingresses,
            ingress_ca: ca.pem().to_string(),
            expired_certificate,
            kubeconfig,
            shutdown,
            driver: Some(driver),
        })
    }

    /// The admin kubeconfig: one context per cluster, context name == cluster name.
    pub fn kubeconfig_path(&self) -> &Path {
        self.kubeconfig.path()
    }

    /// Writes a kubeconfig for `identity` (e.g. a read-only one) to `path`.
    pub fn write_kubeconfig(&self, path: &Path, identity: Identity) -> io::Result<()> {
        self.write_kubeconfig_with(path, &identity, &KubeconfigOptions::default())
    }

    /// Writes a kubeconfig whose users get their tokens from an exec credential plugin, run as
    /// `PLUGIN CLUSTER TOKEN` (see [`exec_plugin::CountingPlugin`]), as GKE, EKS and AKS
    /// kubeconfigs do.
    pub fn write_exec_kubeconfig(
        &self,
        path: &Path,
        identity: Identity,
        plugin: &Path,
    ) -> io::Result<()> {
        let opts = KubeconfigOptions {
            credentials: Credentials::Exec(plugin.to_path_buf()),
            ..KubeconfigOptions::default()
        };
        self.write_kubeconfig_with(path, &identity, &opts)
    }

    /// Writes a kubeconfig that kubectl can use too: the token also rides in the server URL path
    /// (`http://127.0.0.1:PORT/_token/TOKEN`), since kubectl sends no credentials over plain HTTP.
    pub fn write_kubectl_kubeconfig(&self, path: &Path, identity: Identity) -> io::Result<()> {
        let opts = KubeconfigOptions {
            token_in_url: true,
            ..KubeconfigOptions::default()
        };
        self.write_kubeconfig_with(path, &identity, &opts)
    }

    /// Writes a kubeconfig for `identity` as `opts` say (e.g. with each context's namespace).
    /// A [`Identity::NamespaceEditor`] gets its token on every cluster here.
    pub fn write_kubeconfig_with(
        &self,
        path: &Path,
        identity: &Identity,
        opts: &KubeconfigOptions,
    ) -> io::Result<()> {
        kubeconfig::write(path, &self.clusters, identity, opts)
    }

    /// All clusters, in fleet order.
    pub fn clusters(&self) -> &[SimCluster] {
        &self.clusters
    }

    /// One cluster by name.
    pub fn cluster(&self, name: &str) -> Option<&SimCluster> {
        self.clusters.iter().find(|c| c.name() == name)
    }

    /// Each cluster's ingress, as the DNS of a real fleet would have it: the wildcard
    /// `*.<cluster>.hubdeck-demo.test` and the loopback address serving it.
    pub fn ingress_domains(&self) -> Vec<(String, std::net::SocketAddr)> {
        self.ingress.clone()
    }

    /// The CA (PEM) that issued every ingress certificate: trusted by nothing but the demo.
    pub fn ingress_ca_pem(&self) -> &str {
        &self.ingress_ca
    }

    /// The domain whose ingress certificate has expired, the fleet's one failing TLS.
    pub fn expired_certificate(&self) -> Option<&str> {
        self.expired_certificate.as_deref()
    }

    /// Stops the driver and every listener, connection and stream.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(d) = self.driver.take() {
            let _ = d.await;
        }
    }
}

impl Drop for SimFleet {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// `hubdeck sim --kubeconfig-out FILE`: serves a fleet until Ctrl-C or SIGTERM.
pub async fn run_foreground(spec: FleetSpec, kubeconfig_out: &Path) -> Result<(), SimError> {
    let fleet = SimFleet::start(spec).await?;
    let out: PathBuf = kubeconfig_out.to_path_buf();
    fleet
        .write_kubectl_kubeconfig(&out, Identity::Admin)
        .map_err(|source| SimError::Io {
            what: format!("writing {}", out.display()),
            source,
        })?;
    for c in fleet.clusters() {
        eprintln!("{}\t{}\t{}", c.name(), c.provider(), c.url());
    }
    eprintln!("kubeconfig written to {}", out.display());
    wait_for_signal().await;
    fleet.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
        if let Ok(mut term) = term {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
