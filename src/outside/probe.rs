//! One request to a hub's health endpoint, and what its failure was: DNS, TLS, timeout or the
//! connection, told apart by the error types in the chain rather than by their messages.

use std::error::Error;
use std::time::Duration;

use hubdeck_core::fleet::Probe;
use tokio::time::Instant;

use super::network::DnsError;

/// What asking `https://<domain>/hub/health` got: the probe, the failure's cause, and the
/// time to the answer's status line.
pub async fn check(
    client: &reqwest::Client,
    domain: &str,
) -> (Probe, Option<String>, Option<Duration>) {
    let url = format!("https://{domain}/hub/health");
    let started = Instant::now();
    match client.get(&url).send().await {
        Ok(answer) => (
            Probe::Answered(answer.status().as_u16()),
            None,
            Some(started.elapsed()),
        ),
        Err(e) => {
            let (probe, detail) = classify(&e, started.elapsed());
            (probe, Some(detail), None)
        }
    }
}

/// The kind of failure and its cause in a few words.
fn classify(e: &reqwest::Error, took: Duration) -> (Probe, String) {
    if e.is_builder() {
        return (Probe::Dns, format!("not a host name: {}", innermost(e)));
    }
    for cause in chain(e) {
        if let Some(dns) = cause.downcast_ref::<DnsError>() {
            return (Probe::Dns, dns.0.clone());
        }
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return (Probe::Tls, tls.to_string());
        }
    }
    if e.is_timeout() {
        return (
            Probe::Timeout,
            format!("no answer within {}s", took.as_secs()),
        );
    }
    (Probe::Connect, innermost(e))
}

/// The error and its causes, looking inside `io::Error`s too: one wrapping another error
/// reports that error's source as its own, skipping the error itself, so the walk steps into
/// the wrapped one instead. A TLS failure arrives as rustls's error inside an `io::Error`
/// inside another (tokio-rustls's, then the connector's).
fn chain<'a>(e: &'a (dyn Error + 'static)) -> Vec<&'a (dyn Error + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(e);
    while let Some(cause) = next {
        out.push(cause);
        next = match cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn Error + 'static)),
            None => cause.source(),
        };
    }
    out
}

/// The deepest cause's message (`Connection refused (os error 111)`), which is what a person
/// needs; the outer layers only say a request was being sent.
fn innermost(e: &reqwest::Error) -> String {
    chain(e)
        .last()
        .map_or_else(|| e.to_string(), |c| c.to_string())
}
