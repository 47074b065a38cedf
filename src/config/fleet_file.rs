//! `fleet.toml`: an explicit list of clusters, instead of every context of the kubeconfig.
//!
//! ```toml
//! fleet_repo = "~/src/infrastructure"  # optional: clusters and hubs from a deployment repository
//!
//! [[cluster]]
//! name = "leap"                    # how hubdeck calls it (default: the context)
//! context = "gke_leap_us-central1" # kubeconfig context (default: name)
//! kubeconfig = "~/.kube/leap.yaml" # default: the active kubeconfig ($KUBECONFIG or ~/.kube/config)
//! provider = "gcp"
//! readonly = true                  # refuse every mutation on this cluster
//! alertmanager_url = "http://127.0.0.1:9093"  # default: found through the service proxy
//! ignore_namespaces = ["kube-system"]
//! namespaces = ["prod", "staging"] # watched one by one when listing cluster-wide is forbidden
//!                                  # (a RoleBinding per hub namespace); hub entries below and
//!                                  # the context's namespace are tried too
//!
//! [cluster.hubs.prod]              # per hub (namespace) settings
//! api_url = "https://leap.2i2c.cloud/hub/api"  # default: port-forward to the hub pod
//! token_env = "LEAP_PROD_TOKEN"    # default: the hub Secret's hub.services.*.apiToken
//!
//! [waves]                          # rollouts over many hubs (`restart hub -l ...`)
//! order = ["staging", "prod"]      # the waves, in the order they run (this is the default)
//! staging = ["staging", "staging-*", "*-staging"]  # hub names each wave takes (`*` globs;
//!                                  # `cluster/hub` names match too); the default for staging.
//!                                  # The one wave without patterns takes the rest.
//! parallel = 4                     # hubs of a wave acted on at once (this is the default)
//!
//! [outside]                        # the checks of each hub's https://<domain>/hub/health
//! resolve = { "*.leap.2i2c.cloud" = "34.68.10.2:443" }  # as curl --resolve: these names go
//!                                  # to that address instead of DNS (`*.` = one label under it),
//!                                  # e.g. a new ingress before the DNS records move
//! ca_file = "ingress-ca.pem"       # trust only these CAs (PEM, relative to this file)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The parsed fleet file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FleetFile {
    /// A deployment repository declaring the clusters (relative to this file); the
    /// `[[cluster]]` entries then add settings to its clusters by name, or clusters of their own.
    pub fleet_repo: Option<PathBuf>,
    /// Clusters, in the order given.
    #[serde(default, rename = "cluster")]
    pub clusters: Vec<ClusterEntry>,
    /// How rollouts group hubs into waves.
    pub waves: Option<WavesEntry>,
    /// How hubs are reached when checked from outside.
    pub outside: Option<OutsideEntry>,
}

/// `[outside]`: where the checks from outside resolve names and which CAs they trust.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutsideEntry {
    /// Domain (or `*.parent`) → `IP:PORT`, instead of DNS.
    #[serde(default)]
    pub resolve: BTreeMap<String, String>,
    /// PEM file of the only CAs trusted (relative to the fleet file).
    pub ca_file: Option<PathBuf>,
}

/// `[waves]`: the order of the waves and the hub-name patterns of each.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct WavesEntry {
    /// Wave names in run order (default `["staging", "prod"]`).
    pub order: Option<Vec<String>>,
    /// How many of a wave's hubs are acted on at once (default 4).
    pub parallel: Option<usize>,
    /// Every other key: a wave's patterns.
    #[serde(flatten)]
    pub patterns: BTreeMap<String, Vec<String>>,
}

/// One cluster of the fleet file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClusterEntry {
    /// Display name (default: the context).
    pub name: Option<String>,
    /// kubeconfig context (default: the name).
    pub context: Option<String>,
    /// kubeconfig file for this cluster.
    pub kubeconfig: Option<PathBuf>,
    /// Cloud provider label.
    pub provider: Option<String>,
    /// Refuse mutations on this cluster.
    #[serde(default)]
    pub readonly: bool,
    /// Alertmanager base URL overriding discovery.
    pub alertmanager_url: Option<String>,
    /// Namespaces whose hubs are not shown.
    #[serde(default)]
    pub ignore_namespaces: Vec<String>,
    /// Namespaces to watch one by one when the identity may not list cluster-wide.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Per-hub settings by namespace.
    #[serde(default)]
    pub hubs: BTreeMap<String, HubEntry>,
}

