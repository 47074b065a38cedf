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
