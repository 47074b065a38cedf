//! Turning batches of updates into what a deltas record holds: each pod update as a patch
//! against the version the fleet held, when one can say it (`patch`), numbered by
//! `pod_ids`; a hub's servers as the changes since its last report (`activity_diff`); usage
//! figures by pod number (`usage_numbered`);
//! everything else whole.
//!
//! `diff_batch` runs where the fleet is (the console's task, before it applies the batch) and
//! only compares fields; the writer thread numbers and encodes. A reader undoes it with
//! `Overlay` over its own fleet, which holds what the console's held at the same moment.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;

use hubdeck_core::fleet::{ClusterId, Delta, Fleet, FleetUpdate, HubKey, ObjectKey, Part, PodInfo};
use jiff::Timestamp;

use super::patch::{PodPatch, put_varint};
use super::pod_ids::Numbering;
use super::table::put_id_steps;
use super::{activity_diff, activity_table, format, pod_table, usage_numbered, usage_table};

/// Entry tags inside a group: an update written whole, MessagePack.
pub const TAG_WHOLE: u8 = 0;
/// A pod patch: `id varint | PodPatch`.
pub const TAG_PATCH: u8 = 1;
/// A cluster's pods replaced, as a `pod_table` (format version 3; snapshots only).
pub const TAG_PODS: u8 = 2;
/// A run of pod patches, column by column (format version 3): `n varint | n × id | n × mask
/// varint | the values of each patch in turn`, ids ascending, the first as it is and each next
/// as its difference from the one before (varints). Churn is mostly patches of pods picked at
/// random, and written one by one, their numbers (a third of each) did not compress at all.
pub const TAG_PATCHES: u8 = 3;
/// A metrics list's pods usage, as a `usage_table` (format version 3).
pub const TAG_USAGE: u8 = 4;
/// What a hub API said of its servers, as an `activity_table` (format version 3).
pub const TAG_ACTIVITY: u8 = 5;
/// What a hub API said of its servers, as the changes since its last report
/// (`activity_diff`, format version 4).
pub const TAG_ACTIVITY_CHANGES: u8 = 6;
/// A metrics list's pods usage, the pods named by number (`usage_numbered`, format version 4).
pub const TAG_USAGE_NUMBERED: u8 = 7;

/// What the writer remembers of the segment since the last snapshot, which entries refer to
/// instead of repeating it: pod numbers, and every hub's last report of its servers.
#[derive(Debug, Default)]
pub struct Segment {
    /// Pod numbers.
    pub ids: Numbering,
    /// Hub reports.
    pub activity: activity_diff::Written,
}

impl Segment {
    /// Forgets everything (a snapshot follows).
    pub fn reset(&mut self) {
        self.ids.reset();
        self.activity.reset();
    }

    /// Takes in an update written whole.
    pub fn note(&mut self, u: &FleetUpdate) {
        self.ids.note(u);
        if let FleetUpdate::Activity {
            hub,
            source,
            servers,
        } = u
        {
            self.activity.note(hub, source, servers);
        }
    }
}

/// One update of a batch, ready for the writer.
#[derive(Debug, Clone)]
pub enum Out {
    /// Written as it is.
    Whole(FleetUpdate),
    /// A pod upsert that `patch` turns the previous version into; `update` is kept for when
    /// the writer has no number for the pod (then it is written whole).
    Patch {
        /// The whole upsert.
        update: FleetUpdate,
        /// What changed.
        patch: PodPatch,
    },
}

/// Finds a pod by cluster, key and release ("" when unknown).
pub type Base<'a, P> = dyn Fn(&ClusterId, &ObjectKey, &Arc<str>) -> Option<P> + 'a;

/// The pods a batch has touched so far, over the fleet as it was before the batch: a pod
/// upserted twice in one batch is diffed against its first upsert, not against the fleet.
/// `P` is how a pod is held: borrowed where the batch outlives the overlay (the writer's
/// side), owned where each update moves on as it is made (a reader's).
pub struct Overlay<'a, P> {
    base: &'a Base<'a, P>,
    touched: HashMap<(ClusterId, ObjectKey), Option<P>>,
    /// Clusters whose pods were re-listed (or re-scoped) in this batch: their pods go whole.
    relisted: Vec<ClusterId>,
}

