//! The recording file format, version 3 (ARCHITECTURE.md "Recordings" describes it for readers
//! in other languages).
//!
//! A 16-byte file header (`MAGIC`, the version as u32 LE, 4 reserved bytes), then records, each
//! `len u32 | crc32 u32 | kind u8 | flags u8 | time i64 | payload[len]` (little-endian; `time`
//! in nanoseconds since the Unix epoch; the CRC covers kind, flags, time and payload). A record
//! cut short by a crash fails its length or its CRC and ends the file; kinds this version does
//! not know are skipped, so newer writers can add some.

use std::io::{self, Read, Write};

use hubdeck_core::fleet::{FleetUpdate, Thresholds};
use jiff::Timestamp;

use super::activity_diff::Changes;
use super::entries;
use super::patch::{PodPatch, take_varint};
use super::usage_numbered::NumberedUsage;

/// First bytes of every recording.
pub const MAGIC: &[u8; 8] = b"HUBDECKR";
/// The format version this hubdeck writes.
pub const VERSION: u32 = 4;
/// The oldest version it reads: versions 3 and 4 only added entry kinds (tags 2 to 5, then 6
/// and 7),
/// so version 2 files read as they are.
pub const OLDEST_READ: u32 = 2;
/// Length of the file header.
pub const FILE_HEADER_LEN: u64 = 16;
/// Length of a record's header.
pub const RECORD_HEADER_LEN: usize = 18;
/// Largest payload a reader accepts: a longer length is damage, not data.
pub const MAX_PAYLOAD: u32 = 1 << 30;

/// Kinds of records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The whole fleet (a replay starts from the last one before the time it seeks).
    Snapshot,
    /// Batches of updates as the store applied them, each with its time.
    Deltas,
    /// One audit-log record (an action's intent or outcome).
    Audit,
    /// Updates were dropped because the writer fell behind; the next snapshot resumes.
    Gap,
    /// A kind a newer hubdeck wrote.
    Unknown(u8),
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::Snapshot => 1,
            Kind::Deltas => 2,
            Kind::Audit => 3,
            Kind::Gap => 4,
            Kind::Unknown(b) => b,
        }
    }

    fn from_byte(b: u8) -> Self {
        match b {
            1 => Kind::Snapshot,
            2 => Kind::Deltas,
            3 => Kind::Audit,
            4 => Kind::Gap,
            b => Kind::Unknown(b),
        }
    }
}

/// Flag of a deltas record: the firing alerts of some cluster changed in it.
pub const FLAG_ALERTS: u8 = 1;

/// A record's header, as read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Payload length.
    pub len: u32,
    /// CRC32 of kind, flags, time and payload.
    pub crc: u32,
    /// Kind.
    pub kind: Kind,
    /// Flags (`FLAG_ALERTS`).
    pub flags: u8,
    /// When (the first batch of a deltas record, the snapshot's time, the action's time).
    pub time: Timestamp,
}

pub(crate) fn nanos(t: Timestamp) -> i64 {
    i64::try_from(t.as_nanosecond()).unwrap_or(i64::MAX)
}

pub(crate) fn from_nanos(n: i64) -> Timestamp {
    Timestamp::from_nanosecond(i128::from(n)).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The file header.
pub fn file_header() -> [u8; FILE_HEADER_LEN as usize] {
    let mut h = [0u8; FILE_HEADER_LEN as usize];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h
}

/// Checks a file header; the error says what is wrong with it.
pub fn check_file_header(h: &[u8]) -> Result<(), String> {
    if h.len() < FILE_HEADER_LEN as usize || &h[..8] != MAGIC {
        return Err("not a hubdeck recording (no HUBDECKR header)".into());
    }
    let version = u32::from_le_bytes([h[8], h[9], h[10], h[11]]);
    if !(OLDEST_READ..=VERSION).contains(&version) {
        return Err(format!(
            "recording format version {version}; this hubdeck reads versions {OLDEST_READ} to \
             {VERSION}"
        ));
    }
    Ok(())
}

fn crc(kind: u8, flags: u8, time: i64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&[kind, flags]);
    h.update(&time.to_le_bytes());
    h.update(payload);
    h.finalize()
}

/// Writes one record.
pub fn write_record(
    out: &mut impl Write,
    kind: Kind,
    flags: u8,
    time: Timestamp,
    payload: &[u8],
) -> io::Result<u64> {
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|l| *l <= MAX_PAYLOAD)
        .ok_or_else(|| io::Error::other("record too large"))?;
    let t = nanos(time);
    let mut head = [0u8; RECORD_HEADER_LEN];
    head[..4].copy_from_slice(&len.to_le_bytes());
    head[4..8].copy_from_slice(&crc(kind.byte(), flags, t, payload).to_le_bytes());
    head[8] = kind.byte();
    head[9] = flags;
    head[10..18].copy_from_slice(&t.to_le_bytes());
    // Appended after everything before it: a crash leaves at most this record torn (its
    // length runs past the end of the file, or its CRC fails). The payload is not copied
    // next to the header first, a snapshot's being megabytes.
    out.write_all(&head)?;
    out.write_all(payload)?;
    Ok((RECORD_HEADER_LEN + payload.len()) as u64)
}

/// Parses a record header.
pub fn parse_header(h: &[u8; RECORD_HEADER_LEN]) -> Header {
    let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let mut t = [0u8; 8];
    t.copy_from_slice(&h[10..18]);
    Header {
        len: u32_at(0),
        crc: u32_at(4),
        kind: Kind::from_byte(h[8]),
        flags: h[9],
        time: from_nanos(i64::from_le_bytes(t)),
    }
}

