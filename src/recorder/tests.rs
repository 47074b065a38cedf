//! The recorder end to end in one process: tap → writer thread → file → reader.

use std::path::Path;

use hubdeck_core::fleet::fixtures::{healthy_hub, server, t0};
use hubdeck_core::fleet::{ClusterId, Delta, Fleet, FleetUpdate, Thresholds};
use jiff::{SignedDuration, Timestamp};

use super::*;

fn at(secs: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(secs)
}

/// What `get` would show of a fleet, as JSON.
fn shown(f: &Fleet, now: Timestamp) -> String {
    let mut out = Vec::new();
    for kind in [
        crate::headless::get::Kind::Clusters,
        crate::headless::get::Kind::Hubs,
        crate::headless::get::Kind::Servers,
        crate::headless::get::Kind::Alerts,
        crate::headless::get::Kind::Events,
    ] {
        crate::headless::get::get(
            f,
            kind,
            &Default::default(),
            crate::headless::output::Format::Json,
            &mut out,
            now,
        )
        .unwrap();
    }
    String::from_utf8(out).unwrap()
}

/// Starts a recorder writing to `path`, a snapshot every `every`.
fn start_every(path: &Path, every: SignedDuration) -> (Tap, Recorder) {
    Recorder::start(RecorderConfig {
        target: Target::File(path.to_path_buf()),
        snapshot_every: every,
        audit_log: None,
    })
    .unwrap()
}

/// Starts a recorder writing to `path` with one snapshot an hour: only the first is written.
fn start(path: &Path) -> (Tap, Recorder) {
    start_every(path, SignedDuration::from_hours(1))
}

/// Feeds batches through the tap and a live fleet, each at its time; returns the live view
/// after each.
fn feed(
    tap: &mut Tap,
    live: &mut Fleet,
    batches: impl IntoIterator<Item = (Timestamp, Vec<FleetUpdate>)>,
) -> Vec<(Timestamp, String)> {
    let mut seen = Vec::new();
    for (now, b) in batches {
        tap.batch(live, &b, now);
        live.apply_all(b, now);
        tap.after_apply(live, now);
        seen.push((now, shown(live, now)));
    }
    seen
}

/// Asserts that a seek to each moment shows what the live fleet showed then.
fn assert_replays(rec: &Recording, seen: &[(Timestamp, String)]) {
    for (t, view) in seen {
        assert_eq!(&shown(&rec.state_at(*t).unwrap().fleet, *t), view, "at {t}");
    }
}

/// Records a little scenario to `path`, returning the live fleet's view at each batch time.
fn record_scenario(path: &Path) -> Vec<(Timestamp, String)> {
    let (mut tap, recorder) = start_every(path, SignedDuration::from_secs(60));
    let mut live = Fleet::new(Thresholds::default());
    tap.after_apply(&live, at(0));
    let leap = ClusterId::new("leap");
    let mut batches: Vec<Vec<FleetUpdate>> = vec![healthy_hub("leap", "prod", &["ada"])];
    for i in 0..150 {
        let mut p = server("prod", "prod", &format!("user{}", i % 7));
        p.restarts = i;
        p.ready = i % 3 != 0;
        batches.push(vec![FleetUpdate::Pods {
            cluster: leap.clone(),
            delta: if i % 11 == 10 {
                Delta::Remove(p)
            } else {
                Delta::Upsert(p)
            },
        }]);
        if i % 10 == 0 {
            // What the hub API says of its servers: one server gone and one changed each
            // time (changes in the recording), and the API failing once in between.
            let turn = (i / 10) as usize;
            let mut servers: Vec<_> = (0..12)
                .filter(|u| u % 7 != turn % 7)
                .map(|u| hubdeck_core::fleet::ServerActivity {
                    user: format!("user{u}").into(),
                    server: "".into(),
                    ready: u != turn % 12,
                    pending: None,
                    started: Some(at(-30)),
                    last_activity: (u != 3).then(|| at(if u == turn % 5 { i as i64 } else { 0 })),
                })
                .collect();
            // As the poller sends them.
            servers.sort_by(|a, b| a.user.cmp(&b.user));
            let source = if turn == 6 {
                hubdeck_core::fleet::SourceState::Failing {
                    error: "503".into(),
                }
            } else {
                hubdeck_core::fleet::SourceState::Ok
            };
            batches.push(vec![FleetUpdate::Activity {
                hub: hubdeck_core::fleet::fixtures::hub_id("leap", "prod"),
                source,
                servers: if turn == 6 { Vec::new() } else { servers },
            }]);
        }
    }
    let timed = batches
        .into_iter()
        .enumerate()
        .map(|(i, b)| (at(1 + i as i64), b));
    let seen = feed(&mut tap, &mut live, timed);
    drop(tap);
    assert_eq!(recorder.finish(), None);
    seen
}

