//! How the fake hub lists users, by JupyterHub's `UserListAPIHandler` and `APIHandler` rules:
//! the `state` filter (`active`, `ready`, `inactive`), `sort` (`id` by default, so pages are
//! in creation order), `offset`/`limit` (absolute values, capped at `api_page_max_limit`,
//! `api_page_default_limit` only when pages were asked for), pages only for an `Accept` list
//! naming the pagination media type exactly, and the next page's URL rebuilt from this
//! request's. Also the URL paths of users and servers, escaped as the hub escapes them.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, Uri, header};
use jiff::Timestamp;

use super::fake_hub::{UserRecord, user_model};
use super::wire::jupyterhub::{NextPage, PAGINATION_MEDIA_TYPE, Pagination, User, UserPage};

/// JupyterHub's `api_page_default_limit`.
pub(crate) const DEFAULT_LIMIT: usize = 50;
/// JupyterHub's `api_page_max_limit`.
pub(crate) const MAX_LIMIT: usize = 200;

/// `?state=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StateFilter {
    All,
    /// Users with a server running or in transition.
    Active,
    /// Active users with a server ready; applied to each page after paging, as the hub does.
    Ready,
    /// Users without an active server.
    Inactive,
}

/// `?sort=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Id,
    Name,
    LastActivity,
}

/// One `GET /users` request, read.
#[derive(Debug, Clone)]
pub(crate) struct Listing {
    state: StateFilter,
    sort: SortKey,
    descending: bool,
    offset: usize,
    limit: usize,
    include_stopped: bool,
    /// The client asked for a `_pagination` page rather than a plain list.
    pub paginated: bool,
}

/// The users of one page, before they are wrapped.
#[derive(Debug)]
pub(crate) struct Page {
    pub items: Vec<User>,
    offset: usize,
    limit: usize,
    total: usize,
}

/// Tornado's `get_argument`: the last value given, stripped.
fn argument<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
}

/// `?include_stopped_servers`: anything but `0` or `false` (an empty value too) means yes.
pub(crate) fn include_stopped(query: &[(String, String)]) -> bool {
    argument(query, "include_stopped_servers")
        .is_some_and(|v| !matches!(v.to_ascii_lowercase().as_str(), "0" | "false"))
}

/// Whether the `Accept` header lists the pagination media type (compared whole, ignoring
/// case: a `;q=` parameter makes it another type, as for the hub).
fn accepts_pagination(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(PAGINATION_MEDIA_TYPE))
}

/// Python's `abs(int(value))`.
fn python_abs_int(value: &str) -> Option<usize> {
    value
        .parse::<i64>()
        .ok()
        .and_then(|n| usize::try_from(n.unsigned_abs()).ok())
}

impl Listing {
    /// Reads the query in the hub's order of checks; the error is its 400 message.
    pub(crate) fn parse(
        query: &[(String, String)],
        headers: &HeaderMap,
        max_limit: usize,
    ) -> Result<Self, String> {
        let paginated = accepts_pagination(headers);
        let default_limit = if paginated { DEFAULT_LIMIT } else { max_limit };
        let bad_number = || "Invalid argument type, offset and limit must be integers".to_string();
        let offset = match argument(query, "offset") {
            Some(v) => python_abs_int(v).ok_or_else(bad_number)?,
            None => 0,
        };
        let limit = match argument(query, "limit") {
            Some(v) => python_abs_int(v).ok_or_else(bad_number)?,
            None => default_limit,
        };
        let sort_param = argument(query, "sort").unwrap_or("id");
        let (descending, key) = match sort_param.strip_prefix('-') {
            Some(key) => (true, key),
            None => (false, sort_param),
        };
        let sort = match key {
            "id" => SortKey::Id,
            "name" => SortKey::Name,
            "last_activity" => SortKey::LastActivity,
            _ => {
                return Err(format!(
                    "sort must be 'id', 'name', or 'last_activity', not '{sort_param}'"
                ));
            }
        };
        let state = match argument(query, "state").unwrap_or("") {
            "" => StateFilter::All,
            "active" => StateFilter::Active,
            "ready" => StateFilter::Ready,
            "inactive" => StateFilter::Inactive,
            other => return Err(format!("Unrecognized state filter: '{other}'")),
        };
        Ok(Self {
            state,
            sort,
            descending,
            offset,
            limit: limit.clamp(1, max_limit.max(1)),
            include_stopped: include_stopped(query),
            paginated,
        })
    }

