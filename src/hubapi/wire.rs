//! The JupyterHub REST API JSON shapes hubdeck reads (user model, server model, paginated
//! list). The demo fleet's fake hub (`hubdeck-sim`) has its own, written from the REST API's
//! document, so a mistake here is not mirrored there.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

/// The `Accept` type asking `GET /users` for a paginated answer (JupyterHub ≥ 2.0).
pub const PAGINATION_MEDIA_TYPE: &str = "application/jupyterhub-pagination+json";

/// A user model, reduced to what hubdeck uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// User name.
    pub name: String,
    /// Admin flag.
    #[serde(default)]
    pub admin: bool,
    /// Last activity of any of the user's servers.
    #[serde(default, deserialize_with = "lenient_timestamp")]
    pub last_activity: Option<Timestamp>,
    /// Servers by name (`""` for the default one); present when the token may read servers.
    #[serde(default)]
    pub servers: BTreeMap<String, Server>,
}

/// A server model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Server {
    /// Server name, `""` for the default one.
    #[serde(default)]
    pub name: String,
    /// The hub has seen it answer.
    #[serde(default)]
    pub ready: bool,
    /// `spawn` or `stop` while in transition.
    #[serde(default)]
    pub pending: Option<String>,
    /// Whether it is stopped (JupyterHub ≥ 3 lists stopped named servers on request).
    #[serde(default)]
    pub stopped: bool,
    /// When it was started.
    #[serde(default, deserialize_with = "lenient_timestamp")]
    pub started: Option<Timestamp>,
    /// Last activity the hub recorded.
    #[serde(default, deserialize_with = "lenient_timestamp")]
    pub last_activity: Option<Timestamp>,
    /// Its URL path (`/user/<name>/`).
    #[serde(default)]
    pub url: Option<String>,
}

/// A page of `GET /users` with the pagination media type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserPage {
    /// The users of this page.
    pub items: Vec<User>,
    /// Where the page is.
    #[serde(rename = "_pagination")]
    pub pagination: Pagination,
}

/// `_pagination` of a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pagination {
    /// Offset of this page.
    pub offset: u64,
    /// Page size.
    pub limit: u64,
    /// Number of matching items.
    pub total: u64,
    /// The next page, if any.
    pub next: Option<NextPage>,
}

/// `_pagination.next`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextPage {
    /// Offset of the next page.
    pub offset: u64,
    /// Its size.
    pub limit: u64,
    /// Its URL (as the hub sees itself; hubdeck uses offset and limit instead).
    pub url: String,
}

/// `GET /users` answers: a page, or a plain list from hubs without pagination.
#[derive(Debug)]
pub(crate) enum UsersReply {
    Page(UserPage),
    List(Vec<User>),
}

impl UsersReply {
    /// Parses either shape, told apart by the first byte: an untagged enum would first copy
    /// the whole page into serde's buffer to try each shape in turn.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, serde_json::Error> {
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'[') => serde_json::from_slice(body).map(Self::List),
            _ => serde_json::from_slice(body).map(Self::Page),
        }
    }
}

/// JupyterHub writes ISO 8601 with `Z`; very old hubs wrote naive UTC times. Accept both, and
/// treat anything unparsable as unknown rather than failing the whole list.
fn lenient_timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let Some(s) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(Some(t));
    }
    Ok(s.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naive_and_zoned_times_both_parse() {
        let s: Server = serde_json::from_value(serde_json::json!({
            "name": "", "ready": true,
            "started": "2024-05-01T10:00:00.123456Z",
            "last_activity": "2024-05-01T11:00:00.000000",
        }))
        .unwrap();
        assert_eq!(
            s.started.unwrap().to_string(),
            "2024-05-01T10:00:00.123456Z"
        );
        assert_eq!(s.last_activity.unwrap().to_string(), "2024-05-01T11:00:00Z");
    }

    #[test]
    fn pages_and_plain_lists_both_parse() {
        let list = br#" [{"name": "ada", "servers": {"": {"name": "", "ready": true}}}]"#;
        let Ok(UsersReply::List(users)) = UsersReply::parse(list) else {
            panic!("a plain list");
        };
        assert_eq!(users[0].name, "ada");
        let page = br#"{"items": [], "_pagination": {"offset": 0, "limit": 200, "total": 0,
            "next": null}}"#;
        assert!(matches!(UsersReply::parse(page), Ok(UsersReply::Page(_))));
        assert!(UsersReply::parse(b"{\"detail\": 1}").is_err());
    }
}
