//! The flight recorder: every `FleetUpdate` the store applies, with its time, snapshots of the
//! whole fleet every few minutes, and the audit log's records interleaved, in compact,
//! append-only, checksummed files that a replay opens at any moment.
//!
//! - [`tap`]: the owner of the fleet (console, `hubdeck record`) hands batches and snapshots
//!   over a bounded channel, never waiting; a full channel becomes a gap, not a stall.
//! - [`writer`]: the thread encoding (MessagePack), compressing (zstd) and appending them,
//!   rolling files and keeping the directory's budget ([`rotate`]).
//! - [`format`]: the file format; [`encode`] and [`entries`]: a group's entries written and
//!   read back; [`patch`] and [`pod_ids`]: pod updates as numbered patches; [`pod_table`],
//!   [`usage_table`], [`activity_table`] (over [`table`]): the lists of 100,000 rows a
//!   snapshot is mostly made of; [`activity_diff`]: hubs' servers as changes;
//!   [`usage_numbered`]: usage figures by pod number.
//! - [`reader`]: the index and seeking; [`cursor`]: reading forward from a snapshot;
//!   [`replay`]: what the headless replay commands print; [`times`]: the times people type;
//!   [`warm`]: the console's warm start.

pub mod activity_diff;
pub mod activity_table;
pub mod audit_tail;
pub mod cursor;
pub mod encode;
pub mod entries;
pub mod format;
pub mod patch;
pub mod pod_ids;
pub mod pod_table;
pub mod reader;
pub mod replay;
pub mod rotate;
pub mod table;
pub mod tap;
pub mod times;
pub mod usage_numbered;
pub mod usage_table;
pub mod warm;
pub mod writer;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use jiff::SignedDuration;

pub use reader::{Recording, RecordingError, Replayed};
pub use rotate::Budget;
pub use tap::Tap;
pub use writer::Target;

/// How many batches may wait for the writer before new ones are dropped as a gap.
const CHANNEL: usize = 1024;

/// What to record where.
#[derive(Debug, Clone)]
pub struct RecorderConfig {
    /// A directory with a budget, or one file.
    pub target: Target,
    /// How often a whole snapshot is written (seeks decode at most this much of deltas).
    pub snapshot_every: SignedDuration,
    /// The audit log to interleave.
    pub audit_log: Option<PathBuf>,
}

/// The writer thread; dropping every [`Tap`] ends it, [`Recorder::finish`] waits for it.
pub struct Recorder {
    thread: Option<JoinHandle<()>>,
    error: Arc<Mutex<Option<String>>>,
}

impl Recorder {
    /// Starts the writer; returns the tap to feed it.
    pub fn start(config: RecorderConfig) -> std::io::Result<(Tap, Recorder)> {
        let (tx, rx) = std::sync::mpsc::sync_channel(CHANNEL);
        let want = Arc::new(AtomicBool::new(false));
        if let Target::Dir { dir, .. } = &config.target {
            crate::private_files::private_dir(dir)?;
        }
        let writer = writer::Writer::new(config.target, config.audit_log, want.clone());
        let error = writer.error.clone();
        let thread = std::thread::Builder::new()
            .name("hubdeck-recorder".into())
            .spawn(move || writer.run(rx))?;
        Ok((
            Tap::new(tx, want, config.snapshot_every),
            Recorder {
                thread: Some(thread),
                error,
            },
        ))
    }

    /// Why recording stopped, if it failed.
    pub fn error(&self) -> Option<String> {
        self.error.lock().ok().and_then(|e| e.clone())
    }

    /// Waits until everything handed over is written (drop the tap first).
    pub fn finish(mut self) -> Option<String> {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.error()
    }
}

/// The recordings directory inside the state directory.
pub fn dir(state: &std::path::Path) -> PathBuf {
    state.join("recordings")
}

#[cfg(test)]
mod tests;
