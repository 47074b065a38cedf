//! Why an action did not happen or could not be built, as kinds callers branch on: the
//! headless front end maps them to exit codes, the console to dialogs. Never strings.

/// Why an action did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// Read-only, RBAC, a hub API or policy said no.
    #[error("refused: {0}")]
    Refused(String),
    /// The person did not confirm.
    #[error("not confirmed: pass --yes (or --dry-run to only check)")]
    NotConfirmed,
    /// Someone else changed the object since it was read.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The target is not as expected (gone, other replicas, nothing to do).
    #[error("precondition failed: {0}")]
    Precondition(String),
    /// The cluster (or its Alertmanager, or hub API) could not be reached.
    #[error("unreachable: {0}")]
    Unreachable(String),
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
            Self::Unreachable(_) | Self::Failed(_) => "failed",
        }
    }
}

/// Why a request could not be turned into an action over the fleet model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The request names nothing the model holds (no such cluster, hub, server or alert).
    #[error("{0}")]
    NotFound(String),
    /// The request names more than one thing.
    #[error("{0}")]
    Ambiguous(String),
    /// A parameter the action cannot take (a hub with 2 replicas, a derived alert to silence).
    #[error("{0}")]
    Invalid(String),
    /// The fleet is already as asked, or nothing matches (no idle server).
    #[error("{0}")]
    NothingToDo(String),
}
