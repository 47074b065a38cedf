//! A deployment repository in 2i2c's layout: one folder per cluster with a
//! `config/clusters/<cluster>/cluster.yaml` naming the cluster, its provider and the hubs it
//! runs. Only `cluster.yaml` is read: the values files are listed, never opened, and the
//! `enc-*` files (sops-encrypted credentials) are never touched.
//!
//! ```yaml
//! name: leap
//! provider: gcp            # gcp, aws, azure or kubeconfig
//! gcp: {project: leap-pangeo, cluster: leap-cluster, zone: us-central1}
//! hubs:
//!   - name: staging        # also the namespace
//!     display_name: "LEAP Staging"
//!     domain: staging.leap.2i2c.cloud
//!     helm_chart: daskhub  # basehub or daskhub
//!     helm_chart_values_files: [common.values.yaml, staging.values.yaml]
//!     uptime_check: {expected_status: 200}
//! ```
//!
//! Keys hubdeck does not use (`auth0`, `support`, `image_repo`, …) are allowed: the repository's
//! own schema moves on without hubdeck.

use std::path::{Path, PathBuf};

use hubdeck_core::fleet::{Chart, DeclaredHub};
use serde::Deserialize;

use super::ConfigError;

/// The clusters a repository declares, in folder order.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployRepo {
    /// The repository's root.
    pub root: PathBuf,
    /// One per `cluster.yaml`.
    pub clusters: Vec<RepoCluster>,
}

/// One `cluster.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct RepoCluster {
    /// `name`.
    pub name: String,
    /// `provider`.
    pub provider: String,
    /// The cluster's name at its provider (`gcp.cluster`, `aws.clusterName`, `azure.cluster`).
    pub provider_cluster: Option<String>,
    /// `gcp.project` and `gcp.zone`, which gcloud puts into its context names.
    pub gcp: Option<(String, String)>,
    /// The file, for messages.
    pub file: PathBuf,
    /// `hubs`.
    pub hubs: Vec<DeclaredHub>,
}

#[derive(Deserialize)]
struct ClusterFile {
    name: String,
    provider: Provider,
    gcp: Option<Gcp>,
    aws: Option<Aws>,
    azure: Option<Azure>,
    #[serde(default)]
    hubs: Vec<HubFile>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Provider {
    Gcp,
    Aws,
    Azure,
    Kubeconfig,
}

impl Provider {
    fn as_str(self) -> &'static str {
        match self {
            Self::Gcp => "gcp",
            Self::Aws => "aws",
            Self::Azure => "azure",
            Self::Kubeconfig => "kubeconfig",
        }
    }
}

#[derive(Deserialize)]
struct Gcp {
    cluster: Option<String>,
    project: Option<String>,
    zone: Option<String>,
}

#[derive(Deserialize)]
struct Aws {
    #[serde(rename = "clusterName")]
    cluster_name: Option<String>,
}

#[derive(Deserialize)]
struct Azure {
    cluster: Option<String>,
}

#[derive(Deserialize)]
struct HubFile {
    name: String,
    display_name: Option<String>,
    domain: Option<String>,
    helm_chart: ChartName,
    uptime_check: Option<UptimeCheck>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum ChartName {
    Basehub,
    Daskhub,
}

#[derive(Deserialize)]
struct UptimeCheck {
    expected_status: Option<u16>,
}

/// Every `config/clusters/*/cluster.yaml` of the repository at `root`.
pub fn load(root: &Path) -> Result<DeployRepo, ConfigError> {
    let dir = root.join("config").join("clusters");
    let not_repo = |why: String| ConfigError {
        file: root.display().to_string(),
        line: None,
        message: why,
    };
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        not_repo(format!(
            "not a deployment repository: cannot read config/clusters ({})",
            crate::errors::one_line(&e)
        ))
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path().join("cluster.yaml"))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(not_repo(
            "not a deployment repository: no config/clusters/*/cluster.yaml".into(),
        ));
    }
    let mut clusters: Vec<RepoCluster> = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| ConfigError {
            file: file.display().to_string(),
            line: None,
            message: crate::errors::one_line(&e),
        })?;
        let cluster = parse(&text, &file)?;
        if let Some(other) = clusters.iter().find(|c| c.name == cluster.name) {
            return Err(ConfigError {
                file: file.display().to_string(),
                line: line_of_key(&text, "name", &cluster.name),
                message: format!(
                    "cluster {:?} is also declared in {}",
                    cluster.name,
                    other.file.display()
                ),
            });
        }
        clusters.push(cluster);
    }
    Ok(DeployRepo {
        root: root.to_path_buf(),
        clusters,
    })
}

