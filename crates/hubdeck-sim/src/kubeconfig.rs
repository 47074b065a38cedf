//! The kubeconfig that points kube clients (and kubectl) at the simulated clusters: one context
//! per cluster, named like the cluster, with a bearer token for the chosen identity (inline,
//! or from an exec credential plugin as real fleets have it) and, optionally, the context's
//! default namespace.

use std::io;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::Identity;
use super::cluster::SimCluster;

/// How a kubeconfig is written.
#[derive(Debug, Clone, Default)]
pub struct KubeconfigOptions {
    /// The server URL carries the token in its path as well, because kubectl (client-go) sends
    /// no credentials to `http://` servers; kube accepts either form.
    pub token_in_url: bool,
    /// The `namespace:` of every context.
    pub context_namespace: Option<String>,
    /// How each context's user proves who it is.
    pub credentials: Credentials,
}

/// How each context's user proves who it is.
#[derive(Debug, Clone, Default)]
pub enum Credentials {
    /// The identity's token, inline.
    #[default]
    Token,
    /// An exec plugin (client.authentication.k8s.io/v1beta1), run as `COMMAND CLUSTER TOKEN`.
    Exec(PathBuf),
}

/// The kubeconfig YAML for `clusters` as `identity`.
pub(crate) fn render(
    clusters: &[SimCluster],
    identity: &Identity,
    opts: &KubeconfigOptions,
) -> String {
    let token_in_url = opts.token_in_url;
    let server = |c: &SimCluster| {
        if token_in_url {
            format!(
                "{}{}{}",
                c.url(),
                super::api::TOKEN_PREFIX,
                c.token(identity)
            )
        } else {
            c.url()
        }
    };
    let user = |c: &SimCluster| format!("{}-{}", c.name(), identity.user());
    let auth = |c: &SimCluster| match &opts.credentials {
        Credentials::Token => json!({"token": c.token(identity)}),
        Credentials::Exec(command) => json!({"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": command.display().to_string(),
            "args": [c.name(), c.token(identity)],
            "interactiveMode": "Never",
        }}),
    };
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "current-context": clusters.first().map(|c| c.name().to_string()).unwrap_or_default(),
        "clusters": clusters.iter().map(|c| json!({
            "name": c.name(), "cluster": {"server": server(c)}})).collect::<Vec<_>>(),
        "users": clusters.iter().map(|c| json!({
            "name": user(c), "user": auth(c)})).collect::<Vec<_>>(),
        "contexts": clusters.iter().map(|c| {
            let mut context = json!({"cluster": c.name(), "user": user(c)});
            if let Some(ns) = &opts.context_namespace {
                context["namespace"] = json!(ns);
            }
            json!({"name": c.name(), "context": context})
        }).collect::<Vec<_>>(),
    });
    serde_yaml_ng::to_string(&doc).unwrap_or_default()
}

/// Writes the kubeconfig, readable only by the owner (it holds tokens).
pub(crate) fn write(
    path: &Path,
    clusters: &[SimCluster],
    identity: &Identity,
    opts: &KubeconfigOptions,
) -> io::Result<()> {
    let text = render(clusters, identity, opts);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    io::Write::write_all(&mut f, text.as_bytes())
}
