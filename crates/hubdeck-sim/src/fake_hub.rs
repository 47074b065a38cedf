//! A fake JupyterHub REST API for the demo fleet: `GET /hub/api/users` (state filters, sorting,
//! pagination by `Accept` media type), `GET /hub/api/users/{name}` and stopping servers, with
//! the real hub's token check, status codes and JSON (the sim's own
//! [`wire::jupyterhub`](super::wire) types, written from `rest-api.yml` and what JupyterHub 6
//! sends). The sim serves it behind the hub pod's port-forward; a [`FakeHub`] handle lets
//! scenarios move users around. The URL and paging rules live in `hub_paging`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use jiff::Timestamp;
use serde_json::json;

use super::hub_paging::{self, Listing};
use super::wire::jupyterhub::{ApiError, Server, User};

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

/// A user as the hub's database keeps it.
#[derive(Debug, Clone)]
pub(crate) struct UserRecord {
    /// Creation order: the hub's default sort key.
    pub id: u64,
    pub created: Timestamp,
    pub last_activity: Option<Timestamp>,
    /// Active servers (running or in transition) by name.
    pub servers: BTreeMap<String, FakeServer>,
    /// Servers stopped since they ran, by name, with their last activity: the hub keeps their
    /// records, so stopping one again is a 204 and `include_stopped_servers` lists them.
    pub stopped: BTreeMap<String, Timestamp>,
}

impl UserRecord {
    fn touch(&mut self, when: Timestamp) {
        self.last_activity = Some(self.last_activity.map_or(when, |t| t.max(when)));
    }
}

struct HubState {
    token: String,
    users: BTreeMap<String, UserRecord>,
    next_id: u64,
    /// `api_page_max_limit`.
    page_limit: usize,
    /// Called with (user, server) after the API stopped a server.
    on_stop: Option<StopHook>,
}

impl HubState {
    fn user(&mut self, name: &str) -> &mut UserRecord {
        let next_id = &mut self.next_id;
        self.users.entry(name.to_string()).or_insert_with(|| {
            *next_id += 1;
            UserRecord {
                id: *next_id,
                created: Timestamp::now(),
                last_activity: None,
                servers: BTreeMap::new(),
                stopped: BTreeMap::new(),
            }
        })
    }

    /// Stops a running server, keeping its record as the hub does (`started` cleared,
    /// activity set to the stop).
    fn stop(&mut self, user: &str, server: &str) -> bool {
        let Some(u) = self.users.get_mut(user) else {
            return false;
        };
        if u.servers.remove(server).is_none() {
            return false;
        }
        let now = Timestamp::now();
        u.stopped.insert(server.to_string(), now);
        u.touch(now);
        true
    }
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
                next_id: 0,
                page_limit: hub_paging::MAX_LIMIT,
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
        self.lock().user(user);
    }

    /// Starts (or replaces) a server, creating its user.
    pub fn add_server(&self, s: FakeServer) {
        let mut st = self.lock();
        let u = st.user(&s.user);
        u.touch(s.last_activity);
        u.stopped.remove(&s.server);
        u.servers.insert(s.server.clone(), s);
    }

    /// Records activity on a server; false when it is not running.
    pub fn touch(&self, user: &str, server: &str, when: Timestamp) -> bool {
        let mut st = self.lock();
        let Some(u) = st.users.get_mut(user) else {
            return false;
        };
        let Some(s) = u.servers.get_mut(server) else {
            return false;
        };
        s.last_activity = when;
        u.touch(when);
        true
    }

    /// Sets a server's pending action (`spawn`, `stop`) or clears it.
    pub fn set_pending(&self, user: &str, server: &str, pending: Option<&str>) -> bool {
        let mut st = self.lock();
        match st
            .users
            .get_mut(user)
            .and_then(|u| u.servers.get_mut(server))
        {
            Some(s) => {
                s.pending = pending.map(str::to_string);
                true
            }
            None => false,
        }
    }

    /// Stops a server as a culler would; false when it was not running.
    pub fn stop(&self, user: &str, server: &str) -> bool {
        self.lock().stop(user, server)
    }

    /// The running servers, by user then server name.
    pub fn servers(&self) -> Vec<FakeServer> {
        let st = self.lock();
        st.users
            .values()
            .flat_map(|u| u.servers.values().cloned())
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

    /// Sets the largest page the hub serves (JupyterHub's `api_page_max_limit`); the default
    /// page (`api_page_default_limit`, 50) shrinks with it.
    pub fn set_page_limit(&self, limit: usize) {
        self.lock().page_limit = limit.max(1);
    }
}

