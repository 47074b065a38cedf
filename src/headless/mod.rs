//! Headless mode: one-shot commands over the same fleet model and action layer, printing tables,
//! JSON or YAML, with exit codes scripts can branch on.

pub mod act;
pub mod get;
pub mod output;
pub mod rollout;
pub mod rows;
pub mod runbook;
pub mod selector;
pub mod session;

/// Exit codes (README "Exit codes").
pub mod exit {
    /// Everything worked.
    pub const OK: i32 = 0;
    /// An error.
    pub const ERROR: i32 = 1;
    /// Bad usage.
    pub const USAGE: i32 = 2;
    /// Some clusters could not be read.
    pub const PARTIAL: i32 = 3;
    /// Refused: read-only, RBAC, or no confirmation.
    pub const REFUSED: i32 = 4;
    /// Conflict or failed precondition.
    pub const CONFLICT: i32 = 5;

    use crate::action::{ActionError, ResolveError};

    /// The exit code of an action that did not happen, by its kind.
    pub fn for_action(e: &ActionError) -> i32 {
        match e {
            ActionError::Refused(_) | ActionError::NotConfirmed => REFUSED,
            ActionError::Conflict(_) | ActionError::Precondition(_) => CONFLICT,
            ActionError::Unreachable(_) | ActionError::Failed(_) => ERROR,
        }
    }

    /// The exit code of a request that resolved to no action, by its kind.
    pub fn for_resolve(e: &ResolveError) -> i32 {
        match e {
            ResolveError::NothingToDo(_) => OK,
            ResolveError::Ambiguous(_) | ResolveError::Invalid(_) => USAGE,
            ResolveError::NotFound(_) => CONFLICT,
        }
    }
}
