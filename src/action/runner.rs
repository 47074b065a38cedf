//! Running an action: plan, check (read-only, RBAC, preconditions), run, audit. The only path
//! by which hubdeck changes a cluster.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;

use super::audit::{AuditLog, AuditRecord, Phase, os_user};
use super::{
    Action, ActionError, HubConfig, HubStopper, KubeExecutor, Plan, ServerTarget, Silencer, Via,
};
use crate::fleet::{ClusterId, HubId, WorkloadKind};

/// What a cluster allows and who hubdeck is there.
#[derive(Debug, Clone)]
pub struct ClusterAccess {
    /// kubeconfig context.
    pub context: String,
    /// Kubernetes identity (the kubeconfig user), for the audit log.
    pub identity: String,
    /// fleet.toml made this cluster read-only.
    pub readonly: bool,
}

/// Whether to only check, refuse for lack of confirmation, or run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plan and check; change nothing.
    DryRun,
    /// The person did not confirm: audited as refused.
    Unconfirmed,
    /// Run it.
    Run,
}

/// What happened.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The plan that was shown and run.
    pub plan: Plan,
    /// Messages of the steps done, or why it stopped.
    pub result: Result<Vec<String>, ActionError>,
}

/// Plans, checks, runs and audits actions.
#[derive(Clone)]
pub struct Runner {
    clusters: HashMap<ClusterId, ClusterAccess>,
    kube: Arc<dyn KubeExecutor>,
    readonly: bool,
    audit: AuditLog,
    hub_api: Option<Arc<dyn HubStopper>>,
    silencer: Option<Arc<dyn Silencer>>,
    in_flight: Arc<InFlight>,
}

/// Actions under way, so a shutdown can let them finish and record their outcomes.
#[derive(Default)]
struct InFlight {
    count: std::sync::atomic::AtomicUsize,
    idle: tokio::sync::Notify,
}

/// Counts one action while it runs.
struct Running<'a>(&'a InFlight);

