//! The JupyterHub REST client: active servers with their activity, and stopping a server.

use std::sync::Arc;

use http::Method;
use serde::Serialize;

use super::error::{HubApiError, hub_message};
use super::token::HubToken;
use super::transport::{Conn, HubPod, Reply, Transport};
use super::wire::{PAGINATION_MEDIA_TYPE, UsersReply};
use crate::fleet::{HubId, PendingAction, ServerActivity};

/// Users asked for per page (JupyterHub caps pages at its `api_page_max_limit`, 200 by
/// default, and says so in `_pagination.limit`).
const PAGE: u64 = 200;
/// Pages read at most in one listing, against a hub whose pagination never ends.
const MAX_PAGES: usize = 1000;

/// What became of a stop request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum StopOutcome {
    /// 202: the hub is stopping it (the spawner takes a while).
    Stopping,
    /// 204: it is stopped (or was not running).
    Stopped,
    /// 404: no such user or server.
    NotFound {
        /// The hub's message.
        message: String,
    },
    /// 400: the hub refuses now (a spawn or rename is pending, named servers disabled).
    Refused {
        /// The hub's message.
        message: String,
    },
}

/// Client of one hub's REST API. Cheap to clone.
#[derive(Clone)]
pub struct HubApiClient {
    /// Hub and endpoint, for error messages.
    at: Arc<str>,
    transport: Transport,
    token: HubToken,
}

impl std::fmt::Debug for HubApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubApiClient")
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

impl HubApiClient {
    /// Reaches the hub through a port-forward to its pod (found by labels at each connection,
    /// so a restarted hub is followed).
    pub fn port_forward(hub: &HubId, client: kube::Client, pod: HubPod, token: HubToken) -> Self {
        Self {
            at: format!("of {hub} (pod port {})", pod.port).into(),
            transport: Transport::PortForward { client, pod },
            token,
        }
    }

    /// Reaches the hub at its API URL, e.g. `https://hub.example.org/hub/api` (a trailing `/`
    /// is accepted).
    pub fn at_url(hub: &HubId, base: &str, token: HubToken) -> Result<Self, HubApiError> {
        let base = base.trim_end_matches('/').to_string();
        let at = format!(
            "of {hub} ({})",
            hubdeck_core::secrets::mask_url_credentials(&base)
        );
        let config = |cause: String| HubApiError::Config {
            at: at.clone(),
            cause,
        };
        let http = crate::http::client_for(&base).map_err(config)?;
        Ok(Self {
            at: at.into(),
            transport: Transport::Url { http, base },
            token,
        })
    }

    #[cfg(test)]
    pub(crate) fn over_tcp(hub: &HubId, addr: std::net::SocketAddr, token: HubToken) -> Self {
        Self {
            at: format!("of {hub} (tcp {addr})").into(),
            transport: Transport::Tcp {
                addr,
                api_prefix: "/hub/api".into(),
            },
            token,
        }
    }

    /// Which hub and endpoint this client talks to (for status lines).
    pub fn endpoint(&self) -> &str {
        &self.at
    }

    /// Every active server of the hub (running or in transition), following pagination.
    pub async fn servers(&self) -> Result<Vec<ServerActivity>, HubApiError> {
        let mut conn = self.transport.open(&self.at).await?;
        let mut out = Vec::new();
        let mut offset = 0;
        for _ in 0..MAX_PAGES {
            let path = format!("/users?state=active&offset={offset}&limit={PAGE}");
            let reply = self.exchange(&mut conn, Method::GET, &path).await?;
            let body = self.success(reply)?;
            let reply = UsersReply::parse(&body).map_err(|e| HubApiError::Decode {
                at: self.at.to_string(),
                cause: e.to_string(),
            })?;
            let (users, next) = match reply {
                UsersReply::Page(page) => (page.items, page.pagination.next.map(|n| n.offset)),
                // A hub without pagination sent everything at once.
                UsersReply::List(users) => (users, None),
            };
            for user in users {
                let name: Arc<str> = user.name.into();
                for (server_name, s) in user.servers {
                    if s.stopped {
                        continue;
                    }
                    out.push(ServerActivity {
                        user: name.clone(),
                        server: server_name.into(),
                        ready: s.ready,
                        pending: s.pending.as_deref().map(PendingAction::from_hub),
                        started: s.started,
                        last_activity: s.last_activity,
                    });
                }
            }
            match next {
                Some(n) if n > offset => offset = n,
                _ => return Ok(out),
            }
        }
        Ok(out)
    }

    /// Stops a user's server (`server` empty for the default one). Never removes the server
    /// record: a named server keeps its name and options for the user.
    pub async fn stop_server(&self, user: &str, server: &str) -> Result<StopOutcome, HubApiError> {
        let path = if server.is_empty() {
            format!("/users/{}/server", escape(user))
        } else {
            format!("/users/{}/servers/{}", escape(user), escape(server))
        };
        let mut conn = self.transport.open(&self.at).await?;
        let reply = self.exchange(&mut conn, Method::DELETE, &path).await?;
        match reply.status {
            202 => Ok(StopOutcome::Stopping),
            200 | 204 => Ok(StopOutcome::Stopped),
            404 => Ok(StopOutcome::NotFound {
                message: not_found_message(&reply.body, user, server),
            }),
            400 => Ok(StopOutcome::Refused {
                message: hub_message(&reply.body),
            }),
            _ => self.success(reply).map(|_| StopOutcome::Stopped),
        }
    }

    async fn exchange(
        &self,
        conn: &mut Conn,
        method: Method,
        path: &str,
    ) -> Result<Reply, HubApiError> {
        conn.send(&self.at, method, path, &self.token, PAGINATION_MEDIA_TYPE)
            .await
    }

    /// The body of a success, else the error the status means.
    fn success(&self, reply: Reply) -> Result<bytes::Bytes, HubApiError> {
        let at = self.at.to_string();
        let message = || hub_message(&reply.body);
        match reply.status {
            200..=299 => Ok(reply.body),
            401 => Err(HubApiError::Unauthorized {
                at,
                message: message(),
            }),
            // JupyterHub answers 403 both for a bad token and for a missing scope.
            403 if message().contains("credentials") => Err(HubApiError::Unauthorized {
                at,
                message: message(),
            }),
            403 => Err(HubApiError::Forbidden {
                at,
                message: message(),
            }),
            status => Err(HubApiError::Http {
                at,
                status,
                message: message(),
            }),
        }
    }
}

/// The hub's 404 for an unknown user has no message; name what was not found.
fn not_found_message(body: &[u8], user: &str, server: &str) -> String {
    let m = hub_message(body);
    if !m.is_empty() && m != "null" {
        return m;
    }
    if server.is_empty() {
        format!("no user {user}")
    } else {
        format!("no user {user} or no server {server}")
    }
}

/// Escapes a path segment: JupyterHub user names may hold `@`, `+`, spaces or non-ASCII.
pub(crate) fn escape(segment: &str) -> String {
    // `.` and `..` would be resolved as relative paths by any proxy on the way.
    if segment.bytes().all(|b| b == b'.') {
        return "%2E".repeat(segment.len());
    }
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_escaped_as_one_segment() {
        assert_eq!(escape("alice"), "alice");
        assert_eq!(escape("bob@example.org"), "bob%40example.org");
        assert_eq!(escape("a/b c+d"), "a%2Fb%20c%2Bd");
        assert_eq!(escape("zoë"), "zo%C3%AB");
        assert_eq!(escape(".."), "%2E%2E");
        assert_eq!(escape("a.b"), "a.b");
    }
}