    /// The page: filtered, sorted, cut; `total` counts the whole query (before `ready`).
    pub(crate) fn page(&self, users: &BTreeMap<String, UserRecord>) -> Page {
        let mut rows: Vec<(&String, &UserRecord)> = users
            .iter()
            .filter(|(_, u)| match self.state {
                StateFilter::All => true,
                StateFilter::Active | StateFilter::Ready => !u.servers.is_empty(),
                StateFilter::Inactive => u.servers.is_empty(),
            })
            .collect();
        rows.sort_by(|(an, a), (bn, b)| {
            let order = match self.sort {
                SortKey::Id => a.id.cmp(&b.id),
                SortKey::Name => an.cmp(bn),
                // SQL's order with the hub's explicit NULL placement: first ascending, last
                // descending (the reversal below does both).
                SortKey::LastActivity => key(a.last_activity).cmp(&key(b.last_activity)),
            };
            let order = if self.descending {
                order.reverse()
            } else {
                order
            };
            order.then(a.id.cmp(&b.id))
        });
        let total = rows.len();
        let items = rows
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .filter(|(_, u)| {
                self.state != StateFilter::Ready || u.servers.values().any(|s| s.pending.is_none())
            })
            .map(|(name, u)| user_model(name, u, self.include_stopped))
            .collect();
        Page {
            items,
            offset: self.offset,
            limit: self.limit,
            total,
        }
    }

    /// `paginated_model`: the page with `_pagination`, and the next page's URL.
    pub(crate) fn paginated_model(&self, page: Page, headers: &HeaderMap, uri: &Uri) -> UserPage {
        let next_offset = page.offset + page.limit;
        let next = (next_offset < page.total).then(|| NextPage {
            offset: next_offset as u64,
            limit: page.limit as u64,
            url: next_url(headers, uri, next_offset, page.limit),
        });
        UserPage {
            items: page.items,
            pagination: Pagination {
                offset: page.offset as u64,
                limit: page.limit as u64,
                total: page.total as u64,
                next,
            },
        }
    }
}

fn key(t: Option<Timestamp>) -> (bool, Option<Timestamp>) {
    (t.is_some(), t)
}

