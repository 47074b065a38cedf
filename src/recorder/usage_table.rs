//! A metrics list's pods usage (`FleetUpdate::Usage` of `Sampled::Pods`) as a table: the
//! namespaces and releases once, a row per pod. Every snapshot holds one per hub and every
//! recorded usage round one per list, 100,000 pods' figures in all; as MessagePack each repeated
//! its namespace and release, and its times as text.
//!
//! Body: `cluster str | at time | fresh_for secs varint | fresh_for nanos varint | scope |
//! nstrings varint | nstrings × str | npods varint | npods × (namespace sid | name str |
//! release sid | cpu_milli varint | memory_bytes varint)`; `scope` is `0` (the cluster),
//! `1 | namespace str` or `2 | namespace str | release str` (one hub).

use std::sync::Arc;
use std::time::Duration;

use hubdeck_core::fleet::{
    ClusterId, HubKey, ObjectKey, PodUsage, Sampled, Usage, UsageSample, UsageScope,
};
use jiff::Timestamp;

use super::patch::{put_varint, take_varint};
use super::table::{
    Strings, count, put_str, put_strings, put_time, take_sid, take_str, take_strings, take_time,
    take_u8,
};

/// Appends the body of a usage entry, `time` being its group's; `None` (nothing written) when
/// the sample is not of pods.
pub fn encode(
    buf: &mut Vec<u8>,
    time: Timestamp,
    cluster: &ClusterId,
    s: &UsageSample,
) -> Option<()> {
    let Sampled::Pods { scope, pods } = &s.of else {
        return None;
    };
    put_head(buf, time, cluster, s, scope);
    let mut strings = Strings::default();
    let mut rows = Vec::with_capacity(pods.len() * 24);
    for p in pods {
        put_row(&mut rows, &mut strings, p, 0);
    }
    put_strings(buf, &strings);
    put_varint(buf, pods.len() as u64);
    buf.extend_from_slice(&rows);
    Some(())
}

/// Reads a body back; the error says what is wrong with it.
pub fn decode(mut body: &[u8], time: Timestamp) -> Result<(ClusterId, UsageSample), String> {
    let b = &mut body;
    let (cluster, at, fresh_for, scope) = take_head(b, time)?;
    let strings = take_strings(b)?;
    let n = count(b)?;
    let mut pods = Vec::with_capacity(n);
    for _ in 0..n {
        pods.push(take_row(b, &strings, 0)?);
    }
    if !body.is_empty() {
        return Err(format!("{} bytes after the last pod's usage", body.len()));
    }
    Ok((
        cluster,
        UsageSample {
            at,
            fresh_for,
            of: Sampled::Pods { scope, pods },
        },
    ))
}

/// Appends a pod's row, its memory shifted right by `shift` bits: `namespace sid | name str |
/// release sid | cpu_milli varint | memory varint`.
pub(super) fn put_row<'a>(
    rows: &mut Vec<u8>,
    strings: &mut Strings<'a>,
    p: &'a PodUsage,
    shift: u32,
) {
    put_varint(rows, strings.id(&p.key.namespace));
    put_str(rows, &p.key.name);
    put_varint(rows, strings.id(&p.release));
    put_cpu(rows, p.usage.cpu_milli);
    put_varint(rows, p.usage.memory_bytes >> shift);
}

/// Reads a row written by [`put_row`].
pub(super) fn take_row(
    b: &mut &[u8],
    strings: &[Arc<str>],
    shift: u32,
) -> Result<PodUsage, String> {
    let namespace = take_sid(b, strings)?;
    let name = take_str(b)?.into();
    let release = take_sid(b, strings)?;
    let cpu_milli = take_cpu(b)?;
    let memory_bytes = take_memory(b, shift)?;
    Ok(PodUsage {
        key: ObjectKey { namespace, name },
        release,
        usage: Usage {
            cpu_milli,
            memory_bytes,
        },
    })
}

/// Appends a CPU figure.
pub(super) fn put_cpu(rows: &mut Vec<u8>, cpu_milli: u32) {
    put_varint(rows, u64::from(cpu_milli));
}

/// Reads a CPU figure.
pub(super) fn take_cpu(b: &mut &[u8]) -> Result<u32, String> {
    u32::try_from(take_varint(b)?).map_err(|_| "CPU out of range".into())
}