/// Whether `payload` is the one `header` announced.
pub fn crc_ok(header: &Header, payload: &[u8]) -> bool {
    crc(
        header.kind.byte(),
        header.flags,
        nanos(header.time),
        payload,
    ) == header.crc
}

/// One entry of a group as read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Rec {
    /// An update written whole.
    Whole(FleetUpdate),
    /// A pod upsert as a patch to pod number `id` (see `pod_ids`).
    Patch {
        /// The pod's number in this segment.
        id: u32,
        /// What changed.
        patch: PodPatch,
    },
    /// A hub's servers as the changes since its last report (see `activity_diff`).
    Activity(Changes),
    /// Pods usage, the pods by number (see `usage_numbered`).
    Usage(NumberedUsage),
}

/// Updates applied together at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// When the store applied them.
    pub time: Timestamp,
    /// The updates, in order.
    pub items: Vec<Rec>,
    /// Entries of kinds this hubdeck does not know (a newer writer's), skipped.
    pub unknown: usize,
}

/// The thresholds a snapshot's fleet derived health with, first in its payload.
pub fn push_limits(buf: &mut Vec<u8>, limits: &Thresholds) {
    buf.extend_from_slice(&limits.pending_after.as_secs().to_le_bytes());
    buf.extend_from_slice(&limits.crashloop_restarts.to_le_bytes());
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("payload ends early".into());
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, String> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }
}

/// Reads the thresholds at the start of a snapshot's payload; returns the rest.
pub fn read_limits(payload: &[u8]) -> Result<(Thresholds, &[u8]), String> {
    let mut c = Cursor(payload);
    let pending = c.u64()?;
    let crashloop = c.u32()?;
    Ok((
        Thresholds {
            pending_after: std::time::Duration::from_secs(pending),
            crashloop_restarts: crashloop,
        },
        c.0,
    ))
}

/// Reads every group of a payload (`encode::push_group` wrote them).
pub fn read_groups(payload: &[u8]) -> Result<Vec<Group>, String> {
    let mut c = Cursor(payload);
    let mut out = Vec::new();
    while !c.0.is_empty() {
        let (time, frames) = group_frames(&mut c)?;
        let (items, unknown) = entries::decode(&frames, time)?;
        out.push(Group {
            time,
            items,
            unknown,
        });
    }
    Ok(out)
}

/// Every group of a payload as its time and its entries' tags and bodies, not decoded (to see
/// what a recording is made of).
pub fn read_frames(payload: &[u8]) -> Result<Vec<(Timestamp, Frames<'_>)>, String> {
    let mut c = Cursor(payload);
    let mut out = Vec::new();
    while !c.0.is_empty() {
        out.push(group_frames(&mut c)?);
    }
    Ok(out)
}

/// Reads a snapshot's payload after its thresholds: one group, big, decoded on two threads.
pub fn read_snapshot_group(payload: &[u8]) -> Result<Group, String> {
    let mut c = Cursor(payload);
    let (time, frames) = group_frames(&mut c)?;
    if !c.0.is_empty() {
        return Err(format!("{} bytes after the snapshot", c.0.len()));
    }
    let (items, unknown) = entries::decode_on_two_threads(&frames, time)?;
    Ok(Group {
        time,
        items,
        unknown,
    })
}

/// A group's entries as tags and bodies, not decoded yet.
pub type Frames<'a> = Vec<(u8, &'a [u8])>;

/// The head of the next group and its entries, not decoded yet.
fn group_frames<'a>(c: &mut Cursor<'a>) -> Result<(Timestamp, Frames<'a>), String> {
    let time = from_nanos(c.u64()? as i64);
    let n = take_varint(&mut c.0)? as usize;
    let mut frames = Vec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        let tag = c.take(1)?[0];
        let len = usize::try_from(take_varint(&mut c.0)?).map_err(|_| "entry too long")?;
        frames.push((tag, c.take(len)?));
    }
    Ok((time, frames))
}

/// zstd level of deltas and audit records: written every second, and high-entropy (pod
/// numbers, flipping fields), so a higher level gains next to nothing for its CPU.
const LEVEL: i32 = 3;
/// zstd level of snapshots: written every few minutes, where level 9 makes them a fifth
/// smaller than level 3 for about half a second of the writer thread's time at 100,000 pods;
/// reading them back is as fast.
const SNAPSHOT_LEVEL: i32 = 9;

/// Compresses a payload (zstd, one frame per record, so each record decodes on its own).
pub fn compress(raw: &[u8]) -> io::Result<Vec<u8>> {
    zstd::bulk::compress(raw, LEVEL)
}

/// Compresses a snapshot's payload.
pub fn compress_snapshot(raw: &[u8]) -> io::Result<Vec<u8>> {
    zstd::bulk::compress(raw, SNAPSHOT_LEVEL)
}

/// A compressor to stream a snapshot's payload into (too big to hold raw); `finish` gives the
/// compressed payload, one frame like [`compress_snapshot`]'s.
pub fn compressor() -> io::Result<zstd::stream::Encoder<'static, Vec<u8>>> {
    zstd::stream::Encoder::new(Vec::new(), SNAPSHOT_LEVEL)
}

/// Decompresses a payload.
pub fn decompress(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    zstd::stream::read::Decoder::new(data)?.read_to_end(&mut out)?;
    Ok(out)
}
