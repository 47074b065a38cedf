//! TLS settings shared across clusters. kube builds a rustls config per client and, when the
//! kubeconfig names no CA, loads the system's roots for each (about 85 KB and a read of
//! /etc/ssl/certs per cluster); at a hundred clusters that is most of what clients cost. Here the
//! system roots are loaded once per process and a kubeconfig CA once per distinct bundle.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use base64::Engine;
use kube::Config;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use rustls::{ClientConfig, RootCertStore};

type Verifier = Arc<dyn ServerCertVerifier>;

/// The one crypto provider of every TLS client hubdeck builds.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: LazyLock<Arc<CryptoProvider>> =
        LazyLock::new(|| Arc::new(rustls::crypto::ring::default_provider()));
    PROVIDER.clone()
}

/// The platform's verifier (system roots), built on first use and kept for the process.
pub(crate) fn system_verifier() -> Result<Verifier, String> {
    static SYSTEM: OnceLock<Result<Verifier, String>> = OnceLock::new();
    SYSTEM
        .get_or_init(|| {
            rustls_platform_verifier::Verifier::new(provider())
                .map(|v| Arc::new(v) as Verifier)
                .map_err(|e| format!("system CA roots: {e}"))
        })
        .clone()
}

/// A verifier for a kubeconfig's CA bundle, shared by every cluster naming the same bundle.
fn bundle_verifier(ders: &[Vec<u8>]) -> Result<Verifier, String> {
    static BY_BUNDLE: LazyLock<Mutex<HashMap<Vec<Vec<u8>>, Verifier>>> =
        LazyLock::new(Mutex::default);
    let mut cache = BY_BUNDLE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(v) = cache.get(ders) {
        return Ok(v.clone());
    }
    let mut roots = RootCertStore::empty();
    for der in ders {
        roots
            .add(CertificateDer::from(der.clone()))
            .map_err(|e| format!("certificate-authority: {e}"))?;
    }
    let v: Verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| format!("certificate-authority: {e}"))?;
    cache.insert(ders.to_vec(), v.clone());
    Ok(v)
}

/// The rustls config of one cluster: its server verification (shared) and client certificate.
pub fn client_config(config: &Config) -> Result<ClientConfig, String> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let verifier = if config.accept_invalid_certs {
        Arc::new(AcceptAny(provider())) as Verifier
    } else {
        match &config.root_cert {
            Some(ders) => bundle_verifier(ders)?,
            None => system_verifier()?,
        }
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut tls = match identity(config)? {
        None => builder.with_no_client_auth(),
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| format!("client certificate: {e}"))?,
    };
    // One API server per config: rustls's default cache of 256 sessions is allocated up
    // front, per cluster. Not shared across clusters: the cache is keyed by server name only,
    // and two contexts may reach one name as different users.
    tls.resumption = rustls::client::Resumption::in_memory_sessions(SESSIONS);
    Ok(tls)
}

/// TLS sessions kept per cluster for resumption.
const SESSIONS: usize = 4;

/// The client certificate and key of the kubeconfig user (inline data or files), if any.
fn identity(
    config: &Config,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, String> {
    use secrecy::ExposeSecret;
    let user = &config.auth_info;
    let cert = pem_of(
        user.client_certificate_data.as_deref(),
        user.client_certificate.as_deref(),
        "client-certificate",
    )?;
    let key = pem_of(
        user.client_key_data.as_ref().map(|s| s.expose_secret()),
        user.client_key.as_deref(),
        "client-key",
    )?;
    let (Some(cert), Some(key)) = (cert, key) else {
        return Ok(None);
    };
    let chain = CertificateDer::pem_slice_iter(&cert)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("client-certificate: {e}"))?;
    // The error of a bad key says what is wrong, never what the key holds.
    let key = PrivateKeyDer::from_pem_slice(&key).map_err(|e| format!("client-key: {e}"))?;
    Ok(Some((chain, key)))
}

fn pem_of(data: Option<&str>, file: Option<&str>, what: &str) -> Result<Option<Vec<u8>>, String> {
    if let Some(data) = data {
        return base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map(Some)
            .map_err(|e| format!("{what}-data: {e}"));
    }
    file.map(|f| std::fs::read(f).map_err(|e| format!("{what} {f}: {e}")))
        .transpose()
}

/// `insecure-skip-tls-verify: true`: the handshake still checks signatures, but not whom the
/// certificate names or who signed it, as client-go does.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system_bundle() -> Vec<Vec<u8>> {
        CertificateDer::pem_file_iter("/etc/ssl/certs/ca-certificates.crt")
            .unwrap()
            .take(2)
            .map(|c| c.unwrap().to_vec())
            .collect()
    }

    #[test]
    fn clusters_without_a_ca_share_the_system_roots() {
        let config = Config::new("https://127.0.0.1:6443".parse().unwrap());
        client_config(&config).unwrap();
        let a = system_verifier().unwrap();
        client_config(&config).unwrap();
        assert!(Arc::ptr_eq(&a, &system_verifier().unwrap()));
    }

    #[test]
    fn clusters_naming_the_same_ca_share_its_verifier_and_others_do_not() {
        let certs = system_bundle();
        let one = bundle_verifier(&certs[..1]).unwrap();
        assert!(Arc::ptr_eq(&one, &bundle_verifier(&certs[..1]).unwrap()));
        assert!(!Arc::ptr_eq(&one, &bundle_verifier(&certs[1..]).unwrap()));
        let bad = bundle_verifier(&[b"not a certificate".to_vec()]).unwrap_err();
        assert!(bad.starts_with("certificate-authority: "), "{bad}");
    }
}
