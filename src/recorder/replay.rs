//! What the headless replay prints: the changes of a window as rows, and `--export`, a smaller
//! recording of just that window.

use std::io::Write;
use std::path::Path;

use hubdeck_core::fleet::{
    ClusterStatus, DaskDelta, Delta, FleetUpdate, MetricsState, SourceState, WorkloadKind,
};
use jiff::Timestamp;
use serde::Serialize;

use super::cursor::Cursor;
use super::encode;
use super::format::{self, Kind};
use super::reader::{Recording, RecordingError};
use crate::headless::output::{TableRow, clean};

/// One change of a window: an update, an action or a gap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeRow {
    /// When it was applied (or done).
    pub time: Timestamp,
    /// Cluster.
    pub cluster: String,
    /// cluster, status, deployment, statefulset, pod, event, alerts, activity, metrics, action,
    /// gap.
    pub kind: &'static str,
    /// added, set, upsert, remove, replace; for actions intent or the outcome.
    pub op: String,
    /// What it concerns: `namespace/name`, a hub, an action's target.
    pub object: String,
    /// What it says: a pod's phase, an event's reason, who acted and how it went.
    pub detail: String,
}

impl TableRow for ChangeRow {
    const KIND: &'static str = "ChangeList";

    fn header() -> &'static [&'static str] {
        &["TIME", "CLUSTER", "KIND", "OP", "OBJECT", "DETAIL"]
    }

    fn cells(&self, _now: Timestamp) -> Vec<String> {
        vec![
            self.time.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            clean(&self.cluster),
            self.kind.into(),
            clean(&self.op),
            clean(&self.object),
            clean(&self.detail),
        ]
    }
}

fn op<T>(d: &Delta<T>) -> &'static str {
    match d {
        Delta::Replace(_) => "replace",
        Delta::ReplaceIn(..) => "replace-in",
        Delta::Upsert(_) => "upsert",
        Delta::Remove(_) => "remove",
    }
}

fn source(s: &SourceState) -> String {
    match s {
        SourceState::Unknown => "unknown".into(),
        SourceState::Absent { note } => format!("absent: {note}"),
        SourceState::Ok => "ok".into(),
        SourceState::Failing { error } => format!("failing: {error}"),
    }
}

