//! One watch task per (cluster, kind): a paged list sent as one full replace, then a watch
//! from the list's resourceVersion with bookmarks, resumed from the last version it saw when
//! the server ends it, re-listed on 410, restarted when it goes silent past its idle deadline.
//! Each object is mapped at once to its small fleet struct.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::Api;
use kube::api::WatchEvent;
use kube::runtime::watcher;
use serde::de::DeserializeOwned;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::mapping::Mapper;
use super::watch_list::{self, RequestError};
use crate::backoff::Backoff;
use crate::fleet::{ClusterId, Delta, FleetUpdate};

/// Which watch of a cluster a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatchKind {
    /// z2jh Deployments.
    Deployments,
    /// z2jh StatefulSets.
    StatefulSets,
    /// z2jh pods.
    Pods,
    /// Warning events.
    Events,
    /// Events about pods that tell why one is pending (see `pod_events`).
    PodEvents,
    /// Nodes (cluster-scoped, watched only cluster-wide).
    Nodes,
    /// dask-gateway's pods (its components', its clusters' schedulers and workers).
    DaskPods,
    /// dask-gateway's `DaskCluster` custom resources (absent where it is not installed).
    DaskClusters,
}

impl WatchKind {
    /// Plural resource name for messages.
    pub fn resource(self) -> &'static str {
        match self {
            Self::Deployments => "deployments",
            Self::StatefulSets => "statefulsets",
            Self::Pods | Self::DaskPods => "pods",
            Self::DaskClusters => "daskclusters",
            Self::Events | Self::PodEvents => "events",
            Self::Nodes => "nodes",
        }
    }

    /// What the watch is called in a cluster's reason: its resource, or what of it.
    pub fn label(self) -> &'static str {
        match self {
            Self::PodEvents => "pod events",
            Self::DaskPods => "dask-gateway pods",
            other => other.resource(),
        }
    }

    /// Whether the cluster's hubs do without this watch: one the identity may not run, or
    /// whose resource the server does not serve (a cluster without dask-gateway's CRD), is
    /// reported once as `Unserved` and stopped, instead of retried or narrowing the scope.
    pub fn optional(self) -> bool {
        matches!(self, Self::Nodes | Self::DaskClusters)
    }
}

/// How a watch is doing, reported to the cluster's supervisor on every change.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchState {
    /// Its (re-)list completed, or it came back to life, and it is streaming.
    Synced,
    /// It failed; it is retried with backoff.
    Failed {
        /// The error, one line.
        error: String,
        /// Whether the failure was reaching the server at all.
        unreachable: bool,
        /// Whether the server refused the list or watch (403): the identity may not read
        /// what this watch covers.
        forbidden: bool,
    },
    /// An optional watch the server refused (403) or does not serve (404): stopped for good.
    Unserved {
        /// The error, one line.
        error: String,
    },
    /// Neither an event nor a bookmark came within `idle`; the watch was restarted from its
    /// last resourceVersion and counts as stalled until something arrives.
    Stalled {
        /// How long it had been silent.
        idle: Duration,
    },
}

/// The idle deadline of a watch whose server sends bookmarks, unless settings say otherwise.
///
/// hubdeck cannot ask for a bookmark interval: it sends `allowWatchBookmarks=true` and
/// `timeoutSeconds=290`, and kube-apiserver's watch cache decides the rest. Its cacher sends
/// each watch a bookmark about once a minute (`defaultBookmarkFrequency`, checked in buckets
/// of a second, jittered) and one 2 s before the watch's timeout. A healthy watch on a quiet
/// cluster is therefore never silent for much more than 60 s; twice that leaves room for the
/// jitter and a slow server without calling a quiet watch stalled.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(120);

/// What a report is about: a kind, in one namespace or (None) cluster-wide.
pub type WatchKey = (WatchKind, Option<Arc<str>>);

/// Where a watch task reports.
#[derive(Clone)]
pub struct WatchCtx {
    /// The cluster watched.
    pub cluster: ClusterId,
    /// Fleet updates go here.
    pub updates: mpsc::Sender<FleetUpdate>,
    /// State changes go to the supervisor.
    pub reports: mpsc::Sender<(WatchKey, WatchState)>,
    /// The one namespace watched (None: cluster-wide); its lists replace only that namespace.
    pub namespace: Option<Arc<str>>,
    /// Stops the task.
    pub shutdown: CancellationToken,
    /// Held from the start of each (re-)list to its end, when lists of this kind are bounded.
    pub list_permits: Option<Arc<Semaphore>>,
    /// No event and no bookmark for this long (once the server has sent bookmarks) means the
    /// watch is stalled (see `DEFAULT_IDLE`).
    pub idle: Duration,
}