/// Per-hub settings.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HubEntry {
    /// JupyterHub API base URL (…/hub/api) overriding the port-forward.
    pub api_url: Option<String>,
    /// Environment variable holding the hub API token.
    pub token_env: Option<String>,
    /// The token itself (prefer `token_env`; this file is then a secret).
    pub token: Option<String>,
}

/// A fleet file that cannot be used; displays as one line naming the file and line.
#[derive(Debug, thiserror::Error)]
pub enum FleetFileError {
    /// Could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid.
    #[error("{path}:{line}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl FleetFile {
    /// Reads and validates a fleet file.
    pub fn load(path: &Path) -> Result<Self, FleetFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| FleetFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses fleet file text; `path` is only used in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, FleetFileError> {
        let invalid = |line: usize, message: String| FleetFileError::Invalid {
            path: path.to_path_buf(),
            line,
            message,
        };
        let file: FleetFile = toml::from_str(text).map_err(|e| {
            let (line, message) = super::toml_error(text, &e);
            invalid(line, message)
        })?;
        let mut seen = std::collections::HashSet::new();
        for (i, c) in file.clusters.iter().enumerate() {
            let Some(name) = c.display_name() else {
                return Err(invalid(
                    line_of_cluster(text, i),
                    "a cluster needs a name or a context".into(),
                ));
            };
            if !seen.insert(name.to_string()) {
                return Err(invalid(
                    line_of_cluster(text, i),
                    format!("cluster {name:?} is listed twice"),
                ));
            }
        }
        Ok(file)
    }
}

impl FleetFile {
    /// The wave rules: the defaults, with `[waves]` over them (its patterns replace a wave's
    /// default ones). Errors name the file and the `[waves]` line.
    pub fn wave_rules(
        &self,
        path: &Path,
    ) -> Result<hubdeck_core::rollout::WaveRules, FleetFileError> {
        let mut rules = hubdeck_core::rollout::WaveRules::default();
        let Some(w) = &self.waves else {
            return Ok(rules);
        };
        if let Some(order) = &w.order {
            rules.order = order.clone();
        }
        if let Some(n) = w.parallel {
            rules.parallel = n;
        }
        let order = rules.order.clone();
        rules.patterns.retain(|k, _| order.contains(k));
        rules.patterns.extend(w.patterns.clone());
        rules
            .check()
            .map_err(|message| table_error(path, "[waves]", message))?;
        Ok(rules)
    }

    /// The network the checks from outside use: the system's resolver and roots, with
    /// `[outside]` over them. Errors name the file and the `[outside]` line.
    pub fn outside_network(&self, path: &Path) -> Result<crate::outside::Network, FleetFileError> {
        let Some(o) = &self.outside else {
            return Ok(crate::outside::Network::public());
        };
        let invalid = |message: String| table_error(path, "[outside]", message);
        let mut pinned = Vec::new();
        for (domain, addr) in &o.resolve {
            let at: std::net::SocketAddr = addr.parse().map_err(|_| {
                invalid(format!(
                    "[outside] resolve {}: {} is not IP:PORT",
                    hubdeck_core::text::clip(domain, 80),
                    hubdeck_core::text::clip(addr, 80)
                ))
            })?;
            pinned.push((domain.clone(), at));
        }
        let ca =
            match &o.ca_file {
                None => None,
                Some(f) => {
                    let file = path.parent().map_or_else(
                        || f.clone(),
                        |dir| dir.join(crate::kube::targets::expand_home(f)),
                    );
                    Some(std::fs::read_to_string(&file).map_err(|e| {
                        invalid(format!("[outside] ca_file {}: {e}", file.display()))
                    })?)
                }
            };
        crate::outside::Network::pinned(pinned, ca.as_deref())
            .map_err(|e| invalid(format!("[outside] {e}")))
    }
}

