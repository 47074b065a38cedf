//! Frame timing for a 100,000-server fleet (not a pass/fail test: run it by hand with
//! `cargo test --lib tui::tests::bench -- --ignored --nocapture`).

use std::time::Instant;

use super::*;
use crate::fleet::fixtures::{pod, server};
use crate::fleet::{ClusterMeta, ClusterStatus};

/// `clusters` × `hubs` × `users` servers, every hub healthy.
pub fn big_fleet(clusters: usize, hubs: usize, users: usize) -> Fleet {
    let mut updates = Vec::new();
    for c in 0..clusters {
        let cluster = ClusterId::new(format!("cluster-{c:02}"));
        updates.push(FleetUpdate::ClusterAdded {
            cluster: cluster.clone(),
            meta: ClusterMeta::default(),
        });
        updates.push(FleetUpdate::Status {
            cluster: cluster.clone(),
            status: ClusterStatus::Ready,
        });
        let mut workloads = Vec::new();
        let mut pods = Vec::new();
        for h in 0..hubs {
            let ns = format!("hub-{h:03}");
            workloads.push(workload(&ns, &ns, Component::Hub, "hub", 1));
            workloads.push(workload(&ns, &ns, Component::Proxy, "proxy", 1));
            pods.push(pod(&ns, &ns, Component::Hub, "hub-0"));
            pods.extend((0..users).map(|u| server(&ns, &ns, &format!("user{u:05}"))));
        }
        updates.push(FleetUpdate::Workloads {
            cluster: cluster.clone(),
            kind: crate::fleet::WorkloadKind::Deployment,
            delta: Delta::Replace(workloads),
        });
        updates.push(FleetUpdate::Pods {
            cluster,
            delta: Delta::Replace(pods),
        });
    }
    let mut f = Fleet::new(Thresholds::default());
    f.apply_all(updates, t0());
    f
}

fn time(label: &str, app: &mut App, frames: u32) {
    let start = Instant::now();
    buffer(app, 120, 40);
    let first = start.elapsed();
    let start = Instant::now();
    for _ in 0..frames {
        buffer(app, 120, 40);
    }
    let steady = start.elapsed() / frames;
    println!("{label:<40} first frame {first:>10.2?}   cached frame {steady:>10.2?}");
}

#[test]
#[ignore = "timing, run by hand"]
fn frame_time_for_a_100k_server_fleet() {
    let fleet = big_fleet(10, 20, 500);
    assert_eq!(fleet.server_count(), 100_000);
    let mut app = App::new(opts(), fleet);
    time("hubs, fleet-wide (200 hubs)", &mut app, 50);
    press(&mut app, "3");
    time("servers, fleet-wide (100,000)", &mut app, 50);
    press(&mut app, "ss");
    time("servers sorted by user", &mut app, 50);
    press(&mut app, "/user0001");
    time("servers filtered", &mut app, 50);
    press(&mut app, "<esc>1<enter>");
    time("servers of one hub (500)", &mut app, 50);
    let version = app.fleet().version();
    app.apply_updates(
        vec![FleetUpdate::Latency {
            cluster: ClusterId::new("cluster-00"),
            latency: std::time::Duration::from_millis(5),
        }],
        t0(),
    );
    assert!(app.fleet().version() > version);
    press(&mut app, "<esc>3");
    time("servers after a fleet change (rebuild)", &mut app, 1);
}
