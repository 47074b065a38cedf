//! What a hub API said of its servers (`FleetUpdate::Activity`) as a table: a row per server,
//! its times as numbers. Every snapshot holds one per hub, 100,000 servers in all; as
//! MessagePack each carried two times as RFC 3339 text, a quarter of a snapshot.
//!
//! Body: `cluster str | namespace str | release str | source len varint | source (MessagePack)
//! | nstrings varint | nstrings × str | nservers varint | nservers × (flags u8 | user str |
//! server sid | [started time] | [last_activity time])`; flags: bit 0 ready, bit 1 started,
//! bit 2 last activity, bits 3–4 pending (0 none, 1 spawn, 2 stop, 3 other).

use std::sync::Arc;

use hubdeck_core::fleet::{ClusterId, HubId, HubKey, PendingAction, ServerActivity, SourceState};
use jiff::Timestamp;

use super::patch::{put_varint, take_varint};
use super::table::{
    Strings, count, put_str, put_strings, put_time, take_sid, take_str, take_strings, take_time,
    take_u8,
};

const READY: u8 = 1;
const STARTED: u8 = 1 << 1;
const LAST_ACTIVITY: u8 = 1 << 2;
const PENDING_SHIFT: u8 = 3;
const KNOWN: u8 = (1 << 5) - 1;

/// Appends the body of an activity entry, `time` being its group's.
pub fn encode(
    buf: &mut Vec<u8>,
    time: Timestamp,
    hub: &HubId,
    source: &SourceState,
    servers: &[ServerActivity],
) {
    let base = time.as_second();
    put_hub(buf, hub);
    // Encoding an owned model value into memory cannot fail.
    let source = rmp_serde::to_vec(source).unwrap_or_default();
    put_varint(buf, source.len() as u64);
    buf.extend_from_slice(&source);
    let mut strings = Strings::default();
    let mut rows = Vec::with_capacity(servers.len() * 24);
    for s in servers {
        rows.push(flags(s));
        put_str(&mut rows, &s.user);
        put_varint(&mut rows, strings.id(&s.server));
        put_times(&mut rows, base, s);
    }
    put_strings(buf, &strings);
    put_varint(buf, servers.len() as u64);
    buf.extend_from_slice(&rows);
}

/// Reads a body back as the update it was; the error says what is wrong with it.
pub fn decode(
    mut body: &[u8],
    time: Timestamp,
) -> Result<(HubId, SourceState, Vec<ServerActivity>), String> {
    let b = &mut body;
    let base = time.as_second();
    let hub = take_hub(b)?;
    let len = usize::try_from(take_varint(b)?).map_err(|_| "source too long")?;
    if b.len() < len {
        return Err("payload ends inside a hub's source".into());
    }
    let (source, rest) = b.split_at(len);
    *b = rest;
    let source: SourceState =
        rmp_serde::from_slice(source).map_err(|e| format!("a hub's source: {e}"))?;
    let strings = take_strings(b)?;
    let n = count(b)?;
    let mut servers = Vec::with_capacity(n);
    for _ in 0..n {
        let flags = take_flags(b)?;
        let user = take_str(b)?.into();
        let server = take_sid(b, &strings)?;
        servers.push(take_state(b, base, flags, user, server)?);
    }
    if !body.is_empty() {
        return Err(format!("{} bytes after the last server", body.len()));
    }
    Ok((hub, source, servers))
}

/// Appends `cluster str | namespace str | release str`.
pub(super) fn put_hub(buf: &mut Vec<u8>, hub: &HubId) {
    put_str(buf, hub.cluster.as_str());
    put_str(buf, &hub.key.namespace);
    put_str(buf, &hub.key.release);
}

/// Reads what [`put_hub`] wrote.
pub(super) fn take_hub(b: &mut &[u8]) -> Result<HubId, String> {
    Ok(HubId {
        cluster: ClusterId::new(take_str(b)?),
        key: HubKey {
            namespace: take_str(b)?.into(),
            release: take_str(b)?.into(),
        },
    })
}