#[test]
fn a_replay_at_any_batch_time_shows_what_the_live_model_showed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.hdrec");
    let seen = record_scenario(&path);
    let rec = Recording::open(&path).unwrap();
    let snapshots = rec
        .entries()
        .iter()
        .filter(|e| e.header.kind == format::Kind::Snapshot)
        .count();
    assert!(
        snapshots >= 3,
        "one at the start and one a minute: {snapshots}"
    );
    assert_replays(&rec, &seen);
    assert!(rec.state_at(at(-5)).is_err());
    let changes = rec
        .entries()
        .iter()
        .filter(|e| e.header.kind == format::Kind::Deltas)
        .flat_map(|e| rec.groups(e).unwrap())
        .flat_map(|g| g.items)
        .filter(|i| matches!(i, format::Rec::Activity(_)))
        .count();
    assert!(changes >= 5, "{changes} hub reports written as changes");
}

#[test]
fn a_recording_cut_anywhere_in_its_last_record_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.hdrec");
    let seen = record_scenario(&path);
    let whole = std::fs::read(&path).unwrap();
    let rec = Recording::open(&path).unwrap();
    let last = rec.entries().last().copied().unwrap();
    let last_start = last.offset as usize - format::RECORD_HEADER_LEN;
    let kept_end = rec.entries()[rec.entries().len() - 2].header.time;
    let cut_path = dir.path().join("cut.hdrec");
    for cut in last_start..whole.len() {
        std::fs::write(&cut_path, &whole[..cut]).unwrap();
        let cut_rec = Recording::open(&cut_path)
            .unwrap_or_else(|e| panic!("cut at {cut} of {}: {e}", whole.len()));
        assert_eq!(
            cut_rec.entries().len(),
            rec.entries().len() - 1,
            "cut at {cut}"
        );
        let (t, view) = seen.iter().rev().find(|(t, _)| *t <= kept_end).unwrap();
        assert_eq!(&shown(&cut_rec.state_at(*t).unwrap().fleet, *t), view);
    }
    // A damaged record in the middle is an error naming the file, not a silent skip.
    let mut bad = whole.clone();
    let snap = rec.snapshot_before(seen[140].0).unwrap();
    let first_payload = rec.entries()[snap].offset as usize;
    bad[first_payload] ^= 0xff;
    std::fs::write(&cut_path, &bad).unwrap();
    let opened = Recording::open(&cut_path).unwrap();
    let err = opened
        .state_at(seen[140].0)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cut.hdrec") && err.contains("damaged"),
        "{err}"
    );
}

#[test]
fn an_export_of_a_window_replays_like_the_original_over_that_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.hdrec");
    let seen = record_scenario(&path);
    let rec = Recording::open(&path).unwrap();
    let (t1, t2) = (at(70), at(130));
    let out = dir.path().join("window.hdrec");
    let bytes = replay::export(&rec, t1, t2, &out).unwrap();
    assert!(bytes < std::fs::metadata(&path).unwrap().len());
    let window = Recording::open(&out).unwrap();
    for (t, view) in seen.iter().filter(|(t, _)| (t1..=t2).contains(t)) {
        assert_eq!(
            &shown(&window.state_at(*t).unwrap().fleet, *t),
            view,
            "at {t}"
        );
    }
    assert!(window.state_at(at(60)).is_err(), "before the window");
    // The changes at t1 itself are folded into the window's first snapshot.
    let after = t1 + SignedDuration::from_millis(1);
    let changes = replay::changes(&window, after, t2).unwrap();
    assert_eq!(changes, replay::changes(&rec, after, t2).unwrap());
    assert_eq!(changes.len(), 60);
}