impl<'a, P: Clone> Overlay<'a, P> {
    /// Over `base`, which finds a pod by cluster, key and release.
    pub fn new(base: &'a Base<'a, P>) -> Self {
        Self {
            base,
            touched: HashMap::new(),
            relisted: Vec::new(),
        }
    }

    /// The version of the pod a patch in this batch applies to (`release` "" when unknown).
    pub fn current(&self, cluster: &ClusterId, key: &ObjectKey, release: &Arc<str>) -> Option<P> {
        if self.relisted.contains(cluster) {
            return None;
        }
        match self.touched.get(&(cluster.clone(), key.clone())) {
            Some(seen) => seen.clone(),
            None => (self.base)(cluster, key, release),
        }
    }

    /// Takes `u` into account for the updates after it, holding its pod as `hold` makes it.
    pub fn note<'u>(&mut self, u: &'u FleetUpdate, hold: impl FnOnce(&'u PodInfo) -> P) {
        match u {
            FleetUpdate::Pods { cluster, delta } => match delta {
                Delta::Upsert(p) => {
                    self.touched
                        .insert((cluster.clone(), p.key.clone()), Some(hold(p)));
                }
                Delta::Remove(p) => {
                    self.touched.insert((cluster.clone(), p.key.clone()), None);
                }
                Delta::Replace(_) | Delta::ReplaceIn(..) => self.relisted.push(cluster.clone()),
            },
            FleetUpdate::Scope { cluster, .. } | FleetUpdate::ClusterAdded { cluster, .. } => {
                self.relisted.push(cluster.clone());
            }
            _ => {}
        }
    }
}

/// A pod as `fleet` holds it, found through its hub.
pub fn fleet_pod<'f>(
    fleet: &'f Fleet,
    cluster: &ClusterId,
    key: &ObjectKey,
    release: &Arc<str>,
) -> Option<&'f PodInfo> {
    // Shares the key's strings: this runs for every pod update the console applies.
    let hub = HubKey {
        namespace: key.namespace.clone(),
        release: release.clone(),
    };
    fleet
        .cluster(cluster.as_str())?
        .hubs
        .get(&hub)?
        .pods
        .get(&key.name)
        .filter(|p| p.key == *key)
}

/// The batch `updates`, about to be applied to `fleet`, as the writer takes it. Upserts that
/// change nothing the fleet keeps are left out: the fleet ignores them too. Compares the
/// batch's pods with the fleet's in place: the console's task pays for the comparison only.
pub fn diff_batch(fleet: &Fleet, updates: Vec<FleetUpdate>) -> Vec<Out> {
    let patches: Vec<Option<PodPatch>> = {
        let base = |c: &ClusterId, k: &ObjectKey, r: &Arc<str>| fleet_pod(fleet, c, k, r);
        let mut overlay = Overlay::new(&base);
        updates
            .iter()
            .map(|u| {
                let patch = match u {
                    FleetUpdate::Pods {
                        cluster,
                        delta: Delta::Upsert(p),
                    } => overlay
                        .current(cluster, &p.key, &p.release)
                        .and_then(|old| PodPatch::diff(old, p)),
                    _ => None,
                };
                overlay.note(u, |p| p);
                patch
            })
            .collect()
    };
    updates
        .into_iter()
        .zip(patches)
        .filter_map(|(update, patch)| match patch {
            Some(patch) if patch == PodPatch::default() => None,
            Some(patch) => Some(Out::Patch { update, patch }),
            None => Some(Out::Whole(update)),
        })
        .collect()
}

/// Appends one group: `time i64 | n varint | n × (tag u8 | len varint | body)`. A patch whose
/// pod has no number yet is written whole; consecutive numbered patches go as one
/// `TAG_PATCHES` entry, sorted by pod number (a pod patched twice keeps its order; the order
/// of different pods within one group is immaterial, as they all apply at its time).
pub fn push_group(buf: &mut Vec<u8>, time: Timestamp, items: &[Out], seg: &mut Segment) {
    let mut entries = Vec::new();
    let mut n = 0;
    let mut run: Vec<(u32, &PodPatch)> = Vec::new();
    let mut body = Vec::new();
    for item in items {
        if let Some(numbered) = numbered(item, &seg.ids) {
            run.push(numbered);
            continue;
        }
        n += put_run(&mut entries, &mut run, &mut body);
        put_entry(&mut entries, time, item, seg, &mut body);
        n += 1;
    }
    n += put_run(&mut entries, &mut run, &mut body);
    put_group_head(buf, time, n);
    buf.extend_from_slice(&entries);
}

