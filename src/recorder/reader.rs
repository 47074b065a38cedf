//! Opening a recording: one file or a recordings directory (its files in time order), indexed
//! by reading only record headers, so that a seek decodes just the last snapshot before the
//! time asked for and the deltas after it. A torn last record (a crash mid-write) ends the
//! file quietly; damage elsewhere is an error naming the file and offset.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use hubdeck_core::fleet::{Fleet, Thresholds};
use jiff::Timestamp;

use super::cursor::Cursor;
use super::format::{self, FILE_HEADER_LEN, Group, Header, Kind, RECORD_HEADER_LEN};
use crate::action::AuditRecord;

/// A recording that cannot be read, in one line naming the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RecordingError {
    /// The file (or directory).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err(path: &Path, message: impl std::fmt::Display) -> RecordingError {
    RecordingError {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// One record of the index.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// Which file.
    pub file: usize,
    /// Where its payload starts.
    pub offset: u64,
    /// Its header.
    pub header: Header,
}

/// An opened recording.
#[derive(Debug)]
pub struct Recording {
    files: Vec<PathBuf>,
    entries: Vec<Entry>,
    /// Files whose last record was torn, with the offset where the readable part ends.
    pub torn: Vec<(PathBuf, u64)>,
}

/// The fleet at one moment of a recording.
pub struct Replayed {
    /// The model as the recording's console had it.
    pub fleet: Fleet,
    /// The moment.
    pub time: Timestamp,
    /// Updates were dropped before this moment and no snapshot came since: the model may miss
    /// changes.
    pub gap: bool,
}

impl Recording {
    /// Opens a file, or every recording of a directory.
    pub fn open(path: &Path) -> Result<Self, RecordingError> {
        let files = if path.is_dir() {
            super::rotate::recordings(path).map_err(|e| err(path, e))?
        } else {
            vec![path.to_path_buf()]
        };
        let mut rec = Recording {
            files: Vec::new(),
            entries: Vec::new(),
            torn: Vec::new(),
        };
        for f in files {
            let i = rec.files.len();
            rec.files.push(f.clone());
            rec.scan(i, &f)?;
        }
        if !rec.entries.iter().any(|e| e.header.kind == Kind::Snapshot) {
            return Err(err(path, "holds no snapshot yet: nothing to replay"));
        }
        Ok(rec)
    }

    /// Indexes one file: reads each record's header where it is (one positioned read of 18
    /// bytes a record) and skips its payload unread, so opening an hour of recording reads
    /// about 60 KB rather than the whole file.
    fn scan(&mut self, index: usize, path: &Path) -> Result<(), RecordingError> {
        let file = File::open(path).map_err(|e| err(path, e))?;
        let len = file.metadata().map_err(|e| err(path, e))?.len();
        let mut head = [0u8; FILE_HEADER_LEN as usize];
        if len < FILE_HEADER_LEN {
            self.torn.push((path.to_path_buf(), 0));
            return Ok(());
        }
        file.read_exact_at(&mut head, 0).map_err(|e| err(path, e))?;
        format::check_file_header(&head).map_err(|m| err(path, m))?;
        let mut pos = FILE_HEADER_LEN;
        let first = self.entries.len();
        while pos < len {
            let rest = len - pos;
            let mut h = [0u8; RECORD_HEADER_LEN];
            if rest < RECORD_HEADER_LEN as u64 || file.read_exact_at(&mut h, pos).is_err() {
                self.torn.push((path.to_path_buf(), pos));
                break;
            }
            let header = format::parse_header(&h);
            let end = pos + RECORD_HEADER_LEN as u64 + u64::from(header.len);
            if header.len > format::MAX_PAYLOAD || end > len || header.kind == Kind::Unknown(0) {
                self.torn.push((path.to_path_buf(), pos));
                break;
            }
            self.entries.push(Entry {
                file: index,
                offset: pos + RECORD_HEADER_LEN as u64,
                header,
            });
            pos = end;
        }
        // The last record is the one a crash may have cut inside its payload.
        if self.entries.len() > first
            && let Some(last) = self.entries.last().copied()
            && self.raw(&last).is_err()
        {
            self.entries.pop();
            self.torn
                .push((path.to_path_buf(), last.offset - RECORD_HEADER_LEN as u64));
        }
        Ok(())
    }

