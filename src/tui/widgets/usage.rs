//! Cells and sort keys of usage figures (metrics.k8s.io), shared by the tables that show them.
//! A figure that is not known (no metrics, or a stale sample) is `–`, styled dim: the cluster's
//! line in the Clusters pane says why, once, instead of every row.

use crate::config::theme::Role;
use crate::fleet::{MemoryShare, Usage};

use super::super::text::{bytes, cpu};
use super::table::{Cell, SortKey};

/// What an unknown figure shows.
pub const UNKNOWN: &str = "–";

/// A share of the limit from which a pod counts as close to an OOM kill.
const NEAR_LIMIT: f64 = 90.0;
/// A share of the limit worth a second look.
const HIGH: f64 = 75.0;

fn unknown() -> Cell {
    Cell::new(UNKNOWN, Role::Dim)
}

/// CPU in use.
pub fn cpu_cell(used: Option<Usage>) -> Cell {
    match used {
        // `cpu` writes 0 as "-"; in use, 0 is a figure.
        Some(u) if u.cpu_milli == 0 => Cell::text("0m"),
        Some(u) => Cell::text(cpu(u.cpu_milli)),
        None => unknown(),
    }
}

/// Memory in use.
pub fn mem_cell(used: Option<Usage>) -> Cell {
    match used {
        Some(u) if u.memory_bytes < 1 << 20 => Cell::text("0Mi"),
        Some(u) => Cell::text(bytes(u.memory_bytes)),
        None => unknown(),
    }
}

/// `87%` of the limit; `87%r` of the request where there is no limit (no OOM kill is near then,
/// so it is not coloured as one).
pub fn share_text(share: MemoryShare) -> String {
    if share.of_limit {
        format!("{:.0}%", share.percent)
    } else {
        format!("{:.0}%r", share.percent)
    }
}

/// The MEM% cell, coloured by how close the pod is to its limit.
pub fn share_cell(share: Option<MemoryShare>) -> Cell {
    let Some(s) = share else {
        return unknown();
    };
    let role = match s.percent {
        p if s.of_limit && p >= NEAR_LIMIT => Role::HealthDown,
        p if s.of_limit && p >= HIGH => Role::HealthDegraded,
        _ => Role::Text,
    };
    Cell::new(share_text(s), role)
}

/// Fullest first: shares of a limit, then shares of a request, each descending; unknown last.
pub fn share_key(share: Option<MemoryShare>) -> SortKey {
    SortKey::Num(match share {
        Some(s) => {
            let tenths = (s.percent * 10.0).round().clamp(0.0, 1e12) as i64;
            if s.of_limit {
                -tenths
            } else {
                // After every share of a limit (no percentage of one reaches this).
                2_000_000_000_000 - tenths
            }
        }
        None => i64::MAX,
    })
}

/// Heaviest first; unknown last.
pub fn used_key(figure: Option<u64>) -> SortKey {
    SortKey::Num(figure.map_or(i64::MAX, |v| -i64::try_from(v).unwrap_or(i64::MAX)))
}
