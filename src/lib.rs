//! hubdeck: a terminal operations console for fleets of JupyterHubs on Kubernetes.
pub mod config;
pub mod fleet;
pub mod headless;
pub mod kube;
pub mod sim;
// pub mod app;
pub mod action;
pub mod cli;
