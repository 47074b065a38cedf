//! JupyterHub's REST API JSON: the `User`, `Server` and `Pagination` schemas of
//! `rest-api.yml`, with the fields a JupyterHub 6 hub writes for a token that may read users
//! and servers (`created`, `display_name`, `full_name`, `user_info` are sent though the spec
//! leaves some of them out). Times are written as the hub's `isoformat` writes them: UTC with
//! `Z`, microseconds, and no fraction at all when it is zero.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The `Accept` media type that asks a list endpoint for pages (JupyterHub ≥ 2.0).
pub const PAGINATION_MEDIA_TYPE: &str = "application/jupyterhub-pagination+json";

/// The user model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Always `"user"`.
    pub kind: String,
    /// User name.
    pub name: String,
    /// Whether the user is an admin.
    pub admin: bool,
    /// Names of the user's roles.
    pub roles: Vec<String>,
    /// Names of the user's groups.
    pub groups: Vec<String>,
    /// URL path of the default server while it runs, else null.
    pub server: Option<String>,
    /// The default server's pending action (`spawn`, `stop`), else null.
    pub pending: Option<String>,
    /// When the user was created.
    #[serde(with = "py_time")]
    pub created: Option<Timestamp>,
    /// Last activity of the user, null if never active.
    #[serde(with = "py_time")]
    pub last_activity: Option<Timestamp>,
    /// Active servers by name (`""` for the default one); stopped ones only on request.
    pub servers: BTreeMap<String, Server>,
    /// Profile information from the authenticator (JupyterHub 6), null when none.
    pub user_info: Option<serde_json::Value>,
}

/// The server model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Server {
    /// Server name, `""` for the default one.
    pub name: String,
    /// Display name (JupyterHub 6); the name when none was given.
    pub display_name: String,
    /// `user/name`.
    pub full_name: String,
    /// Ready for traffic; always false while an action is pending.
    pub ready: bool,
    /// `spawn` or `stop` while in transition, else null.
    pub pending: Option<String>,
    /// Stopped; only listed so with `include_stopped_servers`.
    pub stopped: bool,
    /// URL path of the server (`/user/<name>/<server>/`).
    pub url: String,
    /// URL path of the spawn progress event stream.
    pub progress_url: String,
    /// Full URL, null unless the hub knows its public URL.
    pub full_url: Option<String>,
    /// Full progress URL, null unless the hub knows its public URL.
    pub full_progress_url: Option<String>,
    /// When it was last started.
    #[serde(with = "py_time")]
    pub started: Option<Timestamp>,
    /// Last activity the hub recorded.
    #[serde(with = "py_time")]
    pub last_activity: Option<Timestamp>,
    /// Options the user spawned it with.
    pub user_options: serde_json::Map<String, serde_json::Value>,
}

/// `PaginatedList` of users: one page of `GET /users` with the pagination media type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserPage {
    /// The users of this page.
    pub items: Vec<User>,
    /// Where this page is.
    #[serde(rename = "_pagination")]
    pub pagination: Pagination,
}

/// `Pagination`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pagination {
    /// Offset of this page.
    pub offset: u64,
    /// The page size the hub applied (after capping at its maximum).
    pub limit: u64,
    /// Results of the whole query.
    pub total: u64,
    /// The next page; null on the last one (always written).
    pub next: Option<NextPage>,
}

/// `Pagination.next`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextPage {
    /// Its offset.
    pub offset: u64,
    /// Its size, the same as this page's.
    pub limit: u64,
    /// The full URL of the next page, this request's with `offset` and `limit` replaced.
    pub url: String,
}

/// The body of every API error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// The HTTP status again.
    pub status: u16,
    /// What went wrong; JupyterHub 6 writes null when the handler gave no message.
    pub message: Option<String>,
}

/// Python's `datetime.isoformat()` plus `Z`, as `jupyterhub.utils.isoformat` writes times:
/// microsecond precision, the fraction left out when it is zero. Any RFC 3339 time is read.
mod py_time {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            None => s.serialize_none(),
            Some(t) if t.subsec_microsecond() == 0 => s.collect_str(&format_args!("{t:.0}")),
            Some(t) => s.collect_str(&format_args!("{t:.6}")),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        Option::<Timestamp>::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(started: Option<Timestamp>) -> Server {
        Server {
            name: String::new(),
            display_name: String::new(),
            full_name: "ada/".into(),
            ready: true,
            pending: None,
            stopped: false,
            url: "/user/ada/".into(),
            progress_url: "/hub/api/users/ada/server/progress".into(),
            full_url: None,
            full_progress_url: None,
            started,
            last_activity: None,
            user_options: serde_json::Map::new(),
        }
    }

    #[test]
    fn times_are_written_as_python_isoformat() {
        let t = |s: &str| Some(s.parse::<Timestamp>().unwrap());
        let v = serde_json::to_value(server(t("2024-05-01T10:00:00.123456789Z"))).unwrap();
        assert_eq!(v["started"], "2024-05-01T10:00:00.123456Z");
        let v = serde_json::to_value(server(t("2024-05-01T10:00:00Z"))).unwrap();
        assert_eq!(v["started"], "2024-05-01T10:00:00Z");
        assert!(v["last_activity"].is_null());
        assert!(v["full_url"].is_null());
        assert_eq!(v["user_options"], serde_json::json!({}));
    }

    #[test]
    fn the_last_page_says_next_null() {
        let p = Pagination {
            offset: 0,
            limit: 50,
            total: 3,
            next: None,
        };
        let v = serde_json::to_value(p).unwrap();
        assert!(v.get("next").is_some_and(serde_json::Value::is_null));
    }
}
