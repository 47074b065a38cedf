//! One simulated cluster: its state, its listener on 127.0.0.1, and the fault switches tests and
//! scenarios flip (down, expiring restart, latency, stalled watches, garbage answers).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::access::Tokens;
use super::controller::State;
use super::fake_alertmanager::FakeAlertmanager;
use super::fake_hub::FakeHub;
use super::metrics::MetricsApi;

/// Requests kept per cluster for tests to inspect.
const REQUEST_LOG_CAPACITY: usize = 2_000;

/// One request as the fake API server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method, e.g. "PATCH".
    pub method: String,
    /// URL path, e.g. "/api/v1/namespaces/prod/pods".
    pub path: String,
    /// Raw query string ("" when none).
    pub query: String,
    /// "admin", "readonly", or "anonymous" for a missing/unknown token.
    pub identity: String,
    /// The request body as (lossy) UTF-8.
    pub body: String,
}

/// Everything behind a [`SimCluster`] handle.
pub(crate) struct ClusterInner {
    pub name: String,
    pub provider: String,
    pub addr: SocketAddr,
    pub tokens: Tokens,
    pub state: Mutex<State>,
    pub latency_ms: AtomicU64,
    pub stalled: AtomicBool,
    /// Milliseconds between two bookmarks of a watch that allows them.
    pub bookmark_ms: AtomicU64,
    pub garbage: AtomicBool,
    /// Whether metrics.k8s.io is served (a `MetricsApi` as its index).
    pub metrics_api: AtomicU8,
    pub requests: Mutex<VecDeque<RecordedRequest>>,
    /// Cancelled when the listener goes down: ends every connection, watch and log stream.
    pub conn_cancel: Mutex<CancellationToken>,
    /// Cancelled by `restart_expiring`: ends every watch (a child of `conn_cancel`).
    pub watch_cancel: Mutex<CancellationToken>,
    /// Cancelled by `drop_exec_sessions`: cuts every exec session off (a child of `conn_cancel`).
    pub exec_cancel: Mutex<CancellationToken>,
    /// Cancelled at fleet shutdown.
    pub shutdown: CancellationToken,
    pub up: AtomicBool,
    pub updown: tokio::sync::Mutex<()>,
    /// The Alertmanager behind the `support-alertmanager` Service, when the cluster has one.
    pub alertmanager: Option<FakeAlertmanager>,
    /// Each hub's REST API by namespace, created on first use (see `hub_apis`).
    pub hub_apis: Mutex<std::collections::BTreeMap<String, FakeHub>>,
}

/// A cheap, cloneable handle on one simulated cluster.
#[derive(Clone)]
pub struct SimCluster {
    pub(crate) inner: Arc<ClusterInner>,
}

impl std::fmt::Debug for SimCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimCluster")
            .field("name", &self.inner.name)
            .field("url", &self.url())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a sim lock must not take the whole demo down with poison errors.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ClusterInner {
    /// The state lock.
    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The token that ends the current watches.
    pub fn watch_token(&self) -> CancellationToken {
        lock(&self.watch_cancel).clone()
    }

    /// The token that cuts the current exec sessions off.
    pub fn exec_token(&self) -> CancellationToken {
        lock(&self.exec_cancel).clone()
    }

    /// The token that ends the current connections.
    pub fn conn_token(&self) -> CancellationToken {
        lock(&self.conn_cancel).clone()
    }

    /// Appends to the bounded request log.
    pub fn record(&self, req: RecordedRequest) {
        let mut log = lock(&self.requests);
        if log.len() >= REQUEST_LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(req);
    }

    /// The hub APIs lock.
    pub fn hub_apis(&self) -> MutexGuard<'_, std::collections::BTreeMap<String, FakeHub>> {
        lock(&self.hub_apis)
    }

    /// How metrics.k8s.io answers now.
    pub fn metrics_api(&self) -> MetricsApi {
        MetricsApi::from_index(self.metrics_api.load(Ordering::Relaxed))
    }

    /// Whether watches should hold their events back.
    pub fn is_stalled(&self) -> bool {
        self.stalled.load(Ordering::Relaxed)
    }

    /// How often a watch that allows bookmarks gets one.
    pub fn bookmark_every(&self) -> Duration {
        Duration::from_millis(self.bookmark_ms.load(Ordering::Relaxed).max(1))
    }
}

