//! hubdeck's core: what the fleet is and what may be done to it, with no I/O.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
