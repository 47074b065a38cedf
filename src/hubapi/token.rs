//! The hub API token: where it comes from, and a wrapper that keeps it out of logs.

use std::fmt;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::ListParams;

use super::error::HubApiError;
use crate::fleet::HubId;

/// A JupyterHub API token. Its `Debug` is redacted and it has no `Display` or `Serialize`, so
/// it cannot end up in a log line, an error or JSON output by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct HubToken(String);

impl HubToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for HubToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HubToken(<redacted>)")
    }
}

/// The service name hubdeck's token is looked up under first in the hub Secret.
pub const PREFERRED_SERVICE: &str = "hubdeck";

/// Where a hub's API token comes from.
#[derive(Clone)]
pub enum TokenSource {
    /// Given directly (fleet.toml).
    Value(HubToken),
    /// An environment variable.
    Env(String),
    /// A `hub.services.<name>.apiToken` key of the hub's Secret (z2jh writes one per
    /// configured service): `hubdeck` if present, else the first by name.
    HubSecret(kube::Client),
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(_) => f.write_str("TokenSource::Value(<redacted>)"),
            Self::Env(var) => write!(f, "TokenSource::Env({var})"),
            Self::HubSecret(_) => f.write_str("TokenSource::HubSecret"),
        }
    }
}

impl TokenSource {
    /// Finds the token for `hub`. `NoToken` when there is none; other errors when the Secret
    /// could not be read.
    pub async fn resolve(&self, hub: &HubId) -> Result<HubToken, HubApiError> {
        let no_token = |why: String| HubApiError::NoToken {
            at: hub.to_string(),
            why,
        };
        match self {
            Self::Value(t) if t.expose().is_empty() => Err(no_token("empty token".into())),
            Self::Value(t) => Ok(t.clone()),
            Self::Env(var) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(HubToken::new(v.trim())),
                _ => Err(no_token(format!("${var} is not set"))),
            },
            Self::HubSecret(client) => from_hub_secret(client, hub).await,
        }
    }
}

/// Reads the token from the hub Secret, found by z2jh's labels (`component=hub,release=R`;
/// by the default name `hub` when listing Secrets is not allowed).
async fn from_hub_secret(client: &kube::Client, hub: &HubId) -> Result<HubToken, HubApiError> {
    let at = hub.to_string();
    let api: Api<Secret> = Api::namespaced(client.clone(), &hub.key.namespace);
    let selector = format!("component=hub,release={}", hub.key.release);
    let secrets = match api.list(&ListParams::default().labels(&selector)).await {
        Ok(list) => list.items,
        Err(kube::Error::Api(s)) if s.code == 403 => match api.get_opt("hub").await {
            Ok(found) => found.into_iter().collect(),
            Err(e) => return Err(secret_error(&at, e)),
        },
        Err(e) => return Err(secret_error(&at, e)),
    };
    pick_token(&secrets).ok_or_else(|| HubApiError::NoToken {
        at,
        why: format!(
            "no hub.services.<name>.apiToken key in the hub Secret ({selector}) of namespace {}",
            hub.key.namespace
        ),
    })
}

/// The `hubdeck` service's token if a Secret has one, else the first service token by name.
fn pick_token(secrets: &[Secret]) -> Option<HubToken> {
    let mut found: Vec<(bool, &str, &[u8])> = Vec::new();
    for secret in secrets {
        for (key, value) in secret.data.iter().flatten() {
            let Some(service) = key
                .strip_prefix("hub.services.")
                .and_then(|k| k.strip_suffix(".apiToken"))
            else {
                continue;
            };
            found.push((service != PREFERRED_SERVICE, service, &value.0));
        }
    }
    found.sort();
    let (_, _, bytes) = found.into_iter().find(|(_, _, b)| !b.is_empty())?;
    let token = std::str::from_utf8(bytes).ok()?.trim();
    (!token.is_empty()).then(|| HubToken::new(token))
}

fn secret_error(at: &str, e: kube::Error) -> HubApiError {
    match e {
        kube::Error::Api(s) if s.code == 403 => HubApiError::NoToken {
            at: at.to_string(),
            why: format!("may not read the hub Secret: {}", s.message),
        },
        kube::Error::Api(s) => HubApiError::Http {
            at: at.to_string(),
            status: s.code,
            message: s.message.clone(),
        },
        other => HubApiError::Unreachable {
            at: at.to_string(),
            cause: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(keys: &[(&str, &str)]) -> Secret {
        let data: serde_json::Map<String, serde_json::Value> = keys
            .iter()
            .map(|(k, v)| {
                let b64 = serde_json::to_value(k8s_openapi::ByteString(v.as_bytes().to_vec()));
                (k.to_string(), b64.unwrap())
            })
            .collect();
        serde_json::from_value(serde_json::json!({"metadata": {"name": "hub"}, "data": data}))
            .unwrap()
    }

    #[test]
    fn hubdeck_service_token_is_preferred() {
        let s = secret(&[
            ("values.yaml", "x"),
            ("hub.services.binder.apiToken", "binder-token"),
            ("hub.services.hubdeck.apiToken", "hubdeck-token"),
        ]);
        assert_eq!(pick_token(&[s]).unwrap().expose(), "hubdeck-token");
    }

    #[test]
    fn any_service_token_is_used_otherwise() {
        let s = secret(&[
            ("hub.services.zeta.apiToken", "z"),
            ("hub.services.alpha.apiToken", "a"),
            ("hub.config.JupyterHub.cookie_secret", "c"),
        ]);
        assert_eq!(pick_token(&[s]).unwrap().expose(), "a");
        assert!(pick_token(&[secret(&[("values.yaml", "x")])]).is_none());
    }

    #[test]
    fn token_never_shows_in_debug() {
        let t = HubToken::new("s3cr3t-value");
        assert!(!format!("{t:?}").contains("s3cr3t"));
        let src = TokenSource::Value(t);
        assert!(!format!("{src:?}").contains("s3cr3t"));
    }
}