impl ClusterEntry {
    /// The name hubdeck shows.
    pub fn display_name(&self) -> Option<&str> {
        self.name.as_deref().or(self.context.as_deref())
    }

    /// The kubeconfig context to use.
    pub fn context_name(&self) -> Option<&str> {
        self.context.as_deref().or(self.name.as_deref())
    }
}

/// An error about a table of the file, at the table's header line (the file is read again:
/// these checks run after parsing, on the values alone).
fn table_error(path: &Path, header: &str, message: String) -> FleetFileError {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with(header))
        .map_or(1, |n| n + 1);
    FleetFileError::Invalid {
        path: path.to_path_buf(),
        line,
        message,
    }
}

fn line_of_cluster(text: &str, index: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[cluster]]"))
        .nth(index)
        .map_or(1, |(n, _)| n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleet_file_lists_clusters_with_hub_settings() {
        let f = FleetFile::parse(
            "[[cluster]]\nname = \"leap\"\nprovider = \"gcp\"\nreadonly = true\n\
             namespaces = [\"prod\", \"staging\"]\n\
             [cluster.hubs.prod]\ntoken_env = \"T\"\n",
            Path::new("fleet.toml"),
        )
        .unwrap();
        assert_eq!(f.clusters.len(), 1);
        assert_eq!(f.clusters[0].context_name(), Some("leap"));
        assert!(f.clusters[0].readonly);
        assert_eq!(f.clusters[0].namespaces, ["prod", "staging"]);
        assert_eq!(f.clusters[0].hubs["prod"].token_env.as_deref(), Some("T"));
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let err = FleetFile::parse(
            "[[cluster]]\nname = \"leap\"\nprovder = \"gcp\"\n",
            Path::new("/etc/fleet.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("/etc/fleet.toml:3: unknown field `provder`"),
            "{err}"
        );
        assert!(!err.contains('\n'));
    }

    #[test]
    fn waves_default_to_staging_then_prod_and_can_be_configured() {
        let p = Path::new("fleet.toml");
        let none = FleetFile::parse("", p).unwrap().wave_rules(p).unwrap();
        assert_eq!(none, hubdeck_core::rollout::WaveRules::default());
        let f = FleetFile::parse(
            "[waves]\norder = [\"staging\", \"canary\", \"prod\"]\ncanary = [\"leap/*\"]\n",
            p,
        )
        .unwrap();
        let rules = f.wave_rules(p).unwrap();
        assert_eq!(rules.order, ["staging", "canary", "prod"]);
        assert_eq!(rules.patterns["canary"], ["leap/*"]);
        assert_eq!(
            rules.patterns["staging"],
            ["staging", "staging-*", "*-staging"]
        );
        assert_eq!(rules.parallel, 4);
        let rules = FleetFile::parse("[waves]\nparallel = 2\n", p)
            .unwrap()
            .wave_rules(p)
            .unwrap();
        assert_eq!(rules.parallel, 2);
        let zero = FleetFile::parse("[waves]\nparallel = 0\n", p)
            .unwrap()
            .wave_rules(p)
            .unwrap_err()
            .to_string();
        assert!(zero.starts_with("fleet.toml:"), "{zero}");
        assert!(zero.contains("`parallel` must be at least 1"), "{zero}");
        let typo = FleetFile::parse("[[cluster]]\nname = \"a\"\n[waves]\nstagng = [\"x\"]\n", p)
            .unwrap()
            .wave_rules(p)
            .unwrap_err()
            .to_string();
        assert!(typo.starts_with("fleet.toml:"), "{typo}");
        assert!(
            typo.contains("\"stagng\" has patterns but is not in `order`"),
            "{typo}"
        );
    }

    #[test]
    fn duplicate_cluster_is_refused_with_its_line() {
        let err = FleetFile::parse(
            "[[cluster]]\nname = \"a\"\n\n[[cluster]]\nname = \"a\"\n",
            Path::new("f.toml"),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "f.toml:4: cluster \"a\" is listed twice");
    }
}
