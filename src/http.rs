//! The plain-HTTP client both Alertmanager and hub API URLs (from fleet.toml) are reached with.

use std::time::Duration;

/// What hubdeck calls itself on every request (Kubernetes, Alertmanager, hub API), so an API
/// server's audit log can tell it from kubectl and the rest.
pub const USER_AGENT: &str = concat!("hubdeck/", env!("CARGO_PKG_VERSION"));

/// Checks that `base` is an http(s) URL and builds the client for it; the error is one line.
pub fn client_for(base: &str) -> Result<reqwest::Client, String> {
    let url = reqwest::Url::parse(base).map_err(|e| format!("bad URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("bad URL: scheme {} is not http(s)", url.scheme()));
    }
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())
}

/// Sends a request and reads the whole answer: status and body, or the error on one line.
pub async fn send(req: reqwest::RequestBuilder) -> Result<(u16, bytes::Bytes), String> {
    let res = req.send().await.map_err(|e| crate::errors::one_line(&e))?;
    let status = res.status().as_u16();
    let body = res.bytes().await.map_err(|e| crate::errors::one_line(&e))?;
    Ok((status, body))
}
