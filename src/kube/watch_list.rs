//! The requests one watch makes, as kube's `watcher` would make them from the same
//! `watcher::Config` (same list semantics, page size and watch parameters), and how their
//! failures read. hubdeck drives list and watch itself because kube's `watcher` consumes
//! bookmarks without yielding them: from its stream a quiet watch and a stalled one look alike.

use std::fmt::Debug;
use std::time::Duration;

use kube::Api;
use kube::api::{ListParams, VersionMatch, WatchParams};
use kube::runtime::watcher;
use serde::de::DeserializeOwned;

use super::watch::WatchState;

/// What the watch asks for as `timeoutSeconds` when the config does not say: kube's and
/// kubectl's 290 s. The server ends the watch then (sending a bookmark 2 s before, when it
/// sends bookmarks at all), and the watch resumes from the last resourceVersion.
pub const WATCH_TIMEOUT_SECS: u32 = 290;

/// The list request of the config, as kube's watcher sends it (`resourceVersion=0`, any
/// version not older than that, in pages).
pub fn list_params(config: &watcher::Config) -> ListParams {
    ListParams {
        label_selector: config.label_selector.clone(),
        field_selector: config.field_selector.clone(),
        resource_version: Some("0".into()),
        version_match: Some(VersionMatch::NotOlderThan),
        limit: config.page_size,
        ..ListParams::default()
    }
}

/// The watch request of the config, always with `allowWatchBookmarks`: bookmarks are what
/// tells a quiet watch from a stalled one.
pub fn watch_params(config: &watcher::Config) -> WatchParams {
    WatchParams {
        label_selector: config.label_selector.clone(),
        field_selector: config.field_selector.clone(),
        timeout: Some(config.timeout.unwrap_or(WATCH_TIMEOUT_SECS)),
        bookmarks: true,
        send_initial_events: false,
    }
}

/// How long a watch may stay silent before it is restarted while its server has not yet sent
/// it a bookmark: the server ends every watch at its timeout, so silence past that (and a
/// margin, as kube's watcher allows) is a dead connection. A server that never sends
/// bookmarks (its watch cache disabled for the resource) is thus not taken for stalled.
pub fn silent_connection_limit(params: &WatchParams) -> Duration {
    Duration::from_secs(u64::from(params.timeout.unwrap_or(WATCH_TIMEOUT_SECS)) + 5)
}

/// A failed list or watch request.
#[derive(Debug)]
pub enum RequestError {
    /// The request failed (connection, HTTP status, a body that does not parse).
    Kube(kube::Error),
    /// The server's list carried no resourceVersion to watch from.
    NoResourceVersion,
}

impl RequestError {
    /// Whether the server said the version asked for is gone (410): only a re-list helps.
    pub fn is_gone(&self) -> bool {
        matches!(self, Self::Kube(kube::Error::Api(s)) if s.code == 410)
    }

    /// Whether the server refused the identity (403).
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Self::Kube(kube::Error::Api(s)) if s.code == 403)
    }

    /// Whether the server does not serve the resource (404: a CRD not installed).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Kube(kube::Error::Api(s)) if s.code == 404)
    }

    /// The state this failure puts the watch in.
    pub fn state(&self) -> WatchState {
        match self {
            Self::Kube(e) => WatchState::Failed {
                error: super::watch::one_line(e),
                unreachable: super::watch::is_unreachable(e),
                forbidden: matches!(e, kube::Error::Api(s) if s.code == 403),
            },
            Self::NoResourceVersion => WatchState::Failed {
                error: "the list has no metadata.resourceVersion to watch from".into(),
                unreachable: false,
                forbidden: false,
            },
        }
    }
}

/// Lists every page, mapping each object as its page arrives; returns the mapped objects and
/// the resourceVersion to watch from.
pub async fn list_all<K, T>(
    api: &Api<K>,
    config: &watcher::Config,
    mut map: impl FnMut(&K) -> Option<T>,
) -> Result<(Vec<T>, String), RequestError>
where
    K: kube::Resource + Clone + DeserializeOwned + Debug,
{
    let mut params = list_params(config);
    let mut all = Vec::new();
    loop {
        let page = api.list(&params).await.map_err(RequestError::Kube)?;
        all.extend(page.items.iter().filter_map(&mut map));
        let continue_token = page.metadata.continue_.filter(|c| !c.is_empty());
        match continue_token {
            Some(token) => params.continue_token = Some(token),
            None => {
                let rv = page.metadata.resource_version.filter(|v| !v.is_empty());
                return rv
                    .map(|rv| (all, rv))
                    .ok_or(RequestError::NoResourceVersion);
            }
        }
    }
}
