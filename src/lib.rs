//! hubdeck: a terminal operations console for fleets of JupyterHubs on Kubernetes.
pub mod alerts;
pub mod fleet;
pub mod hubapi;
pub mod sim;
