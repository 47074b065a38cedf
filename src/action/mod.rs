//! The application's half of the one action layer: the [`Runner`] that plans, checks
//! (read-only, RBAC, preconditions), audits and runs every mutation, the audit log, and the
//! files a config edit leaves behind. The action model and the resolver live in
//! `hubdeck_core::action` and are re-exported here.

pub mod audit;
pub mod config_edit;
pub mod exec;
mod runner;

pub use audit::{AuditLog, AuditRecord, os_user};
pub use hubdeck_core::action::ports::{HubStopper, KubeExecutor, Pending, PodExec, Silencer};
pub use hubdeck_core::action::{
    Action, ActionError, ApiCall, BoundPod, Confirm, HubConfig, Matcher, Plan, PodSource, Request,
    ResolveError, ServerRef, ServerTarget, Step, Via, bind_pod, component_pod, effect_visible,
    escape_path, find_hub, idle_servers, resolve, silence_matchers, stop_path,
};
pub use hubdeck_core::duration::humanize;
pub use runner::{ClusterAccess, Mode, Outcome, Runner};
