//! Watches: newline-delimited JSON events streamed from the change log and the live broadcast,
//! with bookmarks, timeouts, selector-aware ADDED/DELETED, stalls and 410 Gone on expired versions.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::sync::{broadcast, mpsc};

use super::api::Call;
use super::resources::Kind;
use super::selectors::Filter;
use super::status::ApiError;
use super::store::{Change, ChangeType, Obj};

/// How often a watch that allows bookmarks gets one by default (sooner in tests, to keep them
/// fast); `SimCluster::set_bookmark_interval` changes it.
pub(crate) const BOOKMARK_EVERY: Duration = if cfg!(test) {
    Duration::from_millis(300)
} else {
    Duration::from_secs(5)
};
/// The server-side default watch length when the client gives no timeoutSeconds.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

fn event_line(ty: &str, obj: &[u8]) -> Bytes {
    let mut b = Vec::with_capacity(obj.len() + 32);
    b.extend_from_slice(br#"{"type":""#);
    b.extend_from_slice(ty.as_bytes());
    b.extend_from_slice(br#"","object":"#);
    b.extend_from_slice(obj);
    b.extend_from_slice(b"}\n");
    Bytes::from(b)
}

fn bookmark(kind: Kind, rv: u64, initial_end: bool) -> Bytes {
    let mut obj = serde_json::json!({"kind": kind.kind(), "apiVersion": kind.api_version(),
        "metadata": {"resourceVersion": rv.to_string()}});
    if initial_end {
        obj["metadata"]["annotations"] = serde_json::json!({"k8s.io/initial-events-end": "true"});
    }
    event_line("BOOKMARK", obj.to_string().as_bytes())
}

fn error_line(err: &ApiError) -> Bytes {
    event_line("ERROR", err.status_json().to_string().as_bytes())
}

/// The event type (if any) a change means for a watcher with this kind and filter.
fn translate(kind: Kind, filter: &Filter, change: &Change) -> Option<&'static str> {
    if change.obj.kind != kind {
        return None;
    }
    let now = filter.matches(&change.obj);
    let before = change.prev.as_ref().is_some_and(|p| filter.matches(p));
    let ty = match (change.ty, before, now) {
        (ChangeType::Added, _, true) => "ADDED",
        (ChangeType::Modified, true, true) => "MODIFIED",
        (ChangeType::Modified, false, true) => "ADDED",
        (ChangeType::Modified, true, false) => "DELETED",
        (ChangeType::Deleted, true, _) => "DELETED",
        _ => return None,
    };
    Some(ty)
}

fn stream_response(rx: mpsc::Receiver<Bytes>) -> Response {
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response()
}

/// Serves `?watch=true` on a collection.
pub(crate) fn watch(call: &Call, kind: Kind, filter: Filter) -> Result<Response, ApiError> {
    let inner = call.cluster.inner.clone();
    let bookmarks = call.flag("allowWatchBookmarks");
    let table = call.table();
    let initial_events = call.flag("sendInitialEvents");
    // 0 (or less) means the server's default, as on a real server.
    let timeout = call
        .int("timeoutSeconds")?
        .and_then(|t| u64::try_from(t).ok())
        .filter(|t| *t > 0)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
    let from = match call.param("resourceVersion") {
        None | Some("" | "0") => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {rv:?}")))?,
        ),
    };
    let (tx, out) = mpsc::channel::<Bytes>(256);
    let setup = {
        let st = inner.state();
        let rv = st.store.resource_version();
        match from {
            Some(from) if !initial_events => st
                .store
                .watch_from(from)
                .map(|(backlog, rx)| (Vec::new(), backlog, rx, from))
                .map_err(|_| from),
            _ => {
                let objs = st.store.list(kind, filter.namespace.as_deref());
                Ok((objs, Vec::new(), st.store.subscribe(), rv))
            }
        }
    };
    let (initial, backlog, rx, start_rv) = match setup {
        Ok(s) => s,
        Err(from) => {
            // kube's watcher re-lists when it sees this.
            let _ = tx.try_send(error_line(&ApiError::expired(from)));
            return Ok(stream_response(out));
        }
    };
    let task = WatchTask {
        inner,
        kind,
        filter,
        tx,
        bookmarks,
        initial_events_end: initial_events && bookmarks,
        table,
        last_rv: start_rv,
    };
    tokio::spawn(task.run(initial, backlog, rx, timeout));
    Ok(stream_response(out))
}

