//! Whether the model shows an action's effect yet: `hubdeck` commands wait for it after
//! running, so a script's next command sees the fleet as changed.

use jiff::Timestamp;

use crate::fleet::{Fleet, PodPhase};

use super::model::Action;

/// Whether the model already shows the action's effect (used to wait after running it).
pub fn effect_visible(fleet: &Fleet, action: &Action, since: Timestamp) -> bool {
    let hub_of = |id| fleet.hub(id);
    match action {
        Action::RestartHub { hub, deployment } | Action::RestartProxy { hub, deployment } => {
            hub_of(hub)
                .and_then(|h| h.workloads.iter().find(|w| &*w.key.name == deployment))
                .is_some_and(|w| {
                    w.restarted_at
                        .as_deref()
                        .and_then(|t| t.parse::<Timestamp>().ok())
                        .is_some_and(|t| t >= since - jiff::SignedDuration::from_secs(1))
                })
        }
        Action::ScaleHub {
            hub,
            deployment,
            replicas,
            ..
        } => hub_of(hub)
            .and_then(|h| h.workloads.iter().find(|w| &*w.key.name == deployment))
            .is_some_and(|w| w.desired == *replicas),
        Action::ScalePlaceholders {
            hub,
            stateful_set,
            replicas,
            ..
        } => hub_of(hub)
            .and_then(|h| h.workloads.iter().find(|w| &*w.key.name == stateful_set))
            .is_some_and(|w| w.desired == *replicas),
        Action::StopServers { servers } => servers.iter().all(|s| {
            hub_of(&s.id.hub)
                .and_then(|h| h.pods.get(s.pod.as_str()))
                .is_none_or(|p| p.phase == PodPhase::Terminating)
        }),
        Action::StopDaskClusters {
            hub,
            user,
            clusters,
        } => super::dask::stopped(fleet, hub, user, clusters),
        Action::EditHubConfig { .. }
        | Action::SilenceAlert { .. }
        | Action::ExpireSilence { .. }
        | Action::Exec { .. } => true,
    }
}
