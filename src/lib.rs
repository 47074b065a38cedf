//! hubdeck: a terminal operations console for fleets of JupyterHubs on Kubernetes.
pub mod sim;
