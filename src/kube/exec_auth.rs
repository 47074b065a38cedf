//! Exec credential plugins (gke-gcloud-auth-plugin, aws eks get-token, kubelogin), run by
//! hubdeck instead of kube. kube runs a plugin twice per client build (once for the auth layer,
//! once to look for a client certificate), synchronously on a runtime worker, and again on every
//! request once its token has less than a minute left. Real plugins take 0.3–2 s of CPU each, so
//! here a cluster's plugin runs once per token lifetime, as its own process (no worker waits on
//! it), shared by every request of the cluster's one client; requests that need a token while
//! it runs wait for that run instead of starting their own.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Request, Response, StatusCode, header::AUTHORIZATION};
use jiff::Timestamp;
use kube::config::{ExecConfig, ExecInteractiveMode};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// A plugin that has not answered in this long is stuck (waiting for a login nobody can see).
const PLUGIN_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest a token is refreshed ahead of its expiry, so that a request sent just before it
/// does not reach the server with an expired token. client-go uses none; kube a whole minute,
/// which for tokens shorter than that means a plugin run per request.
const MAX_EARLY: Duration = Duration::from_secs(10);

/// What a plugin answered.
#[derive(Debug)]
pub enum Issued {
    /// A bearer token, refreshed through the returned source as it expires.
    Token(Arc<ExecToken>),
    /// A client certificate and key, both PEM; used for the TLS handshake.
    Certificate {
        /// The certificate chain.
        cert: String,
        /// The private key.
        key: String,
    },
}

/// A cluster's token from its exec plugin, shared by every request of its client.
#[derive(Debug)]
pub struct ExecToken {
    exec: ExecConfig,
    current: Mutex<Token>,
}

#[derive(Debug)]
struct Token {
    header: HeaderValue,
    /// When to run the plugin again; never for a token without an expiry (as client-go).
    refresh_at: Option<Instant>,
}

#[derive(Deserialize)]
struct Credential {
    status: Option<Status>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    token: Option<String>,
    expiration_timestamp: Option<String>,
    client_certificate_data: Option<String>,
    client_key_data: Option<String>,
}

/// Runs the plugin for the first time.
pub async fn issue(exec: &ExecConfig) -> Result<Issued, String> {
    let status = run(exec).await?;
    if let (Some(cert), Some(key)) = (&status.client_certificate_data, &status.client_key_data) {
        return Ok(Issued::Certificate {
            cert: cert.clone(),
            key: key.clone(),
        });
    }
    let current = token_of(status)?;
    Ok(Issued::Token(Arc::new(ExecToken {
        exec: exec.clone(),
        current: Mutex::new(current),
    })))
}

impl ExecToken {
    /// The Authorization header to send now, running the plugin first if the token is due.
    pub async fn header(&self) -> Result<HeaderValue, String> {
        // Held across the run: whoever finds the token due runs the plugin, the rest wait.
        let mut current = self.current.lock().await;
        if current.refresh_at.is_some_and(|at| Instant::now() >= at) {
            *current = token_of(run(&self.exec).await?)?;
        }
        Ok(current.header.clone())
    }

    /// The server refused `sent` (401): the token was revoked or its expiry misreported, so the
    /// next request runs the plugin again, as client-go does. A newer token is left alone.
    async fn refused(&self, sent: &HeaderValue) {
        let mut current = self.current.lock().await;
        if current.header == *sent {
            current.refresh_at = Some(Instant::now());
        }
    }
}

fn token_of(status: Status) -> Result<Token, String> {
    let token = status
        .token
        .ok_or("its answer has neither a token nor a client certificate")?;
    let mut header = HeaderValue::try_from(format!("Bearer {token}"))
        .map_err(|_| "its token is not a valid header value".to_string())?;
    header.set_sensitive(true);
    let refresh_at = match status.expiration_timestamp {
        None => None,
        Some(ts) => {
            let expiry: Timestamp = ts
                .parse()
                .map_err(|e| format!("bad expirationTimestamp {:?}: {e}", clip(&ts)))?;
            let left = Duration::try_from(expiry.duration_since(Timestamp::now()))
                .unwrap_or(Duration::ZERO);
            Some(Instant::now() + left - MAX_EARLY.min(left / 10))
        }
    };
    Ok(Token { header, refresh_at })
}

