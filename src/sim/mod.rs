//! The embedded demo fleet: loopback fake Kubernetes API servers and scenarios.
pub mod fake_alertmanager;
pub mod fake_hub;