impl<'a> Running<'a> {
    fn enter(f: &'a InFlight) -> Self {
        f.count.fetch_add(1, Ordering::SeqCst);
        Self(f)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Runner {
    /// A runner over `clusters`, reaching them through `kube`; `readonly` refuses everything.
    pub fn new(
        clusters: HashMap<ClusterId, ClusterAccess>,
        kube: Arc<dyn KubeExecutor>,
        readonly: bool,
        audit: AuditLog,
    ) -> Self {
        Self {
            clusters,
            kube,
            readonly,
            audit,
            hub_api: None,
            silencer: None,
            in_flight: Arc::default(),
        }
    }

    /// Uses a hub API client for stopping servers.
    pub fn with_hub_api(mut self, hub_api: Arc<dyn HubStopper>) -> Self {
        self.hub_api = Some(hub_api);
        self
    }

    /// Uses an Alertmanager client for silences.
    pub fn with_silencer(mut self, silencer: Arc<dyn Silencer>) -> Self {
        self.silencer = Some(silencer);
        self
    }

    /// Reads a hub's values.yaml and the resourceVersion an edit of it will be based on.
    pub async fn read_config(&self, hub: &HubId) -> Result<HubConfig, ActionError> {
        self.kube.read_values(hub).await
    }

    /// The audit log.
    pub fn audit_log(&self) -> &AuditLog {
        &self.audit
    }

    /// Whether servers are stopped through their hubs' API: when a token is configured or
    /// found and the hub runs. A refusal from that API is then final, never a reason to delete
    /// the pod instead; deleting pods is for hubs without a token and hubs that are down.
    fn hub_api_for(&self, action: &Action) -> bool {
        match (action, &self.hub_api) {
            (Action::StopServers { servers }, Some(api)) => servers
                .iter()
                .all(|s| s.hub_running && api.available(&s.id.hub)),
            _ => false,
        }
    }

    /// How many actions are under way (on any clone of this runner).
    pub fn in_flight(&self) -> usize {
        self.in_flight.count.load(Ordering::SeqCst)
    }

    /// Waits until no action is under way, at most `limit`; whether that happened.
    pub async fn wait_idle(&self, limit: std::time::Duration) -> bool {
        let idle = async {
            loop {
                let notified = self.in_flight.idle.notified();
                if self.in_flight() == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(limit, idle).await.is_ok()
    }

    /// The plan the action would run now.
    pub fn plan(&self, action: &Action) -> Plan {
        action.plan(self.hub_api_for(action))
    }

    /// Plans, checks and (in `Mode::Run`) runs the action; every call is audited, write-ahead:
    /// the intent is on disk before the first request leaves (or nothing is sent), and an
    /// outcome line follows per target.
    pub async fn execute(&self, action: &Action, mode: Mode) -> Outcome {
        let _running = Running::enter(&self.in_flight);
        let plan = self.plan(action);
        let audit = Attempt::new(self, action, &plan);
        if let Err(e) = self
            .audit
            .append(&audit.record(Phase::Intent, action.target(), None))
        {
            let why = format!(
                "audit log {}: {e}: the intent could not be recorded, so nothing was sent",
                self.audit.path().display()
            );
            return Outcome {
                plan,
                result: Err(ActionError::Failed(why)),
            };
        }
        let mut result = self.checked_run(action, &plan, mode, &audit).await;
        if !audit.per_target() {
            let outcome = match (&result, mode) {
                (Ok(_), Mode::DryRun) => Ok(Vec::new()),
                (r, _) => r.clone(),
            };
            let record = audit.record(Phase::Outcome, action.target(), Some(&outcome));
            if let Err(e) = self.audit.append(&record)
                && let Ok(msgs) = &mut result
            {
                msgs.push(format!(
                    "warning: the outcome could not be added to the audit log {}: {e}",
                    self.audit.path().display()
                ));
            }
        }
        Outcome { plan, result }
    }

    async fn checked_run(
        &self,
        action: &Action,
        plan: &Plan,
        mode: Mode,
        audit: &Attempt,
    ) -> Result<Vec<String>, ActionError> {
        let cluster = action.cluster();
        let access = self
            .clusters
            .get(&cluster)
            .ok_or_else(|| ActionError::Precondition(format!("unknown cluster {cluster}")))?;
        if self.readonly {
            return Err(ActionError::Refused(
                "read-only mode (--readonly or settings)".into(),
            ));
        }
        if access.readonly {
            return Err(ActionError::Refused(format!(
                "cluster {cluster} is read-only in fleet.toml"
            )));
        }
        for step in &plan.steps {
            if let Via::Kubernetes { call } = &step.via
                && let Some(missing) = self.kube.access_review(&cluster, call).await?
            {
                return Err(ActionError::Refused(missing));
            }
        }
        self.kube.precondition(action).await?;
        match mode {
            Mode::DryRun => return Ok(vec!["dry run: checks passed, nothing changed".into()]),
            Mode::Unconfirmed => return Err(ActionError::NotConfirmed),
            Mode::Run => {}
        }
        self.run(action, audit).await
    }

    async fn run(&self, action: &Action, audit: &Attempt) -> Result<Vec<String>, ActionError> {
        let one = |r: Result<String, ActionError>| r.map(|m| vec![m]);
        let cluster = action.cluster();
        let k = &self.kube;
        match action {
            Action::RestartHub { hub, deployment } | Action::RestartProxy { hub, deployment } => {
                one(k.restart(&cluster, &hub.key.namespace, deployment).await)
            }
            Action::ScaleHub {
                hub,
                deployment,
                replicas,
                ..
            } => one(k
                .scale(
                    &cluster,
                    WorkloadKind::Deployment,
                    &hub.key.namespace,
                    deployment,
                    *replicas,
                )
                .await),
            Action::ScalePlaceholders {
                hub,
                stateful_set,
                replicas,
                ..
            } => one(k
                .scale(
                    &cluster,
                    WorkloadKind::StatefulSet,
                    &hub.key.namespace,
                    stateful_set,
                    *replicas,
                )
                .await),
            Action::StopServers { servers } => {
                self.stop(&cluster, servers, self.hub_api_for(action), audit)
                    .await
            }
            Action::EditHubConfig {
                hub,
                secret,
                resource_version,
                values,
                ..
            } => one(k
                .write_values(
                    &cluster,
                    &hub.key.namespace,
                    secret,
                    resource_version,
                    values.expose(),
                )
                .await),
            Action::SilenceAlert {
                cluster,
                matchers,
                duration,
                comment,
                ..
            } => {
                let silencer = self.silencer.as_ref().ok_or_else(|| {
                    ActionError::Precondition(format!("cluster {cluster} has no Alertmanager"))
                })?;
                let id = silencer
                    .silence(cluster, matchers, *duration, &os_user(), comment)
                    .await?;
                Ok(vec![format!("silence {id} created")])
            }
            Action::ExpireSilence { cluster, id } => {
                let silencer = self.silencer.as_ref().ok_or_else(|| {
                    ActionError::Precondition(format!("cluster {cluster} has no Alertmanager"))
                })?;
                silencer.expire(cluster, id).await?;
                Ok(vec![format!("silence {id} expired")])
            }
        }
    }

    /// Stops each server in turn, recording each outcome as it comes when there are several
    /// (a crash half-way leaves the ones done on record). One refusal or failure does not stop
    /// the others; the result carries the first error's kind and every server's line.
    async fn stop(
        &self,
        cluster: &ClusterId,
        servers: &[ServerTarget],
        via_hub: bool,
        audit: &Attempt,
    ) -> Result<Vec<String>, ActionError> {
        let mut lines = Vec::new();
        let mut first_error: Option<ActionError> = None;
        let mut failed = 0;
        for s in servers {
            let one = match (&self.hub_api, via_hub) {
                (Some(api), true) => api.stop(&s.id.hub, &s.id.user, &s.id.server).await,
                _ => self.kube.delete_pod(cluster, &s.namespace, &s.pod).await,
            };
            if servers.len() > 1 {
                audit.per_target.store(true, Ordering::Relaxed);
                let outcome = one.clone().map(|m| vec![m]);
                let record = audit.record(Phase::Outcome, s.id.to_string(), Some(&outcome));
                if let Err(e) = self.audit.append(&record) {
                    lines.push(format!(
                        "warning: the outcome of {} could not be added to the audit log: {e}",
                        s.id
                    ));
                }
            }
            match one {
                Ok(m) => lines.push(m),
                Err(e) => {
                    failed += 1;
                    lines.push(format!("{}: {e}", s.id));
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            None => Ok(lines),
            Some(e) if servers.len() == 1 => Err(e),
            Some(e) => Err(with_message(
                &e,
                format!(
                    "{failed} of {} servers not stopped: {}",
                    servers.len(),
                    lines.join("; ")
                ),
            )),
        }
    }
}

/// `e`'s kind with another message.
fn with_message(e: &ActionError, message: String) -> ActionError {
    match e {
        ActionError::Refused(_) | ActionError::NotConfirmed => ActionError::Refused(message),
        ActionError::Conflict(_) => ActionError::Conflict(message),
        ActionError::Precondition(_) => ActionError::Precondition(message),
        ActionError::Unreachable(_) => ActionError::Unreachable(message),
        ActionError::Failed(_) => ActionError::Failed(message),
    }
}

/// The audit records of one attempt: who, where, what, under one id.
struct Attempt {
    base: AuditRecord,
    /// Set once outcome lines were written per target.
    per_target: AtomicBool,
}

impl Attempt {
    fn new(runner: &Runner, action: &Action, plan: &Plan) -> Self {
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
    fn record(
        &self,
        phase: Phase,
        target: String,
        outcome: Option<&Result<Vec<String>, ActionError>>,
    ) -> AuditRecord {
        let (outcome, detail) = match outcome {
            None => ("pending".to_string(), String::new()),
            Some(Ok(msgs)) if msgs.is_empty() => ("dry-run".to_string(), String::new()),
            Some(Ok(msgs)) => ("ok".to_string(), msgs.join("; ")),
            Some(Err(e)) => (e.kind().to_string(), e.to_string()),
        };
        AuditRecord {
            time: Timestamp::now(),
            phase,
            target,
            outcome,
            detail,
            ..self.base.clone()
        }
    }

    /// Whether the outcome was recorded per target already (a multi-server stop that ran).
    fn per_target(&self) -> bool {
        self.per_target.load(Ordering::Relaxed)
    }
}
