//! The writer thread: takes the tap's items, encodes and compresses them off the UI task,
//! appends records, polls the audit log for actions to interleave, rolls to a new file every
//! so often and keeps the recordings directory within its budget.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hubdeck_core::fleet::{ClusterId, FleetUpdate, Part, SourceState};
use jiff::Timestamp;

use super::audit_tail::AuditTail;
use super::encode::{self, Out};
use super::format::{self, FLAG_ALERTS, Kind};
use super::rotate::{self, Budget};
use super::tap::Item;

/// Where a recorder writes.
#[derive(Debug, Clone)]
pub enum Target {
    /// A new file per session (and per `roll_every`) in this directory, kept within the budget.
    Dir {
        /// The recordings directory.
        dir: PathBuf,
        /// Size and age limits.
        budget: Budget,
    },
    /// One file, as `hubdeck record --out` names it.
    File(PathBuf),
}

/// How long a deltas record collects batches before it is written: what a crash can lose.
const BLOCK_FOR: Duration = Duration::from_secs(1);
/// A deltas record is written earlier when its raw payload reaches this.
const BLOCK_BYTES: usize = 4 << 20;
/// How often written data is fsynced.
const SYNC_EVERY: Duration = Duration::from_secs(5);
/// How often the audit log is looked at.
const AUDIT_EVERY: Duration = Duration::from_secs(1);

pub(super) struct Writer {
    target: Target,
    file: Option<(File, PathBuf)>,
    file_started: Instant,
    file_bytes: u64,
    block: Vec<u8>,
    block_time: Option<Timestamp>,
    block_started: Instant,
    block_flags: u8,
    /// What the current segment's entries refer to (since the last snapshot).
    segment: encode::Segment,
    alerts_seen: HashMap<ClusterId, Vec<Arc<str>>>,
    audit: Option<AuditTail>,
    audit_polled: Instant,
    unsynced: bool,
    synced: Instant,
    roll_pending: bool,
    want_snapshot: Arc<AtomicBool>,
    pub(super) error: Arc<Mutex<Option<String>>>,
}

impl Writer {
    pub(super) fn new(
        target: Target,
        audit_log: Option<PathBuf>,
        want_snapshot: Arc<AtomicBool>,
    ) -> Self {
        Self {
            target,
            file: None,
            file_started: Instant::now(),
            file_bytes: 0,
            block: Vec::new(),
            block_time: None,
            block_started: Instant::now(),
            block_flags: 0,
            segment: encode::Segment::default(),
            alerts_seen: HashMap::new(),
            audit: audit_log.map(AuditTail::from_end),
            audit_polled: Instant::now(),
            unsynced: false,
            synced: Instant::now(),
            roll_pending: false,
            want_snapshot,
            error: Arc::new(Mutex::new(None)),
        }
    }

