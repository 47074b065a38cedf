//! Alertmanager v2: firing alerts and silences of each cluster, reached through the cluster's
//! API-server service proxy or a direct URL, and the poller feeding them to the fleet store.

mod client;
mod discover;
mod error;
mod map;
mod poller;
mod silence;
mod transport;
pub mod wire;

pub use client::AlertmanagerClient;
pub use discover::discover_alertmanager;
pub use error::AlertsError;
pub use map::to_alert_info;
pub use poller::{AlertSource, poll_alerts};
pub use silence::{Silence, SilenceSpec, SilenceState};
pub use transport::ServiceRef;
pub use wire::Matcher;

#[cfg(test)]
mod tests;
