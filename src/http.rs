//! The plain-HTTP client both Alertmanager and hub API URLs (from fleet.toml) are reached with.

use std::time::Duration;

/// Checks that `base` is an http(s) URL and builds the client for it; the error is one line.
pub fn client_for(base: &str) -> Result<reqwest::Client, String> {
    let url = reqwest::Url::parse(base).map_err(|e| format!("bad URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("bad URL: scheme {} is not http(s)", url.scheme()));
    }
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())
}