    /// Runs until every tap is dropped; a write error ends recording (and is kept for
    /// `Recorder::error`) but never the console.
    pub(super) fn run(mut self, rx: Receiver<Item>) {
        loop {
            let step = match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(item) => self.take(item),
                Err(RecvTimeoutError::Timeout) => Ok(()),
                Err(RecvTimeoutError::Disconnected) => break,
            }
            .and_then(|()| self.housekeeping());
            if let Err(e) = step {
                self.fail(e);
                return;
            }
        }
        let end = self
            .flush_block()
            .and_then(|()| self.poll_audit())
            .and_then(|()| self.sync());
        if let Err(e) = end {
            self.fail(e);
        }
    }

    fn fail(&self, e: io::Error) {
        let path = self.file.as_ref().map(|(_, p)| p.display().to_string());
        let msg = format!("recording {}: {e}", path.unwrap_or_default());
        tracing::error!("{msg}");
        if let Ok(mut slot) = self.error.lock() {
            *slot = Some(msg);
        }
    }

    fn take(&mut self, item: Item) -> io::Result<()> {
        match item {
            Item::Batch { time, updates } => {
                if self.file.is_none() {
                    return Ok(());
                }
                if self.block.is_empty() {
                    self.block_time = Some(time);
                    self.block_started = Instant::now();
                }
                self.note_alerts(
                    updates.iter().map(|o| match o {
                        Out::Whole(u) => u,
                        Out::Patch { update, .. } => update,
                    }),
                    true,
                );
                encode::push_group(&mut self.block, time, &updates, &mut self.segment);
                if self.block.len() >= BLOCK_BYTES {
                    self.flush_block()?;
                }
                Ok(())
            }
            Item::Snapshot {
                time,
                limits,
                updates,
                gap,
            } => {
                self.flush_block()?;
                if gap > 0 {
                    self.write(Kind::Gap, 0, time, &gap.to_le_bytes())?;
                }
                if self.file.is_none() || self.roll_pending {
                    self.open_next(time)?;
                }
                self.alerts_seen.clear();
                self.note_alerts(
                    updates.iter().filter_map(|p| match p {
                        Part::Update(u) => Some(u),
                        Part::Pods { .. } => None,
                    }),
                    false,
                );
                // Streamed into the compressor: only the compressed snapshot is held whole.
                let mut z = format::compressor()?;
                let mut limits_raw = Vec::new();
                format::push_limits(&mut limits_raw, &limits);
                z.write_all(&limits_raw)?;
                encode::write_snapshot(&mut z, time, updates, &mut self.segment)?;
                let packed = z.finish()?;
                self.write(Kind::Snapshot, 0, time, &packed)?;
                self.sync()
            }
        }
    }

    /// Remembers each cluster's firing alerts; flags the block when a set changed, so a
    /// replay jumps to the next alert without decoding every record.
    fn note_alerts<'u>(&mut self, updates: impl Iterator<Item = &'u FleetUpdate>, flag: bool) {
        for u in updates {
            if let FleetUpdate::Alerts {
                cluster,
                source: SourceState::Ok | SourceState::Absent { .. },
                alerts,
            } = u
            {
                let mut fps: Vec<Arc<str>> = alerts.iter().map(|a| a.fingerprint.clone()).collect();
                fps.sort();
                if self.alerts_seen.get(cluster) != Some(&fps) {
                    // A cluster's first, empty set is no news.
                    if flag && (!fps.is_empty() || self.alerts_seen.contains_key(cluster)) {
                        self.block_flags |= FLAG_ALERTS;
                    }
                    self.alerts_seen.insert(cluster.clone(), fps);
                }
            }
        }
    }

    fn housekeeping(&mut self) -> io::Result<()> {
        if !self.block.is_empty() && self.block_started.elapsed() >= BLOCK_FOR {
            self.flush_block()?;
        }
        if self.audit_polled.elapsed() >= AUDIT_EVERY {
            self.audit_polled = Instant::now();
            self.poll_audit()?;
        }
        if self.unsynced && self.synced.elapsed() >= SYNC_EVERY {
            self.sync()?;
        }
        if let Target::Dir { budget, .. } = &self.target
            && !self.roll_pending
            && self.file.is_some()
            && (self.file_started.elapsed() >= budget.roll_every
                || self.file_bytes >= budget.roll_bytes())
        {
            self.roll_pending = true;
            self.want_snapshot.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    fn poll_audit(&mut self) -> io::Result<()> {
        let Some(tail) = self.audit.as_mut() else {
            return Ok(());
        };
        if self.file.is_none() {
            return Ok(());
        }
        let records = tail.poll();
        if records.is_empty() {
            return Ok(());
        }
        // Actions come after the updates before them, as they were seen.
        self.flush_block()?;
        for r in records {
            let json = serde_json::to_vec(&r)?;
            let packed = format::compress(&json)?;
            self.write(Kind::Audit, 0, r.time, &packed)?;
        }
        Ok(())
    }

    fn flush_block(&mut self) -> io::Result<()> {
        let Some(time) = self.block_time.take() else {
            return Ok(());
        };
        let raw = std::mem::take(&mut self.block);
        let flags = std::mem::take(&mut self.block_flags);
        let packed = format::compress(&raw)?;
        self.write(Kind::Deltas, flags, time, &packed)
    }

    fn write(&mut self, kind: Kind, flags: u8, time: Timestamp, payload: &[u8]) -> io::Result<()> {
        let Some((file, _)) = self.file.as_mut() else {
            return Ok(());
        };
        self.file_bytes += format::write_record(file, kind, flags, time, payload)?;
        self.unsynced = true;
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        if let Some((file, _)) = &self.file
            && self.unsynced
        {
            file.sync_data()?;
        }
        self.unsynced = false;
        self.synced = Instant::now();
        Ok(())
    }

    fn open_next(&mut self, time: Timestamp) -> io::Result<()> {
        self.sync()?;
        let path = match &self.target {
            Target::File(p) => p.clone(),
            Target::Dir { dir, .. } => rotate::new_file_name(dir, time),
        };
        let mut file = match &self.target {
            Target::File(_) => crate::private_files::create_at(&path)?,
            Target::Dir { .. } => crate::private_files::create(&path)?,
        };
        use std::io::Write;
        file.write_all(&format::file_header())?;
        self.file_bytes = format::FILE_HEADER_LEN;
        self.file_started = Instant::now();
        self.roll_pending = false;
        self.file = Some((file, path.clone()));
        if let Target::Dir { dir, budget } = &self.target {
            rotate::enforce(dir, budget, &path, Timestamp::now())?;
        }
        Ok(())
    }
}
