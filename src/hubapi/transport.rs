//! How requests reach a hub's REST API: a port-forward through the Kubernetes API to the hub
//! pod (the API server's service proxy drops the `Authorization` header the hub needs), or a
//! direct URL from fleet.toml.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, Portforwarder};
use tokio::io::{AsyncRead, AsyncWrite};

use super::error::HubApiError;
use super::token::HubToken;

/// How long one request may take before the hub counts as unreachable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// The name of the hub pod the fleet model last saw running (`None`: none is), kept current by
/// the pod watchers.
pub type RunningPod = tokio::sync::watch::Receiver<Option<Arc<str>>>;

/// The hub pod's API port and path prefix (z2jh defaults: port 8081, `hub.baseUrl` `/`).
#[derive(Debug, Clone)]
pub struct HubPod {
    /// Namespace of the release.
    pub namespace: String,
    /// Helm release (the hub pod's `release` label).
    pub release: String,
    /// Container port of the hub API.
    pub port: u16,
    /// Path of the API on that port, without a trailing `/`.
    pub api_prefix: String,
    /// The running hub pod as the model knows it; without it, each connection lists the
    /// release's hub pods to find one.
    pub running: Option<RunningPod>,
}

impl HubPod {
    /// The hub of a z2jh release with the chart's defaults.
    pub fn new(namespace: impl Into<String>, release: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            release: release.into(),
            port: 8081,
            api_prefix: "/hub/api".into(),
            running: None,
        }
    }
}

/// Where requests go.
#[derive(Clone)]
pub(crate) enum Transport {
    /// Port-forward to the hub pod through the Kubernetes API.
    PortForward { client: kube::Client, pod: HubPod },
    /// A base URL ending in the API path (`https://hub.example.org/hub/api`).
    Url { http: reqwest::Client, base: String },
    /// A plain TCP connection to a hub port (what a port-forward carries), for tests.
    #[cfg(test)]
    Tcp {
        addr: std::net::SocketAddr,
        api_prefix: String,
    },
}

/// An open connection: one per poll, reused for the pages of a listing.
pub(crate) enum Conn {
    Url {
        http: reqwest::Client,
        base: String,
    },
    Stream {
        sender: SendRequest<Full<Bytes>>,
        api_prefix: String,
        /// Keeps the port-forward alive while the connection is used.
        forward: Option<Portforwarder>,
    },
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Self::Stream {
            forward: Some(f), ..
        } = self
        {
            f.abort();
        }
    }
}

/// A response: status and body, whatever the status.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Bytes,
}

impl Transport {
    /// Opens a connection (for a port-forward: finds the running hub pod and forwards to it).
    pub(crate) async fn open(&self, at: &str) -> Result<Conn, HubApiError> {
        let unreachable = |cause: String| HubApiError::Unreachable {
            at: at.to_string(),
            cause,
        };
        let open = async {
            match self {
                Self::Url { http, base } => Ok(Conn::Url {
                    http: http.clone(),
                    base: base.clone(),
                }),
                Self::PortForward { client, pod } => {
                    let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace);
                    let known = pod.running.as_ref().and_then(|r| r.borrow().clone());
                    // The model's pod may have gone a moment ago: then look for one.
                    let known = match known {
                        Some(name) => api
                            .portforward(&name, &[pod.port])
                            .await
                            .ok()
                            .map(|f| (name.to_string(), f)),
                        None => None,
                    };
                    let (name, mut forward) = match known {
                        Some(found) => found,
                        None => {
                            let name = running_hub_pod(&api, pod).await.map_err(|e| match e {
                                PodLookup::None => unreachable(format!(
                                    "no running hub pod (component=hub,release={}) in namespace {}",
                                    pod.release, pod.namespace
                                )),
                                PodLookup::Kube(e) => unreachable(format!("listing hub pods: {e}")),
                            })?;
                            let forward =
                                api.portforward(&name, &[pod.port]).await.map_err(|e| {
                                    unreachable(format!("port-forward to pod {name}: {e}"))
                                })?;
                            (name, forward)
                        }
                    };
                    let stream = forward.take_stream(pod.port).ok_or_else(|| {
                        unreachable(format!("port-forward to pod {name}: no stream"))
                    })?;
                    let sender = handshake(stream).await.map_err(unreachable)?;
                    Ok(Conn::Stream {
                        sender,
                        api_prefix: pod.api_prefix.clone(),
                        forward: Some(forward),
                    })
                }
                #[cfg(test)]
                Self::Tcp { addr, api_prefix } => {
                    let stream = tokio::net::TcpStream::connect(addr)
                        .await
                        .map_err(|e| unreachable(e.to_string()))?;
                    Ok(Conn::Stream {
                        sender: handshake(stream).await.map_err(unreachable)?,
                        api_prefix: api_prefix.clone(),
                        forward: None,
                    })
                }
            }
        };
        tokio::time::timeout(REQUEST_TIMEOUT, open)
            .await
            .map_err(|_| unreachable(format!("no connection within {REQUEST_TIMEOUT:?}")))?
    }
}

