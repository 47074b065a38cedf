//! Trend lines: per hub, active and pending server counts sampled from what the console observed
//! since it started (no history is fetched), in a small ring buffer.

use std::collections::{HashMap, VecDeque};

use jiff::{SignedDuration, Timestamp};

use crate::fleet::{Fleet, HubId};

/// How many samples a hub keeps.
pub const SAMPLES: usize = 60;
/// Time between samples.
pub const EVERY: SignedDuration = SignedDuration::from_secs(10);

/// Samples of one hub, oldest first.
#[derive(Debug, Clone, Default)]
pub struct HubTrend {
    /// Ready (active) user servers.
    pub active: VecDeque<u64>,
    /// Pending user servers.
    pub pending: VecDeque<u64>,
}

impl HubTrend {
    fn push(&mut self, active: u64, pending: u64) {
        for (ring, v) in [(&mut self.active, active), (&mut self.pending, pending)] {
            if ring.len() == SAMPLES {
                ring.pop_front();
            }
            ring.push_back(v);
        }
    }

    /// The active counts as a contiguous vector (for ratatui's Sparkline).
    pub fn active_vec(&self) -> Vec<u64> {
        self.active.iter().copied().collect()
    }

    /// The pending counts as a contiguous vector.
    pub fn pending_vec(&self) -> Vec<u64> {
        self.pending.iter().copied().collect()
    }

    /// The last `n` active samples as block characters, for a table cell.
    pub fn bars(&self, n: usize) -> String {
        const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
        let skip = self.active.len().saturating_sub(n);
        let max = self.active.iter().skip(skip).copied().max().unwrap_or(0);
        self.active
            .iter()
            .skip(skip)
            .map(|&v| {
                if max == 0 {
                    LEVELS[0]
                } else {
                    LEVELS[((v * 7).div_ceil(max)) as usize]
                }
            })
            .collect()
    }
}

/// Trends of every hub seen.
#[derive(Debug, Clone, Default)]
pub struct Trends {
    hubs: HashMap<HubId, HubTrend>,
    last: Option<Timestamp>,
}

impl Trends {
    /// Takes a sample when `EVERY` passed since the last one; returns whether it did.
    pub fn sample(&mut self, fleet: &Fleet, now: Timestamp) -> bool {
        if self.last.is_some_and(|t| now.duration_since(t) < EVERY) {
            return false;
        }
        self.last = Some(now);
        self.hubs.retain(|id, _| fleet.hub(id).is_some());
        for hub in fleet.hubs() {
            let s = &hub.summary;
            self.hubs
                .entry(hub.id.clone())
                .or_default()
                .push(u64::from(s.servers_ready), u64::from(s.servers_pending));
        }
        true
    }

    /// The trend of one hub.
    pub fn of(&self, hub: &HubId) -> Option<&HubTrend> {
        self.hubs.get(hub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{Thresholds, fixtures};

    #[test]
    fn samples_every_ten_seconds_into_a_bounded_ring() {
        let mut fleet = Fleet::new(Thresholds::default());
        fleet.apply_all(
            fixtures::healthy_hub("leap", "staging", &["ada", "bob"]),
            fixtures::t0(),
        );
        let mut trends = Trends::default();
        let id = fleet.hubs().next().unwrap().id.clone();
        for i in 0..200 {
            let now = fixtures::t0() + SignedDuration::from_secs(i * 5);
            trends.sample(&fleet, now);
        }
        let t = trends.of(&id).unwrap();
        assert_eq!(t.active.len(), SAMPLES);
        assert_eq!(t.active.back(), Some(&2));
        assert_eq!(t.bars(4), "████");
    }
}
