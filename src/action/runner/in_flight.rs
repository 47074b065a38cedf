//! Counting actions under way (and exec sessions open), so a shutdown can let them finish and
//! record their outcomes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Actions under way, so a shutdown can let them finish and record their outcomes.
#[derive(Default)]
pub(super) struct InFlight {
    pub(super) count: AtomicUsize,
    pub(super) idle: tokio::sync::Notify,
}

/// Counts one action while it runs (an exec session: while it is open).
pub(super) struct Running(Arc<InFlight>);

impl Running {
    pub(super) fn enter(f: &Arc<InFlight>) -> Self {
        f.count.fetch_add(1, Ordering::SeqCst);
        Self(f.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}