/// Parses one `cluster.yaml`; `file` names it in errors.
pub fn parse(text: &str, file: &Path) -> Result<RepoCluster, ConfigError> {
    let err = |line: Option<usize>, message: String| ConfigError {
        file: file.display().to_string(),
        line,
        message,
    };
    let raw: ClusterFile = serde_yaml_ng::from_str(text).map_err(|e| {
        let line = e.location().map(|l| l.line());
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg);
        err(line, hubdeck_core::text::clip(msg, 300).into_owned())
    })?;
    if !is_dns_label(&raw.name) {
        return Err(err(
            line_of_key(text, "name", &raw.name),
            format!(
                "cluster name {:?} is not a valid name (lower-case letters, digits and '-')",
                hubdeck_core::text::clip(&raw.name, 80)
            ),
        ));
    }
    let mut hubs: Vec<DeclaredHub> = Vec::new();
    // Hub names are looked for below `hubs:`, where a hub named like the cluster is told apart.
    let hubs_at = text
        .lines()
        .position(|l| l.starts_with("hubs:"))
        .unwrap_or(0);
    for h in raw.hubs {
        let twice = hubs.iter().filter(|d| *d.name == *h.name).count();
        let line = line_of_nth(text, hubs_at, "name", &h.name, twice);
        if !is_dns_label(&h.name) {
            return Err(err(
                line,
                format!(
                    "hub name {:?} is not a valid namespace name (lower-case letters, digits and '-', at most 63)",
                    hubdeck_core::text::clip(&h.name, 80)
                ),
            ));
        }
        if twice > 0 {
            return Err(err(line, format!("hub {:?} is declared twice", h.name)));
        }
        if let Some(d) = &h.domain
            && !is_hostname(d)
        {
            return Err(err(
                line_of_key(text, "domain", d),
                format!(
                    "hub {}: domain {:?} is not a host name",
                    h.name,
                    hubdeck_core::text::clip(d, 80)
                ),
            ));
        }
        let expected_status = h
            .uptime_check
            .and_then(|u| u.expected_status)
            .unwrap_or(200);
        if !(100..=599).contains(&expected_status) {
            return Err(err(
                line_of_key(text, "expected_status", &expected_status.to_string()),
                format!(
                    "hub {}: expected_status {expected_status} is not an HTTP status",
                    h.name
                ),
            ));
        }
        hubs.push(DeclaredHub {
            name: h.name.as_str().into(),
            display_name: h.display_name.map(|s| s.as_str().into()),
            domain: h.domain.map(|s| s.as_str().into()),
            chart: match h.helm_chart {
                ChartName::Basehub => Chart::Basehub,
                ChartName::Daskhub => Chart::Daskhub,
            },
            expected_status,
        });
    }
    let provider_cluster = match raw.provider {
        Provider::Gcp => raw.gcp.as_ref().and_then(|g| g.cluster.clone()),
        Provider::Aws => raw.aws.and_then(|a| a.cluster_name),
        Provider::Azure => raw.azure.and_then(|a| a.cluster),
        Provider::Kubeconfig => None,
    };
    let gcp = raw
        .gcp
        .and_then(|g| Some((g.project?, g.zone?)))
        .filter(|_| matches!(raw.provider, Provider::Gcp));
    Ok(RepoCluster {
        name: raw.name,
        provider: raw.provider.as_str().to_string(),
        provider_cluster,
        gcp,
        file: file.to_path_buf(),
        hubs,
    })
}

