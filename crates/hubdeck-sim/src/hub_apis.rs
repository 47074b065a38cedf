//! Each simulated hub's REST API: one [`FakeHub`] per hub namespace, created on first use with
//! the token the hub Secret gives the `hubdeck` service, and brought in step with the user pods
//! before every request (servers appear when their pod does, are pending while it starts, go
//! when it goes). Stopping a server through the API deletes its pod, as KubeSpawner does.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Secret;

use super::cluster::SimCluster;
use super::fake_hub::{FakeHub, FakeServer};
use super::resources::Kind;
use super::user_pods::{PodServer, PodState, pod_server};

/// The Secret key holding hubdeck's API token (z2jh writes `hub.services.<name>.apiToken`).
const TOKEN_KEY: &str = "hub.services.hubdeck.apiToken";

impl SimCluster {
    /// The REST API of the hub in `namespace`, in step with the user pods; `None` when no hub
    /// lives there. Tests use it to look at or nudge (`touch`) what the hub reports.
    pub fn hub_api(&self, namespace: &str) -> Option<FakeHub> {
        let hub = hub_api(self, namespace)?;
        sync(self, &hub, namespace);
        Some(hub)
    }
}

/// The hub's API, created on first use; its token follows the hub Secret.
pub(crate) fn hub_api(cluster: &SimCluster, namespace: &str) -> Option<FakeHub> {
    let token = {
        let st = cluster.inner.state();
        let hub = st.hubs.iter().find(|h| h.namespace == namespace)?;
        st.store
            .get(Kind::Secret, namespace, &hub.object("hub"))
            .and_then(|o| o.typed::<Secret>())
            .and_then(|s| s.data?.remove(TOKEN_KEY))
            .and_then(|b| String::from_utf8(b.0).ok())
            .unwrap_or_default()
    };
    let mut apis = cluster.inner.hub_apis();
    if let Some(hub) = apis.get(namespace) {
        hub.set_token(token);
        return Some(hub.clone());
    }
    let hub = FakeHub::new(token, []);
    // A weak handle: the cluster owns its hubs, a hub must not keep the cluster alive.
    let weak = Arc::downgrade(&cluster.inner);
    let ns = namespace.to_string();
    hub.on_stop(move |user, server| {
        if let Some(inner) = weak.upgrade() {
            SimCluster { inner }.stop_server(&ns, user, server);
        }
    });
    apis.insert(namespace.to_string(), hub.clone());
    Some(hub)
}

/// Brings the hub's servers in line with the user pods of its release in `namespace`.
pub(crate) fn sync(cluster: &SimCluster, hub: &FakeHub, namespace: &str) {
    let pods = user_pods(cluster, namespace);
    let now = Timestamp::now();
    let known = hub.servers();
    for p in &pods {
        let had = known
            .iter()
            .find(|s| s.user == p.user && s.server == p.server);
        match (&p.state, had) {
            (PodState::Terminating, Some(_)) => {
                hub.set_pending(&p.user, &p.server, Some("stop"));
            }
            (PodState::Terminating, None) => {}
            (PodState::Starting, None) => hub.add_server(FakeServer {
                pending: Some("spawn".into()),
                ..FakeServer::ready(&p.user, &p.server, p.started, p.started)
            }),
            (PodState::Starting, Some(_)) => {}
            (PodState::Ready, None) => {
                let last = plausible_activity(&p.user, &p.server, p.started, now);
                hub.add_server(FakeServer::ready(&p.user, &p.server, p.started, last));
            }
            (PodState::Ready, Some(s)) if s.pending.is_some() => {
                // Spawn finished: the user is at the keyboard now.
                hub.set_pending(&p.user, &p.server, None);
                hub.touch(&p.user, &p.server, now);
            }
            (PodState::Ready, Some(_)) => {}
        }
    }
    for s in known {
        if !pods
            .iter()
            .any(|p| p.user == s.user && p.server == s.server)
        {
            hub.stop(&s.user, &s.server);
        }
    }
}

/// Records activity on a random running server of a random hub that has been asked about.
pub(crate) fn touch_random(cluster: &SimCluster, rng: &mut fastrand::Rng) {
    let hubs: Vec<FakeHub> = cluster.inner.hub_apis().values().cloned().collect();
    let Some(hub) = hubs.get(rng.usize(..hubs.len().max(1))) else {
        return;
    };
    let ready: Vec<FakeServer> = hub
        .servers()
        .into_iter()
        .filter(|s| s.pending.is_none())
        .collect();
    if let Some(s) = ready.get(rng.usize(..ready.len().max(1))) {
        hub.touch(&s.user, &s.server, Timestamp::now());
    }
}

/// Last activity for a server first seen running: a stable, per-user idle time of up to four
/// hours (a tenth idle for up to a day, so idle culling has something to find), never before
/// the server started.
fn plausible_activity(user: &str, server: &str, started: Timestamp, now: Timestamp) -> Timestamp {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in user.bytes().chain([0]).chain(server.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let span = if h.is_multiple_of(10) {
        24 * 60
    } else {
        4 * 60
    };
    let idle = SignedDuration::from_mins(((h >> 8) % span) as i64);
    (now - idle).max(started)
}

/// The user pods of the hub in `namespace` (the sim has one release per namespace).
fn user_pods(cluster: &SimCluster, namespace: &str) -> Vec<PodServer> {
    let (release, objects) = {
        let st = cluster.inner.state();
        let Some(release) = st
            .hubs
            .iter()
            .find(|h| h.namespace == namespace)
            .map(|h| h.release.clone())
        else {
            return Vec::new();
        };
        (release, st.store.list(Kind::Pod, Some(namespace)))
    };
    objects
        .iter()
        .filter_map(|o| pod_server(&o.json, &release))
        .collect()
}