    /// The index, in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The files read.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    pub(crate) fn raw(&self, e: &Entry) -> Result<Vec<u8>, RecordingError> {
        let path = &self.files[e.file];
        let f = File::open(path).map_err(|x| err(path, x))?;
        let mut buf = vec![0u8; e.header.len as usize];
        f.read_exact_at(&mut buf, e.offset)
            .map_err(|x| err(path, x))?;
        if !format::crc_ok(&e.header, &buf) {
            return Err(err(
                path,
                format!(
                    "record at byte {} is damaged (checksum mismatch)",
                    e.offset - RECORD_HEADER_LEN as u64
                ),
            ));
        }
        Ok(buf)
    }

    /// A record's payload, decompressed.
    pub fn payload(&self, e: &Entry) -> Result<Vec<u8>, RecordingError> {
        let raw = self.raw(e)?;
        format::decompress(&raw).map_err(|x| {
            err(
                &self.files[e.file],
                format!(
                    "record at byte {}: {x}",
                    e.offset - RECORD_HEADER_LEN as u64
                ),
            )
        })
    }

    pub(crate) fn damaged(&self, e: &Entry, m: String) -> RecordingError {
        err(
            &self.files[e.file],
            format!(
                "record at byte {}: {m}",
                e.offset - RECORD_HEADER_LEN as u64
            ),
        )
    }

    /// The batches of a deltas record.
    pub fn groups(&self, e: &Entry) -> Result<Vec<Group>, RecordingError> {
        let p = self.payload(e)?;
        format::read_groups(&p).map_err(|m| self.damaged(e, m))
    }

    /// A snapshot's thresholds and its updates.
    pub fn snapshot(&self, e: &Entry) -> Result<(Thresholds, Group), RecordingError> {
        let p = self.payload(e)?;
        let (limits, rest) = format::read_limits(&p).map_err(|m| self.damaged(e, m))?;
        let group = format::read_snapshot_group(rest).map_err(|m| self.damaged(e, m))?;
        Ok((limits, group))
    }

    /// An audit record.
    pub fn audit(&self, e: &Entry) -> Result<AuditRecord, RecordingError> {
        let p = self.payload(e)?;
        serde_json::from_slice(&p).map_err(|x| self.damaged(e, x.to_string()))
    }

    /// Updates dropped at a gap.
    pub fn gap(&self, e: &Entry) -> Result<u64, RecordingError> {
        let raw = self.raw(e)?;
        let mut a = [0u8; 8];
        if raw.len() == 8 {
            a.copy_from_slice(&raw);
        }
        Ok(u64::from_le_bytes(a))
    }

    /// When the recording starts (its first snapshot).
    pub fn start(&self) -> Timestamp {
        self.entries
            .iter()
            .find(|e| e.header.kind == Kind::Snapshot)
            .map_or(Timestamp::UNIX_EPOCH, |e| e.header.time)
    }

    /// When its last update or action was recorded.
    pub fn end(&self) -> Timestamp {
        let mut end = self.start();
        for e in self.entries.iter().rev().take(64) {
            end = end.max(e.header.time);
            if e.header.kind == Kind::Deltas
                && let Ok(groups) = self.groups(e)
                && let Some(g) = groups.last()
            {
                end = end.max(g.time);
                break;
            }
        }
        end
    }

    /// Index of the last snapshot at or before `t`.
    pub fn snapshot_before(&self, t: Timestamp) -> Option<usize> {
        self.entries
            .iter()
            .rposition(|e| e.header.kind == Kind::Snapshot && e.header.time <= t)
    }

    /// The fleet as it was at `t`, with `t` as now.
    pub fn state_at(&self, t: Timestamp) -> Result<Replayed, RecordingError> {
        let mut r = self.objects_at(t)?;
        r.fleet.refresh(t);
        Ok(r)
    }

    /// The fleet's objects as they were at `t`, its derived health not computed (the caller
    /// refreshes it once, when it has made its own changes).
    pub fn objects_at(&self, t: Timestamp) -> Result<Replayed, RecordingError> {
        let Some(i) = self.snapshot_before(t) else {
            return Err(err(
                &self.files[0],
                format!("{t} is before the recording starts ({})", self.start()),
            ));
        };
        let (limits, snap) = self.snapshot(&self.entries[i])?;
        let mut cursor = Cursor::at_snapshot(limits, snap);
        let mut gap = false;
        'entries: for e in &self.entries[i + 1..] {
            match e.header.kind {
                Kind::Snapshot => break,
                Kind::Gap if e.header.time <= t => gap = true,
                Kind::Deltas => {
                    if e.header.time > t {
                        break;
                    }
                    // Derived health is refreshed once, at `t`, not after every batch: it
                    // depends only on the objects and the time, and a seek through ten
                    // minutes of churn would otherwise re-derive every hub thousands of times.
                    for g in self.groups(e)? {
                        if g.time > t {
                            break 'entries;
                        }
                        cursor.fast_forward(g).map_err(|m| self.damaged(e, m))?;
                    }
                }
                _ => {}
            }
        }
        cursor
            .flush()
            .map_err(|m| self.damaged(&self.entries[i], m))?;
        Ok(Replayed {
            fleet: cursor.fleet,
            time: t,
            gap,
        })
    }
}