/// Reads a memory figure written shifted right by `shift` bits (at most 63).
pub(super) fn take_memory(b: &mut &[u8], shift: u32) -> Result<u64, String> {
    let m = take_varint(b)?;
    (m.leading_zeros() >= shift)
        .then_some(m << shift)
        .ok_or_else(|| "memory out of range".to_string())
}

/// Appends what a pods sample says besides its rows: `cluster str | at time | fresh_for secs
/// varint | fresh_for nanos varint | scope`.
pub(super) fn put_head(
    buf: &mut Vec<u8>,
    time: Timestamp,
    cluster: &ClusterId,
    s: &UsageSample,
    scope: &UsageScope,
) {
    put_str(buf, cluster.as_str());
    put_time(buf, time.as_second(), s.at);
    put_varint(buf, s.fresh_for.as_secs());
    put_varint(buf, u64::from(s.fresh_for.subsec_nanos()));
    match scope {
        UsageScope::Cluster => buf.push(0),
        UsageScope::Namespace(ns) => {
            buf.push(1);
            put_str(buf, ns);
        }
        UsageScope::Hub(h) => {
            buf.push(2);
            put_str(buf, &h.namespace);
            put_str(buf, &h.release);
        }
    }
}

/// What a pods sample said of a cluster: its cluster, time, freshness and scope.
pub(super) type Head = (ClusterId, Timestamp, Duration, UsageScope);

/// Reads what [`put_head`] wrote.
pub(super) fn take_head(b: &mut &[u8], time: Timestamp) -> Result<Head, String> {
    let cluster = ClusterId::new(take_str(b)?);
    let at = take_time(b, time.as_second())?;
    let secs = take_varint(b)?;
    let nanos = u32::try_from(take_varint(b)?)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .ok_or("nanoseconds out of range")?;
    let fresh_for = Duration::new(secs, nanos);
    let scope = match take_u8(b)? {
        0 => UsageScope::Cluster,
        1 => UsageScope::Namespace(take_str(b)?.into()),
        2 => UsageScope::Hub(HubKey {
            namespace: take_str(b)?.into(),
            release: take_str(b)?.into(),
        }),
        c => return Err(format!("unknown usage scope {c}")),
    };
    Ok((cluster, at, fresh_for, scope))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sample(scope: UsageScope) -> UsageSample {
        let pods = (0..50)
            .map(|i| PodUsage {
                key: ObjectKey {
                    namespace: if i % 2 == 0 { "a" } else { "b" }.into(),
                    name: format!("jupyter-u{i}").into(),
                },
                release: "prod".into(),
                usage: Usage {
                    cpu_milli: i * 10,
                    memory_bytes: u64::from(i) << 28,
                },
            })
            .collect();
        UsageSample {
            at: "2026-12-01T03:09:58.25Z".parse().unwrap(),
            fresh_for: Duration::from_millis(90_500),
            of: Sampled::Pods { scope, pods },
        }
    }

    #[test]
    fn a_sample_of_every_scope_round_trips() {
        let time: Timestamp = "2026-12-01T03:10:00Z".parse().unwrap();
        let hub = HubKey {
            namespace: "a".into(),
            release: "prod".into(),
        };
        for scope in [
            UsageScope::Cluster,
            UsageScope::Namespace("a".into()),
            UsageScope::Hub(hub),
        ] {
            let s = sample(scope);
            let mut buf = Vec::new();
            encode(&mut buf, time, &ClusterId::new("c"), &s).unwrap();
            assert_eq!(
                decode(&buf, time).unwrap(),
                (ClusterId::new("c"), s.clone())
            );
            // The pods' names are most of it; their namespaces and releases go once.
            let msgpack = rmp_serde::to_vec(&s).unwrap().len();
            assert!(
                buf.len() * 10 < msgpack * 7,
                "{} bytes, {msgpack} as MessagePack",
                buf.len()
            );
            for cut in 0..buf.len() {
                assert!(decode(&buf[..cut], time).is_err(), "cut at {cut}");
            }
        }
    }

    #[test]
    fn nodes_samples_are_left_to_messagepack() {
        let s = UsageSample {
            of: Sampled::Nodes(Vec::new()),
            ..sample(UsageScope::Cluster)
        };
        let mut buf = Vec::new();
        assert_eq!(
            encode(&mut buf, Timestamp::UNIX_EPOCH, &ClusterId::new("c"), &s),
            None
        );
        assert!(buf.is_empty());
    }

    proptest! {
        #[test]
        fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = decode(&bytes, Timestamp::UNIX_EPOCH);
        }
    }
}
