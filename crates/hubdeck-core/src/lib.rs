//! hubdeck's core: what the fleet is and what may be done to it, with no I/O.
//!
//! - [`fleet`]: ids, the small structs watchers map Kubernetes objects into, the store that
//!   applies `FleetUpdate`s, derived health and alerts, the change log.
//! - [`action`]: the action model, its plans, the one resolver every front end calls, and the
//!   traits (ports) the application implements to run actions against clusters.
//! - [`rollout`]: one hub action over many hubs in waves (`staging` first), each wave gated
//!   on its hubs settling healthy; the plan, the gate and the state machine the front ends run.
//! - [`duration`], [`text`], [`quantity`]: the one duration grammar, the one sanitizer for
//!   text from clusters, the one age formatter, the one reader of resource quantities.
//! - [`secrets`]: a hub's values.yaml with its credentials replaced by placeholders that put
//!   back byte for byte, credentials masked in URLs, and a [`secrets::Secret`] that never
//!   prints its value.
//!
//! This crate depends on no async runtime, Kubernetes client, network or terminal crate; the
//! build enforces the layering the rest of hubdeck is arranged around.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![warn(missing_docs)]

pub mod action;
pub mod duration;
pub mod fleet;
pub mod quantity;
pub mod rollout;
pub mod secrets;
pub mod text;