#[test]
fn a_full_channel_becomes_a_gap_and_the_next_snapshot_resumes() {
    let (tx, rx) = std::sync::mpsc::sync_channel(2);
    let want = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tap = Tap::new(tx, want, SignedDuration::from_secs(600));
    let mut fleet = Fleet::new(Thresholds::default());
    tap.after_apply(&fleet, at(0));
    let b = healthy_hub("leap", "prod", &["ada"]);
    for i in 1..=3 {
        tap.batch(&fleet, &b, at(i));
        fleet.apply_all(b.clone(), at(i));
        tap.after_apply(&fleet, at(i));
    }
    let got: Vec<_> = rx.try_iter().collect();
    assert_eq!(got.len(), 2, "the channel holds two: {got:?}");
    tap.batch(&fleet, &b, at(4));
    tap.after_apply(&fleet, at(4));
    match rx.try_recv() {
        Ok(tap::Item::Snapshot { gap, .. }) => assert_eq!(gap, 3 * b.len() as u64),
        other => panic!("expected a snapshot after the gap: {other:?}"),
    }
}

/// Batches that patch the same pod twice, remove and re-add it, move it to another release
/// and re-list the cluster: a replay still shows what the live fleet showed, and the changes
/// listing names every pod update whole.
#[test]
fn patches_replay_exactly_through_tricky_batches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.hdrec");
    let (mut tap, recorder) = start(&path);
    let leap = ClusterId::new("leap");
    let pods = |d: Delta<hubdeck_core::fleet::PodInfo>| FleetUpdate::Pods {
        cluster: leap.clone(),
        delta: d,
    };
    let mut live = Fleet::new(Thresholds::default());
    let mut batches = vec![healthy_hub("leap", "prod", &["ada", "bob"])];
    let ada = server("prod", "prod", "ada");
    let mut v = Vec::new();
    for i in 0..4u32 {
        let mut p = ada.clone();
        p.restarts = i;
        p.ready = i % 2 == 0;
        v.push(p);
    }
    let mut moved = ada.clone();
    moved.release = "other".into();
    let bob = server("prod", "prod", "bob");
    let mut bob2 = bob.clone();
    bob2.restarts = 9;
    batches.push(vec![
        pods(Delta::Upsert(v[1].clone())),
        pods(Delta::Upsert(v[2].clone())),
    ]);
    batches.push(vec![
        pods(Delta::Upsert(v[3].clone())),
        pods(Delta::Remove(v[3].clone())),
        pods(Delta::Upsert(v[0].clone())),
        pods(Delta::Upsert(v[1].clone())),
    ]);
    batches.push(vec![
        pods(Delta::Upsert(moved.clone())),
        pods(Delta::Upsert(bob2.clone())),
    ]);
    batches.push(vec![
        pods(Delta::Replace(vec![v[2].clone(), bob.clone()])),
        pods(Delta::Upsert(v[3].clone())),
    ]);
    batches.push(vec![pods(Delta::Upsert(bob2.clone()))]);
    tap.after_apply(&live, at(0));
    let timed = batches
        .into_iter()
        .enumerate()
        .map(|(i, b)| (at(1 + i as i64), b));
    let seen = feed(&mut tap, &mut live, timed);
    drop(tap);
    assert_eq!(recorder.finish(), None);
    let rec = Recording::open(&path).unwrap();
    let patches = rec
        .entries()
        .iter()
        .filter(|e| e.header.kind == format::Kind::Deltas)
        .flat_map(|e| rec.groups(e).unwrap())
        .flat_map(|g| g.items)
        .filter(|i| matches!(i, format::Rec::Patch { .. }))
        .count();
    assert!(patches >= 4, "pod updates went as patches: {patches}");
    assert_replays(&rec, &seen);
    let rows = replay::changes(&rec, at(2), at(6)).unwrap();
    let pod_rows: Vec<String> = rows
        .iter()
        .filter(|r| r.kind == "pod")
        .map(|r| format!("{} {} {}", r.op, r.object, r.detail))
        .collect();
    assert!(
        pod_rows
            .iter()
            .any(|r| r.contains("prod/jupyter-ada") && r.contains("restarts 3")),
        "{pod_rows:#?}"
    );
    assert!(
        pod_rows
            .iter()
            .any(|r| r.contains("jupyter-bob") && r.contains("restarts 9")),
        "{pod_rows:#?}"
    );
}

