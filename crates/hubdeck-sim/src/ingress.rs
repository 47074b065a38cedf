//! Each cluster's ingress, as the hubs' users reach it: HTTPS on 127.0.0.1 under a CA of the
//! sim's own, answering `https://<hub>.<cluster>.hubdeck-demo.test/hub/health` as a z2jh hub
//! behind ingress-nginx does. 200 while the hub and proxy Deployments have a ready replica;
//! 503 when either has none (nginx without endpoints, or configurable-http-proxy without its
//! hub); 404 for a host or path no hub serves (nginx's default backend). Certificates are chosen
//! by SNI: a wildcard per cluster, and for one hub of the fleet an expired one, the failure
//! a renewal that stopped working leaves behind.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    date_time_ymd,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::cluster::SimCluster;
use super::resources::Kind;

/// The demo's domains end in this (`.test` is reserved: it never resolves on the internet).
pub const DOMAIN_SUFFIX: &str = "hubdeck-demo.test";

/// Where a hub's users reach it: `<hub>.<cluster>.hubdeck-demo.test`.
pub fn domain(cluster: &str, hub: &str) -> String {
    format!("{hub}.{cluster}.{DOMAIN_SUFFIX}")
}

/// Why the ingress could not start.
#[derive(Debug, thiserror::Error)]
pub enum IngressError {
    /// Making a certificate failed.
    #[error("ingress certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused a certificate or key.
    #[error("ingress TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// Binding the listener failed.
    #[error("ingress listener: {0}")]
    Io(#[from] std::io::Error),
}

/// The sim's CA, which signs every ingress certificate.
pub(crate) struct IngressCa {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl IngressCa {
    pub(crate) fn new() -> Result<Self, IngressError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, "hubdeck demo ingress CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(Self {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA certificate, PEM.
    pub(crate) fn pem(&self) -> &str {
        &self.pem
    }

    /// A certificate for `names`, valid now, or expired since 2021 when `expired`.
    fn issue(&self, names: Vec<String>, expired: bool) -> Result<Arc<CertifiedKey>, IngressError> {
        let mut params = CertificateParams::new(names)?;
        if expired {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = rustls::crypto::ring::default_provider();
        let signing = provider.key_provider.load_private_key(der)?;
        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
        Ok(Arc::new(CertifiedKey::new(chain, signing)))
    }
}

/// The certificate a connection gets, by the name it asks for.
#[derive(Debug)]
struct Certificates {
    wildcard: Arc<CertifiedKey>,
    expired: Option<(String, Arc<CertifiedKey>)>,
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        match (&self.expired, hello.server_name()) {
            (Some((name, cert)), Some(asked)) if asked.eq_ignore_ascii_case(name) => {
                Some(cert.clone())
            }
            _ => Some(self.wildcard.clone()),
        }
    }
}

/// Starts `cluster`'s ingress until `shutdown`; `expired` is the domain (if any) served with
/// an expired certificate. Returns its address.
pub(crate) async fn start(
    cluster: SimCluster,
    ca: &IngressCa,
    expired: Option<String>,
    shutdown: CancellationToken,
) -> Result<SocketAddr, IngressError> {
    let wildcard = ca.issue(vec![format!("*.{}.{DOMAIN_SUFFIX}", cluster.name())], false)?;
    let expired = match expired {
        Some(d) => Some((d.clone(), ca.issue(vec![d], true)?)),
        None => None,
    };
    let resolver = Arc::new(Certificates { wildcard, expired });
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = Router::new().fallback(answer).with_state(cluster);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = shutdown.cancelled() => break,
                a = listener.accept() => a,
            };
            let Ok((stream, _)) = accepted else {
                continue;
            };
            let (acceptor, svc) = (acceptor.clone(), TowerToHyperService::new(router.clone()));
            let cancel = shutdown.clone();
            tokio::spawn(async move {
                // A failed handshake (the client refused the certificate) ends the connection.
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let conn = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc);
                tokio::select! {
                    _ = conn => {}
                    () = cancel.cancelled() => {}
                }
            });
        }
    });
    Ok(addr)
}

/// What the ingress answers a request.
async fn answer(State(cluster): State<SimCluster>, req: Request) -> (StatusCode, &'static str) {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.split(':').next().unwrap_or(h).to_ascii_lowercase())
        .unwrap_or_default();
    let suffix = format!(".{}.{DOMAIN_SUFFIX}", cluster.name());
    let Some(hub) = host.strip_suffix(&suffix) else {
        return (StatusCode::NOT_FOUND, "default backend - 404");
    };
    let Some(ready) = hub_ready(&cluster, hub) else {
        return (StatusCode::NOT_FOUND, "default backend - 404");
    };
    if req.uri().path() != "/hub/health" {
        return (StatusCode::NOT_FOUND, "404 page not found");
    }
    if ready {
        (StatusCode::OK, "")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
    }
}

/// Whether the hub of namespace `hub` has a ready hub and proxy (None: no such hub).
fn hub_ready(cluster: &SimCluster, hub: &str) -> Option<bool> {
    let st = cluster.inner.state();
    let h = st.hubs.iter().find(|h| h.namespace == hub)?;
    let ready = |name: &str| {
        st.store
            .get(Kind::Deployment, &h.namespace, &h.object(name))
            .is_some_and(|d| d.value()["status"]["readyReplicas"].as_u64().unwrap_or(0) > 0)
    };
    Some(ready("hub") && ready("proxy"))
}
