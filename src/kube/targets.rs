//! Which clusters to watch: every context of the active kubeconfig, or the clusters of
//! fleet.toml. Errors name the file and, for unknown contexts, list the available ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::config::fleet_file::{FleetFile, HubEntry};

/// A cluster to watch, with everything needed to reach it.
#[derive(Debug, Clone)]
pub struct ClusterTarget {
    /// Display name.
    pub name: String,
    /// kubeconfig context.
    pub context: String,
    /// Cloud provider, if known.
    pub provider: Option<String>,
    /// API server URL, from the kubeconfig.
    pub server: Option<String>,
    /// The kubeconfig the context comes from.
    pub kubeconfig: Arc<Kubeconfig>,
    /// Refuse mutations here.
    pub readonly: bool,
    /// Alertmanager URL overriding discovery.
    pub alertmanager_url: Option<String>,
    /// Namespaces to leave out.
    pub ignore_namespaces: Vec<String>,
    /// Namespaces to watch when listing cluster-wide is forbidden (fleet.toml `namespaces`).
    pub namespaces: Vec<String>,
    /// The kubeconfig context's `namespace`, also tried then.
    pub context_namespace: Option<String>,
    /// Per-hub settings by namespace.
    pub hubs: BTreeMap<String, HubEntry>,
    /// The hubs a deployment repository declares for this cluster.
    pub declared: Option<Vec<hubdeck_core::fleet::DeclaredHub>>,
    /// Why no kubeconfig context could be found for a declared cluster: it is shown, never
    /// reached.
    pub unmatched: Option<String>,
}

/// Why the clusters could not be determined; one line each.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// A kubeconfig file could not be read or parsed.
    #[error("kubeconfig {path}: {message}")]
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No kubeconfig was found.
    #[error("no kubeconfig: set KUBECONFIG, create ~/.kube/config, or use --demo")]
    NoKubeconfig,
    /// KUBECONFIG is set, but none of the files it names exists.
    #[error("KUBECONFIG names {}, but no such file exists", .0.join(", "))]
    KubeconfigVarMissing(Vec<String>),
    /// A context asked for does not exist.
    #[error("unknown context {wanted:?}; available: {}", available.join(", "))]
    UnknownContext {
        /// What was asked for.
        wanted: String,
        /// What exists.
        available: Vec<String>,
    },
}

/// Reads one kubeconfig file, naming it in errors.
pub fn read_kubeconfig(path: &Path) -> Result<Kubeconfig, TargetError> {
    Kubeconfig::read_from(path).map_err(|e| TargetError::Kubeconfig {
        path: path.to_path_buf(),
        message: super::watch::one_line(&e),
    })
}

/// The files of the active kubeconfig that exist: those `KUBECONFIG` lists, else
/// ~/.kube/config.
pub fn active_kubeconfig_paths() -> Vec<PathBuf> {
    match std::env::var_os("KUBECONFIG") {
        Some(v) if !v.is_empty() => std::env::split_paths(&v).filter(|p| p.exists()).collect(),
        _ => std::env::home_dir()
            .map(|h| h.join(".kube").join("config"))
            .filter(|p| p.exists())
            .into_iter()
            .collect(),
    }
}

/// Reads the active kubeconfig: every file of `KUBECONFIG` merged, else ~/.kube/config.
pub fn active_kubeconfig() -> Result<Kubeconfig, TargetError> {
    let paths = active_kubeconfig_paths();
    if paths.is_empty()
        && let Some(v) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty())
    {
        let named = std::env::split_paths(&v)
            .map(|p| hubdeck_core::text::clip(&p.display().to_string(), 200).into_owned())
            .collect();
        return Err(TargetError::KubeconfigVarMissing(named));
    }
    let (merged, warnings) = merge_files(&paths)?;
    for w in warnings {
        eprintln!("hubdeck: warning: {w}");
    }
    Ok(merged)
}

