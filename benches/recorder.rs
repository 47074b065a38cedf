//! Flight recorder figures (printed, asserting nothing):
//! - recording cost under the sim's churn (2,000 pod updates a second by default): bytes per
//!   hour on disk, CPU of the writer thread and of the whole process with and without the
//!   recorder, RSS added (the sim runs as a `hubdeck sim` process of its own, so this process
//!   is the console's model and the recorder alone);
//! - a recording of `--hours` of that churn over the same fleet, written with the recorder's
//!   format: opening it (the index), seeking to moments in it, and the warm start's first
//!   frame (the recording's last state in a 120x40 console).
//!
//! `cargo bench --bench recorder -- [--scale 30,600,100000] [--secs 20] [--hours 1] [--rate 2000]
//! [--keep FILE] [--keep-live FILE] [--read FILE] [--composition FILE]`: `--keep` keeps the
//! synthetic recording and `--keep-live` the live phase's, `--read` measures only the read side
//! of a recording, `--composition` prints only what a recording's deltas and last snapshot are
//! made of.
//!
//! A seek decodes the last snapshot before the moment and at most `record_snapshot_mins`
//! (10) of deltas, so it does not grow with the recording's length; only the index scan
//! (one header per second of recording) does. `--hours 8` writes the full 8 hours (about 8
//! times the bytes per hour printed; mind the disk).

use std::time::{Duration, Instant};

use hubdeck::fleet::{ClusterId, Delta, Fleet, FleetUpdate, PodInfo, Thresholds};
use hubdeck::headless::session::Session;
use hubdeck::kube::targets;
use hubdeck::recorder::encode;
use hubdeck::recorder::format::{self, Kind};
use hubdeck::recorder::{Recorder, RecorderConfig, Recording, Target};
use jiff::{SignedDuration, Timestamp};

#[path = "shared/sim.rs"]
mod sim;

struct Opts {
    scale: (usize, usize, usize),
    secs: u64,
    hours: f64,
    rate: u32,
    /// Read this recording instead of recording one (the read side alone, to profile it).
    read: Option<std::path::PathBuf>,
    /// Keep the synthetic recording there.
    keep: Option<std::path::PathBuf>,
    /// Keep the live phase's recording there.
    keep_live: Option<std::path::PathBuf>,
    /// Only print what this (live) recording's deltas are made of.
    composition: Option<std::path::PathBuf>,
}

fn opts() -> Opts {
    let mut o = Opts {
        scale: (30, 600, 100_000),
        secs: 20,
        hours: 1.0,
        rate: 2000,
        read: None,
        keep: None,
        keep_live: None,
        composition: None,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--scale" => {
                let n: Vec<usize> = v.split(',').filter_map(|x| x.parse().ok()).collect();
                if let [c, h, s] = n[..] {
                    o.scale = (c, h, s);
                }
            }
            "--secs" => o.secs = v.parse().unwrap_or(o.secs),
            "--hours" => o.hours = v.parse().unwrap_or(o.hours),
            "--rate" => o.rate = v.parse().unwrap_or(o.rate),
            "--read" => o.read = Some(v.into()),
            "--keep" => o.keep = Some(v.into()),
            "--keep-live" => o.keep_live = Some(v.into()),
            "--composition" => o.composition = Some(v.into()),
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

fn cpu_secs() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// CPU seconds of the recorder's writer thread.
fn writer_cpu() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    for t in tasks.flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if comm.trim() == "hubdeck-recorde" {
            let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
            let after = stat.rsplit(')').next().unwrap_or_default();
            let f: Vec<&str> = after.split_whitespace().collect();
            let ticks: f64 = f.get(11).and_then(|x| x.parse().ok()).unwrap_or(0.0)
                + f.get(12).and_then(|x| x.parse().ok()).unwrap_or(0.0);
            return ticks / 100.0;
        }
    }
    0.0
}