/// Closing the tap ends the recording with a snapshot of the last state, which is what a
/// warm start then reads without any deltas.
#[test]
fn a_closed_recording_ends_with_the_last_state_as_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.hdrec");
    let (mut tap, recorder) = start(&path);
    let mut live = Fleet::new(Thresholds::default());
    tap.after_apply(&live, at(0));
    let b = healthy_hub("leap", "prod", &["ada", "bob"]);
    tap.batch(&live, &b, at(1));
    live.apply_all(b, at(1));
    tap.after_apply(&live, at(1));
    tap.close(&live, at(2));
    assert_eq!(recorder.finish(), None);
    let rec = Recording::open(&path).unwrap();
    let last = rec.entries().last().unwrap();
    assert_eq!(last.header.kind, format::Kind::Snapshot);
    let warm = warm::fleet(&rec, &["leap"], Thresholds::default(), at(2)).unwrap();
    assert_eq!(warm.server_count(), 2);
    assert!(matches!(
        warm.cluster("leap").unwrap().status,
        hubdeck_core::fleet::ClusterStatus::Recorded { .. }
    ));
}

#[test]
fn usage_is_recorded_every_few_minutes_and_shown_until_the_next_recorded_sample() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.hdrec");
    let (mut tap, recorder) = start(&path);
    let mut live = Fleet::new(Thresholds::default());
    tap.after_apply(&live, at(0));
    let first = healthy_hub("leap", "prod", &["ada"]);
    tap.batch(&live, &first, at(1));
    live.apply_all(first, at(1));
    // A poll every 30 s for ten minutes, ada's memory growing.
    let mut recorded = 0;
    for i in 0..20i64 {
        let t = at(2 + 30 * i);
        let b = vec![hubdeck_core::fleet::fixtures::usage(
            "leap",
            t,
            &[(
                "prod",
                "jupyter-ada",
                100,
                (1 << 30) + (i as u64) * (1 << 20),
            )],
        )];
        tap.batch(&live, &b, t);
        live.apply_all(b, t);
    }
    drop(tap);
    assert_eq!(recorder.finish(), None);
    let rec = Recording::open(&path).unwrap();
    for e in rec.entries() {
        if e.header.kind == format::Kind::Deltas {
            for g in rec.groups(e).unwrap() {
                recorded += g
                    .items
                    .iter()
                    .filter(|u| {
                        matches!(
                            u,
                            format::Rec::Whole(FleetUpdate::Usage { .. }) | format::Rec::Usage(_)
                        )
                    })
                    .count();
            }
        }
    }
    assert_eq!(recorded, 2, "at 0 and 5 minutes, not every 30 s");
    // Four minutes after the first recorded sample the live console showed a newer figure;
    // the replay shows the recorded one rather than nothing.
    let ada = |t: Timestamp| {
        rec.state_at(t)
            .unwrap()
            .fleet
            .hub(&hubdeck_core::fleet::fixtures::hub_id("leap", "prod"))
            .and_then(|h| h.usage.pod("jupyter-ada", t))
            .map(|u| (u.cpu_milli, u.memory_bytes))
    };
    assert_eq!(ada(at(2 + 240)), Some((100, 1 << 30)));
    assert_eq!(
        ada(at(2 + 330)),
        Some((100, (1 << 30) + (10 << 20))),
        "the next one"
    );
}

