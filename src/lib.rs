//! hubdeck: a terminal operations console for fleets of JupyterHubs on Kubernetes.
pub mod config;
pub mod fleet;
pub mod sim;
pub mod tui;