async fn run_for(s: &mut Session, secs: u64) {
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < end {
        s.pump(end).await;
    }
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// Writes `hours` of churn over `base` (`rate` pod updates a second, batches of 100 ms,
/// records of a second, snapshots every 10 minutes) as the recorder would; returns its size.
fn synthetic(base: &Fleet, path: &std::path::Path, hours: f64, rate: u32) -> u64 {
    let mut fleet = base.clone();
    let pods: Vec<(ClusterId, PodInfo)> = base
        .clusters()
        .flat_map(|c| {
            c.hubs
                .values()
                .flat_map(move |h| h.pods.values().map(move |p| (c.id.clone(), p.clone())))
        })
        .collect();
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    use std::io::Write;
    file.write_all(&format::file_header()).unwrap();
    let mut written = format::FILE_HEADER_LEN;
    let start = Timestamp::now() - SignedDuration::from_secs_f64(hours * 3600.0);
    let mut ids = encode::Segment::default();
    let snapshot = |file: &mut std::io::BufWriter<std::fs::File>,
                    fleet: &Fleet,
                    t: Timestamp,
                    ids: &mut encode::Segment| {
        let mut raw = Vec::new();
        format::push_limits(&mut raw, fleet.limits());
        encode::push_snapshot(&mut raw, t, fleet.snapshot_parts(), ids);
        let packed = format::compress_snapshot(&raw).unwrap();
        format::write_record(file, Kind::Snapshot, 0, t, &packed).unwrap()
    };
    written += snapshot(&mut file, &fleet, start, &mut ids);
    let mut rng = Rng(0x2122_c0de);
    let per_batch = (rate / 10).max(1) as usize;
    let seconds = (hours * 3600.0) as i64;
    let mut counter = 0u32;
    for sec in 0..seconds {
        let mut block = Vec::new();
        let t_sec = start + SignedDuration::from_secs(sec);
        for tenth in 0..10 {
            let t = t_sec + SignedDuration::from_millis(tenth * 100);
            let batch: Vec<FleetUpdate> = (0..per_batch)
                .map(|_| {
                    let (c, p) = &pods[rng.below(pods.len())];
                    let mut p = p.clone();
                    counter = counter.wrapping_add(1);
                    p.restarts = counter % 17;
                    p.ready = counter.is_multiple_of(2);
                    FleetUpdate::Pods {
                        cluster: c.clone(),
                        delta: Delta::Upsert(p),
                    }
                })
                .collect();
            let outs = encode::diff_batch(&fleet, batch.clone());
            encode::push_group(&mut block, t, &outs, &mut ids);
            // Derived health is refreshed before each snapshot, not per batch: the file is the
            // same, and writing it takes minutes less.
            for u in batch {
                fleet.apply(u, t);
            }
        }
        let packed = format::compress(&block).unwrap();
        written += format::write_record(&mut file, Kind::Deltas, 0, t_sec, &packed).unwrap();
        if (sec + 1) % 600 == 0 {
            let t = t_sec + SignedDuration::from_millis(999);
            fleet.refresh(t);
            written += snapshot(&mut file, &fleet, t, &mut ids);
        }
    }
    // A console that exits cleanly ends its recording with a snapshot, which its next start
    // opens on.
    if seconds % 600 != 0 {
        let t = start + SignedDuration::from_secs(seconds);
        fleet.refresh(t);
        written += snapshot(&mut file, &fleet, t, &mut ids);
    }
    file.flush().unwrap();
    written
}

/// What the deltas of a recording are made of: entries by kind, their bytes before
/// compression as written (framing included), and each kind's bytes compressed on its own,
/// record by record, so a change to the encoding can be aimed at what costs. Returns the
/// usage samples' bytes compressed on their own.
fn composition(r: &Recording) -> usize {
    use hubdeck::recorder::format::Rec;
    use hubdeck::recorder::patch::put_varint;
    use hubdeck::recorder::{encode as tags, entries};
    use std::collections::BTreeMap;
    let varint_len = |v: usize| {
        let mut b = Vec::new();
        put_varint(&mut b, v as u64);
        b.len()
    };
    // By kind: entries, bytes raw, bytes compressed alone.
    let mut by: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    let mut patches: BTreeMap<String, u64> = BTreeMap::new();
    let mut raw_total = 0;
    let mut usage_z = 0;
    let (mut groups, mut records) = (0usize, 0usize);
    for e in r.entries().iter().filter(|e| e.header.kind == Kind::Deltas) {
        records += 1;
        let Ok(payload) = r.payload(e) else { continue };
        let mut record: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for (time, frames) in format::read_frames(&payload).unwrap_or_default() {
            groups += 1;
            raw_total += 8 + varint_len(frames.len());
            for (tag, body) in frames {
                let name = match tag {
                    tags::TAG_PATCH | tags::TAG_PATCHES => {
                        let items = entries::decode(&[(tag, body)], time).map(|d| d.0);
                        for item in items.unwrap_or_default() {
                            if let Rec::Patch { patch, .. } = item {
                                *patches.entry(patch.fields()).or_default() += 1;
                            }
                        }
                        "patch runs".to_string()
                    }
                    t => entry_name(t, body),
                };
                let n = 1 + varint_len(body.len()) + body.len();
                raw_total += n;
                let slot = by.entry(name.clone()).or_default();
                slot.0 += 1;
                slot.1 += n as u64;
                record.entry(name).or_default().extend_from_slice(body);
            }
        }
        for (name, bytes) in record {
            let z = format::compress(&bytes).map(|z| z.len()).unwrap_or(0) as u64;
            if name.starts_with("Usage") {
                usage_z += z as usize;
            }
            by.entry(name).or_default().2 += z;
        }
    }
    println!(
        "  deltas before compression {:.1} MB, {records} records of {:.1} groups each on average:",
        raw_total as f64 / 1e6,
        groups as f64 / records.max(1) as f64
    );
    let mut rows: Vec<_> = by.into_iter().collect();
    rows.sort_by_key(|(_, (_, b, z))| std::cmp::Reverse((*z, *b)));
    for (name, (n, b, z)) in rows.into_iter().take(12) {
        println!(
            "    {name:<40} {n:>9} entries {:>9.1} KB raw {:>9.1} KB compressed alone",
            b as f64 / 1e3,
            z as f64 / 1e3
        );
    }
    let mut patches: Vec<_> = patches.into_iter().collect();
    patches.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let patches: Vec<String> = patches
        .into_iter()
        .take(6)
        .map(|(fields, n)| format!("{n} {fields}"))
        .collect();
    println!("    patches by fields: {}", patches.join(", "));
    usage_z
}

/// What an entry is, by its tag (and its update's kind, for one written whole).
fn entry_name(tag: u8, body: &[u8]) -> String {
    use hubdeck::recorder::encode as tags;
    match tag {
        tags::TAG_PODS => "pods tables".into(),
        tags::TAG_USAGE => "Usage (table)".into(),
        tags::TAG_USAGE_NUMBERED => "Usage (by pod number)".into(),
        tags::TAG_ACTIVITY => "Activity (table)".into(),
        tags::TAG_ACTIVITY_CHANGES => "Activity (changes)".into(),
        tags::TAG_WHOLE => {
            let u = rmp_serde::from_slice::<FleetUpdate>(body);
            let dbg = u.map(|u| format!("{u:?}")).unwrap_or_default();
            let name: String = dbg.chars().take_while(|c| c.is_alphanumeric()).collect();
            let delta = ["Upsert", "Remove", "ReplaceIn", "Replace"]
                .into_iter()
                .find(|d| dbg.contains(&format!("delta: {d}")))
                .map_or(String::new(), |d| format!(" {d}"));
            format!("{name}{delta} (MessagePack)")
        }
        t => format!("tag {t}"),
    }
}

/// What a snapshot is made of: its entries by kind as written, each kind's bytes before
/// compression and compressed on its own.
fn snapshot_composition(r: &Recording) {
    use std::collections::BTreeMap;
    let Some(e) = r
        .entries()
        .iter()
        .rfind(|e| e.header.kind == Kind::Snapshot)
    else {
        return;
    };
    let Ok(payload) = r.payload(e) else { return };
    let Ok((_, rest)) = format::read_limits(&payload) else {
        return;
    };
    let mut by: BTreeMap<String, (usize, Vec<u8>)> = BTreeMap::new();
    for (_, frames) in format::read_frames(rest).unwrap_or_default() {
        for (tag, body) in frames {
            let name = entry_name(tag, body);
            let slot = by.entry(name).or_default();
            slot.0 += 1;
            slot.1.extend_from_slice(body);
        }
    }
    println!(
        "  last snapshot {:.1} MB compressed; by kind, raw and compressed alone:",
        f64::from(e.header.len) / 1e6
    );
    let mut rows: Vec<_> = by
        .into_iter()
        .map(|(name, (n, raw))| {
            let z = format::compress(&raw).map(|z| z.len()).unwrap_or(0);
            (name, n, raw.len(), z)
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.3));
    for (name, n, raw, z) in rows.into_iter().take(8) {
        println!(
            "    {name:<28} {n:>6} entries {:>8.1} KB raw {:>8.1} KB compressed",
            raw as f64 / 1e3,
            z as f64 / 1e3
        );
    }
}

/// Where a seek's time goes: the last snapshot before `at` read and decoded, the fleet built
/// from it, the deltas after it taken in, and derived health refreshed once.
fn breakdown(rec: &Recording, at: Timestamp, what: &str) {
    use hubdeck::recorder::cursor::Cursor;
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    let Some(i) = rec.snapshot_before(at) else {
        return;
    };
    let t = Instant::now();
    let (limits, snap) = rec.snapshot(&rec.entries()[i]).unwrap();
    let decode = ms(t);
    let t = Instant::now();
    let mut cursor = Cursor::at_snapshot(limits, snap);
    let build = ms(t);
    let t = Instant::now();
    let mut items = 0;
    'entries: for e in &rec.entries()[i + 1..] {
        if e.header.kind == Kind::Snapshot || e.header.time > at {
            break;
        }
        if e.header.kind != Kind::Deltas {
            continue;
        }
        for g in rec.groups(e).unwrap() {
            if g.time > at {
                break 'entries;
            }
            items += g.items.len();
            cursor.fast_forward(g).unwrap();
        }
    }
    cursor.flush().unwrap();
    let deltas = ms(t);
    let t = Instant::now();
    cursor.fleet.refresh(at);
    let derive = ms(t);
    println!(
        "  {what:<24}  snapshot read+decode {decode:>6.1} ms   fleet built {build:>6.1} ms   \
         {items} deltas {deltas:>6.1} ms   derived {derive:>6.1} ms"
    );
}