/// A server's row flags (see the module's doc).
pub(super) fn flags(s: &ServerActivity) -> u8 {
    let pending = match s.pending {
        None => 0,
        Some(PendingAction::Spawn) => 1,
        Some(PendingAction::Stop) => 2,
        Some(PendingAction::Other) => 3,
    };
    let flag = |on: bool, bit: u8| if on { bit } else { 0 };
    flag(s.ready, READY)
        | flag(s.started.is_some(), STARTED)
        | flag(s.last_activity.is_some(), LAST_ACTIVITY)
        | (pending << PENDING_SHIFT)
}

/// Appends the times its flags announce.
pub(super) fn put_times(rows: &mut Vec<u8>, base: i64, s: &ServerActivity) {
    for t in [s.started, s.last_activity].into_iter().flatten() {
        put_time(rows, base, t);
    }
}

/// Reads a row's flags, refusing unknown ones.
pub(super) fn take_flags(b: &mut &[u8]) -> Result<u8, String> {
    let flags = take_u8(b)?;
    if flags & !KNOWN != 0 {
        return Err(format!("server row with unknown flags {flags:#x}"));
    }
    Ok(flags)
}

/// The server `user`/`server` in the state `flags` says, reading the times they announce.
pub(super) fn take_state(
    b: &mut &[u8],
    base: i64,
    flags: u8,
    user: Arc<str>,
    server: Arc<str>,
) -> Result<ServerActivity, String> {
    let started = (flags & STARTED != 0)
        .then(|| take_time(b, base))
        .transpose()?;
    let last_activity = (flags & LAST_ACTIVITY != 0)
        .then(|| take_time(b, base))
        .transpose()?;
    let pending = match flags >> PENDING_SHIFT {
        0 => None,
        1 => Some(PendingAction::Spawn),
        2 => Some(PendingAction::Stop),
        _ => Some(PendingAction::Other),
    };
    Ok(ServerActivity {
        user,
        server,
        ready: flags & READY != 0,
        pending,
        started,
        last_activity,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn servers_of_every_shape_round_trip() {
        let time: Timestamp = "2026-12-01T03:10:00Z".parse().unwrap();
        let pending = [
            None,
            Some(PendingAction::Spawn),
            Some(PendingAction::Stop),
            Some(PendingAction::Other),
        ];
        let servers: Vec<ServerActivity> = (0..40)
            .map(|i| ServerActivity {
                user: format!("user{i}@uni.edu").into(),
                server: if i % 3 == 0 { "gpu" } else { "" }.into(),
                ready: i % 2 == 0,
                pending: pending[i % 4],
                started: (i % 5 != 0)
                    .then(|| time - jiff::SignedDuration::from_secs(i as i64 * 61)),
                last_activity: (i % 7 != 0)
                    .then_some(Timestamp::new(1_700_000_000, 123_456_789).unwrap()),
            })
            .collect();
        let hub = HubId {
            cluster: ClusterId::new("c"),
            key: HubKey {
                namespace: "ns".into(),
                release: "prod".into(),
            },
        };
        for source in [
            SourceState::Ok,
            SourceState::Failing {
                error: "503".into(),
            },
        ] {
            let mut buf = Vec::new();
            encode(&mut buf, time, &hub, &source, &servers);
            assert_eq!(
                decode(&buf, time).unwrap(),
                (hub.clone(), source, servers.clone())
            );
            let msgpack = rmp_serde::to_vec(&servers).unwrap().len();
            assert!(
                buf.len() * 2 < msgpack,
                "{} bytes, {msgpack} as MessagePack",
                buf.len()
            );
            for cut in 0..buf.len() {
                assert!(decode(&buf[..cut], time).is_err(), "cut at {cut}");
            }
        }
    }

    proptest! {
        #[test]
        fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = decode(&bytes, Timestamp::UNIX_EPOCH);
        }
    }
}