/// Maps an object to its fleet struct; None for objects hubdeck does not keep.
pub type MapFn<K, T> = fn(&mut Mapper, &K) -> Option<T>;
/// Wraps a delta into the update of its kind.
pub type WrapFn<T> = fn(ClusterId, Delta<T>) -> FleetUpdate;

/// Runs one watch until shutdown or until nobody listens any more.
pub async fn run<K, T>(
    kind: WatchKind,
    api: Api<K>,
    config: watcher::Config,
    map: MapFn<K, T>,
    wrap: WrapFn<T>,
    ctx: WatchCtx,
) where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    T: Send + 'static,
{
    let mut task = Task {
        kind,
        map,
        wrap,
        ctx,
        mapper: Mapper::default(),
        reported: None,
        backoff: Backoff::new(Duration::from_millis(500), MAX_RETRY_DELAY),
        bookmarks_seen: false,
    };
    let mut resume: Option<String> = None;
    loop {
        let from = match resume.take() {
            Some(rv) => rv,
            None => match task.relist(&api, &config).await {
                Ok(Some(rv)) => rv,
                Ok(None) => return,
                Err(e) => {
                    let state = e.state();
                    if kind.optional() && (e.is_forbidden() || e.is_not_found()) {
                        if let WatchState::Failed { error, .. } = state {
                            task.report(WatchState::Unserved { error }).await;
                        }
                        return;
                    }
                    if !task.fail(state).await {
                        return;
                    }
                    continue;
                }
            },
        };
        let (last, end) = task.follow(&api, &config, from).await;
        resume = match end {
            End::Stop => return,
            // The server ended the watch at its timeout: carry on from where it stopped.
            End::Closed { heard: true } => Some(last),
            // Ended before saying anything: not a failure, but no reason to reconnect at once
            // either (a proxy that ends every stream would otherwise be asked in a tight loop).
            End::Closed { heard: false } => {
                if !task.pause().await {
                    return;
                }
                Some(last)
            }
            End::Gone => None,
            End::Stalled(idle) => {
                // Resuming from the last version loses nothing: the server replays what
                // happened since, or answers 410 and the watch re-lists.
                if !task.report(WatchState::Stalled { idle }).await {
                    return;
                }
                Some(last)
            }
            End::Failed(e) if e.is_gone() => None,
            End::Failed(e) => {
                if !task.fail(e.state()).await {
                    return;
                }
                Some(last)
            }
        };
    }
}

/// Why a watch connection ended.
enum End {
    /// Shutdown, or nobody listens any more.
    Stop,
    /// The server closed it; `heard`: after sending something.
    Closed { heard: bool },
    /// The server said the version is gone (410).
    Gone,
    /// Nothing arrived for this long.
    Stalled(Duration),
    /// The request or the stream failed.
    Failed(RequestError),
}

/// One watch's state across its lists and connections.
struct Task<K, T> {
    kind: WatchKind,
    map: MapFn<K, T>,
    wrap: WrapFn<T>,
    ctx: WatchCtx,
    mapper: Mapper,
    reported: Option<WatchState>,
    backoff: Backoff,
    /// Whether this server has sent this watch a bookmark: only then is silence past the
    /// idle deadline a stall (see `watch_list::silent_connection_limit`).
    bookmarks_seen: bool,
}