/// The pod number and patch of a patch whose pod has a number.
fn numbered<'a>(item: &'a Out, ids: &Numbering) -> Option<(u32, &'a PodPatch)> {
    match item {
        Out::Patch {
            update:
                FleetUpdate::Pods {
                    cluster,
                    delta: Delta::Upsert(p),
                },
            patch,
        } => ids.get(cluster, &p.key).map(|id| (id, patch)),
        _ => None,
    }
}

/// Appends a run of numbered patches as one entry (one patch as `TAG_PATCH`), emptying it;
/// returns how many entries it wrote.
fn put_run(buf: &mut Vec<u8>, run: &mut Vec<(u32, &PodPatch)>, body: &mut Vec<u8>) -> usize {
    body.clear();
    let tag = match run.as_slice() {
        [] => return 0,
        [(id, patch)] => {
            put_varint(body, u64::from(*id));
            patch.encode(body);
            TAG_PATCH
        }
        _ => {
            run.sort_by_key(|(id, _)| *id);
            put_varint(body, run.len() as u64);
            put_id_steps(body, run.iter().map(|(id, _)| *id));
            for (_, patch) in run.iter() {
                put_varint(body, patch.mask());
            }
            for (_, patch) in run.iter() {
                patch.encode_values(body);
            }
            TAG_PATCHES
        }
    };
    run.clear();
    buf.push(tag);
    put_varint(buf, body.len() as u64);
    buf.extend_from_slice(body);
    1
}

fn put_group_head(buf: &mut Vec<u8>, time: Timestamp, n: usize) {
    buf.extend_from_slice(&format::nanos(time).to_le_bytes());
    put_varint(buf, n as u64);
}

/// An update as a snapshot or a deltas record at `time` would hold it: its tag and body.
pub fn entry_bytes(time: Timestamp, u: &FleetUpdate) -> (u8, Vec<u8>) {
    let mut body = Vec::new();
    let tag = whole_body(&mut body, time, u);
    (tag, body)
}

/// Appends the body of an update written whole (a table where it has one); returns its tag.
fn whole_body(body: &mut Vec<u8>, time: Timestamp, u: &FleetUpdate) -> u8 {
    match u {
        FleetUpdate::Usage { cluster, sample }
            if usage_table::encode(body, time, cluster, sample).is_some() =>
        {
            TAG_USAGE
        }
        FleetUpdate::Activity {
            hub,
            source,
            servers,
        } => {
            activity_table::encode(body, time, hub, source, servers);
            TAG_ACTIVITY
        }
        u => {
            // Encoding an owned model value into memory cannot fail; an empty body is
            // counted as unknown by a reader.
            let _ = rmp_serde::encode::write(body, u);
            TAG_WHOLE
        }
    }
}

/// Appends one entry of a group not in a run of patches (a patch whose pod has no number is
/// written whole), and takes it into the segment; `body` is scratch space.
fn put_entry(
    buf: &mut Vec<u8>,
    time: Timestamp,
    item: &Out,
    seg: &mut Segment,
    body: &mut Vec<u8>,
) {
    body.clear();
    let (Out::Whole(u) | Out::Patch { update: u, .. }) = item;
    let tag = match u {
        FleetUpdate::Activity {
            hub,
            source,
            servers,
        } if seg
            .activity
            .encode(body, time, hub, source, servers)
            .is_some() =>
        {
            TAG_ACTIVITY_CHANGES
        }
        FleetUpdate::Usage { cluster, sample }
            if usage_numbered::encode(body, time, cluster, sample, &seg.ids).is_some() =>
        {
            TAG_USAGE_NUMBERED
        }
        u => {
            seg.note(u);
            whole_body(body, time, u)
        }
    };
    buf.push(tag);
    put_varint(buf, body.len() as u64);
    buf.extend_from_slice(body);
}

