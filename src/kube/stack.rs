//! The HTTP stack under each cluster's `kube::Client`: kube's own layers (base URI, retries of
//! server errors but not of an aggregated API's 503, tokens and token files, extra headers such as the User-Agent, impersonation)
//! and kube's connector settings (connect, read and write timeouts, `tls-server-name`), over TLS
//! settings shared across clusters (`tls`), fixed-size reads and a small idle pool per cluster. A context
//! with an exec plugin gets its token from `exec_auth`, which runs the plugin once per lifetime.

use std::sync::Arc;

use hyper_timeout::TimeoutConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kube::client::ClientBuilder;
use kube::client::ConfigExt;
use kube::client::retry::RetryPolicy;
use kube::{Client, Config};
use tower::ServiceBuilder;
use tower::retry::RetryLayer;

use super::exec_auth::{ExecAuthLayer, ExecToken};

/// The size of every read a connection makes, and so of its read buffer. hyper's adaptive
/// default grows a buffer up to ~400 KB on lists and a buffer keeps the size it grew to for the
/// connection's life, idle in the pool too: at 100 clusters, with seven long-lived watch
/// connections each, that was over 20 MB doing nothing (massif, 100 clusters). A buffer still
/// grows to two or four reads (hyper reserves a read's size, `BytesMut` doubles), so the reads
/// are small: 8 KB reads take a 500-pod page in a few hundred cheap reads.
pub const READ_BUF: usize = 8 * 1024;

/// Idle connections kept per cluster. Start-up opens a burst of them (a list per watch, the
/// probe, the hubs' token reads) that would otherwise idle in the pool for 90 s, each with its
/// buffers; the probe and the occasional request need one or two.
const IDLE_PER_CLUSTER: usize = 2;

/// How long an idle connection is kept: longer than the probe's interval, so the probe reuses one.
const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// kube's retries of 429, 503 and 504, except a 503 of metrics.k8s.io: there kube-aggregator
/// says the APIService is unavailable (metrics-server down), a state the metrics poller reports
/// and asks again about in minutes, which fifteen retries over nearly three minutes would
/// only hide.
#[derive(Clone)]
struct Retry(RetryPolicy);

impl<Res>
    tower::retry::Policy<http::Request<kube::client::Body>, http::Response<Res>, tower::BoxError>
    for Retry
{
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        req: &mut http::Request<kube::client::Body>,
        result: &mut Result<http::Response<Res>, tower::BoxError>,
    ) -> Option<Self::Future> {
        if req.uri().path().contains("/apis/metrics.k8s.io/") {
            return None;
        }
        self.0.retry(req, result)
    }

    fn clone_request(
        &mut self,
        req: &http::Request<kube::client::Body>,
    ) -> Option<http::Request<kube::client::Body>> {
        tower::retry::Policy::<_, http::Response<Res>, tower::BoxError>::clone_request(
            &mut self.0,
            req,
        )
    }
}

/// Builds a cluster's client from its config, with `exec` (if any) putting the plugin's token on
/// every request. The config must not hold the exec plugin itself any more, or kube would run it.
pub fn client(config: Config, exec: Option<Arc<ExecToken>>) -> Result<Client, String> {
    if config.proxy_url.is_some() {
        // kube decides what proxies it supports (per its features) and says so in its error.
        return Client::try_from(config).map_err(|e| super::watch::one_line(&e));
    }
    let kube_err = |e: kube::Error| super::watch::one_line(&e);
    let tls = super::tls::client_config(&config)?;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    let mut https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    if let Some(name) = &config.tls_server_name {
        let name = rustls::pki_types::ServerName::try_from(name.clone())
            .map_err(|e| format!("tls-server-name {name:?}: {e}"))?;
        https = https.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name));
    }
    let mut connector = TimeoutConnector::new(https.enable_http1().wrap_connector(http));
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let http_client = hyper_util::client::legacy::Builder::new(TokioExecutor::new())
        .http1_read_buf_exact_size(READ_BUF)
        .pool_max_idle_per_host(IDLE_PER_CLUSTER)
        .pool_idle_timeout(IDLE_TIMEOUT)
        .pool_timer(hyper_util::rt::TokioTimer::new())
        .build(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(
            config
                .default_retry
                .then(|| RetryLayer::new(Retry(RetryPolicy::server_retry()))),
        )
        .option_layer(config.auth_layer().map_err(kube_err)?)
        .option_layer(exec.map(ExecAuthLayer))
        .layer(config.extra_headers_layer().map_err(kube_err)?)
        .map_err(tower::BoxError::from)
        .service(http_client);
    Ok(ClientBuilder::new(service, config.default_namespace.clone()).build())
}
