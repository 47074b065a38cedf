//! hubdeck: a terminal operations console for fleets of JupyterHubs on Kubernetes.
pub mod action;
pub mod alerts;
pub mod app;
pub mod cli;
pub mod config;
pub mod fleet;
pub mod headless;
pub mod hubapi;
pub mod kube;
pub mod sim;
pub mod tui;
