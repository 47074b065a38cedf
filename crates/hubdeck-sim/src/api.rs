//! The HTTP face of a simulated cluster: authentication, request recording, fault injection, and
//! routing of Kubernetes API paths to discovery, object, watch and log handlers.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::access::{self, Identity};
use super::cluster::{RecordedRequest, SimCluster};
use super::objects;
use super::resources::{self, Kind};
use super::status::{ApiError, json_response};

/// Biggest request body accepted (a hub Secret edit is a few KB).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Path prefix that carries a bearer token, for clients that drop tokens over plain HTTP.
pub(crate) const TOKEN_PREFIX: &str = "/_token/";

/// The router serving one cluster.
pub(crate) fn router(cluster: SimCluster) -> Router {
    Router::new().fallback(handle).with_state(cluster)
}

/// What a resource path addresses.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub kind: Kind,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
}

impl Target {
    /// `pods` or `deployments.apps`, as the API server names resources in messages.
    pub fn resource_label(&self) -> String {
        let g = self.kind.group();
        if g.is_empty() {
            self.kind.plural().to_string()
        } else {
            format!("{}.{g}", self.kind.plural())
        }
    }

    /// `pods` or `pods/log`, as used in RBAC.
    pub fn rbac_resource(&self) -> String {
        match &self.sub {
            Some(s) => format!("{}/{s}", self.kind.plural()),
            None => self.kind.plural().to_string(),
        }
    }
}

/// One parsed request, handed to the object handlers.
pub(crate) struct Call {
    pub cluster: SimCluster,
    pub identity: Identity,
    pub method: Method,
    pub query: HashMap<String, String>,
    /// The `/_token/...` prefix the path came with ("" without), for URLs the sim hands out.
    pub base: String,
    pub content_type: String,
    /// The Accept header, to answer kubectl's Table requests.
    pub accept: String,
    pub body: Bytes,
}

impl Call {
    /// A query parameter.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }

    /// `Some(full_object)` when the client asked for a Table.
    pub fn table(&self) -> Option<bool> {
        super::table::wanted(&self.accept).then(|| self.param("includeObject") == Some("Object"))
    }