struct WatchTask {
    inner: Arc<super::cluster::ClusterInner>,
    kind: Kind,
    filter: Filter,
    tx: mpsc::Sender<Bytes>,
    bookmarks: bool,
    initial_events_end: bool,
    /// `Some(full_object)`: events carry one-row Tables (kubectl get -w).
    table: Option<bool>,
    last_rv: u64,
}

impl WatchTask {
    async fn send(&self, b: Bytes) -> bool {
        self.tx.send(b).await.is_ok()
    }

    /// Sends one object event, as the object or as a one-row Table.
    async fn send_obj(&self, ty: &str, obj: &Obj) -> bool {
        let line = match self.table {
            None => event_line(ty, &obj.json),
            Some(full) => {
                let t = super::table::render(self.kind, std::iter::once(obj), obj.rv, full);
                event_line(ty, t.to_string().as_bytes())
            }
        };
        self.send(line).await
    }

    /// Waits while watches are stalled; false if the watch should end instead (at `ends`, its
    /// timeout, at the latest).
    async fn wait_unstalled(
        &self,
        cancel: &tokio_util::sync::CancellationToken,
        ends: tokio::time::Instant,
    ) -> bool {
        while self.inner.is_stalled() {
            tokio::select! {
                () = cancel.cancelled() => return false,
                () = self.tx.closed() => return false,
                () = tokio::time::sleep_until(ends) => return false,
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
        true
    }

    async fn run(
        mut self,
        initial: Vec<Arc<Obj>>,
        backlog: Vec<Arc<Change>>,
        mut rx: broadcast::Receiver<Arc<Change>>,
        timeout: Duration,
    ) {
        let cancel = self.inner.watch_token();
        let ends = tokio::time::Instant::now() + timeout;
        // A stalled server sends nothing at all, also on a watch opened during the stall.
        if !self.wait_unstalled(&cancel, ends).await {
            return;
        }
        for o in initial.iter().filter(|o| self.filter.matches(o)) {
            if !self.send_obj("ADDED", o).await {
                return;
            }
        }
        if self.initial_events_end && !self.send(bookmark(self.kind, self.last_rv, true)).await {
            return;
        }
        for c in &backlog {
            self.last_rv = self.last_rv.max(c.obj.rv);
            if let Some(ty) = translate(self.kind, &self.filter, c)
                && !self.send_obj(ty, &c.obj).await
            {
                return;
            }
        }
        let deadline = tokio::time::sleep_until(ends);
        tokio::pin!(deadline);
        let every = self.inner.bookmark_every();
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            if self.inner.is_stalled() {
                // A stalled watch stays open and silent; events pile up in the broadcast buffer.
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = &mut deadline => return,
                    () = self.tx.closed() => return,
                    () = tokio::time::sleep(Duration::from_millis(100)) => continue,
                }
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = &mut deadline => return,
                () = self.tx.closed() => return,
                _ = ticks.tick(), if self.bookmarks => {
                    // The stall may have begun while this select waited.
                    if !self.inner.is_stalled()
                        && !self.send(bookmark(self.kind, self.last_rv, false)).await
                    {
                        return;
                    }
                }
                r = rx.recv() => match r {
                    Ok(c) => {
                        // A change caught just as the stall began is held back too.
                        if !self.wait_unstalled(&cancel, ends).await {
                            return;
                        }
                        self.last_rv = self.last_rv.max(c.obj.rv);
                        if let Some(ty) = translate(self.kind, &self.filter, &c)
                            && !self.send_obj(ty, &c.obj).await
                        {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = self.send(error_line(&ApiError::expired(self.last_rv))).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }
}