/// JupyterHub's error body; the message is null where the hub's handler gave none.
fn error(status: StatusCode, message: impl Into<Option<String>>) -> Response {
    let body = ApiError {
        status: status.as_u16(),
        message: message.into(),
    };
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

/// The user model a token with `read:users` and `read:servers` sees.
pub(crate) fn user_model(name: &str, u: &UserRecord, include_stopped: bool) -> User {
    let url = hub_paging::user_url(name);
    let default = u.servers.get("");
    let mut servers: BTreeMap<String, Server> = u
        .servers
        .iter()
        .map(|(server, s)| {
            let model = server_model(name, server, s.pending.clone(), Some(s.started));
            let model = Server {
                last_activity: Some(s.last_activity),
                ..model
            };
            (server.clone(), model)
        })
        .collect();
    if include_stopped {
        for (server, last) in &u.stopped {
            let model = Server {
                ready: false,
                stopped: true,
                last_activity: Some(*last),
                ..server_model(name, server, None, None)
            };
            servers.insert(server.clone(), model);
        }
    }
    User {
        kind: "user".into(),
        name: name.to_string(),
        admin: false,
        roles: vec!["user".into()],
        groups: Vec::new(),
        server: default.filter(|s| s.pending.is_none()).map(|_| url),
        pending: default.and_then(|s| s.pending.clone()),
        created: Some(u.created),
        last_activity: u.last_activity,
        servers,
        user_info: None,
    }
}

fn server_model(
    user: &str,
    server: &str,
    pending: Option<String>,
    started: Option<Timestamp>,
) -> Server {
    Server {
        name: server.to_string(),
        display_name: server.to_string(),
        full_name: format!("{user}/{server}"),
        ready: pending.is_none(),
        pending,
        stopped: false,
        url: hub_paging::server_url(user, server),
        progress_url: hub_paging::progress_url(user, server),
        full_url: None,
        full_progress_url: None,
        started,
        last_activity: None,
        user_options: serde_json::Map::new(),
    }
}

async fn version() -> Json<serde_json::Value> {
    Json(json!({ "version": "6.1.1" }))
}

async fn list_users(
    State(hub): State<FakeHub>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if !authorized(&hub, &headers) {
        return denied();
    }
    let st = hub.lock();
    let listing = match Listing::parse(&query, &headers, st.page_limit) {
        Ok(listing) => listing,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let page = listing.page(&st.users);
    if !listing.paginated {
        return Json(page.items).into_response();
    }
    Json(listing.paginated_model(page, &headers, &uri)).into_response()
}

async fn get_user(
    State(hub): State<FakeHub>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if !authorized(&hub, &headers) {
        return denied();
    }
    let include_stopped = hub_paging::include_stopped(&query);
    let st = hub.lock();
    match st.users.get(&name) {
        Some(u) => Json(user_model(&name, u, include_stopped)).into_response(),
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

/// JupyterHub's `DELETE` server semantics: 404 for an unknown user or a named server that
/// never ran, 202 when a stop is already pending, 204 when a running or spawning server
/// stops, and 204 again for a server that is already stopped.
fn stop(hub: &FakeHub, headers: &HeaderMap, user: &str, server: &str) -> Response {
    if !authorized(hub, headers) {
        return denied();
    }
    let mut st = hub.lock();
    let Some(u) = st.users.get(user) else {
        return error(StatusCode::NOT_FOUND, None);
    };
    let known = server.is_empty() || u.stopped.contains_key(server);
    match u.servers.get(server).map(|s| s.pending.as_deref()) {
        None if known => StatusCode::NO_CONTENT.into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            format!("{user} has no server named '{server}'"),
        ),
        Some(Some("stop")) => StatusCode::ACCEPTED.into_response(),
        Some(_) => {
            st.stop(user, server);
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
