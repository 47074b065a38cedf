//! Decoding a group's entries (`encode` wrote them): updates written whole, pod patches alone
//! or in runs, hubs' servers as changes, usage by pod number, and a snapshot's pods tables. A snapshot's entries (one per cluster's pods,
//! a few dozen MB decoded at 100,000 pods) are decoded on two threads, as a seek and a warm
//! start both wait for them before anything else.

use hubdeck_core::fleet::{Delta, FleetUpdate};
use jiff::Timestamp;

use super::encode::{
    TAG_ACTIVITY, TAG_ACTIVITY_CHANGES, TAG_PATCH, TAG_PATCHES, TAG_PODS, TAG_USAGE,
    TAG_USAGE_NUMBERED, TAG_WHOLE,
};
use super::format::Rec;
use super::patch::{PodPatch, take_varint};
use super::table::take_id_steps;
use super::{activity_diff, activity_table, pod_table, usage_numbered, usage_table};

/// Below this many bytes of entries one thread decodes them: a second costs more than it
/// saves.
const PARALLEL_BYTES: usize = 1 << 20;

/// The entries of a group written at `time`, decoded in order; returns them and how many were
/// of tags this hubdeck does not know (skipped).
pub fn decode(frames: &[(u8, &[u8])], time: Timestamp) -> Result<(Vec<Rec>, usize), String> {
    let mut items = Vec::with_capacity(frames.len());
    let mut unknown = 0;
    for (tag, body) in frames {
        if !entry(*tag, body, time, &mut items)? {
            unknown += 1;
        }
    }
    Ok((items, unknown))
}

/// As [`decode`], the second half of the bytes on another thread when there are many.
pub fn decode_on_two_threads(
    frames: &[(u8, &[u8])],
    time: Timestamp,
) -> Result<(Vec<Rec>, usize), String> {
    let total: usize = frames.iter().map(|(_, b)| b.len()).sum();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if total < PARALLEL_BYTES || cores < 2 || frames.len() < 2 {
        return decode(frames, time);
    }
    let mut first = 0;
    let mut mid = 0;
    while mid < frames.len() - 1 && first + frames[mid].1.len() <= total / 2 {
        first += frames[mid].1.len();
        mid += 1;
    }
    let (a, b) = frames.split_at(mid.max(1));
    let both = std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .name("hubdeck-decode".into())
            .spawn_scoped(s, move || decode(b, time))
            .ok()?;
        let mine = decode(a, time);
        let theirs = worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Some((mine, theirs))
    });
    let Some((mine, theirs)) = both else {
        // No thread to be had: this one does it all.
        return decode(frames, time);
    };
    let ((mut items, u1), (rest, u2)) = (mine?, theirs?);
    items.extend(rest);
    Ok((items, u1 + u2))
}

/// Decodes one entry into `items`; returns whether its tag is known.
fn entry(tag: u8, mut body: &[u8], time: Timestamp, items: &mut Vec<Rec>) -> Result<bool, String> {
    match tag {
        // An update of a kind a newer hubdeck added is counted as unknown, not an error.
        TAG_WHOLE => match rmp_serde::from_slice::<FleetUpdate>(body) {
            Ok(u) => items.push(Rec::Whole(u)),
            Err(_) => return Ok(false),
        },
        TAG_PODS => {
            let (cluster, pods) = pod_table::decode(body, time)?;
            items.push(Rec::Whole(FleetUpdate::Pods {
                cluster,
                delta: Delta::Replace(pods),
            }));
        }
        TAG_PATCH => {
            let id =
                u32::try_from(take_varint(&mut body)?).map_err(|_| "pod number out of range")?;
            items.push(Rec::Patch {
                id,
                patch: PodPatch::decode(body)?,
            });
        }
        TAG_PATCHES => patches(body, items)?,
        TAG_USAGE => {
            let (cluster, sample) = usage_table::decode(body, time)?;
            items.push(Rec::Whole(FleetUpdate::Usage { cluster, sample }));
        }
        TAG_ACTIVITY => {
            let (hub, source, servers) = activity_table::decode(body, time)?;
            items.push(Rec::Whole(FleetUpdate::Activity {
                hub,
                source,
                servers,
            }));
        }
        TAG_ACTIVITY_CHANGES => items.push(Rec::Activity(activity_diff::decode(body, time)?)),
        TAG_USAGE_NUMBERED => items.push(Rec::Usage(usage_numbered::decode(body, time)?)),
        _ => return Ok(false),
    }
    Ok(true)
}

/// Reads a `TAG_PATCHES` entry into `items`.
fn patches(mut body: &[u8], items: &mut Vec<Rec>) -> Result<(), String> {
    let b = &mut body;
    let n = usize::try_from(take_varint(b)?).map_err(|_| "patch run too long")?;
    // Each patch takes two bytes at least (its number and its mask).
    if n > b.len() / 2 {
        return Err(format!("a run of {n} patches in {} bytes", b.len()));
    }
    let ids = take_id_steps(b, n)?;
    let mut masks = Vec::with_capacity(n);
    for _ in 0..n {
        masks.push(take_varint(b)?);
    }
    items.reserve(n);
    for (id, mask) in ids.into_iter().zip(masks) {
        let patch = PodPatch::decode_values(mask, b)?;
        items.push(Rec::Patch { id, patch });
    }
    if !b.is_empty() {
        return Err(format!("{} bytes after a run of patches", b.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use hubdeck_core::fleet::fixtures::{server, t0};
    use hubdeck_core::fleet::{ClusterId, PodInfo};

    use super::*;

    #[test]
    fn two_threads_decode_a_big_snapshot_as_one_does() {
        let bodies: Vec<Vec<u8>> = (0..12)
            .map(|c| {
                let pods: Vec<Arc<PodInfo>> = (0..2_500)
                    .map(|i| Arc::new(server("ns", "ns", &format!("user-{c}-{i}"))))
                    .collect();
                let mut body = Vec::new();
                pod_table::encode(&mut body, t0(), &ClusterId::new(format!("c{c}")), &pods);
                body
            })
            .collect();
        let mut frames: Vec<(u8, &[u8])> = bodies.iter().map(|b| (TAG_PODS, &b[..])).collect();
        frames.insert(5, (200, b"a newer hubdeck's"));
        assert!(frames.iter().map(|(_, b)| b.len()).sum::<usize>() > PARALLEL_BYTES);
        let one = decode(&frames, t0()).unwrap();
        let two = decode_on_two_threads(&frames, t0()).unwrap();
        assert_eq!(one.1, 1);
        assert_eq!(one, two);
        let clusters: Vec<String> = two
            .0
            .iter()
            .filter_map(|r| match r {
                Rec::Whole(FleetUpdate::Pods { cluster, .. }) => Some(cluster.to_string()),
                _ => None,
            })
            .collect();
        let want: Vec<String> = (0..12).map(|c| format!("c{c}")).collect();
        assert_eq!(clusters, want);
    }

    #[test]
    fn damage_in_either_half_is_an_error() {
        let pods: Vec<Arc<PodInfo>> = (0..20_000)
            .map(|i| Arc::new(server("ns", "ns", &format!("user-{i}"))))
            .collect();
        let mut body = Vec::new();
        pod_table::encode(&mut body, t0(), &ClusterId::new("c"), &pods);
        let cut = &body[..body.len() - 1];
        for frames in [
            [(TAG_PODS, &body[..]), (TAG_PODS, cut)],
            [(TAG_PODS, cut), (TAG_PODS, &body[..])],
        ] {
            assert!(decode_on_two_threads(&frames, t0()).is_err());
        }
    }
}
