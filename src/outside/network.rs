//! How the checks reach a hub: which addresses a domain resolves to and which CAs are trusted.
//! Normal runs use the system's resolver and roots, as any user's browser would; fleet.toml's
//! `[outside]` can send names to chosen addresses (a new ingress before its DNS records move)
//! and trust only given CAs. `--demo` pins its made-up domains to the sim's loopback ingress.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

/// Where domains resolve and which certificates are trusted.
#[derive(Debug, Clone, Default)]
pub struct Network {
    /// Lower-case domain → the address that answers for it, instead of DNS.
    pinned: Arc<HashMap<String, SocketAddr>>,
    /// The CAs trusted instead of the system's roots (DER); `None`: the system's.
    roots: Option<Arc<Vec<CertificateDer<'static>>>>,
}

impl Network {
    /// The system's resolver and CA roots.
    pub fn public() -> Self {
        Self::default()
    }

    /// `domains` answered by their addresses (`*.example.org` for every name just under
    /// example.org, as a wildcard DNS record; other names by the system's resolver),
    /// certificates trusted only when issued by one of the PEM certificates in `ca_pem`
    /// (without it, by the system's roots).
    pub fn pinned(
        domains: impl IntoIterator<Item = (String, SocketAddr)>,
        ca_pem: Option<&str>,
    ) -> Result<Self, String> {
        use rustls::pki_types::pem::PemObject;
        let roots = match ca_pem {
            None => None,
            Some(pem) => {
                let roots = CertificateDer::pem_slice_iter(pem.as_bytes())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("CA certificate: {e}"))?;
                if roots.is_empty() {
                    return Err("CA certificate: no PEM certificate".into());
                }
                Some(Arc::new(roots))
            }
        };
        Ok(Self {
            pinned: Arc::new(
                domains
                    .into_iter()
                    .map(|(d, a)| (d.to_ascii_lowercase(), a))
                    .collect(),
            ),
            roots,
        })
    }

    /// The client every check of a run shares: no connection is kept between checks (each
    /// check resolves, connects and shakes hands anew, as a new visitor does), redirects are
    /// not followed (a hub may be expected to answer one), and `timeout` bounds the whole
    /// request.
    pub(super) fn client(&self, timeout: Duration) -> Result<reqwest::Client, String> {
        let provider = crate::kube::tls_provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let mut tls = match &self.roots {
            Some(ders) => {
                let mut roots = RootCertStore::empty();
                for der in ders.iter() {
                    roots
                        .add(der.clone())
                        .map_err(|e| format!("CA certificate: {e}"))?;
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            None => builder
                .dangerous()
                .with_custom_certificate_verifier(crate::kube::system_verifier()?)
                .with_no_client_auth(),
        };
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let mut client = reqwest::Client::builder()
            .user_agent(crate::http::USER_AGENT)
            .use_preconfigured_tls(tls)
            .dns_resolver(Arc::new(Resolver {
                pinned: self.pinned.clone(),
            }))
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(0)
            .timeout(timeout);
        if !self.pinned.is_empty() {
            // Pinned domains are on loopback: no proxy from the environment stands between.
            client = client.no_proxy();
        }
        client.build().map_err(|e| crate::errors::one_line(&e))
    }
}

/// A failed name lookup; the probe finds it in the request's error chain to tell DNS apart
/// from the connection.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct DnsError(pub String);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Pinned domains first, then the system's resolver.
struct Resolver {
    pinned: Arc<HashMap<String, SocketAddr>>,
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let wildcard = || {
            let (_, parent) = host.split_once('.')?;
            self.pinned.get(&format!("*.{parent}"))
        };
        if let Some(addr) = self.pinned.get(&host).or_else(wildcard).copied() {
            let addrs: Addrs = Box::new(std::iter::once(addr));
            return Box::pin(std::future::ready(Ok(addrs)));
        }
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| -> BoxError { Box::new(DnsError(e.to_string())) })?
                .collect();
            if found.is_empty() {
                let none: BoxError = Box::new(DnsError(format!("{host}: no address")));
                return Err(none);
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}
