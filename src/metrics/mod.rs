//! What pods and nodes use, from metrics.k8s.io (metrics-server, or anything serving its API):
//! a poller per cluster (`poller`) asking for one pods list and one nodes list each interval,
//! and the decoding of their answers straight into the model's small structs (`wire`).
//! `sources` starts a cluster's poller once its first lists are in.

mod poller;
pub mod wire;

pub use poller::{MetricsPoll, RETRY_UNSERVED, poll_metrics};
