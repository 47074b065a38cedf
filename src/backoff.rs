//! The one retry backoff of hubdeck: watches, Alertmanager polls and hub API polls all wait
//! with it after failures. Doubling from a first delay up to a cap, with ±10 % jitter so a
//! fleet that lost its network at once does not retry in lock step, and reset after a success
//! so a source that comes back is read again at full speed.

use std::time::Duration;

/// Doubling delays with jitter, `first` up to `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// Delays from `first`, doubling up to `max` (at least `first`).
    pub fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max: max.max(first),
            next: first,
        }
    }

    /// The wait before the next attempt after another failure.
    pub fn delay(&mut self) -> Duration {
        let base = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        base.mul_f64(0.9 + fastrand::f64() * 0.2).min(self.max)
    }

    /// Back to the first delay (after a success).
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

impl Iterator for Backoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        Some(self.delay())
    }
}

impl kube::runtime::utils::Backoff for Backoff {
    fn reset(&mut self) {
        Backoff::reset(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_with_jitter_and_reset() {
        let mut b = Backoff::new(Duration::from_secs(10), Duration::from_secs(300));
        let first = b.delay();
        assert!((9.0..=11.0).contains(&first.as_secs_f64()), "{first:?}");
        let second = b.delay();
        assert!((18.0..=22.0).contains(&second.as_secs_f64()), "{second:?}");
        for _ in 0..20 {
            assert!(b.delay() <= Duration::from_secs(300));
        }
        assert!(b.delay() >= Duration::from_secs(270));
        b.reset();
        assert!(b.delay() <= Duration::from_secs(11));
    }

    #[test]
    fn a_cap_below_the_first_delay_is_the_first_delay() {
        let mut b = Backoff::new(Duration::from_secs(60), Duration::from_secs(5));
        assert!(b.delay() <= Duration::from_secs(60));
    }
}
