//! What the tables of a recording's entries share (`pod_table`, `usage_table`,
//! `activity_table`): a table of the strings an entry's rows share, written once and referred
//! to by number, and the small encodings of numbers and times (see ARCHITECTURE.md
//! "Recordings").

use std::collections::HashMap;
use std::sync::Arc;

use hubdeck_core::fleet::Requests;
use jiff::Timestamp;

use super::patch::{put_varint, take_varint};

/// The string table being written: each distinct string once, in order of first use.
#[derive(Default)]
pub struct Strings<'a> {
    ids: HashMap<&'a str, u32>,
    list: Vec<&'a str>,
}

impl<'a> Strings<'a> {
    /// The number of `s`, given it on first sight.
    pub fn id(&mut self, s: &'a str) -> u64 {
        let next = self.list.len() as u32;
        let id = *self.ids.entry(s).or_insert(next);
        if id == next {
            self.list.push(s);
        }
        u64::from(id)
    }
}

/// Appends `len varint | UTF-8`.
pub fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_varint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

/// A signed number as an unsigned one small when it is near 0.
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Undoes [`zigzag`].
pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Appends a time as seconds from `base` and nanoseconds, zigzagged.
pub fn put_time(buf: &mut Vec<u8>, base: i64, t: Timestamp) {
    put_varint(buf, zigzag(t.as_second().wrapping_sub(base)));
    put_varint(buf, zigzag(i64::from(t.subsec_nanosecond())));
}

/// Appends CPU and memory figures.
pub fn put_requests(buf: &mut Vec<u8>, r: &Requests) {
    put_varint(buf, u64::from(r.cpu_milli));
    put_varint(buf, r.memory_bytes);
}

/// Appends the string table (`n varint | n × str`).
pub fn put_strings(buf: &mut Vec<u8>, strings: &Strings) {
    put_varint(buf, strings.list.len() as u64);
    for s in &strings.list {
        put_str(buf, s);
    }
}

/// Reads a string table back.
pub fn take_strings(b: &mut &[u8]) -> Result<Vec<Arc<str>>, String> {
    let n = count(b)?;
    let mut strings: Vec<Arc<str>> = Vec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        strings.push(take_str(b)?.into());
    }
    Ok(strings)
}

/// Reads a string's number and gives the string.
pub fn take_sid(b: &mut &[u8], strings: &[Arc<str>]) -> Result<Arc<str>, String> {
    let i = take_varint(b)?;
    usize::try_from(i)
        .ok()
        .and_then(|i| strings.get(i))
        .cloned()
        .ok_or_else(|| format!("string number {i} of {}", strings.len()))
}

/// Reads a count, which may not be larger than the bytes left.
pub fn count(b: &mut &[u8]) -> Result<usize, String> {
    let n = take_varint(b)?;
    // Every string and row takes a byte at least: a larger count is damage.
    usize::try_from(n)
        .ok()
        .filter(|n| *n <= b.len())
        .ok_or_else(|| format!("count {n} larger than what follows"))
}

/// Reads a byte.
pub fn take_u8(b: &mut &[u8]) -> Result<u8, String> {
    let (&v, rest) = b.split_first().ok_or("payload ends inside a pod")?;
    *b = rest;
    Ok(v)
}

/// Reads a string.
pub fn take_str<'a>(b: &mut &'a [u8]) -> Result<&'a str, String> {
    let len = usize::try_from(take_varint(b)?).map_err(|_| "string too long")?;
    if b.len() < len {
        return Err("payload ends inside a string".into());
    }
    let (s, rest) = b.split_at(len);
    *b = rest;
    std::str::from_utf8(s).map_err(|_| "string not UTF-8".into())
}

/// Reads CPU and memory figures.
pub fn take_requests(b: &mut &[u8]) -> Result<Requests, String> {
    Ok(Requests {
        cpu_milli: u32::try_from(take_varint(b)?).map_err(|_| "CPU out of range")?,
        memory_bytes: take_varint(b)?,
    })
}

/// Appends ascending pod numbers as steps: the first as it is, each next as its difference
/// from the one before (varints).
pub fn put_id_steps(buf: &mut Vec<u8>, ids: impl IntoIterator<Item = u32>) {
    let mut last = 0;
    for id in ids {
        put_varint(buf, u64::from(id - last));
        last = id;
    }
}

/// Reads `n` pod numbers written by [`put_id_steps`].
pub fn take_id_steps(b: &mut &[u8], n: usize) -> Result<Vec<u32>, String> {
    let mut ids = Vec::with_capacity(n);
    let mut id = 0u32;
    for _ in 0..n {
        let step = u32::try_from(take_varint(b)?).map_err(|_| "pod number out of range")?;
        id = id.checked_add(step).ok_or("pod number out of range")?;
        ids.push(id);
    }
    Ok(ids)
}

/// Reads a time written by [`put_time`].
pub fn take_time(b: &mut &[u8], base: i64) -> Result<Timestamp, String> {
    let secs = base.wrapping_add(unzigzag(take_varint(b)?));
    let nanos = i32::try_from(unzigzag(take_varint(b)?)).map_err(|_| "nanoseconds out of range")?;
    Timestamp::new(secs, nanos).map_err(|e| format!("time out of range: {e}"))
}