/// The request's full URL with `offset` and `limit` replaced, as the hub's
/// `parse_qs`/`urlencode` rebuild it: parameters in order of first appearance, repeated
/// ones together, values re-encoded with `quote_plus`, new ones appended.
fn next_url(headers: &HeaderMap, uri: &Uri, offset: usize, limit: usize) -> String {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let scheme = text("x-forwarded-proto").unwrap_or("http");
    let host = text(header::HOST.as_str()).unwrap_or("127.0.0.1");
    let mut params: Vec<(String, Vec<String>)> = Vec::new();
    for pair in uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (form_decode(k), form_decode(v));
        match params.iter_mut().find(|(name, _)| *name == k) {
            Some((_, values)) => values.push(v),
            None => params.push((k, vec![v])),
        }
    }
    for (name, value) in [("offset", offset), ("limit", limit)] {
        let value = vec![value.to_string()];
        match params.iter_mut().find(|(k, _)| k == name) {
            Some((_, values)) => *values = value,
            None => params.push((name.to_string(), value)),
        }
    }
    let query: Vec<String> = params
        .iter()
        .flat_map(|(k, values)| values.iter().map(move |v| (k, v)))
        .map(|(k, v)| format!("{}={}", quote(k, true), quote(v, true)))
        .collect();
    format!("{scheme}://{host}{}?{}", uri.path(), query.join("&"))
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space).
fn form_decode(s: &str) -> String {
    let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = match (b, hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(h), Some(l)) => u8::try_from(h * 16 + l).ok(),
            _ => None,
        };
        match escaped {
            Some(decoded) => {
                out.push(decoded);
                i += 3;
            }
            None => {
                out.push(if b == b'+' { b' ' } else { b });
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Python's `urllib.parse.quote` (`plus`: `quote_plus`, spaces as `+`) with the hub's safe
/// characters for paths (`@` and `~` besides letters, digits and `_.-~`).
fn quote(s: &str, plus: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~') {
            out.push(char::from(b));
        } else if b == b' ' && plus {
            out.push('+');
        } else if b == b'@' && !plus {
            out.push('@');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `user.url`: `/user/<escaped name>/`.
pub(crate) fn user_url(user: &str) -> String {
    format!("/user/{}/", quote(user, false))
}

/// A server's URL path: the user's, plus the escaped server name for a named one.
pub(crate) fn server_url(user: &str, server: &str) -> String {
    if server.is_empty() {
        user_url(user)
    } else {
        format!("{}{}/", user_url(user), quote(server, false))
    }
}

/// `user.progress_url(server)`.
pub(crate) fn progress_url(user: &str, server: &str) -> String {
    let user = quote(user, false);
    if server.is_empty() {
        format!("/hub/api/users/{user}/server/progress")
    } else {
        format!(
            "/hub/api/users/{user}/servers/{}/progress",
            quote(server, false)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn paged() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, PAGINATION_MEDIA_TYPE.parse().unwrap());
        h.insert(header::HOST, "127.0.0.1:18081".parse().unwrap());
        h
    }

    #[test]
    fn limits_are_absolute_capped_and_default_by_media_type() {
        let l = Listing::parse(&q(&[("limit", "-1"), ("offset", "-1")]), &paged(), 200).unwrap();
        assert_eq!((l.offset, l.limit, l.paginated), (1, 1, true));
        let l = Listing::parse(&[], &paged(), 200).unwrap();
        assert_eq!(l.limit, DEFAULT_LIMIT);
        let l = Listing::parse(&[], &HeaderMap::new(), 200).unwrap();
        assert_eq!((l.limit, l.paginated), (200, false));
        let l = Listing::parse(&q(&[("limit", "1000")]), &paged(), 200).unwrap();
        assert_eq!(l.limit, 200);
        let err = Listing::parse(&q(&[("limit", "x")]), &paged(), 200).unwrap_err();
        assert_eq!(
            err,
            "Invalid argument type, offset and limit must be integers"
        );
    }

    #[test]
    fn unknown_filters_and_sorts_are_refused_in_the_hubs_words() {
        let err = Listing::parse(&q(&[("state", "bogus")]), &paged(), 200).unwrap_err();
        assert_eq!(err, "Unrecognized state filter: 'bogus'");
        let err = Listing::parse(&q(&[("sort", "foo")]), &paged(), 200).unwrap_err();
        assert_eq!(
            err,
            "sort must be 'id', 'name', or 'last_activity', not 'foo'"
        );
        assert!(Listing::parse(&q(&[("state", ""), ("sort", "-name")]), &paged(), 200).is_ok());
    }

    #[test]
    fn pagination_is_asked_for_by_the_exact_media_type() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            "application/json, Application/JupyterHub-Pagination+JSON"
                .parse()
                .unwrap(),
        );
        assert!(accepts_pagination(&h));
        h.insert(
            header::ACCEPT,
            "application/jupyterhub-pagination+json;q=0.9"
                .parse()
                .unwrap(),
        );
        assert!(!accepts_pagination(&h));
    }

    #[test]
    fn the_next_url_keeps_the_query_as_the_hub_rebuilds_it() {
        // What JupyterHub 6.1 answered for `/hub/api/users?state=&limit=1&x=a%20b`.
        let uri: Uri = "/hub/api/users?state=&limit=1&x=a%20b".parse().unwrap();
        assert_eq!(
            next_url(&paged(), &uri, 1, 1),
            "http://127.0.0.1:18081/hub/api/users?state=&limit=1&x=a+b&offset=1"
        );
        let uri: Uri = "/hub/api/users".parse().unwrap();
        assert_eq!(
            next_url(&paged(), &uri, 2, 2),
            "http://127.0.0.1:18081/hub/api/users?offset=2&limit=2"
        );
    }

    #[test]
    fn urls_escape_names_as_the_hub_does() {
        assert_eq!(user_url("bob@example.org"), "/user/bob@example.org/");
        assert_eq!(server_url("zoë", "my gpu"), "/user/zo%C3%AB/my%20gpu/");
        assert_eq!(
            progress_url("a/b", ""),
            "/hub/api/users/a%2Fb/server/progress"
        );
    }
}
