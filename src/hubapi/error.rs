//! Errors of the JupyterHub API client, by the kind a caller branches on.

/// Why a hub API request failed. `at` names the hub and endpoint; tokens never appear.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubApiError {
    /// No answer: connection refused, timeout, port-forward failure.
    #[error("hub API {at}: unreachable: {cause}")]
    Unreachable {
        /// Hub and endpoint.
        at: String,
        /// The transport's error.
        cause: String,
    },
    /// The token is missing, wrong or revoked (JupyterHub answers 403 "Missing or invalid
    /// credentials", older versions 401).
    #[error("hub API {at}: token rejected: {message}")]
    Unauthorized {
        /// Hub and endpoint.
        at: String,
        /// The hub's message.
        message: String,
    },
    /// The token is valid but lacks a scope for this request.
    #[error("hub API {at}: not permitted: {message}")]
    Forbidden {
        /// Hub and endpoint.
        at: String,
        /// The hub's message, naming the scopes it requires.
        message: String,
    },
    /// No token could be found (not configured, variable unset, no key in the hub Secret).
    #[error("hub API {at}: no hub token: {why}")]
    NoToken {
        /// Hub.
        at: String,
        /// Where hubdeck looked.
        why: String,
    },
    /// Any other error status.
    #[error("hub API {at}: HTTP {status}: {message}")]
    Http {
        /// Hub and endpoint.
        at: String,
        /// HTTP status code.
        status: u16,
        /// The hub's message, or the start of the body.
        message: String,
    },
    /// An answer that is not the JSON the JupyterHub REST API sends.
    #[error("hub API {at}: unexpected response: {cause}")]
    Decode {
        /// Hub and endpoint.
        at: String,
        /// The decoder's error.
        cause: String,
    },
    /// A request that could not be built (bad base URL).
    #[error("hub API {at}: {cause}")]
    Config {
        /// Hub and endpoint.
        at: String,
        /// What is wrong.
        cause: String,
    },
}

impl HubApiError {
    /// Whether the token, rather than the hub, is the problem.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            Self::Unauthorized { .. } | Self::Forbidden { .. } | Self::NoToken { .. }
        )
    }
}

/// The `message` of a JupyterHub error body (`{"status": 404, "message": ...}`), else the body
/// itself shortened to one line.
pub(crate) fn hub_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: Option<String>,
    }
    if let Ok(ErrorBody { message: Some(m) }) = serde_json::from_slice::<ErrorBody>(body) {
        return m;
    }
    let text = String::from_utf8_lossy(body);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}
