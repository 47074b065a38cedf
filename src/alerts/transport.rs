//! How requests reach an Alertmanager: through the cluster's API-server service proxy (the
//! default, needing nothing but kubeconfig access) or at a direct URL from fleet.toml.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::BodyExt;

use super::error::{AlertsError, one_line};

/// How long one request may take before the Alertmanager counts as unreachable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// A Kubernetes Service in front of an Alertmanager.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceRef {
    /// Namespace of the Service.
    pub namespace: String,
    /// Service name.
    pub name: String,
    /// Service port serving the v2 API.
    pub port: u16,
}

impl ServiceRef {
    /// Path prefix of the API server's proxy to this Service.
    fn proxy_prefix(&self) -> String {
        format!(
            "/api/v1/namespaces/{}/services/{}:{}/proxy",
            self.namespace, self.name, self.port
        )
    }
}

impl fmt::Display for ServiceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{}", self.namespace, self.name, self.port)
    }
}

/// Where the requests go.
#[derive(Clone)]
pub(crate) enum Transport {
    /// The API server's service proxy.
    ServiceProxy {
        client: kube::Client,
        service: ServiceRef,
    },
    /// A direct base URL (without the trailing `/api/v2`).
    Url { http: reqwest::Client, base: String },
}

/// A response: status and body, whatever the status.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Bytes,
}

impl Transport {
    /// Sends one request with an optional JSON body; `path` starts with `/api/v2/` or `/-/`.
    pub(crate) async fn send(
        &self,
        at: &str,
        method: Method,
        path: &str,
        json: Option<Vec<u8>>,
    ) -> Result<Reply, AlertsError> {
        let unreachable = |cause: String| AlertsError::Unreachable {
            at: at.to_string(),
            cause,
        };
        let exchange = async {
            match self {
                Self::ServiceProxy { client, service } => {
                    let mut req = Request::builder()
                        .method(method)
                        .uri(format!("{}{path}", service.proxy_prefix()))
                        .header(http::header::ACCEPT, "application/json");
                    if json.is_some() {
                        req = req.header(http::header::CONTENT_TYPE, "application/json");
                    }
                    let req = req
                        .body(kube::client::Body::from(json.unwrap_or_default()))
                        .map_err(|e| AlertsError::Config {
                            at: at.to_string(),
                            cause: e.to_string(),
                        })?;
                    let res = client
                        .send(req)
                        .await
                        .map_err(|e| unreachable(e.to_string()))?;
                    let status = res.status().as_u16();
                    let body = res
                        .into_body()
                        .collect()
                        .await
                        .map_err(|e| unreachable(e.to_string()))?
                        .to_bytes();
                    Ok(Reply { status, body })
                }
                Self::Url { http, base } => {
                    let mut req = http
                        .request(method, format!("{base}{path}"))
                        .header(http::header::ACCEPT, "application/json");
                    if let Some(json) = json {
                        req = req
                            .header(http::header::CONTENT_TYPE, "application/json")
                            .body(json);
                    }
                    let (status, body) = crate::http::send(req).await.map_err(unreachable)?;
                    Ok(Reply { status, body })
                }
            }
        };
        tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| unreachable(format!("no answer within {REQUEST_TIMEOUT:?}")))?
    }
}

impl Reply {
    /// The body when the status is a success, else the `Http` error.
    pub(crate) fn success(self, at: &str) -> Result<Bytes, AlertsError> {
        if (200..300).contains(&self.status) {
            Ok(self.body)
        } else {
            Err(AlertsError::Http {
                at: at.to_string(),
                status: self.status,
                body: one_line(&String::from_utf8_lossy(&self.body)),
            })
        }
    }
}
