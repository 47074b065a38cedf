//! Shared harness of the integration tests.
// Each test binary uses only part of the harness.
#![allow(dead_code)]

pub mod console;
pub mod fleet;
pub mod real_servers;
pub mod tls_front;
pub mod tmux;