/// The row of one update; `None` for latency samples, which are noise in a list of changes.
pub fn change_row(time: Timestamp, u: &FleetUpdate) -> Option<ChangeRow> {
    let row = |cluster: &str, kind, op: &str, object: String, detail: String| ChangeRow {
        time,
        cluster: cluster.to_string(),
        kind,
        op: op.to_string(),
        object,
        detail,
    };
    Some(match u {
        FleetUpdate::ClusterAdded { cluster, meta } => row(
            cluster.as_str(),
            "cluster",
            "added",
            cluster.to_string(),
            meta.context.clone(),
        ),
        FleetUpdate::Status { cluster, status } => {
            let detail = match status {
                ClusterStatus::Degraded { reason } => format!("degraded: {reason}"),
                ClusterStatus::Unreachable { error, .. } => format!("unreachable: {error}"),
                s => s.word().to_string(),
            };
            row(
                cluster.as_str(),
                "status",
                "set",
                cluster.to_string(),
                detail,
            )
        }
        // Samples of a figure, not changes of state: noise in a list of changes.
        FleetUpdate::Latency { .. } | FleetUpdate::Usage { .. } => return None,
        FleetUpdate::Metrics { cluster, source } => {
            let word = |s: &MetricsState| match s.detail() {
                Some(d) => format!("{}: {d}", s.word()),
                None => s.word().to_string(),
            };
            row(
                cluster.as_str(),
                "metrics",
                "set",
                String::new(),
                format!("pods {}; nodes {}", word(&source.pods), word(&source.nodes)),
            )
        }
        FleetUpdate::Nodes { cluster, delta } => {
            let (object, detail) = match delta {
                Delta::Replace(all) => (String::new(), format!("{} listed", all.len())),
                Delta::ReplaceIn(ns, all) => (ns.to_string(), format!("{} listed", all.len())),
                Delta::Upsert(n) | Delta::Remove(n) => (
                    n.name.to_string(),
                    format!(
                        "pool {} {}",
                        n.pool,
                        if n.ready { "ready" } else { "not-ready" }
                    ),
                ),
            };
            row(cluster.as_str(), "node", op(delta), object, detail)
        }
        FleetUpdate::NodeSource { cluster, source: s } => {
            row(cluster.as_str(), "nodes", "set", String::new(), source(s))
        }
        FleetUpdate::Scope { cluster, scope } => row(
            cluster.as_str(),
            "scope",
            "set",
            cluster.to_string(),
            scope.to_string(),
        ),
        // A check every minute per hub is a sample; the first of a run of passes or failures
        // is a change.
        FleetUpdate::Outside { check, .. } if check.since != check.at => return None,
        FleetUpdate::Outside {
            cluster,
            hub,
            check,
        } => row(
            cluster.as_str(),
            "outside",
            "set",
            hub.to_string(),
            check.reason().map_or_else(
                || format!("ok: {}", check.brief()),
                |r| format!("unreachable from outside: {r}"),
            ),
        ),
        FleetUpdate::Declared { cluster, hubs } => {
            let names: Vec<&str> = hubs.iter().map(|h| &*h.name).collect();
            row(
                cluster.as_str(),
                "declared",
                "set",
                cluster.to_string(),
                format!("{} hubs: {}", hubs.len(), names.join(", ")),
            )
        }
        FleetUpdate::Workloads {
            cluster,
            kind,
            delta,
        } => {
            let kind = match kind {
                WorkloadKind::Deployment => "deployment",
                WorkloadKind::StatefulSet => "statefulset",
            };
            let (object, detail) = match delta {
                Delta::Replace(all) => (String::new(), format!("{} listed", all.len())),
                Delta::ReplaceIn(ns, all) => (ns.to_string(), format!("{} listed", all.len())),
                Delta::Upsert(w) | Delta::Remove(w) => (
                    format!("{}/{}", w.key.namespace, w.key.name),
                    format!("{}/{} ready", w.ready, w.desired),
                ),
            };
            row(cluster.as_str(), kind, op(delta), object, detail)
        }
        FleetUpdate::Pods { cluster, delta } => {
            let (object, detail) = match delta {
                Delta::Replace(all) => (String::new(), format!("{} listed", all.len())),
                Delta::ReplaceIn(ns, all) => (ns.to_string(), format!("{} listed", all.len())),
                Delta::Upsert(p) | Delta::Remove(p) => {
                    let mut d = format!(
                        "{} {} restarts {}",
                        p.phase.as_str(),
                        if p.ready { "ready" } else { "not-ready" },
                        p.restarts
                    );
                    if let Some(r) = &p.reason {
                        d.push(' ');
                        d.push_str(r);
                    }
                    (format!("{}/{}", p.key.namespace, p.key.name), d)
                }
            };
            row(cluster.as_str(), "pod", op(delta), object, detail)
        }
        FleetUpdate::Dask { cluster, delta } => {
            let (kind, op, object, detail) = dask_row(delta);
            row(cluster.as_str(), kind, op, object, detail)
        }
        FleetUpdate::Events { cluster, delta } => {
            let (object, detail) = match delta {
                Delta::Replace(all) => (String::new(), format!("{} listed", all.len())),
                Delta::ReplaceIn(ns, all) => (ns.to_string(), format!("{} listed", all.len())),
                Delta::Upsert(e) | Delta::Remove(e) => (
                    format!("{}/{}", e.key.namespace, e.object),
                    format!("{}: {}", e.reason, e.message),
                ),
            };
            row(cluster.as_str(), "event", op(delta), object, detail)
        }
        FleetUpdate::PodEvents { cluster, delta } => {
            let (object, detail) = match delta {
                Delta::Replace(all) => (String::new(), format!("{} listed", all.len())),
                Delta::ReplaceIn(ns, all) => (ns.to_string(), format!("{} listed", all.len())),
                Delta::Upsert(e) | Delta::Remove(e) => (
                    format!("{}/{}", e.key.namespace, e.pod),
                    format!("{}: {}", e.step.as_str(), e.summary()),
                ),
            };
            row(cluster.as_str(), "pod-event", op(delta), object, detail)
        }
        FleetUpdate::Alerts {
            cluster,
            source: s,
            alerts,
        } => {
            let names: Vec<&str> = alerts.iter().map(|a| &*a.name).collect();
            let detail = match s {
                SourceState::Ok | SourceState::Absent { .. } => {
                    format!("{} firing: {}", alerts.len(), names.join(", "))
                }
                other => source(other),
            };
            row(cluster.as_str(), "alerts", "set", String::new(), detail)
        }
        FleetUpdate::Activity {
            hub,
            source: s,
            servers,
        } => {
            let detail = match s {
                SourceState::Ok => format!("{} servers", servers.len()),
                other => source(other),
            };
            row(
                hub.cluster.as_str(),
                "activity",
                "set",
                hub.key.name(),
                detail,
            )
        }
    })
}

