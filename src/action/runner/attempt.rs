//! The audit records of one attempt: who, where, what, under one id, built once per action
//! and stamped for its intent and each outcome.

use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;

use super::super::audit::{AuditRecord, Phase, os_user};
use super::Runner;
use crate::action::{Action, ActionError, Plan};

/// The audit records of one attempt: who, where, what, under one id.
pub(super) struct Attempt {
    base: AuditRecord,
    /// Set once outcome lines were written per target.
    pub(super) per_target: AtomicBool,
}

impl Attempt {
    pub(super) fn new(runner: &Runner, action: &Action, plan: &Plan) -> Self {
        let access = runner.clusters.get(&action.cluster());
        let mut lines = vec![plan.summary.clone()];
        lines.extend(plan.steps.iter().map(|s| s.what.clone()));
        let now = Timestamp::now();
        Self {
            base: AuditRecord {
                time: now,
                id: format!(
                    "{}-{}-{:08x}",
                    now.as_millisecond(),
                    std::process::id(),
                    fastrand::u32(..)
                ),
                phase: Phase::Intent,
                os_user: os_user(),
                identity: access.map(|a| a.identity.clone()).unwrap_or_default(),
                cluster: action.cluster().to_string(),
                context: access.map(|a| a.context.clone()).unwrap_or_default(),
                action: action.name().to_string(),
                target: action.target(),
                plan: lines,
                outcome: "pending".into(),
                detail: String::new(),
            },
            per_target: AtomicBool::new(false),
        }
    }

    /// A record of this attempt: the intent (`outcome` None), or an outcome for `target`.
    pub(super) fn record(
        &self,
        phase: Phase,
        target: String,
        outcome: Option<&Result<Vec<String>, ActionError>>,
    ) -> AuditRecord {
        let (outcome, detail) = match outcome {
            None => ("pending", String::new()),
            Some(Ok(msgs)) if msgs.is_empty() => ("dry-run", String::new()),
            Some(Ok(msgs)) => ("ok", msgs.join("; ")),
            Some(Err(e)) => (e.kind(), e.to_string()),
        };
        self.record_as(phase, target, outcome, detail)
    }

    /// A record of this attempt with its outcome in words (`opened`, `closed`).
    pub(super) fn record_as(
        &self,
        phase: Phase,
        target: String,
        outcome: &str,
        detail: String,
    ) -> AuditRecord {
        AuditRecord {
            time: Timestamp::now(),
            phase,
            target,
            outcome: outcome.to_string(),
            detail,
            ..self.base.clone()
        }
    }

    /// Whether the outcome was recorded per target already (a multi-server stop that ran).
    pub(super) fn per_target(&self) -> bool {
        self.per_target.load(Ordering::Relaxed)
    }
}
