//! One watcher task per (cluster, kind): `kube::runtime::watcher` with backoff, each object
//! mapped at once to its small fleet struct, `Init`..`InitDone` sent as one full replace.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde::de::DeserializeOwned;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::mapping::Mapper;
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
}

impl WatchKind {
    /// Plural resource name for messages.
    pub fn resource(self) -> &'static str {
        match self {
            Self::Deployments => "deployments",
            Self::StatefulSets => "statefulsets",
            Self::Pods => "pods",
            Self::Events => "events",
        }
    }
}

/// How a watch is doing, reported to the cluster's supervisor on every change.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchState {
    /// Its (re-)list completed and it is streaming.
    Synced,
    /// It failed; the watcher retries with backoff.
    Failed {
        /// The error, one line.
        error: String,
        /// Whether the failure was reaching the server at all.
        unreachable: bool,
        /// Whether the server refused the list or watch (403): the identity may not read
        /// what this watch covers.
        forbidden: bool,
    },
}

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
    let mut stream = watcher::watcher(api, config)
        .backoff(crate::backoff::Backoff::new(
            Duration::from_millis(500),
            MAX_RETRY_DELAY,
        ))
        .boxed();
    let mut mapper = Mapper::default();
    let mut relist: Vec<T> = Vec::new();
    let mut state: Option<WatchState> = None;
    // The watcher lists after yielding `Init`: take a permit there, give it back once listed.
    let mut _permit: Option<OwnedSemaphorePermit> = None;
    loop {
        let next = tokio::select! {
            _ = ctx.shutdown.cancelled() => return,
            next = stream.next() => next,
        };
        let Some(next) = next else { return };
        let (update, new_state) = match next {
            Ok(Event::Init) => {
                relist.clear();
                if let Some(sem) = &ctx.list_permits {
                    _permit = tokio::select! {
                        _ = ctx.shutdown.cancelled() => return,
                        p = sem.clone().acquire_owned() => p.ok(),
                    };
                }
                (None, None)
            }
            Ok(Event::InitApply(obj)) => {
                relist.extend(map(&mut mapper, &obj));
                (None, None)
            }
            Ok(Event::InitDone) => {
                _permit = None;
                let all = std::mem::take(&mut relist);
                mapper.sweep();
                if all.len() >= RELEASE_AFTER {
                    release_freed_memory();
                }
                let delta = match &ctx.namespace {
                    None => Delta::Replace(all),
                    Some(ns) => Delta::ReplaceIn(ns.clone(), all),
                };
                (Some(delta), Some(WatchState::Synced))
            }
            Ok(Event::Apply(obj)) => (map(&mut mapper, &obj).map(Delta::Upsert), None),
            Ok(Event::Delete(obj)) => (map(&mut mapper, &obj).map(Delta::Remove), None),
            Err(e) => {
                _permit = None;
                (None, Some(failure(&e)))
            }
        };
        if let Some(delta) = update
            && ctx
                .updates
                .send(wrap(ctx.cluster.clone(), delta))
                .await
                .is_err()
        {
            return;
        }
        // Every failure is reported (the supervisor ages them out: a retry that fails again
        // reports within MAX_RETRY_DELAY); recovery is reported on the first good event.
        let report = match new_state {
            Some(WatchState::Failed { .. }) => new_state,
            Some(WatchState::Synced) => new_state,
            None if matches!(state, Some(WatchState::Failed { .. })) => Some(WatchState::Synced),
            None => None,
        };
        if let Some(s) = report {
            state = Some(s.clone());
            if ctx
                .reports
                .send(((kind, ctx.namespace.clone()), s))
                .await
                .is_err()
            {
                return;
            }
        }
    }
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

fn failure(e: &watcher::Error) -> WatchState {
    let (error, unreachable, forbidden) = match e {
        watcher::Error::InitialListFailed(k)
        | watcher::Error::WatchStartFailed(k)
        | watcher::Error::WatchFailed(k) => (
            one_line(k),
            is_unreachable(k),
            matches!(k, kube::Error::Api(s) if s.code == 403),
        ),
        watcher::Error::WatchError(status) => (
            crate::errors::status_line(status),
            false,
            status.code == 403,
        ),
        watcher::Error::NoResourceVersion => (e.to_string(), false, false),
    };
    WatchState::Failed {
        error,
        unreachable,
        forbidden,
    }
}

/// Whether an error means the server could not be reached at all (as opposed to answering
/// wrongly).
pub fn is_unreachable(e: &kube::Error) -> bool {
    matches!(e, kube::Error::HyperError(_) | kube::Error::Service(_))
}

pub use crate::errors::one_line;
