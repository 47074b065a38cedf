//! A fake JupyterHub REST API for the demo fleet: the subset hubdeck's `hubapi` client uses
//! (`GET /hub/api/users` paginated, `GET /hub/api/users/{name}`, stopping servers), with the
//! real hub's token check, status codes and JSON shapes. The sim serves it behind the hub
//! pod's port-forward; a [`FakeHub`] handle lets scenarios move users around. Tested with
//! the real client in `hubapi/tests.rs`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use crate::hubapi::wire::{NextPage, PAGINATION_MEDIA_TYPE, Pagination, Server, User, UserPage};

/// One user server the fake hub knows about.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeServer {
    /// User name.
    pub user: String,
    /// Server name, "" for the default one.
    pub server: String,
    /// When it started.
    pub started: Timestamp,
    /// Last activity.
    pub last_activity: Timestamp,
    /// `spawn` or `stop` while in transition.
    pub pending: Option<String>,
}

impl FakeServer {
    /// A ready server.
    pub fn ready(
        user: impl Into<String>,
        server: impl Into<String>,
        started: Timestamp,
        last_activity: Timestamp,
    ) -> Self {
        Self {
            user: user.into(),
            server: server.into(),
            started,
            last_activity,
            pending: None,
        }
    }
}

/// What the spawner does when the API stops a server (the sim deletes the pod, as KubeSpawner).
type StopHook = Arc<dyn Fn(&str, &str) + Send + Sync>;

struct HubState {
    token: String,
    /// Users, each with their active servers by name.
    users: BTreeMap<String, BTreeMap<String, FakeServer>>,
    /// `api_page_max_limit`.
    page_limit: usize,
    /// Called with (user, server) after the API stopped a server.
    on_stop: Option<StopHook>,
}

impl std::fmt::Debug for HubState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubState")
            .field("users", &self.users.len())
            .field("page_limit", &self.page_limit)
            .finish_non_exhaustive()
    }
}

/// Handle on a fake hub: build the router once, mutate the state from scenarios.
#[derive(Debug, Clone)]
pub struct FakeHub {
    state: Arc<Mutex<HubState>>,
}

impl FakeHub {
    /// A hub accepting `token`, with these running servers (their users are created).
    pub fn new(token: impl Into<String>, servers: impl IntoIterator<Item = FakeServer>) -> Self {
        let hub = Self {
            state: Arc::new(Mutex::new(HubState {
                token: token.into(),
                users: BTreeMap::new(),
                page_limit: 200,
                on_stop: None,
            })),
        };
        for s in servers {
            hub.add_server(s);
        }
        hub
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The REST API, rooted at `/hub/api` like the hub pod's port 8081.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/hub/api/", get(version))
            .route("/hub/api/users", get(list_users))
            .route("/hub/api/users/{name}", get(get_user))
            .route("/hub/api/users/{name}/server", delete(stop_default))
            .route("/hub/api/users/{name}/servers/{server}", delete(stop_named))
            .with_state(self.clone())
    }

    /// Creates a user without a server.
    pub fn add_user(&self, user: &str) {
        self.lock().users.entry(user.to_string()).or_default();
    }

    /// Starts (or replaces) a server, creating its user.
    pub fn add_server(&self, s: FakeServer) {
        let mut st = self.lock();
        let servers = st.users.entry(s.user.clone()).or_default();
        servers.insert(s.server.clone(), s);
    }

    /// Records activity on a server; false when it is not running.
    pub fn touch(&self, user: &str, server: &str, when: Timestamp) -> bool {
        let mut st = self.lock();
        match st.users.get_mut(user).and_then(|u| u.get_mut(server)) {
            Some(s) => {
                s.last_activity = when;
                true
            }
            None => false,
        }
    }

    /// Sets a server's pending action (`spawn`, `stop`) or clears it.
    pub fn set_pending(&self, user: &str, server: &str, pending: Option<&str>) -> bool {
        let mut st = self.lock();
        match st.users.get_mut(user).and_then(|u| u.get_mut(server)) {
            Some(s) => {
                s.pending = pending.map(str::to_string);
                true
            }
            None => false,
        }
    }

    /// Stops a server as a culler would; false when it was not running.
    pub fn stop(&self, user: &str, server: &str) -> bool {
        let mut st = self.lock();
        st.users
            .get_mut(user)
            .is_some_and(|u| u.remove(server).is_some())
    }

    /// The running servers, by user then server name.
    pub fn servers(&self) -> Vec<FakeServer> {
        let st = self.lock();
        st.users
            .values()
            .flat_map(|u| u.values().cloned())
            .collect()
    }

    /// Replaces the accepted API token (the hub Secret changed).
    pub fn set_token(&self, token: impl Into<String>) {
        self.lock().token = token.into();
    }

    /// Runs `hook(user, server)` whenever the REST API stops a server, as the spawner would
    /// (the sim deletes the user pod). Not called by [`FakeHub::stop`].
    pub fn on_stop(&self, hook: impl Fn(&str, &str) + Send + Sync + 'static) {
        self.lock().on_stop = Some(Arc::new(hook));
    }

