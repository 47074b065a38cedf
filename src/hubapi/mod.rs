//! JupyterHub REST API: active servers with their activity, and stopping servers, reached
//! through a port-forward to the hub pod or a direct URL, with the token from fleet.toml, an
//! environment variable or the hub Secret; and the poller feeding activity to the fleet store.

mod client;
mod error;
mod poller;
mod token;
mod transport;
pub mod wire;

pub use client::{HubApiClient, StopOutcome};
pub use error::HubApiError;
pub use poller::{HubEndpoint, HubSource, poll_activity};
pub use token::{HubToken, PREFERRED_SERVICE, TokenSource};
pub use transport::{HubPod, RunningPod};

#[cfg(test)]
mod tests;