    /// The body as JSON (YAML for apply patches).
    pub fn body_json(&self) -> Result<Value, ApiError> {
        if self.content_type.contains("yaml") {
            return serde_yaml_ng::from_slice(&self.body)
                .map_err(|e| ApiError::bad_request(format!("invalid YAML body: {e}")));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
    }
}

async fn handle(State(cluster): State<SimCluster>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    let (path_token, path) = split_token_prefix(parts.uri.path());
    let auth = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let identity = match path_token {
        Some(t) => cluster.inner.tokens.identify_token(t),
        None => cluster.inner.tokens.identify(auth),
    };
    cluster.inner.record(RecordedRequest {
        method: parts.method.to_string(),
        path: path.to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        identity: identity
            .as_ref()
            .map_or("anonymous", Identity::user)
            .to_string(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let latency = cluster.inner.latency_ms.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if cluster.inner.garbage.load(Ordering::Relaxed) {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            "<html><body>502 upstream hiccup \u{0}\u{1}not json",
        )
            .into_response();
    }
    let Some(identity) = identity else {
        return ApiError::unauthorized().into_response();
    };
    let query = Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .unwrap_or_default();
    match upgrade_or_proxy(path) {
        Some(Special::PortForward { namespace, pod }) => {
            return super::portforward::portforward(
                cluster, identity, namespace, pod, &query, parts,
            )
            .await
            .unwrap_or_else(IntoResponse::into_response);
        }
        Some(Special::Exec { namespace, pod }) => {
            return super::exec::exec(cluster, identity, namespace, pod, parts)
                .await
                .unwrap_or_else(IntoResponse::into_response);
        }
        Some(Special::Proxy {
            namespace,
            service,
            rest,
        }) => {
            let req = super::proxy::ProxyRequest {
                namespace,
                service,
                path: rest,
                query: parts.uri.query().map(str::to_string),
                method: parts.method,
                headers: parts.headers,
                body,
            };
            return super::proxy::proxy(&cluster, &identity, req)
                .await
                .unwrap_or_else(IntoResponse::into_response);
        }
        None => {}
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let accept = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let call = Call {
        cluster,
        identity,
        method: parts.method.clone(),
        query,
        base: path_token.map_or_else(String::new, |t| format!("{TOKEN_PREFIX}{t}")),
        content_type,
        accept,
        body,
    };
    match route(call, path).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// Requests that are not object verbs: pod port-forward and exec (WebSocket upgrades) and the service
/// proxy (passed through to what the Service fronts).
enum Special {
    PortForward {
        namespace: String,
        pod: String,
    },
    Exec {
        namespace: String,
        pod: String,
    },
    Proxy {
        namespace: String,
        service: String,
        /// The path after `/proxy`, starting with `/`.
        rest: String,
    },
}

fn upgrade_or_proxy(path: &str) -> Option<Special> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["api", "v1", "namespaces", ns, "pods", pod, "portforward"] => Some(Special::PortForward {
            namespace: ns.to_string(),
            pod: pod.to_string(),
        }),
        ["api", "v1", "namespaces", ns, "pods", pod, "exec"] => Some(Special::Exec {
            namespace: ns.to_string(),
            pod: pod.to_string(),
        }),
        ["api", "v1", "namespaces", ns, "services", svc, "proxy", ..] => {
            let prefix = format!("/api/v1/namespaces/{ns}/services/{svc}/proxy");
            let rest = path.strip_prefix(&prefix).unwrap_or("");
            Some(Special::Proxy {
                namespace: ns.to_string(),
                service: svc.to_string(),
                rest: if rest.is_empty() {
                    "/".into()
                } else {
                    rest.into()
                },
            })
        }
        _ => None,
    }
}

/// Splits `/_token/<token>/rest` into the token and `/rest`.
///
/// kubectl (client-go) never sends credentials to an `http://` server, so kubectl kubeconfigs
/// carry the token in the server URL's path instead; kube handles such a base path too.
fn split_token_prefix(path: &str) -> (Option<&str>, &str) {
    let Some(rest) = path.strip_prefix(TOKEN_PREFIX) else {
        return (None, path);
    };
    match rest.find('/') {
        Some(i) => (Some(&rest[..i]), &rest[i..]),
        None => (Some(rest), "/"),
    }
}

fn ok_json(v: &Value) -> Response {
    json_response(200, v.to_string())
}

async fn route(call: Call, path: &str) -> Result<Response, ApiError> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let get = call.method == Method::GET;
    match segs.as_slice() {
        ["version"] if get => Ok(ok_json(&resources::version())),
        ["healthz" | "livez" | "readyz"] if get => Ok("ok".into_response()),
        ["openapi", "v3"] if get => Ok(ok_json(&super::openapi::discovery(&call.base))),
        ["openapi", "v3", gv @ ..] if get => super::openapi::document(&gv.join("/"))
            .map(|d| json_response(200, d))
            .ok_or_else(|| ApiError::no_route(path)),
        ["api"] if get => Ok(ok_json(&resources::core_versions())),
        ["apis"] if get => {
            let mut groups = resources::group_list(
                call.cluster.inner.metrics_api() != super::metrics::MetricsApi::NotInstalled,
            );
            if call.cluster.inner.state().dask_crd
                && let Some(list) = groups["groups"].as_array_mut()
            {
                list.push(super::dask::group());
            }
            Ok(ok_json(&groups))
        }
        ["apis", super::dask::GROUP, super::dask::VERSION, rest @ ..]
            if call.cluster.inner.state().dask_crd =>
        {
            if rest.is_empty() {
                return if get {
                    Ok(ok_json(&super::dask::resource_list()))
                } else {
                    Err(ApiError::method_not_allowed("only get is supported"))
                };
            }
            let target =
                parse_target(super::dask::GROUP, rest).ok_or_else(|| ApiError::no_route(path))?;
            objects::dispatch(call, target).await
        }
        ["apis", "metrics.k8s.io", ..]
            if call.cluster.inner.metrics_api() != super::metrics::MetricsApi::Served =>
        {
            super::metrics::unserved(call.cluster.inner.metrics_api(), path)
        }
        ["api", v] if get => resources::resource_list(v)
            .map(|r| ok_json(&r))
            .ok_or_else(|| ApiError::no_route(path)),
        [
            "apis",
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
        ] => {
            if call.method != Method::POST {
                return Err(ApiError::method_not_allowed("only create is supported"));
            }
            let body = call.body_json()?;
            let out = access::review(&call.identity, &body);
            Ok(json_response(201, out.to_string()))
        }
        [
            "apis",
            "authorization.k8s.io",
            "v1",
            "selfsubjectrulesreviews",
        ] => {
            if call.method != Method::POST {
                return Err(ApiError::method_not_allowed("only create is supported"));
            }
            let out = access::rules_review(&call.identity, &call.body_json()?)?;
            Ok(json_response(201, out.to_string()))
        }
        ["apis", "metrics.k8s.io", "v1beta1", rest @ ..] if get && !rest.is_empty() => {
            super::metrics::serve(&call, rest)
        }
        ["apis", g, v] if get => resources::resource_list(&format!("{g}/{v}"))
            .map(|r| ok_json(&r))
            .ok_or_else(|| ApiError::no_route(path)),
        ["api", "v1", rest @ ..] => {
            let target = parse_target("", rest).ok_or_else(|| ApiError::no_route(path))?;
            objects::dispatch(call, target).await
        }
        ["apis", g, "v1", rest @ ..] => {
            let target = parse_target(g, rest).ok_or_else(|| ApiError::no_route(path))?;
            objects::dispatch(call, target).await
        }
        _ => Err(ApiError::no_route(path)),
    }
}

/// Parses the part of a path after `/api/v1` or `/apis/{group}/v1`.
fn parse_target(group: &str, rest: &[&str]) -> Option<Target> {
    let t = |plural: &str, ns: Option<&str>, name: Option<&str>, sub: Option<&str>| {
        let kind = match (group, plural) {
            (super::dask::GROUP, "daskclusters") => Kind::DaskCluster,
            (super::dask::GROUP, _) => return None,
            _ => Kind::from_plural(group, plural)?,
        };
        if ns.is_some() && !kind.namespaced() {
            return None;
        }
        Some(Target {
            kind,
            namespace: ns.map(String::from),
            name: name.map(String::from),
            sub: sub.map(String::from),
        })
    };
    match rest {
        [plural] => t(plural, None, None, None),
        ["namespaces", ns, plural] => t(plural, Some(ns), None, None),
        ["namespaces", ns, plural, name] => t(plural, Some(ns), Some(name), None),
        ["namespaces", ns, plural, name, sub] => t(plural, Some(ns), Some(name), Some(sub)),
        [plural, name] => t(plural, None, Some(name), None),
        [plural, name, sub] => t(plural, None, Some(name), Some(sub)),
        _ => None,
    }
}
