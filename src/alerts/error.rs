//! Errors of the Alertmanager client, by the kind a caller branches on.

/// Why an Alertmanager request failed. `at` names the cluster and endpoint, so the one-line
/// Display is enough for a status line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertsError {
    /// No answer: connection refused, timeout, TLS or API-server transport failure.
    #[error("alertmanager {at}: unreachable: {cause}")]
    Unreachable {
        /// Cluster and endpoint.
        at: String,
        /// The transport's error.
        cause: String,
    },
    /// An answer with an error status (from Alertmanager or from the API server's proxy).
    #[error("alertmanager {at}: HTTP {status}: {body}")]
    Http {
        /// Cluster and endpoint.
        at: String,
        /// HTTP status code.
        status: u16,
        /// Start of the response body, on one line.
        body: String,
    },
    /// The silence to expire does not exist.
    #[error("alertmanager {at}: no silence {id}")]
    SilenceNotFound {
        /// Cluster and endpoint.
        at: String,
        /// The silence id asked for.
        id: String,
    },
    /// An answer that is not the JSON Alertmanager v2 sends.
    #[error("alertmanager {at}: unexpected response: {cause}")]
    Decode {
        /// Cluster and endpoint.
        at: String,
        /// The decoder's error.
        cause: String,
    },
    /// A request that could not be built (bad base URL, bad service reference).
    #[error("alertmanager {at}: {cause}")]
    Config {
        /// Cluster and endpoint.
        at: String,
        /// What is wrong.
        cause: String,
    },
}

impl AlertsError {
    /// Whether the Alertmanager (or the path to it) did not answer at all.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable { .. })
    }
}

/// Shortens a response body to one line for error messages.
pub(crate) fn one_line(body: &str) -> String {
    const MAX: usize = 200;
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}
