use std::time::Duration;

use jiff::SignedDuration;

use super::fixtures::{as_upserts, healthy_hub, hub_id, node, server, t0, usage};
use super::*;

const GI: u64 = 1 << 30;

/// leap/prod (ada, grace) and leap/staging (bob): the second hub's lists as upserts, so that
/// they do not replace the first's.
fn fleet() -> Fleet {
    let mut f = Fleet::new(Thresholds::default());
    f.apply_all(healthy_hub("leap", "prod", &["ada", "grace"]), t0());
    let upserts = healthy_hub("leap", "staging", &["bob"])
        .into_iter()
        .flat_map(as_upserts);
    f.apply_all(upserts, t0());
    assert_eq!(f.hubs().count(), 2);
    f
}

fn secs(n: i64) -> jiff::Timestamp {
    t0() + SignedDuration::from_secs(n)
}

fn pod_usage(f: &Fleet, ns: &str, pod: &str, now: jiff::Timestamp) -> Option<Usage> {
    f.hub(&hub_id("leap", ns))?.usage.pod(pod, now)
}

#[test]
fn a_pods_list_gives_each_server_its_usage_and_each_hub_its_total() {
    let mut f = fleet();
    let v = f.version();
    f.apply_all(
        [usage(
            "leap",
            t0(),
            &[
                ("prod", "jupyter-ada", 250, 3 * GI),
                ("prod", "hub-7d9f-abcde", 50, GI / 2),
                ("staging", "jupyter-bob", 10, GI),
                // A pod the model does not hold (not a z2jh pod, or listed later) is left out.
                ("prod", "jupyter-nobody", 999, 9 * GI),
            ],
        )],
        secs(1),
    );
    assert!(f.version() > v, "new figures are a change to draw");
    assert_eq!(
        pod_usage(&f, "prod", "jupyter-ada", secs(1)),
        Some(Usage {
            cpu_milli: 250,
            memory_bytes: 3 * GI
        })
    );
    assert_eq!(
        pod_usage(&f, "prod", "jupyter-grace", secs(1)),
        None,
        "no metrics for it"
    );
    assert_eq!(pod_usage(&f, "prod", "jupyter-nobody", secs(1)), None);
    let prod = f.hub(&hub_id("leap", "prod")).unwrap();
    assert_eq!(
        prod.usage.total(secs(1)),
        Some(Usage {
            cpu_milli: 300,
            memory_bytes: 3 * GI + GI / 2
        })
    );
    assert!(
        f.changes_since(v)
            .unwrap()
            .any(|c| *c == Change::Servers(hub_id("leap", "staging"))),
        "every server row of the hubs covered is redrawn"
    );
}

#[test]
fn usage_older_than_its_freshness_reads_as_unknown_and_its_expiry_is_a_change() {
    let mut f = fleet();
    f.apply_all(
        [usage("leap", t0(), &[("prod", "jupyter-ada", 250, GI)])],
        t0(),
    );
    assert!(pod_usage(&f, "prod", "jupyter-ada", secs(89)).is_some());
    assert_eq!(pod_usage(&f, "prod", "jupyter-ada", secs(90)), None);
    let hub = f.hub(&hub_id("leap", "prod")).unwrap();
    assert_eq!(hub.usage.total(secs(120)), None);
    assert_eq!(
        hub.usage.sampled_at(),
        Some(t0()),
        "the sample is still known"
    );
    let v = f.version();
    assert!(
        f.refresh(secs(100)),
        "the rows that showed it must be redrawn"
    );
    assert!(
        f.changes_since(v)
            .unwrap()
            .any(|c| *c == Change::Servers(hub_id("leap", "prod")))
    );
    assert!(!f.refresh(secs(200)), "once");
}

#[test]
fn a_namespace_list_replaces_only_that_namespaces_hubs() {
    let mut f = fleet();
    f.apply_all(
        [usage(
            "leap",
            t0(),
            &[
                ("prod", "jupyter-ada", 100, GI),
                ("staging", "jupyter-bob", 200, GI),
            ],
        )],
        t0(),
    );
    let FleetUpdate::Usage {
        cluster,
        mut sample,
    } = usage("leap", secs(30), &[("staging", "jupyter-bob", 300, 2 * GI)])
    else {
        unreachable!()
    };
    if let Sampled::Pods { scope, .. } = &mut sample.of {
        *scope = UsageScope::Namespace("staging".into());
    }
    f.apply_all([FleetUpdate::Usage { cluster, sample }], secs(30));
    assert_eq!(
        pod_usage(&f, "staging", "jupyter-bob", secs(100)).map(|u| u.cpu_milli),
        Some(300)
    );
    assert_eq!(
        pod_usage(&f, "prod", "jupyter-ada", secs(31)).map(|u| u.cpu_milli),
        Some(100),
        "the other namespace keeps its own sample"
    );
    assert_eq!(pod_usage(&f, "prod", "jupyter-ada", secs(100)), None);
}