impl SimCluster {
    /// Binds the cluster's listener on 127.0.0.1 (port 0 = any) and starts serving.
    pub(crate) async fn start(
        name: String,
        provider: String,
        state: State,
        alertmanager: Option<FakeAlertmanager>,
        shutdown: CancellationToken,
    ) -> std::io::Result<SimCluster> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let conn = shutdown.child_token();
        let inner = Arc::new(ClusterInner {
            name,
            provider,
            addr,
            tokens: Tokens::random(),
            state: Mutex::new(state),
            latency_ms: AtomicU64::new(0),
            stalled: AtomicBool::new(false),
            bookmark_ms: AtomicU64::new(
                u64::try_from(super::watch::BOOKMARK_EVERY.as_millis()).unwrap_or(u64::MAX),
            ),
            garbage: AtomicBool::new(false),
            metrics_api: AtomicU8::new(MetricsApi::Served as u8),
            requests: Mutex::new(VecDeque::new()),
            watch_cancel: Mutex::new(conn.child_token()),
            exec_cancel: Mutex::new(conn.child_token()),
            conn_cancel: Mutex::new(conn.clone()),
            shutdown,
            up: AtomicBool::new(true),
            updown: tokio::sync::Mutex::new(()),
            alertmanager,
            hub_apis: Mutex::new(Default::default()),
        });
        let cluster = SimCluster { inner };
        tokio::spawn(serve(listener, cluster.clone(), conn));
        Ok(cluster)
    }

    /// The context and cluster name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// "gcp", "aws" or "azure".
    pub fn provider(&self) -> &str {
        &self.inner.provider
    }

    /// The API server URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// The bearer token of an identity (also written into kubeconfigs).
    pub fn token(&self, identity: &super::Identity) -> String {
        self.inner.tokens.of(identity)
    }

    /// Whether the listener is up.
    pub fn is_up(&self) -> bool {
        self.inner.up.load(Ordering::SeqCst)
    }

    /// Stops listening and drops every open connection, watch and log stream.
    pub async fn go_down(&self) {
        let _g = self.inner.updown.lock().await;
        if !self.inner.up.swap(false, Ordering::SeqCst) {
            return;
        }
        self.inner.conn_token().cancel();
        // Let the accept loop drop the listener before callers probe the port.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    /// Listens again on the same port with the same state.
    pub async fn come_back(&self) {
        let _g = self.inner.updown.lock().await;
        if self.inner.up.load(Ordering::SeqCst) || self.inner.shutdown.is_cancelled() {
            return;
        }
        // The old socket may linger for a moment; retry briefly.
        let mut listener = None;
        for _ in 0..50 {
            match TcpListener::bind(self.inner.addr).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        let Some(listener) = listener else {
            tracing::warn!(cluster = %self.inner.name, "sim: could not re-bind {}", self.inner.addr);
            return;
        };
        let conn = self.inner.shutdown.child_token();
        *lock(&self.inner.watch_cancel) = conn.child_token();
        *lock(&self.inner.exec_cancel) = conn.child_token();
        *lock(&self.inner.conn_cancel) = conn.clone();
        self.inner.up.store(true, Ordering::SeqCst);
        tokio::spawn(serve(listener, self.clone(), conn));
    }

    /// Simulates an API server restart: ends all watches and forgets history (old versions → 410).
    pub fn restart_expiring(&self) {
        self.inner.state().store.forget_history();
        let conn = self.inner.conn_token();
        let old = std::mem::replace(&mut *lock(&self.inner.watch_cancel), conn.child_token());
        old.cancel();
    }

    /// Cuts every open exec session off at once: the connection closes without kubelet's final
    /// Status or a close frame, as when the node dies or a proxy drops an idle connection.
    /// Sessions opened afterwards work.
    pub fn drop_exec_sessions(&self) {
        let conn = self.inner.conn_token();
        let old = std::mem::replace(&mut *lock(&self.inner.exec_cancel), conn.child_token());
        old.cancel();
    }

    /// Delays every answer by `d` (zero to stop).
    pub fn set_latency(&self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self.inner.latency_ms.store(ms, Ordering::Relaxed);
    }

    /// Makes open and new watches stop delivering events (they stay open) until switched off.
    pub fn stall_watches(&self, on: bool) {
        self.inner.stalled.store(on, Ordering::Relaxed);
    }

    /// Sends bookmarks every `every` on watches opened from now on. A real kube-apiserver sends
    /// them about once a minute (its cacher's `defaultBookmarkFrequency`), which no client can
    /// change; the sim's default is shorter so the demo and tests move quickly, and tests of
    /// idle deadlines set it to what they need.
    pub fn set_bookmark_interval(&self, every: Duration) {
        let ms = u64::try_from(every.as_millis()).unwrap_or(u64::MAX);
        self.inner.bookmark_ms.store(ms, Ordering::Relaxed);
    }

    /// Serves metrics.k8s.io, or answers as a cluster without metrics-server (404, the group
    /// absent from discovery) or with its APIService unavailable (the aggregator's 503).
    pub fn set_metrics_api(&self, api: MetricsApi) {
        self.inner.metrics_api.store(api as u8, Ordering::Relaxed);
    }

    /// Makes every request answer 200 with a non-JSON body.
    pub fn set_garbage(&self, on: bool) {
        self.inner.garbage.store(on, Ordering::Relaxed);
    }

    /// Every recorded request, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inner.requests).iter().cloned().collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.inner.requests).clear();
    }
}

/// Accepts connections until `cancel`; each connection is dropped (not drained) on `cancel`.
async fn serve(listener: TcpListener, cluster: SimCluster, cancel: CancellationToken) {
    let router = super::api::router(cluster);
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => break,
            a = listener.accept() => a,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        // As a real API server does (Go sockets default to it): without it, the small frames a
        // port-forward writes back to back wait out the client's delayed ACK, 40 ms each time.
        let _ = stream.set_nodelay(true);
        let svc = TowerToHyperService::new(router.clone());
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades();
            tokio::select! {
                _ = conn => {}
                () = cancel.cancelled() => {}
            }
        });
    }
}