fn clip(s: &str) -> String {
    hubdeck_core::text::sanitize(&hubdeck_core::text::clip(s, 120)).into_owned()
}

/// One run of the plugin, as client-go runs it: the kubeconfig's args and env, the
/// `KUBERNETES_EXEC_INFO` it may read, never interactive (the console owns the terminal).
async fn run(exec: &ExecConfig) -> Result<Status, String> {
    let command = exec
        .command
        .as_deref()
        .ok_or("exec plugin without a command")?;
    let named = |cause: String| format!("exec plugin {}: {cause}", clip(command));
    if exec.interactive_mode == Some(ExecInteractiveMode::Always) {
        return Err(named(
            "it asks to be interactive (interactiveMode: Always), which hubdeck cannot offer"
                .into(),
        ));
    }
    let mut cmd = tokio::process::Command::new(command);
    cmd.args(exec.args.iter().flatten());
    for env in exec.env.iter().flatten() {
        if let (Some(name), Some(value)) = (env.get("name"), env.get("value")) {
            cmd.env(name, value);
        }
    }
    let mut spec = serde_json::json!({"interactive": false});
    if exec.provide_cluster_info
        && let Some(cluster) = &exec.cluster
    {
        spec["cluster"] = serde_json::to_value(cluster).map_err(|e| named(e.to_string()))?;
    }
    let info = serde_json::json!({
        "apiVersion": exec.api_version.as_deref().unwrap_or("client.authentication.k8s.io/v1beta1"),
        "kind": "ExecCredential",
        "spec": spec,
    });
    cmd.env("KUBERNETES_EXEC_INFO", info.to_string());
    for name in exec.drop_env.iter().flatten() {
        cmd.env_remove(name);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let hint = || {
        exec.install_hint
            .as_deref()
            .map(|h| format!(" ({})", clip(h.trim())))
            .unwrap_or_default()
    };
    let child = cmd
        .spawn()
        .map_err(|e| named(format!("cannot start it: {e}{}", hint())))?;
    let out = tokio::time::timeout(PLUGIN_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| named(format!("no answer within {} s", PLUGIN_TIMEOUT.as_secs())))?
        .map_err(|e| named(e.to_string()))?;
    if !out.status.success() {
        // Only the last line of stderr: plugins print the reason last; stdout may hold a token.
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(named(format!("{}: {}", out.status, clip(last.trim()))));
    }
    let cred: Credential = serde_json::from_slice(&out.stdout)
        .map_err(|e| named(format!("its answer is not an ExecCredential: {e}")))?;
    cred.status
        .ok_or_else(|| named("its answer has no status".into()))
}

/// Puts a cluster's exec token on every request; see the module comment.
#[derive(Clone)]
pub struct ExecAuthLayer(pub Arc<ExecToken>);

impl<S> tower::Layer<S> for ExecAuthLayer {
    type Service = ExecAuth<S>;

    fn layer(&self, inner: S) -> ExecAuth<S> {
        ExecAuth {
            inner,
            token: self.0.clone(),
        }
    }
}

/// The service of [`ExecAuthLayer`].
#[derive(Clone)]
pub struct ExecAuth<S> {
    inner: S,
    token: Arc<ExecToken>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, B, R> tower::Service<Request<B>> for ExecAuth<S>
where
    S: tower::Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: Send + 'static,
    R: Send + 'static,
{
    type Response = Response<R>;
    type Error = BoxError;
    type Future = futures::future::BoxFuture<'static, Result<Response<R>, BoxError>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        // The clone that was polled ready is the one to call (tower's usual swap).
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let token = self.token.clone();
        Box::pin(async move {
            let header = token.header().await?;
            req.headers_mut().insert(AUTHORIZATION, header.clone());
            let res = inner.call(req).await.map_err(Into::into)?;
            if res.status() == StatusCode::UNAUTHORIZED {
                token.refused(&header).await;
            }
            Ok(res)
        })
    }
}