#[test]
fn a_pod_that_goes_takes_its_usage_along_and_its_successor_waits_for_the_next_list() {
    let mut f = fleet();
    f.apply_all(
        [usage(
            "leap",
            t0(),
            &[
                ("prod", "jupyter-ada", 100, GI),
                ("prod", "jupyter-grace", 50, GI),
            ],
        )],
        t0(),
    );
    let ada = server("prod", "prod", "ada");
    let c = ClusterId::new("leap");
    f.apply_all(
        [
            FleetUpdate::Pods {
                cluster: c.clone(),
                delta: Delta::Remove(ada.clone()),
            },
            FleetUpdate::Pods {
                cluster: c,
                delta: Delta::Upsert(ada),
            },
        ],
        secs(5),
    );
    assert_eq!(pod_usage(&f, "prod", "jupyter-ada", secs(6)), None);
    let total = f.hub(&hub_id("leap", "prod")).unwrap().usage.total(secs(6));
    assert_eq!(total.map(|u| u.cpu_milli), Some(50));
}

#[test]
fn node_usage_is_kept_per_node_and_summed_per_pool() {
    let mut f = fleet();
    let c = ClusterId::new("leap");
    f.apply_all(
        [
            FleetUpdate::Nodes {
                cluster: c.clone(),
                delta: Delta::Replace(vec![
                    node("u-1", "user"),
                    node("u-2", "user"),
                    node("c-1", "core"),
                ]),
            },
            FleetUpdate::Usage {
                cluster: c,
                sample: UsageSample {
                    at: t0(),
                    fresh_for: Duration::from_secs(90),
                    of: Sampled::Nodes(vec![
                        NodeUsage {
                            name: "u-2".into(),
                            usage: Usage {
                                cpu_milli: 1500,
                                memory_bytes: 6 * GI,
                            },
                        },
                        NodeUsage {
                            name: "u-1".into(),
                            usage: Usage {
                                cpu_milli: 500,
                                memory_bytes: 2 * GI,
                            },
                        },
                    ]),
                },
            },
        ],
        t0(),
    );
    let leap = f.cluster("leap").unwrap();
    assert_eq!(
        leap.node_usage("u-1", secs(1)).map(|u| u.cpu_milli),
        Some(500)
    );
    assert_eq!(leap.node_usage("c-1", secs(1)), None);
    assert_eq!(
        leap.pool_usage("user", secs(1)),
        Some(Usage {
            cpu_milli: 2000,
            memory_bytes: 8 * GI
        })
    );
    assert_eq!(leap.pool_usage("core", secs(1)), None);
    assert_eq!(leap.pool_usage("user", secs(600)), None, "stale");
}

#[test]
fn memory_is_a_share_of_the_limit_or_else_of_the_request() {
    let mut p = server("prod", "prod", "ada");
    let used = Usage {
        cpu_milli: 0,
        memory_bytes: 3 * GI,
    };
    let share = memory_share(&p, used).unwrap();
    assert!(share.of_limit);
    assert!((share.percent - 75.0).abs() < 1e-9, "3 of a 4Gi limit");
    p.limits.memory_bytes = 0;
    let share = memory_share(&p, used).unwrap();
    assert!(!share.of_limit);
    assert!((share.percent - 150.0).abs() < 1e-9, "3 of a 2Gi request");
    p.requests.memory_bytes = 0;
    assert_eq!(memory_share(&p, used), None);
}

#[test]
fn the_metrics_state_is_a_cluster_change_only_when_it_changes() {
    let mut f = fleet();
    let update = || FleetUpdate::Metrics {
        cluster: ClusterId::new("leap"),
        source: MetricsSource {
            pods: MetricsState::NotServed {
                note: "HTTP 404".into(),
            },
            nodes: MetricsState::NotServed {
                note: "HTTP 404".into(),
            },
        },
    };
    assert!(f.apply(update(), t0()));
    assert!(!f.apply(update(), t0()), "said once");
    assert_eq!(f.cluster("leap").unwrap().metrics.pods.word(), "not served");
}