/// A seek takes a patch's base from the snapshot's pods by number: across clusters and hubs,
/// each patch must land on its own pod.
#[test]
fn a_seek_patches_each_pod_of_many_hubs_and_clusters_from_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.hdrec");
    let (mut tap, recorder) = start(&path);
    let mut live = Fleet::new(Thresholds::default());
    let users = ["ada", "bob", "cy", "dee"];
    for (cluster, hub) in [
        ("nasa", "b"),
        ("leap", "prod"),
        ("leap", "a"),
        ("nasa", "z"),
    ] {
        live.apply_all(healthy_hub(cluster, hub, &users), at(0));
    }
    tap.after_apply(&live, at(0));
    let rounds = (1..4u32).map(|round| {
        let mut batch = Vec::new();
        for (cluster, hub) in [
            ("leap", "a"),
            ("nasa", "z"),
            ("leap", "prod"),
            ("nasa", "b"),
        ] {
            for (i, user) in users.iter().enumerate().skip(round as usize % 2) {
                let mut p = server(hub, hub, user);
                p.restarts = round * 10 + i as u32;
                p.ready = round % 2 == 0;
                batch.push(FleetUpdate::Pods {
                    cluster: ClusterId::new(cluster),
                    delta: Delta::Upsert(p),
                });
            }
        }
        (at(i64::from(round)), batch)
    });
    let seen = feed(&mut tap, &mut live, rounds);
    drop(tap);
    assert_eq!(recorder.finish(), None);
    assert_replays(&Recording::open(&path).unwrap(), &seen);
}

#[test]
fn a_version_2_recording_with_messagepack_snapshots_still_replays() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.hdrec");
    let mut live = Fleet::new(Thresholds::default());
    let mut updates = healthy_hub("leap", "staging", &["ada", "grace"]);
    updates.push(FleetUpdate::Pods {
        cluster: ClusterId::new("leap"),
        delta: Delta::Upsert(server("staging", "staging", "lin")),
    });
    live.apply_all(updates, at(0));
    // As hubdeck wrote snapshots before pod tables: every part one MessagePack update.
    let parts = live
        .snapshot()
        .into_iter()
        .map(hubdeck_core::fleet::Part::Update)
        .collect();
    let mut raw = Vec::new();
    format::push_limits(&mut raw, live.limits());
    encode::push_snapshot(&mut raw, at(0), parts, &mut encode::Segment::default());
    let mut file = format::file_header().to_vec();
    file[8..12].copy_from_slice(&2u32.to_le_bytes());
    let packed = format::compress_snapshot(&raw).unwrap();
    format::write_record(&mut file, format::Kind::Snapshot, 0, at(0), &packed).unwrap();
    std::fs::write(&path, file).unwrap();
    let rec = Recording::open(&path).unwrap();
    assert_eq!(
        shown(&rec.state_at(at(0)).unwrap().fleet, at(0)),
        shown(&live, at(0))
    );
}

#[test]
fn a_snapshot_writes_its_pods_as_tables() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.hdrec");
    let (mut tap, recorder) = start(&path);
    let mut live = Fleet::new(Thresholds::default());
    let users: Vec<String> = (0..200).map(|i| format!("user{i}")).collect();
    let users: Vec<&str> = users.iter().map(String::as_str).collect();
    feed(
        &mut tap,
        &mut live,
        [(at(0), healthy_hub("leap", "staging", &users))],
    );
    drop(tap);
    assert_eq!(recorder.finish(), None);
    let rec = Recording::open(&path).unwrap();
    let e = &rec.entries()[0];
    assert_eq!(e.header.kind, format::Kind::Snapshot);
    let raw = format::decompress(&rec.raw(e).unwrap()).unwrap();
    let mut msgpack = Vec::new();
    let parts = live
        .snapshot()
        .into_iter()
        .map(hubdeck_core::fleet::Part::Update);
    encode::push_snapshot(
        &mut msgpack,
        at(0),
        parts.collect(),
        &mut Default::default(),
    );
    // Names and owners are each pod's own; namespace, release, node and image are shared.
    assert!(
        raw.len() * 2 < msgpack.len(),
        "{} bytes as tables, {} as MessagePack",
        raw.len(),
        msgpack.len()
    );
    let (_, group) = rec.snapshot(e).unwrap();
    let pods = group.items.iter().find_map(|r| match r {
        format::Rec::Whole(FleetUpdate::Pods {
            delta: Delta::Replace(p),
            ..
        }) => Some(p.len()),
        _ => None,
    });
    assert_eq!(pods, Some(203));
}
