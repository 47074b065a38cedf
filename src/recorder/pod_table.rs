//! A cluster's pods as a snapshot writes them (format version 3): a table of the strings
//! its pods share (namespaces, releases, nodes, images, reasons), then one compact row per
//! pod that refers to them by number.
//!
//! A snapshot is mostly this, and a seek or a warm start begins by reading one back. As
//! MessagePack through serde, each of 100,000 pods cost a dozen allocations and a tagged
//! map to walk; here a shared string is decoded once and every pod holding it shares it
//! (as the live model does), so reading a snapshot back is mostly copying small numbers.
//!
//! Body: `cluster str | nstrings varint | nstrings × str | npods varint | npods × row`, where
//! `str` is `len varint | UTF-8`, and a row is
//! `flags varint | component u8 | phase u8 | namespace sid | name str | release sid |
//! restarts varint | requests | limits | [reason sid] | [node sid] | [started time] |
//! [created time] | [image sid] | [owner: user str | server sid] |
//! [last termination: reason sid | exit code zigzag | [finished time]]`: bracketed parts only
//! where `flags` says so, `sid` a varint index into the string table, `requests` and
//! `limits` `cpu_milli varint | memory_bytes varint`, and `time` `zigzag(seconds - the
//! snapshot's second) varint | zigzag(nanoseconds) varint`. A field added to `PodInfo` needs a new
//! entry tag (readers of this one would drop it silently otherwise).

use std::sync::Arc;

use hubdeck_core::fleet::{ClusterId, Component, ObjectKey, Owner, PodInfo, PodPhase, Termination};
use jiff::Timestamp;

use super::patch::{put_varint, take_varint};
use super::table::{
    Strings, count, put_requests, put_str, put_strings, put_time, take_requests, take_sid,
    take_str, take_strings, take_time, take_u8, unzigzag, zigzag,
};

const READY: u64 = 1;
const REASON: u64 = 1 << 1;
const NODE: u64 = 1 << 2;
const STARTED: u64 = 1 << 3;
const CREATED: u64 = 1 << 4;
const IMAGE: u64 = 1 << 5;
const OWNER: u64 = 1 << 6;
const TERMINATION: u64 = 1 << 7;
const FINISHED: u64 = 1 << 8;
const KNOWN: u64 = (1 << 9) - 1;

/// Wire codes, fixed here rather than taken from the enums' order, which may change.
const COMPONENTS: [Component; 8] = [
    Component::Hub,
    Component::Proxy,
    Component::Autohttps,
    Component::UserScheduler,
    Component::UserPlaceholder,
    Component::SingleuserServer,
    Component::ImagePuller,
    Component::Other,
];
const PHASES: [PodPhase; 6] = [
    PodPhase::Pending,
    PodPhase::Running,
    PodPhase::Succeeded,
    PodPhase::Failed,
    PodPhase::Terminating,
    PodPhase::Unknown,
];

fn code<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter().position(|x| x == v).unwrap_or(0) as u8
}

/// Appends the body of a cluster's pods entry (see the module's doc), at snapshot time `time`.
pub fn encode(buf: &mut Vec<u8>, time: Timestamp, cluster: &ClusterId, pods: &[Arc<PodInfo>]) {
    let base = time.as_second();
    let mut strings = Strings::default();
    let mut rows = Vec::with_capacity(pods.len() * 48);
    for p in pods {
        let flag = |on: bool, bit: u64| if on { bit } else { 0 };
        let t = p.last_termination.as_deref();
        let flags = flag(p.ready, READY)
            | flag(p.reason.is_some(), REASON)
            | flag(p.node.is_some(), NODE)
            | flag(p.started.is_some(), STARTED)
            | flag(p.created.is_some(), CREATED)
            | flag(p.image.is_some(), IMAGE)
            | flag(p.owner.is_some(), OWNER)
            | flag(t.is_some(), TERMINATION)
            | flag(t.is_some_and(|t| t.finished_at.is_some()), FINISHED);
        put_varint(&mut rows, flags);
        rows.push(code(&COMPONENTS, &p.component));
        rows.push(code(&PHASES, &p.phase));
        put_varint(&mut rows, strings.id(&p.key.namespace));
        put_str(&mut rows, &p.key.name);
        put_varint(&mut rows, strings.id(&p.release));
        put_varint(&mut rows, u64::from(p.restarts));
        put_requests(&mut rows, &p.requests);
        put_requests(&mut rows, &p.limits);
        for s in [&p.reason, &p.node].into_iter().flatten() {
            put_varint(&mut rows, strings.id(s));
        }
        for at in [p.started, p.created].into_iter().flatten() {
            put_time(&mut rows, base, at);
        }
        if let Some(image) = &p.image {
            put_varint(&mut rows, strings.id(image));
        }
        if let Some(o) = &p.owner {
            put_str(&mut rows, &o.user);
            put_varint(&mut rows, strings.id(&o.server));
        }
        if let Some(t) = t {
            put_varint(&mut rows, strings.id(&t.reason));
            put_varint(&mut rows, zigzag(i64::from(t.exit_code)));
            if let Some(at) = t.finished_at {
                put_time(&mut rows, base, at);
            }
        }
    }
    put_str(buf, cluster.as_str());
    put_strings(buf, &strings);
    put_varint(buf, pods.len() as u64);
    buf.extend_from_slice(&rows);
}

