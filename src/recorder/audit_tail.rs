//! Follows the audit log while recording, so that actions (this console's, and those of any
//! hubdeck sharing the state directory) are interleaved with the updates around them.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use crate::action::AuditRecord;

/// The part of the audit log not read yet.
pub struct AuditTail {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
}

impl AuditTail {
    /// Follows `path` from its current end: earlier actions belong to earlier recordings.
    pub fn from_end(path: PathBuf) -> Self {
        let offset = std::fs::metadata(&path).map_or(0, |m| m.len());
        Self {
            path,
            offset,
            partial: Vec::new(),
        }
    }

    /// Records appended since the last poll (a line still being written waits for the next).
    pub fn poll(&mut self) -> Vec<AuditRecord> {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return Vec::new();
        };
        let len = file.metadata().map_or(0, |m| m.len());
        if len < self.offset {
            // Replaced or truncated by hand: start over.
            self.offset = 0;
            self.partial.clear();
        }
        if len == self.offset || file.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let mut buf = Vec::new();
        if file.take(len - self.offset).read_to_end(&mut buf).is_err() {
            return Vec::new();
        }
        self.offset += buf.len() as u64;
        self.partial.extend_from_slice(&buf);
        let Some(end) = self.partial.iter().rposition(|b| *b == b'\n') else {
            return Vec::new();
        };
        let complete: Vec<u8> = self.partial.drain(..=end).collect();
        complete
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .filter_map(|l| serde_json::from_slice(l).ok())
            .collect()
    }
}