/// Merges kubeconfig files as kubectl does (the first file to name a cluster, user or context
/// wins), and says where two files define the same name differently: kubectl resolves that
/// silently, so a context could reach another file's server with another file's credentials.
pub fn merge_files(paths: &[PathBuf]) -> Result<(Kubeconfig, Vec<String>), TargetError> {
    let mut merged: Option<Kubeconfig> = None;
    let mut seen: std::collections::HashMap<(&'static str, String), (PathBuf, String)> =
        std::collections::HashMap::new();
    let mut warnings = Vec::new();
    for path in paths {
        let next = read_kubeconfig(path)?;
        let named = next
            .clusters
            .iter()
            .map(|c| ("cluster", c.name.clone(), serde_json::to_string(&c.cluster)))
            .chain(
                next.auth_infos
                    .iter()
                    .map(|u| ("user", u.name.clone(), serde_json::to_string(&u.auth_info))),
            )
            .chain(
                next.contexts
                    .iter()
                    .map(|c| ("context", c.name.clone(), serde_json::to_string(&c.context))),
            );
        for (what, name, def) in named {
            let def = def.unwrap_or_default();
            match seen.get(&(what, name.clone())) {
                Some((first, d)) if *d != def => warnings.push(format!(
                    "{what} {name:?} is defined in {} and differently in {}; the first is used, \
                     as kubectl does",
                    first.display(),
                    path.display()
                )),
                Some(_) => {}
                None => {
                    seen.insert((what, name), (path.clone(), def));
                }
            }
        }
        merged = Some(match merged {
            None => next,
            Some(m) => m.merge(next).map_err(|e| TargetError::Kubeconfig {
                path: path.clone(),
                message: e.to_string(),
            })?,
        });
    }
    merged
        .map(|m| (m, warnings))
        .ok_or(TargetError::NoKubeconfig)
}

pub(super) fn contexts(kc: &Kubeconfig) -> Vec<String> {
    kc.contexts.iter().map(|c| c.name.clone()).collect()
}

fn server_of(kc: &Kubeconfig, context: &str) -> Option<String> {
    let ctx = kc.contexts.iter().find(|c| c.name == context)?;
    let cluster = &ctx.context.as_ref()?.cluster;
    kc.clusters
        .iter()
        .find(|c| &c.name == cluster)?
        .cluster
        .as_ref()?
        .server
        .clone()
}

/// The cloud a context most likely points at, from the names the providers' CLIs write
/// (`gke_project_zone_name`, EKS ARNs) and their API server hostnames.
pub fn guess_provider(context: &str, server: Option<&str>) -> Option<String> {
    let server = server.unwrap_or("");
    let p = if context.starts_with("gke_") || server.contains(".gke.") {
        "gcp"
    } else if context.starts_with("arn:aws:eks") || server.contains(".eks.amazonaws.com") {
        "aws"
    } else if server.contains(".azmk8s.io") {
        "azure"
    } else {
        return None;
    };
    Some(p.to_string())
}

fn namespace_of(kc: &Kubeconfig, context: &str) -> Option<String> {
    let ctx = kc.contexts.iter().find(|c| c.name == context)?;
    ctx.context.as_ref()?.namespace.clone()
}

pub(super) fn target(kc: &Arc<Kubeconfig>, name: &str, context: &str) -> ClusterTarget {
    let server = server_of(kc, context);
    ClusterTarget {
        name: name.to_string(),
        context: context.to_string(),
        provider: guess_provider(context, server.as_deref()),
        server,
        kubeconfig: kc.clone(),
        readonly: false,
        alertmanager_url: None,
        ignore_namespaces: Vec::new(),
        namespaces: Vec::new(),
        context_namespace: namespace_of(kc, context),
        hubs: BTreeMap::new(),
        declared: None,
        unmatched: None,
    }
}

/// Every context of a kubeconfig (or only `only`, checked to exist).
pub fn from_kubeconfig(kc: Kubeconfig, only: &[String]) -> Result<Vec<ClusterTarget>, TargetError> {
    let available = contexts(&kc);
    for wanted in only {
        if !available.contains(wanted) {
            return Err(TargetError::UnknownContext {
                wanted: wanted.clone(),
                available,
            });
        }
    }
    let kc = Arc::new(kc);
    Ok(available
        .iter()
        .filter(|c| only.is_empty() || only.contains(c))
        .map(|c| target(&kc, c, c))
        .collect())
}

/// The clusters of a fleet file; each uses its own kubeconfig file or the active one.
pub fn from_fleet_file(
    file: &FleetFile,
    only: &[String],
    active: impl Fn() -> Result<Kubeconfig, TargetError>,
) -> Result<Vec<ClusterTarget>, TargetError> {
    let mut out = Vec::new();
    let mut active_kc: Option<Arc<Kubeconfig>> = None;
    for entry in &file.clusters {
        let (Some(name), Some(context)) = (entry.display_name(), entry.context_name()) else {
            continue;
        };
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        let kc = match &entry.kubeconfig {
            Some(path) => Arc::new(read_kubeconfig(&expand_home(path))?),
            None => match &active_kc {
                Some(kc) => kc.clone(),
                None => active_kc.insert(Arc::new(active()?)).clone(),
            },
        };
        if !kc.contexts.iter().any(|c| c.name == context) {
            return Err(TargetError::UnknownContext {
                wanted: context.to_string(),
                available: contexts(&kc),
            });
        }
        let mut t = target(&kc, name, context);
        t.provider = entry.provider.clone().or(t.provider);
        t.readonly = entry.readonly;
        t.alertmanager_url = entry.alertmanager_url.clone();
        t.ignore_namespaces = entry.ignore_namespaces.clone();
        t.namespaces = entry.namespaces.clone();
        t.hubs = entry.hubs.clone();
        out.push(t);
    }
    if let Some(wanted) = only
        .iter()
        .find(|o| !out.iter().any(|t: &ClusterTarget| &t.name == *o))
    {
        return Err(TargetError::UnknownContext {
            wanted: wanted.clone(),
            available: file
                .clusters
                .iter()
                .filter_map(|c| c.display_name().map(str::to_string))
                .collect(),
        });
    }
    Ok(out)
}

/// `~/x` under the home directory.
pub fn expand_home(p: &Path) -> PathBuf {
    match (p.strip_prefix("~"), std::env::home_dir()) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => p.to_path_buf(),
    }
}

