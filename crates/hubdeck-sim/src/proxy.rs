//! The API server's service proxy,
//! `/api/v1/namespaces/{ns}/services/{[scheme:]name[:port]}/proxy/{path}`: requests for the
//! cluster's Alertmanager Service reach its [`FakeAlertmanager`](super::fake_alertmanager);
//! any other Service has no endpoints here (404). Like the real proxy it drops the caller's
//! `Authorization` header and passes the upstream answer through unchanged.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, header};
use axum::response::Response;
use hyper::service::Service as _;
use hyper_util::service::TowerToHyperService;
use k8s_openapi::api::core::v1::Service;

use super::access::{self, Identity};
use super::cluster::SimCluster;
use super::resources::Kind;
use super::status::ApiError;

/// One proxied request.
pub(crate) struct ProxyRequest {
    pub namespace: String,
    /// The `{name}` segment: `name`, `name:port` or `scheme:name:port`.
    pub service: String,
    /// The path after `/proxy`, starting with `/`.
    pub path: String,
    pub query: Option<String>,
    pub method: Method,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The label that marks the Alertmanager Service (as `alerts::discover_alertmanager` finds it).
const ALERTMANAGER_LABEL: (&str, &str) = ("app.kubernetes.io/name", "alertmanager");

/// Proxies one request after the RBAC check on `services/proxy`.
pub(crate) async fn proxy(
    cluster: &SimCluster,
    identity: &Identity,
    req: ProxyRequest,
) -> Result<Response, ApiError> {
    let (name, port) = split_service(&req.service);
    let verb = match req.method {
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => "get",
    };
    access::authorize(
        identity,
        verb,
        "",
        "services/proxy",
        Some(name),
        Some(&req.namespace),
    )?;
    let svc: Service = cluster
        .inner
        .state()
        .store
        .get(Kind::Service, &req.namespace, name)
        .and_then(|o| o.typed())
        .ok_or_else(|| ApiError::not_found("services", name))?;
    let ports = svc.spec.and_then(|s| s.ports).unwrap_or_default();
    let port_ok = match port {
        None => !ports.is_empty(),
        Some(p) => ports
            .iter()
            .any(|sp| sp.port.to_string() == p || sp.name.as_deref() == Some(p)),
    };
    // A real API server answers 503 for these two; kube's default retry policy would then
    // retry for minutes, so the sim says 404 (which the alert poller also treats as "gone").
    if !port_ok {
        return Err(ApiError::no_endpoints(format!(
            "no service port {:?} found for service {name:?}",
            port.unwrap_or("")
        )));
    }
    let labels = svc.metadata.labels.unwrap_or_default();
    let is_alertmanager =
        labels.get(ALERTMANAGER_LABEL.0).map(String::as_str) == Some(ALERTMANAGER_LABEL.1);
    let router = match (&cluster.inner.alertmanager, is_alertmanager) {
        (Some(am), true) => am.router(),
        _ => {
            return Err(ApiError::no_endpoints(format!(
                "no endpoints available for service {name:?}"
            )));
        }
    };
    Ok(forward(router, req).await)
}

/// `name`, `name:port`, `scheme:name:port` → (name, port).
fn split_service(segment: &str) -> (&str, Option<&str>) {
    let parts: Vec<&str> = segment.split(':').collect();
    let (name, port) = match parts.as_slice() {
        [name] => (*name, None),
        [name, p] => (*name, Some(*p)),
        [_scheme, name, p, ..] => (*name, Some(*p)),
        [] => (segment, None),
    };
    (name, port.filter(|p| !p.is_empty()))
}

async fn forward(router: Router, req: ProxyRequest) -> Response {
    let uri = match &req.query {
        Some(q) => format!("{}?{q}", req.path),
        None => req.path.clone(),
    };
    let mut upstream = Request::builder().method(req.method).uri(uri);
    for (k, v) in &req.headers {
        if k != header::AUTHORIZATION && k != header::HOST {
            upstream = upstream.header(k, v);
        }
    }
    let upstream = match upstream.body(Body::from(req.body)) {
        Ok(r) => r,
        Err(e) => {
            return axum::response::IntoResponse::into_response(ApiError::bad_request(format!(
                "proxy: {e}"
            )));
        }
    };
    match TowerToHyperService::new(router).call(upstream).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::split_service;

    #[test]
    fn service_segment_forms() {
        assert_eq!(split_service("am"), ("am", None));
        assert_eq!(split_service("am:9093"), ("am", Some("9093")));
        assert_eq!(split_service("http:am:web"), ("am", Some("web")));
        assert_eq!(split_service("https:am:"), ("am", None));
    }
}