/// RFC 1123 label, as Kubernetes requires of namespace names.
fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_hostname(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// The line of `key: value` in the text, for errors found after parsing (serde keeps no
/// positions once a document is read).
fn line_of_key(text: &str, key: &str, value: &str) -> Option<usize> {
    line_of_nth(text, 0, key, value, 0)
}

/// The line of the `nth` `key: value` at or after line index `from`.
fn line_of_nth(text: &str, from: usize, key: &str, value: &str, nth: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .skip(from)
        .filter(|(_, l)| {
            let l = l.trim_start().trim_start_matches("- ").trim_start();
            l.strip_prefix(key)
                .and_then(|r| r.trim_start().strip_prefix(':'))
                .is_some_and(|v| v.trim().trim_matches(|c| c == '"' || c == '\'') == value)
        })
        .nth(nth)
        .map(|(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEAP: &str = "name: leap\nprovider: gcp\ngcp:\n  key: enc-deployer-credentials.secret.json\n  project: leap-pangeo\n  cluster: leap-cluster\n  zone: us-central1\nsupport:\n  helm_chart_values_files: [support.values.yaml]\nhubs:\n  - name: staging\n    display_name: \"LEAP Staging\"\n    domain: staging.leap.2i2c.cloud\n    helm_chart: daskhub\n    auth0:\n      enabled: false\n    helm_chart_values_files:\n      - common.values.yaml\n      - enc-staging.secret.values.yaml\n  - name: prod\n    domain: leap.2i2c.cloud\n    helm_chart: basehub\n    uptime_check:\n      expected_status: 302\n";

    fn parse_str(text: &str) -> Result<RepoCluster, String> {
        parse(text, Path::new("config/clusters/leap/cluster.yaml")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_2i2c_cluster_file_reads_with_its_provider_and_hubs() {
        let c = parse_str(LEAP).unwrap();
        assert_eq!(c.name, "leap");
        assert_eq!(c.provider, "gcp");
        assert_eq!(c.provider_cluster.as_deref(), Some("leap-cluster"));
        assert_eq!(c.gcp, Some(("leap-pangeo".into(), "us-central1".into())));
        let names: Vec<&str> = c.hubs.iter().map(|h| &*h.name).collect();
        assert_eq!(names, ["staging", "prod"]);
        assert_eq!(c.hubs[0].chart, Chart::Daskhub);
        assert_eq!(c.hubs[0].display_name.as_deref(), Some("LEAP Staging"));
        assert_eq!(c.hubs[0].expected_status, 200);
        assert_eq!(c.hubs[1].expected_status, 302);
    }

    #[test]
    fn bad_fields_are_one_line_naming_the_file_and_line() {
        let cases = [
            (
                LEAP.replace("helm_chart: daskhub", "helm_chart: bighub"),
                14,
                "bighub",
            ),
            (LEAP.replace("provider: gcp", "provider: ibm"), 2, "ibm"),
            (
                LEAP.replace("- name: prod", "- name: Prod_Hub"),
                20,
                "not a valid namespace name",
            ),
            (
                LEAP.replace("- name: prod", "- name: staging"),
                20,
                "declared twice",
            ),
            (
                LEAP.replace("domain: leap.2i2c.cloud", "domain: \"https://leap\""),
                21,
                "not a host name",
            ),
            (
                LEAP.replace("expected_status: 302", "expected_status: 999"),
                24,
                "not an HTTP status",
            ),
            (
                "name: leap\nhubs: []\n".to_string(),
                1,
                "missing field `provider`",
            ),
        ];
        for (text, line, needle) in cases {
            let e = parse_str(&text).unwrap_err();
            assert!(
                e.starts_with(&format!("config/clusters/leap/cluster.yaml:{line}: ")),
                "{e}"
            );
            assert!(e.contains(needle), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn a_repository_reads_every_cluster_folder_and_never_an_encrypted_file() {
        let dir = tempfile::tempdir().unwrap();
        let leap = dir.path().join("config/clusters/leap");
        std::fs::create_dir_all(&leap).unwrap();
        std::fs::write(leap.join("cluster.yaml"), LEAP).unwrap();
        // Unreadable to prove it is never opened.
        std::fs::write(leap.join("enc-staging.secret.values.yaml"), "sops: {}").unwrap();
        let nasa = dir.path().join("config/clusters/nasa");
        std::fs::create_dir_all(&nasa).unwrap();
        std::fs::write(
            nasa.join("cluster.yaml"),
            "name: nasa\nprovider: aws\naws:\n  clusterName: nasa-eks\nhubs:\n  - {name: prod, helm_chart: basehub}\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("config/clusters/templates")).unwrap();
        let repo = load(dir.path()).unwrap();
        let names: Vec<&str> = repo.clusters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["leap", "nasa"]);
        assert_eq!(
            repo.clusters[1].provider_cluster.as_deref(),
            Some("nasa-eks")
        );
        let e = load(&dir.path().join("nowhere")).unwrap_err().to_string();
        assert!(e.contains("not a deployment repository"), "{e}");
    }
}
