//! What the simulated Alertmanagers say: the alerts a moving demo starts with, tied to the
//! trouble `fleet` put in (a crash-looping proxy, long-pending users, a filling disk), and
//! alerts the scenario driver fires and resolves now and then. Labels and annotations follow
//! kube-prometheus' rules, so they map onto hubs and pods as a real fleet's do.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::cluster::SimCluster;
use super::controller::State;
use super::fake_alertmanager::FakeAlertmanager;
use super::resources::Kind;

/// Fires the alerts a cluster's trouble would raise; `c` of `n` clusters.
pub(crate) fn seed(am: &FakeAlertmanager, st: &State, c: usize, n: usize) {
    let since = Timestamp::now() - SignedDuration::from_mins(38);
    let mut pending: Vec<(String, String, usize)> = Vec::new();
    for p in st.store.list(Kind::Pod, None) {
        let v = p.value();
        let meta = &v["metadata"];
        if meta["annotations"]["hubdeck.sim/crash-looping"] == "true" {
            let summary = "Pod is crash looping.".to_string();
            let description = format!(
                "Pod {}/{} (chp) is in waiting state (reason: \"CrashLoopBackOff\").",
                p.namespace, p.name
            );
            am.fire_since(
                &[
                    ("alertname", "KubePodCrashLooping"),
                    ("container", "chp"),
                    ("job", "kube-state-metrics"),
                    ("namespace", &p.namespace),
                    ("pod", &p.name),
                    ("severity", "critical"),
                ],
                &[("summary", &summary), ("description", &description)],
                since,
            );
        }
        let user_pod = meta["labels"]["component"] == "singleuser-server";
        if user_pod && v["status"]["phase"] == "Pending" {
            let release = meta["labels"]["release"].as_str().unwrap_or("").to_string();
            match pending.iter_mut().find(|(ns, _, _)| **ns == *p.namespace) {
                Some(entry) => entry.2 += 1,
                None => pending.push((p.namespace.to_string(), release, 1)),
            }
        }
    }
    for (ns, release, count) in pending {
        let summary = format!("{count} user servers of {ns} pending for more than 15 minutes");
        am.fire_since(
            &[
                ("alertname", "JupyterHubPendingUserPods"),
                ("namespace", &ns),
                ("release", &release),
                ("severity", "warning"),
            ],
            &[("summary", &summary)],
            since + SignedDuration::from_mins(12),
        );
    }
    if c == 2 % n.max(1) {
        let core = st.nodes_of("core");
        let node = core.first().map_or("node-0", String::as_str);
        let description = format!(
            "Filesystem on /dev/sda1, mounted on /, at {node}:9100 has only 11.62% available space left and is filling up."
        );
        am.fire_since(
            &[
                ("alertname", "NodeFilesystemSpaceFillingUp"),
                ("device", "/dev/sda1"),
                ("fstype", "ext4"),
                ("instance", &format!("{node}:9100")),
                ("job", "node-exporter"),
                ("mountpoint", "/"),
                ("node", node),
                ("severity", "warning"),
            ],
            &[
                (
                    "summary",
                    "Filesystem is predicted to run out of space within the next 24 hours.",
                ),
                ("description", &description),
            ],
            since - SignedDuration::from_hours(3),
        );
    }
}

/// Fires one of the alerts that come and go on a cluster; returns its fingerprint.
pub(crate) fn fire_flapping(c: &SimCluster, rng: &mut fastrand::Rng) -> Option<String> {
    let am = c.inner.alertmanager.as_ref()?;
    let hubs = c.hub_namespaces();
    let ns = hubs.get(rng.usize(..hubs.len().max(1)))?.clone();
    let pods: Vec<Value> = {
        let st = c.inner.state();
        st.store
            .list(Kind::Pod, Some(&ns))
            .iter()
            .map(|o| o.value())
            .collect()
    };
    let of = |component: &str| -> Vec<String> {
        pods.iter()
            .filter(|p| p["metadata"]["labels"]["component"] == component)
            .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
            .collect()
    };
    match rng.u8(..3) {
        0 => {
            let users = of("singleuser-server");
            let pod = users.get(rng.usize(..users.len().max(1)))?;
            let description =
                format!("Pod {ns}/{pod} has been in a non-ready state for longer than 15 minutes.");
            Some(am.fire(
                &[
                    ("alertname", "KubePodNotReady"),
                    ("namespace", &ns),
                    ("pod", pod),
                    ("severity", "warning"),
                ],
                &[
                    (
                        "summary",
                        "Pod has been in a non-ready state for more than 15 minutes.",
                    ),
                    ("description", &description),
                ],
            ))
        }
        1 => {
            let hub = of("hub");
            let pod = hub.first()?;
            Some(am.fire(
                &[
                    ("alertname", "CPUThrottlingHigh"),
                    ("container", "hub"),
                    ("namespace", &ns),
                    ("pod", pod),
                    ("severity", "warning"),
                ],
                &[(
                    "summary",
                    "Processes experience elevated CPU throttling (41% of periods).",
                )],
            ))
        }
        _ => Some(am.fire(
            &[
                ("alertname", "KubeMemoryOvercommit"),
                ("severity", "warning"),
            ],
            &[(
                "summary",
                "Cluster has overcommitted memory resource requests.",
            )],
        )),
    }
}

/// Resolves an alert fired by [`fire_flapping`].
pub(crate) fn resolve(c: &SimCluster, fingerprint: &str) {
    if let Some(am) = &c.inner.alertmanager {
        am.resolve(fingerprint);
    }
}