fn main() {
    let o = opts();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Some(p) = &o.composition {
        let rec = Recording::open(p).unwrap();
        composition(&rec);
        snapshot_composition(&rec);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = match o.read.clone() {
        Some(p) => p,
        None => record(&o, &rt, dir.path()),
    };
    read(&path, dir.path());
}

/// The live phase (recording the sim's churn) and a synthetic recording of `--hours`; returns
/// where the synthetic one is.
fn record(o: &Opts, rt: &tokio::runtime::Runtime, dir: &std::path::Path) -> std::path::PathBuf {
    let (c, h, s) = o.scale;
    // The sim runs in its own process, so that this one's CPU and RSS are the console's.
    let sim = sim::Sim::start((c, h, s), &format!("churn:{}", o.rate), dir).unwrap();
    let base = rt.block_on(async {
        let kc = targets::read_kubeconfig(&sim.kubeconfig).unwrap();
        let list = targets::from_kubeconfig(kc, &[]).unwrap();
        let mut session = Session::start(list, Thresholds::default());
        session.settle(Duration::from_secs(600)).await;
        run_for(&mut session, 3).await;
        let (cpu0, n0) = (cpu_secs(), session.applied());
        run_for(&mut session, o.secs).await;
        let (cpu1, rss1, n1) = (cpu_secs(), status_kb("VmRSS"), session.applied());
        let path = dir.join("churn.hdrec");
        let (tap, recorder) = Recorder::start(RecorderConfig {
            target: Target::File(path.clone()),
            snapshot_every: SignedDuration::from_mins(10),
            audit_log: None,
        })
        .unwrap();
        let t_snap = Instant::now();
        session.record_to(tap);
        let first_snapshot = t_snap.elapsed();
        run_for(&mut session, o.secs).await;
        let (cpu2, rss2, n2) = (cpu_secs(), status_kb("VmRSS"), session.applied());
        let wcpu = writer_cpu();
        session.stop_recording();
        let finished = recorder.finish();
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if let Some(keep) = &o.keep_live {
            std::fs::copy(&path, keep).unwrap();
        }
        let secs = o.secs as f64;
        // One snapshot per 10 minutes, deltas all the time: an hour holds six snapshots.
        let written = Recording::open(&path);
        let (snap, deltas) = written
            .as_ref()
            .map(|r| {
                let size = |k: Kind| r.entries().iter().filter(move |e| e.header.kind == k).map(|e| u64::from(e.header.len));
                (size(Kind::Snapshot).max().unwrap_or(0), size(Kind::Deltas).sum::<u64>())
            })
            .unwrap_or((0, 0));
        println!("recorder at {c}/{h}/{s}, sim churn {}/s, {} s each phase", o.rate, o.secs);
        println!("  updates applied/s        without {:>8.0}   with {:>8.0}", (n1 - n0) as f64 / secs, (n2 - n1) as f64 / secs);
        println!("  process CPU (% of a core) without {:>7.1}   with {:>7.1}", (cpu1 - cpu0) / secs * 100.0, (cpu2 - cpu1) / secs * 100.0);
        println!("  writer thread CPU        {:>8.2} % of a core", wcpu / secs * 100.0);
        println!("  snapshot hand-over       {:>8.1} ms (the fleet cloned on the owner's task)", first_snapshot.as_secs_f64() * 1e3);
        println!("  RSS                      without {:>6} MiB   with {:>6} MiB   (+{} MiB)", rss1 / 1024, rss2 / 1024, rss2.saturating_sub(rss1) / 1024);
        println!("  on disk                  {bytes} bytes in {} s: one snapshot {:.1} MB, deltas {:.1} MB/hour", o.secs, snap as f64 / 1e6, deltas as f64 / secs * 3600.0 / 1e6);
        let usage_z = written.as_ref().map(composition).unwrap_or(0) as f64;
        // Each list's usage is recorded once per USAGE_EVERY: a phase shorter than that holds
        // one round, which extrapolating by the phase's length would count 3600/secs times.
        let every = hubdeck::recorder::tap::USAGE_EVERY.as_secs_f64();
        let rounds_here = (secs / every).ceil().max(1.0);
        let usage_hour = usage_z / rounds_here * (3600.0 / every);
        let rest_hour = (deltas as f64 - usage_z).max(0.0) / secs * 3600.0;
        println!(
            "  per hour of churn        {:.1} MB: pod changes and the rest {:.1}, {:.0} usage rounds {:.1}, 6 snapshots {:.1}",
            (rest_hour + usage_hour + 6.0 * snap as f64) / 1e6,
            rest_hour / 1e6,
            3600.0 / every,
            usage_hour / 1e6,
            6.0 * snap as f64 / 1e6
        );
        if let Some(e) = finished {
            println!("  recorder error: {e}");
        }
        session.fleet.clone()
    });
    sim.stop();
    let path = o.keep.clone().unwrap_or_else(|| dir.join("long.hdrec"));
    let t = Instant::now();
    let bytes = synthetic(&base, &path, o.hours, o.rate);
    println!(
        "synthetic recording: {} h of {}/s churn over that fleet, {:.1} MB, written in {:.1} s",
        o.hours,
        o.rate,
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    path
}

/// The read side: the index, seeks, and the warm start's first frame.
fn read(path: &std::path::Path, dir: &std::path::Path) {
    let t = Instant::now();
    let rec = Recording::open(path).unwrap();
    println!(
        "  open (index of {} records)  {:>8.1} ms",
        rec.entries().len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let (start, end) = (rec.start(), rec.end());
    let span = end.duration_since(start).as_secs_f64();
    let mut times = Vec::new();
    for f in [0.05, 0.33, 0.5, 0.74, 0.99] {
        let at = start + SignedDuration::from_secs_f64(span * f);
        let t = Instant::now();
        let r = rec.state_at(at).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(r.fleet.server_count() > 0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "  seek (5 moments)          median {:>7.1} ms   max {:>7.1} ms",
        times[2], times[4]
    );
    snapshot_composition(&rec);
    breakdown(
        &rec,
        start + SignedDuration::from_secs_f64(span * 0.5),
        "seek at 0.5",
    );
    breakdown(&rec, end, "warm start, clean exit");
    // A console that crashed left no closing snapshot: the one before and its deltas.
    breakdown(
        &rec,
        end - SignedDuration::from_millis(1),
        "warm start after a crash",
    );
    let last = rec.objects_at(end).unwrap().fleet;
    let names: Vec<String> = last.clusters().map(|c| c.id.to_string()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let t = Instant::now();
    let rec = Recording::open(path).unwrap();
    let warm =
        hubdeck::recorder::warm::fleet(&rec, &names, Thresholds::default(), Timestamp::now())
            .unwrap();
    let opts = hubdeck::tui::ConsoleOptions {
        theme: hubdeck::config::theme::Theme::builtin("default").unwrap(),
        keymap: hubdeck::config::keymap::Keymap::builtin("default").unwrap(),
        readonly: false,
        state_dir: dir.to_path_buf(),
    };
    let mut app = hubdeck::tui::App::new(opts, warm);
    let buf = hubdeck::tui::render_offscreen(&mut app, 120, 40).unwrap();
    let first_frame = t.elapsed();
    let text: String = buf.content().iter().map(|c| c.symbol()).collect();
    println!(
        "  warm start first frame    {:>8.1} ms (open, last state, first 120x40 frame; stale rows: {})",
        first_frame.as_secs_f64() * 1e3,
        text.contains("stale")
    );
}