/// Writes a snapshot's group to `out` (the writer streams it into the compressor), numbering
/// its pods from a fresh start. Pods lists go as pod tables, straight from the model's shared
/// pods; the encoded snapshot is never held whole, only one entry at a time.
pub fn write_snapshot(
    out: &mut impl Write,
    time: Timestamp,
    parts: Vec<Part>,
    seg: &mut Segment,
) -> io::Result<()> {
    seg.reset();
    let mut buf = Vec::new();
    put_group_head(&mut buf, time, parts.len());
    let mut body = Vec::new();
    for part in parts {
        match part {
            Part::Pods { cluster, pods } => {
                body.clear();
                pod_table::encode(&mut body, time, &cluster, &pods);
                for p in &pods {
                    seg.ids.note_pod(&cluster, &p.key);
                }
                buf.push(TAG_PODS);
                put_varint(&mut buf, body.len() as u64);
                buf.extend_from_slice(&body);
            }
            Part::Update(u) => put_entry(&mut buf, time, &Out::Whole(u), seg, &mut body),
        }
        out.write_all(&buf)?;
        buf.clear();
    }
    out.write_all(&buf)
}

/// Appends a snapshot's group (see [`write_snapshot`]).
pub fn push_snapshot(buf: &mut Vec<u8>, time: Timestamp, parts: Vec<Part>, seg: &mut Segment) {
    // Writing into memory cannot fail.
    let _ = write_snapshot(buf, time, parts, seg);
}

#[cfg(test)]
mod tests {
    use hubdeck_core::fleet::fixtures::{server, t0};
    use proptest::prelude::*;

    use super::*;
    use crate::recorder::format::{Rec, read_groups};

    fn upsert(p: PodInfo) -> FleetUpdate {
        FleetUpdate::Pods {
            cluster: ClusterId::new("c"),
            delta: Delta::Upsert(p),
        }
    }

    /// A patch of `user`'s server that sets its restarts to `n`.
    fn restarted(user: &str, n: u32) -> Out {
        let old = server("ns", "ns", user);
        let mut new = old.clone();
        new.restarts = n;
        let patch = PodPatch::diff(&old, &new).unwrap();
        Out::Patch {
            update: upsert(new),
            patch,
        }
    }

    #[test]
    fn a_run_of_patches_is_one_entry_that_reads_back_in_pod_order() {
        let users = ["u0", "u1", "u2", "u3"];
        let mut seg = Segment::default();
        for u in users {
            seg.note(&upsert(server("ns", "ns", u)));
        }
        // A pod patched twice keeps its order; a whole update ends the run.
        let items = [
            restarted("u3", 1),
            restarted("u0", 2),
            restarted("u3", 5),
            Out::Whole(upsert(server("ns", "ns", "new"))),
            restarted("u1", 7),
            restarted("u2", 8),
        ];
        let mut buf = Vec::new();
        push_group(&mut buf, t0(), &items, &mut seg);
        let groups = read_groups(&buf).unwrap();
        let read: Vec<(u32, String)> = groups[0]
            .items
            .iter()
            .map(|r| match r {
                Rec::Patch { id, patch } => (*id, patch.fields()),
                _ => (u32::MAX, "whole".into()),
            })
            .collect();
        let r = |id| (id, "restarts".to_string());
        assert_eq!(
            read,
            [r(0), r(3), r(3), (u32::MAX, "whole".into()), r(1), r(2)]
        );
        let restarts: Vec<u32> = groups[0]
            .items
            .iter()
            .filter_map(|r| match r {
                Rec::Patch { patch, .. } => {
                    let mut p = server("ns", "ns", "any");
                    patch.apply(&mut p);
                    Some(p.restarts)
                }
                _ => None,
            })
            .collect();
        assert_eq!(restarts, [2, 1, 5, 7, 8]);
    }

    proptest! {
        #[test]
        fn reading_any_bytes_as_groups_never_panics(
            tag in 0u8..5,
            bytes in proptest::collection::vec(any::<u8>(), 0..96),
        ) {
            // A well-formed group head and entry frame around arbitrary bodies, so the bodies'
            // decoders are what gets exercised.
            let mut buf = Vec::new();
            buf.extend_from_slice(&0i64.to_le_bytes());
            put_varint(&mut buf, 1);
            buf.push(tag);
            put_varint(&mut buf, bytes.len() as u64);
            buf.extend_from_slice(&bytes);
            let _ = read_groups(&buf);
            let _ = read_groups(&bytes);
        }
    }
}