/// Every change, action and gap with `t1 <= time <= t2`, in time order.
pub fn changes(
    rec: &Recording,
    t1: Timestamp,
    t2: Timestamp,
) -> Result<Vec<ChangeRow>, RecordingError> {
    let mut out = Vec::new();
    let entries = rec.entries();
    // Patches name pods by numbers that a snapshot starts: read from the one before `t1`.
    let from = rec.snapshot_before(t1).unwrap_or(0);
    let mut cursor: Option<Cursor> = None;
    for (i, e) in entries.iter().enumerate().skip(from) {
        let next = entries.get(i + 1).map(|n| n.header.time);
        match e.header.kind {
            _ if e.header.time > t2 => break,
            Kind::Snapshot => {
                let (limits, snap) = rec.snapshot(e)?;
                cursor = Some(Cursor::at_snapshot(limits, snap));
            }
            Kind::Deltas => {
                let Some(c) = cursor.as_mut() else { continue };
                let wanted = next.is_none_or(|n| n >= t1);
                for g in rec.groups(e)? {
                    let time = g.time;
                    if !wanted || time < t1 {
                        c.fast_forward(g).map_err(|m| rec.damaged(e, m))?;
                    } else if time <= t2 {
                        let ups = c.step(g).map_err(|m| rec.damaged(e, m))?;
                        out.extend(ups.iter().filter_map(|u| change_row(time, u)));
                    }
                }
            }
            Kind::Audit if (t1..=t2).contains(&e.header.time) => {
                let a = rec.audit(e)?;
                let op = match a.phase {
                    crate::action::audit::Phase::Intent => "intent".to_string(),
                    crate::action::audit::Phase::Outcome => a.outcome.clone(),
                };
                let mut detail = format!("{} by {} ({})", a.action, a.os_user, a.identity);
                if !a.detail.is_empty() {
                    detail.push_str(": ");
                    detail.push_str(&a.detail);
                }
                out.push(ChangeRow {
                    time: a.time,
                    cluster: a.cluster,
                    kind: "action",
                    op,
                    object: a.target,
                    detail,
                });
            }
            Kind::Gap if (t1..=t2).contains(&e.header.time) => out.push(ChangeRow {
                time: e.header.time,
                cluster: String::new(),
                kind: "gap",
                op: "dropped".into(),
                object: String::new(),
                detail: format!("{} updates not recorded (writer behind)", rec.gap(e)?),
            }),
            _ => {}
        }
    }
    out.sort_by_key(|r| r.time);
    Ok(out)
}