    /// Sets the largest page the hub serves (JupyterHub's `api_page_max_limit`).
    pub fn set_page_limit(&self, limit: usize) {
        self.lock().page_limit = limit.max(1);
    }
}

/// JupyterHub's error body.
fn error(status: StatusCode, message: impl Into<Option<String>>) -> Response {
    let body = json!({ "status": status.as_u16(), "message": message.into() });
    (status, Json(body)).into_response()
}

/// The token check of every API route: `Authorization: token T` or `Bearer T`.
fn authorized(hub: &FakeHub, headers: &HeaderMap) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("token ")
                .or_else(|| v.strip_prefix("Bearer "))
        });
    given.is_some_and(|t| t == hub.lock().token)
}

/// What the real hub answers a missing or wrong token.
fn denied() -> Response {
    error(
        StatusCode::FORBIDDEN,
        "Missing or invalid credentials.".to_string(),
    )
}

fn user_model(name: &str, servers: &BTreeMap<String, FakeServer>) -> User {
    User {
        name: name.to_string(),
        admin: false,
        last_activity: servers.values().map(|s| s.last_activity).max(),
        servers: servers
            .iter()
            .map(|(server_name, s)| {
                let url = if server_name.is_empty() {
                    format!("/user/{name}/")
                } else {
                    format!("/user/{name}/{server_name}/")
                };
                let model = Server {
                    name: server_name.clone(),
                    ready: s.pending.is_none(),
                    pending: s.pending.clone(),
                    stopped: false,
                    started: Some(s.started),
                    last_activity: Some(s.last_activity),
                    url: Some(url),
                };
                (server_name.clone(), model)
            })
            .collect(),
    }
}

async fn version() -> Json<serde_json::Value> {
    Json(json!({ "version": "5.2.1" }))
}

#[derive(Deserialize)]
struct ListQuery {
    state: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
}

async fn list_users(
    State(hub): State<FakeHub>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    if !authorized(&hub, &headers) {
        return denied();
    }
    let st = hub.lock();
    let active_only = match q.state.as_deref() {
        None | Some("") => false,
        Some("active") => true,
        Some(other) => {
            let msg = format!("Unrecognized state filter: {other:?}");
            return error(StatusCode::BAD_REQUEST, msg);
        }
    };
    let users: Vec<User> = st
        .users
        .iter()
        .filter(|(_, servers)| !active_only || !servers.is_empty())
        .map(|(name, servers)| user_model(name, servers))
        .collect();
    let paginated = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(PAGINATION_MEDIA_TYPE));
    let total = users.len();
    let offset = q.offset.unwrap_or(0);
    let limit = q.limit.unwrap_or(st.page_limit).clamp(1, st.page_limit);
    let items: Vec<User> = users.into_iter().skip(offset).take(limit).collect();
    if !paginated {
        return Json(items).into_response();
    }
    let next = (offset + limit < total).then(|| {
        let next_offset = offset + limit;
        NextPage {
            offset: next_offset as u64,
            limit: limit as u64,
            url: format!(
                "http://hub:8081/hub/api/users?state={}&offset={next_offset}&limit={limit}",
                q.state.as_deref().unwrap_or("")
            ),
        }
    });
    let page = UserPage {
        items,
        pagination: Pagination {
            offset: offset as u64,
            limit: limit as u64,
            total: total as u64,
            next,
        },
    };
    Json(page).into_response()
}

async fn get_user(
    State(hub): State<FakeHub>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    if !authorized(&hub, &headers) {
        return denied();
    }
    let st = hub.lock();
    match st.users.get(&name) {
        Some(servers) => Json(user_model(&name, servers)).into_response(),
        None => error(StatusCode::NOT_FOUND, None),
    }
}

async fn stop_default(
    State(hub): State<FakeHub>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    stop(&hub, &headers, &name, "")
}

async fn stop_named(
    State(hub): State<FakeHub>,
    headers: HeaderMap,
    Path((name, server)): Path<(String, String)>,
) -> Response {
    stop(&hub, &headers, &name, &server)
}

/// JupyterHub's `DELETE` server semantics: 404 for an unknown user or named server, 202 when
/// a stop is already pending, an interrupted spawn or a running server stops (204), and a
/// stopped default server is "stopped" again (204).
fn stop(hub: &FakeHub, headers: &HeaderMap, user: &str, server: &str) -> Response {
    if !authorized(hub, headers) {
        return denied();
    }
    let mut st = hub.lock();
    let Some(servers) = st.users.get_mut(user) else {
        return error(StatusCode::NOT_FOUND, None);
    };
    match servers.get(server).map(|s| s.pending.as_deref()) {
        None if server.is_empty() => StatusCode::NO_CONTENT.into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            format!("{user} has no server named '{server}'"),
        ),
        Some(Some("stop")) => StatusCode::ACCEPTED.into_response(),
        Some(_) => {
            servers.remove(server);
            let hook = st.on_stop.clone();
            // The hook takes the sim's locks: never call it with the hub's lock held.
            drop(st);
            if let Some(hook) = hook {
                hook(user, server);
            }
            StatusCode::NO_CONTENT.into_response()
        }
    }
}
