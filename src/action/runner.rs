//! Running an action: plan, check (read-only, RBAC, preconditions), run, audit. The only path
//! by which hubdeck changes a cluster.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;

use super::audit::{AuditLog, AuditRecord, os_user};
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

    fn hub_api_for(&self, action: &Action) -> bool {
        match (action, &self.hub_api) {
            (Action::StopServers { servers }, Some(api)) => {
                servers.iter().all(|s| api.available(&s.id.hub))
            }
            _ => false,
        }
    }

    /// The plan the action would run now.
    pub fn plan(&self, action: &Action) -> Plan {
        action.plan(self.hub_api_for(action))
    }

    /// Plans, checks and (in `Mode::Run`) runs the action; every call is audited.
    pub async fn execute(&self, action: &Action, mode: Mode) -> Outcome {
        let plan = self.plan(action);
        let result = self.checked_run(action, &plan, mode).await;
        self.record(action, &plan, mode, &result);
        Outcome { plan, result }
    }

    async fn checked_run(
        &self,
        action: &Action,
        plan: &Plan,
        mode: Mode,
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
        self.run(action).await
    }

    async fn run(&self, action: &Action) -> Result<Vec<String>, ActionError> {
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
                self.stop(&cluster, servers, self.hub_api_for(action)).await
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
                    values,
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

    async fn stop(
        &self,
        cluster: &ClusterId,
        servers: &[ServerTarget],
        via_hub: bool,
    ) -> Result<Vec<String>, ActionError> {
        let mut done = Vec::new();
        for s in servers {
            let msg = match (&self.hub_api, via_hub) {
                (Some(api), true) => api.stop(&s.id.hub, &s.id.user, &s.id.server).await?,
                _ => self.kube.delete_pod(cluster, &s.namespace, &s.pod).await?,
            };
            done.push(msg);
        }
        Ok(done)
    }

    fn record(
        &self,
        action: &Action,
        plan: &Plan,
        mode: Mode,
        result: &Result<Vec<String>, ActionError>,
    ) {
        let access = self.clusters.get(&action.cluster());
        let (outcome, detail) = match (mode, result) {
            (Mode::DryRun, Ok(_)) => ("dry-run".to_string(), String::new()),
            (_, Ok(msgs)) => ("ok".to_string(), msgs.join("; ")),
            (_, Err(e)) => (e.kind().to_string(), e.to_string()),
        };
        let mut lines = vec![plan.summary.clone()];
        lines.extend(plan.steps.iter().map(|s| s.what.clone()));
        let record = AuditRecord {
            time: Timestamp::now(),
            os_user: os_user(),
            identity: access.map(|a| a.identity.clone()).unwrap_or_default(),
            cluster: action.cluster().to_string(),
            context: access.map(|a| a.context.clone()).unwrap_or_default(),
            action: action.name().to_string(),
            target: action.target(),
            plan: lines,
            outcome,
            detail,
        };
        if let Err(e) = self.audit.append(&record) {
            tracing::error!("audit log {}: {e}", self.audit.path().display());
        }
    }
}
