//! hubdeck: a terminal operations console for fleets of JupyterHubs on Kubernetes.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
pub mod action;
pub mod alerts;
pub mod app;
pub mod backoff;
pub mod cli;
pub mod config;
pub mod errors;
pub mod exec_io;
pub use hubdeck_core::fleet;
pub mod headless;
pub mod http;
pub mod hubapi;
pub mod kube;
pub mod logging;
pub mod metrics;
pub mod outside;
pub mod private_files;
pub mod recorder;
pub mod sources;
pub mod tui;
