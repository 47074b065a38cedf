//! The one action layer: every mutation is an `Action` value that is planned, checked
//! (read-only, RBAC, preconditions), confirmed by its caller, run and audited here.

mod audit;
pub mod config_edit;
mod model;
mod plan;
mod runner;

pub use audit::{AuditLog, AuditRecord, os_user};
pub use model::{Action, ApiCall, Confirm, Matcher, Plan, ServerTarget, Step, Via};
pub use plan::{escape_path, humanize, stop_path};
pub use runner::{ClusterAccess, HubStopper, Mode, Outcome, Runner, Silencer};

/// Why an action did not happen; callers branch on the kind (exit codes, dialogs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// Read-only, RBAC or policy said no.
    #[error("refused: {0}")]
    Refused(String),
    /// The person did not confirm.
    #[error("not confirmed: pass --yes (or --dry-run to only check)")]
    NotConfirmed,
    /// Someone else changed the object since it was read.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The target is not as expected (gone, other replicas).
    #[error("precondition failed: {0}")]
    Precondition(String),
    /// The call failed.
    #[error("failed: {0}")]
    Failed(String),
}

impl ActionError {
    /// Word for the audit log.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Refused(_) | Self::NotConfirmed => "refused",
            Self::Conflict(_) | Self::Precondition(_) => "conflict",
            Self::Failed(_) => "failed",
        }
    }

    /// Exit code for headless commands (README).
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Refused(_) | Self::NotConfirmed => crate::headless::exit::REFUSED,
            Self::Conflict(_) | Self::Precondition(_) => crate::headless::exit::CONFLICT,
            Self::Failed(_) => crate::headless::exit::ERROR,
        }
    }
}