/// Reads a body back; the error says what is wrong with it.
pub fn decode(mut body: &[u8], time: Timestamp) -> Result<(ClusterId, Vec<PodInfo>), String> {
    let b = &mut body;
    let base = time.as_second();
    let cluster = ClusterId::new(take_str(b)?);
    let strings = take_strings(b)?;
    let sid = |b: &mut &[u8]| take_sid(b, &strings);
    let n = count(b)?;
    let mut pods = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let flags = take_varint(b)?;
        if flags & !KNOWN != 0 {
            return Err(format!("pod row with unknown flags {flags:#x}"));
        }
        let on = |bit: u64| flags & bit != 0;
        let component = *COMPONENTS
            .get(usize::from(take_u8(b)?))
            .ok_or("unknown component code")?;
        let phase = *PHASES
            .get(usize::from(take_u8(b)?))
            .ok_or("unknown phase code")?;
        let namespace = sid(b)?;
        let name: Arc<str> = take_str(b)?.into();
        let release = sid(b)?;
        let restarts = u32::try_from(take_varint(b)?).map_err(|_| "restarts out of range")?;
        let requests = take_requests(b)?;
        let limits = take_requests(b)?;
        let reason = on(REASON).then(|| sid(b)).transpose()?;
        let node = on(NODE).then(|| sid(b)).transpose()?;
        let started = on(STARTED).then(|| take_time(b, base)).transpose()?;
        let created = on(CREATED).then(|| take_time(b, base)).transpose()?;
        let image = on(IMAGE).then(|| sid(b)).transpose()?;
        let owner = if on(OWNER) {
            let user = take_str(b)?.into();
            Some(Owner {
                user,
                server: sid(b)?,
            })
        } else {
            None
        };
        let last_termination = if on(TERMINATION) {
            let reason = sid(b)?;
            let exit_code =
                i32::try_from(unzigzag(take_varint(b)?)).map_err(|_| "exit code out of range")?;
            let finished_at = on(FINISHED).then(|| take_time(b, base)).transpose()?;
            Some(Box::new(Termination {
                reason,
                exit_code,
                finished_at,
            }))
        } else {
            None
        };
        pods.push(PodInfo {
            key: ObjectKey { namespace, name },
            release,
            component,
            phase,
            ready: on(READY),
            restarts,
            reason,
            node,
            started,
            created,
            image,
            requests,
            owner,
            last_termination,
            limits,
        });
    }
    if !body.is_empty() {
        return Err(format!("{} bytes after the last pod", body.len()));
    }
    Ok((cluster, pods))
}

#[cfg(test)]
mod tests {
    use hubdeck_core::fleet::fixtures::server;
    use proptest::prelude::*;

    use super::*;

    fn varied(n: u32) -> PodInfo {
        let mut p = server("ns", "prod", &format!("user-{n}"));
        p.ready = n.is_multiple_of(2);
        p.restarts = n % 7;
        p.phase = PHASES[n as usize % PHASES.len()];
        p.component = COMPONENTS[n as usize % COMPONENTS.len()];
        if n.is_multiple_of(3) {
            p.reason = Some("CrashLoopBackOff".into());
            p.node = None;
            p.owner = None;
        }
        if n.is_multiple_of(4) {
            p.started = None;
            p.image = None;
            p.created = Some(Timestamp::new(1_000 + i64::from(n), 999_999_999).unwrap());
            p.last_termination = Some(Box::new(Termination {
                reason: "OOMKilled".into(),
                exit_code: -(n as i32),
                finished_at: n.is_multiple_of(8).then_some(Timestamp::UNIX_EPOCH),
            }));
        }
        p.limits.memory_bytes = u64::from(n) << 30;
        p
    }

    #[test]
    fn pods_of_every_shape_round_trip_sharing_their_strings() {
        let pods: Vec<Arc<PodInfo>> = (0..40).map(|n| Arc::new(varied(n))).collect();
        let time = "2026-12-01T03:10:00Z".parse().unwrap();
        let cluster = ClusterId::new("gke-east");
        let mut buf = Vec::new();
        encode(&mut buf, time, &cluster, &pods);
        let (c, back) = decode(&buf, time).unwrap();
        assert_eq!(c, cluster);
        let want: Vec<PodInfo> = pods.iter().map(|p| PodInfo::clone(p)).collect();
        assert_eq!(back, want);
        assert!(Arc::ptr_eq(&back[0].release, &back[39].release));
        // Forty pods' namespace, release, image and node, each written once.
        let msgpack = rmp_serde::to_vec(&want).unwrap().len();
        assert!(
            buf.len() * 2 < msgpack,
            "{} bytes, {msgpack} as MessagePack",
            buf.len()
        );
    }

    #[test]
    fn a_cut_or_damaged_body_is_an_error() {
        let pods: Vec<Arc<PodInfo>> = (0..3).map(|n| Arc::new(varied(n))).collect();
        let time = Timestamp::UNIX_EPOCH;
        let mut buf = Vec::new();
        encode(&mut buf, time, &ClusterId::new("c"), &pods);
        for cut in 0..buf.len() {
            assert!(decode(&buf[..cut], time).is_err(), "cut at {cut}");
        }
        let mut longer = buf.clone();
        longer.push(0);
        assert!(
            decode(&longer, time)
                .unwrap_err()
                .contains("after the last pod")
        );
    }

    proptest! {
        #[test]
        fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode(&bytes, Timestamp::UNIX_EPOCH);
        }
    }
}
