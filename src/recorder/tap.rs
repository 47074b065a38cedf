//! The console's (and `hubdeck record`'s) end of the recorder: hands each applied batch and,
//! every few minutes, a snapshot to the writer thread through a bounded channel, never
//! waiting. When the writer falls behind, batches are dropped and counted, and the next
//! snapshot the channel takes carries the gap, so a replay knows where it is blind.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};

use hubdeck_core::fleet::{ClusterId, Fleet, FleetUpdate, Part, Sampled, Thresholds, UsageScope};
use jiff::{SignedDuration, Timestamp};

use super::encode::Out;

/// How often a list's usage is recorded: every pod's figures every poll would be most of a big
/// fleet's recording. A recorded sample is shown that much longer in a replay, until the next.
pub const USAGE_EVERY: SignedDuration = SignedDuration::from_mins(5);

/// What the tap sends the writer.
#[derive(Debug)]
pub enum Item {
    /// Updates applied together at `time`.
    Batch {
        /// When.
        time: Timestamp,
        /// The updates, pod upserts as patches where they can be.
        updates: Vec<Out>,
    },
    /// The whole fleet at `time`, after `gap` dropped updates.
    Snapshot {
        /// When.
        time: Timestamp,
        /// The thresholds its health was derived with.
        limits: Thresholds,
        /// Updates rebuilding the fleet, its pods shared with the fleet (the writer copies
        /// them a cluster at a time as it encodes).
        updates: Vec<Part>,
        /// Updates dropped since the last item the writer got.
        gap: u64,
    },
}

/// The sending side, owned by whoever owns the fleet.
pub struct Tap {
    tx: SyncSender<Item>,
    want_snapshot: Arc<AtomicBool>,
    every: SignedDuration,
    last_snapshot: Option<Timestamp>,
    /// Updates dropped since the last snapshot the writer took; batches are not sent meanwhile,
    /// as they mean nothing without the state they apply to.
    gap: u64,
    /// When each metrics list (`None`: nodes) was last recorded.
    usage_recorded: HashMap<(ClusterId, Option<UsageScope>), Timestamp>,
}

impl Tap {
    pub(super) fn new(
        tx: SyncSender<Item>,
        want_snapshot: Arc<AtomicBool>,
        every: SignedDuration,
    ) -> Self {
        Self {
            tx,
            want_snapshot,
            every,
            last_snapshot: None,
            gap: 0,
            usage_recorded: HashMap::new(),
        }
    }

    /// The update as recorded: a usage sample only every [`USAGE_EVERY`] per list, counting
    /// that much longer; everything else as it is.
    fn recorded(&mut self, update: &FleetUpdate, now: Timestamp) -> Option<FleetUpdate> {
        let FleetUpdate::Usage { cluster, sample } = update else {
            return Some(update.clone());
        };
        let list = match &sample.of {
            Sampled::Pods { scope, .. } => Some(scope.clone()),
            Sampled::Nodes(_) => None,
        };
        let last = self
            .usage_recorded
            .entry((cluster.clone(), list))
            .or_insert(Timestamp::MIN);
        if now.duration_since(*last) < USAGE_EVERY {
            return None;
        }
        *last = now;
        let mut sample = sample.clone();
        sample.fresh_for += std::time::Duration::try_from(USAGE_EVERY).unwrap_or_default();
        Some(FleetUpdate::Usage {
            cluster: cluster.clone(),
            sample,
        })
    }

    /// Call before applying `updates` to `fleet` at `now` (they are cloned and compared with
    /// the pods `fleet` holds, never waited on).
    pub fn batch(&mut self, fleet: &Fleet, updates: &[FleetUpdate], now: Timestamp) {
        if updates.is_empty() {
            return;
        }
        if self.gap > 0 || self.last_snapshot.is_none() {
            self.gap += updates.len() as u64;
            return;
        }
        let updates: Vec<FleetUpdate> = updates
            .iter()
            .filter_map(|u| self.recorded(u, now))
            .collect();
        if updates.is_empty() {
            return;
        }
        let n = updates.len() as u64;
        let item = Item::Batch {
            time: now,
            updates: super::encode::diff_batch(fleet, updates),
        };
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.tx.try_send(item) {
            self.gap += n;
        }
    }

    /// Call after applying a batch (or at start): sends a snapshot when one is due, the writer
    /// asked for one (a new file), or updates were dropped.
    pub fn after_apply(&mut self, fleet: &Fleet, now: Timestamp) {
        let due = match self.last_snapshot {
            None => true,
            Some(t) => now.duration_since(t) >= self.every,
        };
        if !(due || self.gap > 0 || self.want_snapshot.load(Ordering::Relaxed)) {
            return;
        }
        // Cheap on this task: every pod is taken by a reference count, not copied.
        let mut updates = fleet.snapshot_parts();
        // Its usage counts until the next recorded sample too.
        for u in &mut updates {
            if let Part::Update(FleetUpdate::Usage { sample, .. }) = u {
                sample.fresh_for += std::time::Duration::try_from(USAGE_EVERY).unwrap_or_default();
            }
        }
        let item = Item::Snapshot {
            time: now,
            limits: *fleet.limits(),
            updates,
            gap: if self.last_snapshot.is_none() {
                0
            } else {
                self.gap
            },
        };
        if self.tx.try_send(item).is_ok() {
            self.want_snapshot.store(false, Ordering::Relaxed);
            self.last_snapshot = Some(now);
            self.gap = 0;
        }
    }

    /// Sends a last snapshot, waiting for room in the channel (the writer drains it).
    pub fn close(self, fleet: &Fleet, now: Timestamp) {
        if self.last_snapshot.is_none_or(|t| t == now) {
            return;
        }
        let _ = self.tx.send(Item::Snapshot {
            time: now,
            limits: *fleet.limits(),
            updates: fleet.snapshot_parts(),
            gap: self.gap,
        });
    }
}