impl<K, T> Task<K, T>
where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    T: Send + 'static,
{
    /// Lists everything and sends it as one replace; the resourceVersion to watch from, or
    /// None to stop.
    async fn relist(
        &mut self,
        api: &Api<K>,
        config: &watcher::Config,
    ) -> Result<Option<String>, RequestError> {
        let _permit = match &self.ctx.list_permits {
            Some(sem) => tokio::select! {
                _ = self.ctx.shutdown.cancelled() => return Ok(None),
                p = sem.clone().acquire_owned() => p.ok(),
            },
            None => None,
        };
        let (map, mapper) = (self.map, &mut self.mapper);
        let listed = tokio::select! {
            _ = self.ctx.shutdown.cancelled() => return Ok(None),
            l = watch_list::list_all(api, config, |o| map(mapper, o)) => l,
        };
        let (all, rv) = listed?;
        drop(_permit);
        self.mapper.sweep();
        if all.len() >= RELEASE_AFTER {
            release_freed_memory();
        }
        let delta = match &self.ctx.namespace {
            None => Delta::Replace(all),
            Some(ns) => Delta::ReplaceIn(ns.clone(), all),
        };
        if !self.send(delta).await || !self.report(WatchState::Synced).await {
            return Ok(None);
        }
        self.backoff.reset();
        Ok(Some(rv))
    }

    /// Follows one watch connection from `from` until it ends; the last resourceVersion seen
    /// and why it ended.
    async fn follow(
        &mut self,
        api: &Api<K>,
        config: &watcher::Config,
        from: String,
    ) -> (String, End) {
        let params = watch_list::watch_params(config);
        let opened = tokio::select! {
            _ = self.ctx.shutdown.cancelled() => return (from, End::Stop),
            o = api.watch(&params, &from) => o,
        };
        let stream = match opened {
            Ok(s) => s,
            Err(e) => return (from, End::Failed(RequestError::Kube(e))),
        };
        let mut stream = std::pin::pin!(stream);
        let mut last = from;
        let mut heard = false;
        loop {
            let idle = if self.bookmarks_seen {
                self.ctx.idle
            } else {
                watch_list::silent_connection_limit(&params)
            };
            let next = tokio::select! {
                _ = self.ctx.shutdown.cancelled() => return (last, End::Stop),
                n = tokio::time::timeout(idle, stream.next()) => n,
            };
            let event = match next {
                Err(_) => return (last, End::Stalled(idle)),
                Ok(None) => return (last, End::Closed { heard }),
                Ok(Some(Err(e))) => return (last, End::Failed(RequestError::Kube(e))),
                Ok(Some(Ok(event))) => event,
            };
            heard = true;
            let delta = match event {
                WatchEvent::Added(o) | WatchEvent::Modified(o) => {
                    last = version_of(&o).unwrap_or(last);
                    (self.map)(&mut self.mapper, &o).map(Delta::Upsert)
                }
                WatchEvent::Deleted(o) => {
                    last = version_of(&o).unwrap_or(last);
                    (self.map)(&mut self.mapper, &o).map(Delta::Remove)
                }
                WatchEvent::Bookmark(b) => {
                    self.bookmarks_seen = true;
                    last = b.metadata.resource_version;
                    None
                }
                WatchEvent::Error(status) if status.code == 410 => return (last, End::Gone),
                WatchEvent::Error(status) => {
                    let e = RequestError::Kube(kube::Error::Api(status));
                    return (last, End::Failed(e));
                }
            };
            if let Some(d) = delta
                && !self.send(d).await
            {
                return (last, End::Stop);
            }
            // Any event or bookmark is a sign of life: a failed or stalled watch has recovered.
            if self
                .reported
                .as_ref()
                .is_some_and(|s| *s != WatchState::Synced)
            {
                self.backoff.reset();
                if !self.report(WatchState::Synced).await {
                    return (last, End::Stop);
                }
            }
        }
    }

    /// Reports a failure, then waits out the backoff; false to stop.
    async fn fail(&mut self, state: WatchState) -> bool {
        self.report(state).await && self.pause().await
    }

    /// Waits out the backoff; false to stop.
    async fn pause(&mut self) -> bool {
        let delay = self.backoff.delay();
        tokio::select! {
            _ = self.ctx.shutdown.cancelled() => false,
            _ = tokio::time::sleep(delay) => true,
        }
    }

    /// Every failure and stall is reported (the supervisor ages failures out: a retry that
    /// fails again reports within MAX_RETRY_DELAY); false when nobody listens.
    async fn report(&mut self, state: WatchState) -> bool {
        self.reported = Some(state.clone());
        self.ctx
            .reports
            .send(((self.kind, self.ctx.namespace.clone()), state))
            .await
            .is_ok()
    }

    async fn send(&self, delta: Delta<T>) -> bool {
        let update = (self.wrap)(self.ctx.cluster.clone(), delta);
        self.ctx.updates.send(update).await.is_ok()
    }
}

fn version_of<K: kube::Resource>(o: &K) -> Option<String> {
    o.meta().resource_version.clone().filter(|v| !v.is_empty())
}

/// A (re-)list at least this large leaves enough freed memory behind to hand back.
const RELEASE_AFTER: usize = 1000;

/// Returns memory freed by a large list to the OS. The objects of an initial list are
/// parsed, mapped and dropped within moments; glibc keeps the freed pages in its per-thread
/// arenas, so without this the process stays at the size of the peak, not of the model.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Longest wait between two retries of a failed watch. A watch that reported a failure and
/// nothing since for longer than this has recovered.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(8);

/// Whether an error means the server could not be reached at all (as opposed to answering
/// wrongly).
pub fn is_unreachable(e: &kube::Error) -> bool {
    matches!(e, kube::Error::HyperError(_) | kube::Error::Service(_))
}

pub use crate::errors::one_line;