/// Writes a recording of `t1..=t2` to `out`: the fleet at `t1` as its first snapshot, then
/// the batches, snapshots, actions and gaps of the window. Replaying it at any moment of the
/// window gives what the original gives.
pub fn export(
    rec: &Recording,
    t1: Timestamp,
    t2: Timestamp,
    out: &Path,
) -> Result<u64, RecordingError> {
    let fail = |e: std::io::Error| RecordingError {
        path: out.display().to_string(),
        message: e.to_string(),
    };
    let start = rec.state_at(t1)?;
    let mut file = crate::private_files::create_at(out).map_err(fail)?;
    file.write_all(&format::file_header()).map_err(fail)?;
    let mut seg = encode::Segment::default();
    let mut raw = Vec::new();
    format::push_limits(&mut raw, start.fleet.limits());
    encode::push_snapshot(&mut raw, t1, start.fleet.snapshot_parts(), &mut seg);
    let packed = format::compress_snapshot(&raw).map_err(fail)?;
    let mut written =
        format::write_record(&mut file, Kind::Snapshot, 0, t1, &packed).map_err(fail)?;
    let entries = rec.entries();
    let from = rec.snapshot_before(t1).unwrap_or(0);
    let mut cursor: Option<Cursor> = None;
    for (i, e) in entries.iter().enumerate().skip(from) {
        let next = entries.get(i + 1).map(|n| n.header.time);
        let h = e.header;
        if h.time > t2 {
            break;
        }
        match h.kind {
            Kind::Snapshot => {
                let (limits, snap) = rec.snapshot(e)?;
                if h.time > t1 {
                    // Copied as it is: numbering starts again there, in the copy as in the
                    // original.
                    seg.reset();
                    for item in &snap.items {
                        if let format::Rec::Whole(u) = item {
                            seg.note(u);
                        }
                    }
                    let payload = rec.raw(e)?;
                    written += format::write_record(&mut file, h.kind, h.flags, h.time, &payload)
                        .map_err(fail)?;
                }
                cursor = Some(Cursor::at_snapshot(limits, snap));
            }
            Kind::Deltas => {
                let Some(c) = cursor.as_mut() else { continue };
                let wanted = next.is_none_or(|n| n > t1);
                let mut block = Vec::new();
                let mut first = None;
                for g in rec.groups(e)? {
                    let time = g.time;
                    if !wanted || time <= t1 {
                        c.fast_forward(g).map_err(|m| rec.damaged(e, m))?;
                        continue;
                    }
                    let ups = c.expand(g).map_err(|m| rec.damaged(e, m))?;
                    first.get_or_insert(time);
                    let outs = encode::diff_batch(&c.fleet, ups.clone());
                    encode::push_group(&mut block, time, &outs, &mut seg);
                    c.apply(ups, time);
                }
                if let Some(time) = first {
                    let packed = format::compress(&block).map_err(fail)?;
                    written +=
                        format::write_record(&mut file, Kind::Deltas, h.flags, time, &packed)
                            .map_err(fail)?;
                }
            }
            _ if h.time > t1 => {
                let payload = rec.raw(e)?;
                written += format::write_record(&mut file, h.kind, h.flags, h.time, &payload)
                    .map_err(fail)?;
            }
            _ => {}
        }
    }
    file.sync_all().map_err(fail)?;
    Ok(written + format::FILE_HEADER_LEN)
}

/// Kind, operation, object and detail of a change to dask-gateway's objects.
fn dask_row(delta: &DaskDelta) -> (&'static str, &'static str, String, String) {
    fn listing<T>(d: &Delta<T>) -> Option<(String, String)> {
        let (ns, all) = d.listing()?;
        Some((
            ns.unwrap_or("").to_string(),
            format!("{} listed", all.len()),
        ))
    }
    match delta {
        DaskDelta::Pods(d) => {
            let (object, detail) = listing(d).unwrap_or_else(|| match d {
                Delta::Upsert(p) | Delta::Remove(p) => (
                    format!("{}/{}", p.key.namespace, p.key.name),
                    format!(
                        "{} {} {}",
                        p.role.as_str(),
                        p.phase.as_str(),
                        if p.ready { "ready" } else { "not-ready" }
                    ),
                ),
                Delta::Replace(_) | Delta::ReplaceIn(..) => Default::default(),
            });
            ("dask-pod", op(d), object, detail)
        }
        DaskDelta::Clusters(d) => {
            let (object, detail) = listing(d).unwrap_or_else(|| match d {
                Delta::Upsert(c) | Delta::Remove(c) => (
                    format!("{}/{}", c.key.namespace, c.key.name),
                    format!(
                        "user {} {}{}",
                        c.user,
                        if c.phase.is_empty() { "-" } else { &c.phase },
                        if c.active { "" } else { " (stopping)" }
                    ),
                ),
                Delta::Replace(_) | Delta::ReplaceIn(..) => Default::default(),
            });
            ("dask-cluster", op(d), object, detail)
        }
    }
}