impl Conn {
    /// Sends one request; `path` is relative to the API root (`/users?...`).
    pub(crate) async fn send(
        &mut self,
        at: &str,
        method: Method,
        path: &str,
        token: &HubToken,
        accept: &str,
    ) -> Result<Reply, HubApiError> {
        let unreachable = |cause: String| HubApiError::Unreachable {
            at: at.to_string(),
            cause,
        };
        let auth = format!("token {}", token.expose());
        let exchange = async {
            match self {
                Self::Url { http, base } => {
                    let req = http
                        .request(method, format!("{base}{path}"))
                        .header(header::AUTHORIZATION, auth)
                        .header(header::ACCEPT, accept);
                    let (status, body) = crate::http::send(req).await.map_err(unreachable)?;
                    Ok(Reply { status, body })
                }
                Self::Stream {
                    sender, api_prefix, ..
                } => {
                    let req = Request::builder()
                        .method(method)
                        .uri(format!("{api_prefix}{path}"))
                        .header(header::HOST, "localhost")
                        .header(header::USER_AGENT, crate::http::USER_AGENT)
                        .header(header::AUTHORIZATION, auth)
                        .header(header::ACCEPT, accept)
                        .body(Full::new(Bytes::new()))
                        .map_err(|e| HubApiError::Config {
                            at: at.to_string(),
                            cause: e.to_string(),
                        })?;
                    sender
                        .ready()
                        .await
                        .map_err(|e| unreachable(crate::errors::one_line(&e)))?;
                    let res = sender
                        .send_request(req)
                        .await
                        .map_err(|e| unreachable(crate::errors::one_line(&e)))?;
                    let status = res.status().as_u16();
                    let body = res
                        .into_body()
                        .collect()
                        .await
                        .map_err(|e| unreachable(crate::errors::one_line(&e)))?
                        .to_bytes();
                    Ok(Reply { status, body })
                }
            }
        };
        tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| unreachable(format!("no answer within {REQUEST_TIMEOUT:?}")))?
    }
}

/// Starts an HTTP/1.1 client connection over a byte stream (a port-forward or a socket).
async fn handshake<S>(stream: S) -> Result<SendRequest<Full<Bytes>>, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake: {e}"))?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!("hub API connection closed: {e}");
        }
    });
    Ok(sender)
}

enum PodLookup {
    None,
    Kube(kube::Error),
}

/// The name of a running, ready hub pod of the release (z2jh's `component=hub,release=R`),
/// preferring ready ones: during a rollout the old pod may still serve.
async fn running_hub_pod(api: &Api<Pod>, pod: &HubPod) -> Result<String, PodLookup> {
    let selector = format!("component=hub,release={}", pod.release);
    let pods = api
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(PodLookup::Kube)?;
    let ready = |p: &Pod| {
        p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
    };
    let running = |p: &Pod| {
        p.metadata.deletion_timestamp.is_none()
            && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
    };
    let mut candidates: Vec<&Pod> = pods.items.iter().filter(|p| running(p)).collect();
    candidates.sort_by_key(|p| !ready(p));
    candidates
        .first()
        .and_then(|p| p.metadata.name.clone())
        .ok_or(PodLookup::None)
}
