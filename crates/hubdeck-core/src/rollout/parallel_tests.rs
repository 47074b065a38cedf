//! A wave's hubs acted on a few at a time, the stop after the first failed action, and the
//! gate counting Alertmanager alerts tied to a hub that began firing during the wave.

use std::time::Duration;

use super::tests::{all, at, fleet_of, pace, restart_rollout, restarted};
use super::*;
use crate::action::ActionError;
use crate::fleet::fixtures::hub_id;
use crate::fleet::{AlertInfo, AlertOrigin, ClusterId, FleetUpdate, Severity, SourceState};

fn hubs(next: &[Next]) -> Vec<String> {
    next.iter()
        .filter_map(|n| match n {
            Next::Run { hub, .. } => Some(hub.to_string()),
            _ => None,
        })
        .collect()
}

/// Asks for the next step until the machine says something other than "run this".
fn launch(p: &mut Progress, f: &Fleet, secs: i64) -> (Vec<String>, Next) {
    let mut runs = Vec::new();
    loop {
        match p.next(f, at(secs)) {
            run @ Next::Run { .. } => runs.push(run),
            other => return (hubs(&runs), other),
        }
    }
}

#[test]
fn a_waves_hubs_run_at_most_parallel_at_once_and_the_next_starts_as_one_answers() {
    let f = fleet_of(&[("leap", &["a-prod", "b-prod", "c-prod"])]);
    let mut p = Progress::new(restart_rollout(
        &f,
        &all(&f),
        &Pace {
            parallel: 2,
            ..pace(30, 120)
        },
    ));
    let (ran, then) = launch(&mut p, &f, 1);
    assert_eq!(ran, ["leap/a-prod", "leap/b-prod"]);
    assert_eq!(then, Next::Busy);
    assert_eq!(
        p.status().running,
        [hub_id("leap", "a-prod"), hub_id("leap", "b-prod")]
    );
    // The second answers first: its slot goes to the third hub.
    p.hub_done(&hub_id("leap", "b-prod"), Ok(vec![]));
    let (ran, then) = launch(&mut p, &f, 2);
    assert_eq!((ran, then), (vec!["leap/c-prod".to_string()], Next::Busy));
    p.hub_done(&hub_id("leap", "a-prod"), Ok(vec![]));
    p.hub_done(&hub_id("leap", "c-prod"), Ok(vec![]));
    assert_eq!(p.status().done, 3);
    assert!(
        matches!(p.next(&f, at(3)), Next::Wait(_)),
        "every hub answered: the gate"
    );
}

#[test]
fn after_a_failed_action_no_hub_starts_and_the_rollout_names_it_once_the_rest_answer() {
    let f = fleet_of(&[("leap", &["a-prod", "b-prod", "c-prod", "d-prod"])]);
    let mut p = Progress::new(restart_rollout(
        &f,
        &all(&f),
        &Pace {
            parallel: 2,
            ..pace(30, 120)
        },
    ));
    let (ran, _) = launch(&mut p, &f, 1);
    assert_eq!(ran.len(), 2);
    p.hub_done(
        &hub_id("leap", "a-prod"),
        Err(ActionError::Refused("forbidden: patch deployments".into())),
    );
    assert_eq!(
        p.next(&f, at(2)),
        Next::Busy,
        "b-prod is still out; c-prod is not started"
    );
    p.hub_done(&hub_id("leap", "b-prod"), Ok(vec!["restarted".into()]));
    let Next::Done(Ending::Failed { wave, hub, why, .. }) = p.next(&f, at(3)) else {
        panic!("{:?}", p.status())
    };
    assert_eq!(
        (wave.as_str(), hub.to_string()),
        ("prod", "leap/a-prod".into())
    );
    assert!(why.contains("forbidden: patch deployments"), "{why}");
    let s = p.status();
    assert_eq!((s.done, s.failed), (1, 1));
}

fn am_alert(name: &str, since: i64, silenced: bool) -> AlertInfo {
    AlertInfo {
        fingerprint: format!("fp-{name}").into(),
        name: name.into(),
        severity: Severity::Warning,
        origin: AlertOrigin::Alertmanager,
        summary: format!("{name} fires"),
        namespace: Some("staging".into()),
        release: Some("staging".into()),
        pod: None,
        since: Some(at(since)),
        silenced_by: if silenced { vec!["s-1".into()] } else { vec![] },
        labels: vec![("alertname".into(), name.into())],
    }
}

fn firing(f: &mut Fleet, alerts: Vec<AlertInfo>, secs: i64) {
    f.apply(
        FleetUpdate::Alerts {
            cluster: ClusterId::new("leap"),
            source: SourceState::Ok,
            alerts,
        },
        at(secs),
    );
}

/// The gate of a restart of leap/staging asked at 0 s (its baseline then), shown at 1 s,
/// healthy afterwards.
fn gate_after_restart(f: &mut Fleet) -> Gate {
    let hub = hub_id("leap", "staging");
    let baseline = Baseline::take(f, &hub, at(0));
    restarted(f, &hub, at(1), true);
    let mut gate = Gate::new(Duration::from_secs(10), Duration::from_secs(60));
    gate.watch(
        hub.clone(),
        crate::action::Action::RestartHub {
            hub,
            deployment: "hub".into(),
        },
        baseline,
        at(0),
    );
    gate
}

#[test]
fn an_alertmanager_alert_of_the_hub_firing_since_the_wave_began_holds_the_gate() {
    let mut f = fleet_of(&[("leap", &["staging"])]);
    // Firing before the wave (and still): not the wave's doing.
    firing(&mut f, vec![am_alert("HubOld", -60, false)], 0);
    let mut gate = gate_after_restart(&mut f);
    assert!(matches!(
        gate.observe(&f, at(2)),
        GateState::Settling { .. }
    ));
    firing(
        &mut f,
        vec![
            am_alert("HubOld", -60, false),
            am_alert("HubMuted", 3, true),
            am_alert("JupyterHubErrors", 3, false),
        ],
        3,
    );
    let GateState::Waiting { why, .. } = gate.observe(&f, at(4)) else {
        panic!()
    };
    assert_eq!(
        why,
        "new Alertmanager alert JupyterHubErrors: JupyterHubErrors fires"
    );
    // It resolves; a silenced one alone does not hold the wave.
    firing(&mut f, vec![am_alert("HubMuted", 3, true)], 5);
    assert!(matches!(
        gate.observe(&f, at(5)),
        GateState::Settling { .. }
    ));
    assert_eq!(gate.observe(&f, at(15)), GateState::Passed);
}

#[test]
fn an_alert_that_fires_again_during_the_wave_is_new_though_its_labels_are_not() {
    let mut f = fleet_of(&[("leap", &["staging"])]);
    firing(&mut f, vec![am_alert("HubFlaps", -60, false)], 0);
    let mut gate = gate_after_restart(&mut f);
    firing(&mut f, vec![am_alert("HubFlaps", 2, false)], 2);
    assert!(
        matches!(gate.observe(&f, at(3)), GateState::Waiting { why, .. } if why.contains("HubFlaps")),
        "it stopped and started again after the wave began"
    );
}