/// Builds the client for a target. Its exec plugin, if any, runs here once (as a process of its
/// own, so the runtime's workers go on with other clusters) and again only as its token expires.
pub async fn client(target: &ClusterTarget) -> Result<Client, super::clients::ClientError> {
    let failed = |message: String| super::clients::ClientError::Build {
        context: target.context.clone(),
        message,
    };
    if let Some(why) = &target.unmatched {
        return Err(super::clients::ClientError::NoContext(why.clone()));
    }
    let opts = KubeConfigOptions {
        context: Some(target.context.clone()),
        ..KubeConfigOptions::default()
    };
    let mut config = Config::from_custom_kubeconfig((*target.kubeconfig).clone(), &opts)
        .await
        .map_err(|e| failed(super::watch::one_line(&e)))?;
    config.connect_timeout = Some(Duration::from_secs(5));
    // Also carried by the service-proxy (Alertmanager) and port-forward (hub API) requests,
    // which go through this client.
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static(crate::http::USER_AGENT),
    ));
    let mut token = None;
    // A static token or basic auth takes precedence over exec, as in kube and client-go.
    let exec_used = config.auth_info.token.is_none()
        && config.auth_info.token_file.is_none()
        && config.auth_info.username.is_none()
        && config.auth_info.auth_provider.is_none();
    // Through a proxy kube's own stack is used, and with it kube's exec handling.
    if exec_used
        && config.proxy_url.is_none()
        && let Some(exec) = config.auth_info.exec.take()
    {
        match super::exec_auth::issue(&exec).await.map_err(failed)? {
            super::exec_auth::Issued::Token(t) => token = Some(t),
            super::exec_auth::Issued::Certificate { cert, key } => {
                use base64::Engine;
                let b64 = base64::engine::general_purpose::STANDARD;
                config.auth_info.client_certificate_data = Some(b64.encode(cert));
                config.auth_info.client_key_data = Some(b64.encode(key).into());
            }
        }
    }
    // Building loads TLS roots and certificate files: blocking work, kept off the workers.
    tokio::task::spawn_blocking(move || super::stack::client(config, token))
        .await
        .map_err(|e| failed(e.to_string()))?
        .map_err(failed)
}

#[cfg(test)]
mod tests {

    #[test]
    fn two_files_defining_one_name_differently_are_merged_loudly() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, server: &str, token: &str| {
            let p = dir.path().join(name);
            std::fs::write(
                &p,
                format!(
                    "apiVersion: v1\nkind: Config\nclusters:\n- name: shared\n  cluster: {{server: '{server}'}}\n\
                     users:\n- name: admin\n  user: {{token: {token}}}\ncontexts:\n- name: {name}\n  context: {{cluster: shared, user: admin}}\n"
                ),
            )
            .unwrap();
            p
        };
        let a = file("a", "https://10.0.0.1", "tok-aaaa-1");
        let b = file("b", "https://10.0.0.2", "tok-bbbb-2");
        let (kc, warnings) = merge_files(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(kc.contexts.len(), 2);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("cluster \"shared\""), "{warnings:?}");
        assert!(
            warnings
                .iter()
                .all(|w| w.contains(&a.display().to_string())
                    && w.contains(&b.display().to_string()))
        );
        assert!(
            warnings
                .iter()
                .all(|w| !w.contains("tok-aaaa") && !w.contains("tok-bbbb")),
            "no token in warnings: {warnings:?}"
        );
        let (_, same) = merge_files(&[a.clone(), a]).unwrap();
        assert!(same.is_empty(), "identical definitions are no news");
    }

    use super::{guess_provider, merge_files};

    #[test]
    fn provider_is_guessed_from_context_names_and_servers() {
        assert_eq!(
            guess_provider("gke_two-eye-two-see_us-central1_pilot", None).as_deref(),
            Some("gcp")
        );
        assert_eq!(
            guess_provider("arn:aws:eks:us-west-2:1234:cluster/nasa", None).as_deref(),
            Some("aws")
        );
        assert_eq!(
            guess_provider(
                "utoronto",
                Some("https://utoronto-dns-123.hcp.canadacentral.azmk8s.io:443")
            )
            .as_deref(),
            Some("azure")
        );
        assert_eq!(
            guess_provider("kind-local", Some("https://127.0.0.1:6443")),
            None
        );
    }
}
