//! `limit` and `continue` on lists, as a real API server pages them. Clients (kube's watcher,
//! kubectl) ask for 500 objects at a time so that no single answer has to be held and parsed
//! whole; a sim that ignored `limit` would hide what paging costs and saves.
//!
//! Every page reports the first page's resourceVersion, as the real server does: a watch
//! started from it after the last page replays every change made while the pages were read.
//! The objects themselves are read live (the real server reads a snapshot at that version), so a
//! client may see a change twice, never miss one. A token older than the retained history is
//! expired (410), and the client lists again from the start.

use super::api::Call;
use super::status::ApiError;
use super::store::Obj;

/// What a list request asked for.
pub(crate) struct PageRequest {
    /// resourceVersion the list reports.
    pub rv: u64,
    /// Objects at most in this page.
    pub limit: Option<usize>,
    /// The (namespace, name) the previous page ended at.
    after: Option<(String, String)>,
}

impl PageRequest {
    /// Reads `limit` and `continue`; `current` is the store's resourceVersion now and
    /// `resumable` whether the history still reaches back to a given version.
    pub fn from_call(
        call: &Call,
        current: u64,
        resumable: impl Fn(u64) -> bool,
    ) -> Result<Self, ApiError> {
        let limit = call
            .int("limit")?
            .and_then(|l| usize::try_from(l).ok())
            .filter(|l| *l > 0);
        let Some(token) = call.param("continue").filter(|t| !t.is_empty()) else {
            return Ok(Self {
                rv: current,
                limit,
                after: None,
            });
        };
        let bad = || ApiError::bad_request(format!("invalid continue token {token:?}"));
        let mut parts = token.splitn(3, '/');
        let (Some(rv), Some(namespace), Some(name)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let rv: u64 = rv.parse().map_err(|_| bad())?;
        if !resumable(rv) {
            return Err(ApiError::expired(rv));
        }
        Ok(Self {
            rv,
            limit,
            after: Some((namespace.to_string(), name.to_string())),
        })
    }

    /// Whether an object comes after the previous page (lists are in namespace, name order).
    pub fn wants(&self, o: &Obj) -> bool {
        self.after
            .as_ref()
            .is_none_or(|(ns, name)| (&*o.namespace, &*o.name) > (ns.as_str(), name.as_str()))
    }

    /// The token for the page after one ending at `last`.
    pub fn next_token(&self, last: &Obj) -> String {
        format!("{}/{}/{}", self.rv, last.namespace, last.name)
    }
}
