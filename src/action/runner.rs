//! Running an action: plan, check (read-only, RBAC, preconditions), run, audit. The only path
//! by which hubdeck changes a cluster. Exec sessions are opened here too (`exec`): checked and
//! audited the same way, then handed to the front end.

mod attempt;
mod dask;
mod exec;
#[cfg(test)]
mod exec_tests;
mod in_flight;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::audit::{AuditLog, Phase, os_user};
use super::exec::ExecChannels;
use super::{
    Action, ActionError, HubConfig, HubStopper, KubeExecutor, Plan, PodExec, ServerTarget,
    Silencer, Via,
};
use crate::fleet::{ClusterId, HubId, WorkloadKind};

use attempt::Attempt;
use in_flight::{InFlight, Running};

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
    exec: Option<Arc<dyn PodExec<Session = ExecChannels>>>,
    in_flight: Arc<InFlight>,
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
            exec: None,
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

    /// Opens exec sessions through `exec`.
    pub fn with_exec(mut self, exec: Arc<dyn PodExec<Session = ExecChannels>>) -> Self {
        self.exec = Some(exec);
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
        if matches!(action, Action::Exec { .. }) && result.is_ok() && mode == Mode::Run {
            // A session needs a front end to carry it: `open_exec` is the way in.
            result = Err(ActionError::Precondition(
                "an exec session is opened with Runner::open_exec, not run as a step".into(),
            ));
        }
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
        self.check(action, plan).await?;
        match mode {
            Mode::DryRun => return Ok(vec!["dry run: checks passed, nothing changed".into()]),
            Mode::Unconfirmed => return Err(ActionError::NotConfirmed),
            Mode::Run => {}
        }
        self.run(action, audit).await
    }

    /// The checks before anything is sent: read-only (flag, settings, fleet.toml), a
    /// SelfSubjectAccessReview per Kubernetes call of the plan, the action's preconditions.
    async fn check(&self, action: &Action, plan: &Plan) -> Result<(), ActionError> {
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
            let Via::Kubernetes { call } = &step.via else {
                continue;
            };
            for call in call.authorized_as() {
                if let Some(missing) = self.kube.access_review(&cluster, &call).await? {
                    return Err(ActionError::Refused(missing));
                }
            }
        }
        self.kube.precondition(action).await
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
            Action::StopDaskClusters { hub, clusters, .. } => {
                self.stop_dask(&cluster, &hub.key.namespace, clusters).await
            }
            // Refused by `execute` before it gets here.
            Action::Exec { .. } => Ok(Vec::new()),
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
