//! The rollout's plan, gate and progress over small fleets, with a fake clock.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::action::{Action, ActionError, HubConfig};
use crate::fleet::fixtures::{hub_id, pod, t0, workload};
use crate::fleet::{
    ClusterId, Component, Delta, Fleet, FleetUpdate, HubId, Thresholds, WorkloadKind,
};

/// A ready cluster per entry, each with healthy hubs of these namespaces.
pub(super) fn fleet_of(clusters: &[(&str, &[&str])]) -> Fleet {
    let mut f = Fleet::new(Thresholds::default());
    for (cluster, hubs) in clusters {
        let mut updates = Vec::new();
        let (mut deployments, mut sets, mut pods) = (Vec::new(), Vec::new(), Vec::new());
        for ns in *hubs {
            for u in crate::fleet::fixtures::healthy_hub(cluster, ns, &[]) {
                match u {
                    FleetUpdate::Workloads {
                        kind: WorkloadKind::Deployment,
                        delta: Delta::Replace(w),
                        ..
                    } => deployments.extend(w),
                    FleetUpdate::Workloads {
                        delta: Delta::Replace(w),
                        ..
                    } => sets.extend(w),
                    FleetUpdate::Pods {
                        delta: Delta::Replace(p),
                        ..
                    } => pods.extend(p),
                    other if updates.len() < 2 => updates.push(other),
                    _ => {}
                }
            }
        }
        let c = ClusterId::new(*cluster);
        updates.push(FleetUpdate::Workloads {
            cluster: c.clone(),
            kind: WorkloadKind::Deployment,
            delta: Delta::Replace(deployments),
        });
        updates.push(FleetUpdate::Workloads {
            cluster: c.clone(),
            kind: WorkloadKind::StatefulSet,
            delta: Delta::Replace(sets),
        });
        updates.push(FleetUpdate::Pods {
            cluster: c,
            delta: Delta::Replace(pods),
        });
        f.apply_all(updates, t0());
    }
    f
}

pub(super) fn at(secs: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(secs)
}

/// The model showing a restart of `hub`'s hub Deployment at `when`, its new pod `ready` or not.
pub(super) fn restarted(f: &mut Fleet, hub: &HubId, when: Timestamp, ready: bool) {
    let ns = &*hub.key.namespace;
    let mut w = workload(ns, ns, Component::Hub, "hub", 1);
    w.restarted_at = Some(when.to_string().into());
    w.ready = u32::from(ready);
    f.apply_all(
        [FleetUpdate::Workloads {
            cluster: hub.cluster.clone(),
            kind: WorkloadKind::Deployment,
            delta: Delta::Upsert(w),
        }],
        when,
    );
    let mut p = pod(ns, ns, Component::Hub, "hub-7d9f-abcde");
    p.ready = ready;
    if !ready {
        p.reason = Some("CrashLoopBackOff".into());
        p.restarts = 4;
    }
    f.apply_all(
        [FleetUpdate::Pods {
            cluster: hub.cluster.clone(),
            delta: Delta::Upsert(p),
        }],
        when,
    );
}

pub(super) fn pace(settle: u64, timeout: u64) -> Pace {
    Pace {
        waves: None,
        settle: Duration::from_secs(settle),
        timeout: Duration::from_secs(timeout),
        parallel: DEFAULT_PARALLEL,
    }
}

pub(super) fn restart_rollout(f: &Fleet, hubs: &[HubId], p: &Pace) -> Rollout {
    plan(
        f,
        &WaveRules::default(),
        hubs,
        &HubAction::Restart { proxy: false },
        p,
        &BTreeMap::new(),
        t0(),
    )
    .unwrap()
}

pub(super) fn all(f: &Fleet) -> Vec<HubId> {
    f.hubs().map(|h| h.id.clone()).collect()
}

#[test]
fn a_rollout_plans_each_hub_in_its_wave_with_its_own_action() {
    let f = fleet_of(&[
        ("leap", &["staging", "prod"]),
        ("nasa", &["prod", "staging"]),
    ]);
    let r = restart_rollout(&f, &all(&f), &Pace::default());
    let waves: Vec<(String, Vec<String>)> = r
        .waves
        .iter()
        .map(|w| {
            (
                w.name.clone(),
                w.hubs.iter().map(|s| s.hub.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(
        waves,
        [
            (
                "staging".to_string(),
                vec!["leap/staging".to_string(), "nasa/staging".into()]
            ),
            (
                "prod".to_string(),
                vec!["leap/prod".to_string(), "nasa/prod".into()]
            ),
        ]
    );
    let (hub, action) = r.waves[1].actions().next().unwrap();
    assert_eq!(
        action,
        &Action::RestartHub {
            hub: hub.clone(),
            deployment: "hub".into()
        }
    );
    assert_eq!(r.acting(), 4);
    assert!(r.problems().is_empty());
}

#[test]
fn a_scale_that_some_hubs_need_not_skips_them_and_a_bad_one_is_a_problem() {
    let f = fleet_of(&[("leap", &["staging", "prod"])]);
    let hubs = all(&f);
    let scale = |replicas| {
        plan(
            &f,
            &WaveRules::default(),
            &hubs,
            &HubAction::Scale {
                placeholders: true,
                replicas,
            },
            &Pace::default(),
            &BTreeMap::new(),
            t0(),
        )
        .unwrap()
    };
    let same = scale(1);
    assert_eq!(same.acting(), 0);
    assert!(matches!(same.waves[0].hubs[0].planned, Planned::Nothing(_)));
    let hub2 = plan(
        &f,
        &WaveRules::default(),
        &hubs,
        &HubAction::Scale {
            placeholders: false,
            replicas: 2,
        },
        &Pace::default(),
        &BTreeMap::new(),
        t0(),
    )
    .unwrap();
    assert_eq!(hub2.problems().len(), 2);
    assert!(
        hub2.problems()[0]
            .1
            .to_string()
            .contains("0 (maintenance) or 1"),
        "{:?}",
        hub2.problems()
    );
}

#[test]
fn a_settle_longer_than_the_timeout_and_an_empty_selection_are_refused() {
    let f = fleet_of(&[("leap", &["staging"])]);
    let err = plan(
        &f,
        &WaveRules::default(),
        &all(&f),
        &HubAction::Restart { proxy: false },
        &pace(600, 60),
        &BTreeMap::new(),
        t0(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("longer than the wave timeout"),
        "{err}"
    );
    let none = plan(
        &f,
        &WaveRules::default(),
        &[],
        &HubAction::Restart { proxy: false },
        &Pace::default(),
        &BTreeMap::new(),
        t0(),
    )
    .unwrap_err();
    assert_eq!(
        none,
        RolloutError::NoHubs("the selector matches no hub".into())
    );
}

#[test]
fn a_values_patch_gives_each_hub_its_own_redacted_diff_and_base_version() {
    let f = fleet_of(&[("leap", &["staging", "prod"])]);
    let config = |rv: &str, limit: &str, token: &str| HubConfig {
        secret: "hub".into(),
        resource_version: rv.into(),
        values: format!(
            "proxy:\n  secretToken: {token}\nsingleuser:\n  memory:\n    limit: {limit}\n"
        ),
    };
    let configs = BTreeMap::from([
        (
            hub_id("leap", "staging"),
            Ok(config("11", "2G", "s3cr3t-staging")),
        ),
        (
            hub_id("leap", "prod"),
            Ok(config("22", "4G", "s3cr3t-prod")),
        ),
    ]);
    let patch = serde_json::json!({"singleuser": {"memory": {"limit": "8G"}}});
    let r = plan(
        &f,
        &WaveRules::default(),
        &all(&f),
        &HubAction::MergeValues { patch },
        &Pace::default(),
        &configs,
        t0(),
    )
    .unwrap();
    let edits: Vec<(&HubId, &Action)> = r.waves.iter().flat_map(|w| w.actions()).collect();
    assert_eq!(edits.len(), 2);
    for ((hub, action), (rv, old, token)) in edits
        .into_iter()
        .zip([("11", "2G", "s3cr3t-staging"), ("22", "4G", "s3cr3t-prod")])
    {
        let Action::EditHubConfig {
            resource_version,
            diff,
            values,
            rewritten,
            secrets_changed,
            ..
        } = action
        else {
            panic!("{action:?}")
        };
        assert_eq!(resource_version, rv, "{hub}");
        assert!(diff.contains(&format!("-    limit: {old}")), "{diff}");
        assert!(diff.contains("+    limit: 8G"), "{diff}");
        assert!(!diff.contains(token), "a credential in the diff: {diff}");
        assert!(values.expose().contains(&format!("secretToken: {token}")));
        assert!(values.expose().contains("limit: 8G"));
        assert!(!rewritten, "the values were in canonical form already");
        assert!(secrets_changed.is_empty());
    }
    let unread = plan(
        &f,
        &WaveRules::default(),
        &all(&f),
        &HubAction::MergeValues {
            patch: serde_json::json!({"a": 1}),
        },
        &Pace::default(),
        &BTreeMap::from([(
            hub_id("leap", "prod"),
            Err(ActionError::Refused("missing get secrets".into())),
        )]),
        t0(),
    )
    .unwrap();
    let problems: Vec<String> = unread
        .problems()
        .iter()
        .map(|(h, p)| format!("{h}: {p}"))
        .collect();
    assert_eq!(
        problems,
        [
            "leap/staging: reading values.yaml: precondition failed: its values.yaml was not read",
            "leap/prod: reading values.yaml: refused: missing get secrets"
        ]
    );
}

#[test]
fn a_patch_that_sets_a_credential_names_it_and_never_shows_it() {
    let f = fleet_of(&[("leap", &["staging"])]);
    let configs = BTreeMap::from([(
        hub_id("leap", "staging"),
        Ok(HubConfig {
            secret: "hub".into(),
            resource_version: "5".into(),
            // Not in canonical form: a comment and an indented list.
            values: "# managed by helm\nproxy:\n  secretToken: old-token\nlist:\n  - a\n".into(),
        }),
    )]);
    let r = plan(
        &f,
        &WaveRules::default(),
        &all(&f),
        &HubAction::MergeValues {
            patch: serde_json::json!({"proxy": {"secretToken": "new-token"}}),
        },
        &Pace::default(),
        &configs,
        t0(),
    )
    .unwrap();
    let (_, action) = r.waves[0].actions().next().unwrap();
    let Action::EditHubConfig {
        diff,
        secrets_changed,
        rewritten,
        values,
        ..
    } = action
    else {
        panic!("{action:?}")
    };
    assert_eq!(secrets_changed, &["proxy.secretToken"]);
    assert!(*rewritten);
    assert!(
        !diff.contains("new-token") && !diff.contains("old-token"),
        "{diff}"
    );
    assert!(values.expose().contains("new-token"));
    let plan = action.plan(false);
    assert!(
        plan.warnings.iter().any(|w| w.contains("keys sorted")),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn the_gate_waits_for_the_change_then_for_the_settle_time() {
    let mut f = fleet_of(&[("leap", &["staging"])]);
    let hub = hub_id("leap", "staging");
    let action = Action::RestartHub {
        hub: hub.clone(),
        deployment: "hub".into(),
    };
    let mut gate = Gate::new(Duration::from_secs(60), Duration::from_secs(300));
    gate.watch(hub.clone(), action, Baseline::take(&f, &hub, at(0)), at(0));
    assert!(matches!(
        gate.observe(&f, at(1)),
        GateState::Waiting { ref why, .. } if why.contains("does not show")
    ));
    restarted(&mut f, &hub, at(2), true);
    assert_eq!(
        gate.observe(&f, at(3)),
        GateState::Settling {
            left: Duration::from_secs(60)
        }
    );
    assert_eq!(
        gate.observe(&f, at(33)),
        GateState::Settling {
            left: Duration::from_secs(30)
        }
    );
    assert_eq!(gate.observe(&f, at(63)), GateState::Passed);
}

#[test]
fn trouble_during_the_settle_time_starts_it_again_and_fails_at_the_timeout() {
    let mut f = fleet_of(&[("leap", &["staging"])]);
    let hub = hub_id("leap", "staging");
    let action = Action::RestartHub {
        hub: hub.clone(),
        deployment: "hub".into(),
    };
    let mut gate = Gate::new(Duration::from_secs(60), Duration::from_secs(120));
    gate.watch(hub.clone(), action, Baseline::take(&f, &hub, at(0)), at(0));
    restarted(&mut f, &hub, at(1), true);
    assert!(matches!(
        gate.observe(&f, at(2)),
        GateState::Settling { .. }
    ));
    restarted(&mut f, &hub, at(40), false);
    let GateState::Waiting { why, left, .. } = gate.observe(&f, at(41)) else {
        panic!()
    };
    assert!(why.starts_with("down (was ok): hub not ready"), "{why}");
    assert_eq!(left, Duration::from_secs(81));
    let GateState::Failed { hub: failed, why } = gate.observe(&f, at(200)) else {
        panic!()
    };
    assert_eq!(failed, hub);
    assert!(
        why.starts_with("not healthy 2m after the wave's last action: down"),
        "{why}"
    );
}

#[test]
fn an_alert_the_hub_did_not_have_before_holds_the_gate() {
    let mut f = fleet_of(&[("leap", &["staging"])]);
    let hub = hub_id("leap", "staging");
    let baseline = Baseline::take(&f, &hub, at(0));
    assert_eq!(baseline.level, crate::fleet::HealthLevel::Ok);
    // The placeholders were evicted meanwhile: degraded, and a new derived alert.
    let mut w = workload(
        "staging",
        "staging",
        Component::UserPlaceholder,
        "user-placeholder",
        1,
    );
    w.ready = 0;
    f.apply_all(
        [FleetUpdate::Workloads {
            cluster: hub.cluster.clone(),
            kind: WorkloadKind::StatefulSet,
            delta: Delta::Upsert(w),
        }],
        at(1),
    );
    let mut gate = Gate::new(Duration::from_secs(10), Duration::from_secs(60));
    gate.watch(
        hub.clone(),
        Action::ScalePlaceholders {
            hub: hub.clone(),
            stateful_set: "user-placeholder".into(),
            replicas: 1,
            expected: Some(1),
        },
        baseline.clone(),
        at(0),
    );
    let GateState::Waiting { why, .. } = gate.observe(&f, at(2)) else {
        panic!()
    };
    assert!(why.starts_with("degraded (was ok)"), "{why}");
    // Degraded before as well: the same alert is not new, so the hub may pass.
    let mut gate = Gate::new(Duration::from_secs(10), Duration::from_secs(60));
    gate.watch(
        hub.clone(),
        Action::ScalePlaceholders {
            hub: hub.clone(),
            stateful_set: "user-placeholder".into(),
            replicas: 1,
            expected: Some(1),
        },
        Baseline::take(&f, &hub, at(0)),
        at(0),
    );
    assert!(matches!(
        gate.observe(&f, at(2)),
        GateState::Settling { .. }
    ));
    assert_eq!(gate.observe(&f, at(12)), GateState::Passed);
}

/// Drives a rollout: each hub's action "runs" at once (the model shows it, healthy unless the
/// hub is in `broken`), the clock moves a second per look.
fn drive(f: &mut Fleet, rollout: Rollout, broken: &[HubId]) -> (Ending, Vec<String>) {
    let mut p = Progress::new(rollout);
    let mut ran = Vec::new();
    let mut clock = 0;
    loop {
        clock += 1;
        match p.next(f, at(clock)) {
            Next::Run { hub, .. } => {
                restarted(f, &hub, at(clock), !broken.contains(&hub));
                ran.push(hub.to_string());
                p.hub_done(&hub, Ok(vec!["restarted".into()]));
            }
            Next::Busy => panic!("nothing is out"),
            Next::Wait(_) => {}
            Next::Done(end) => return (end, ran),
        }
        assert!(clock < 10_000, "the rollout never ended");
    }
}

#[test]
fn a_failing_staging_hub_stops_the_rollout_before_prod() {
    let mut f = fleet_of(&[
        ("leap", &["staging", "prod"]),
        ("nasa", &["staging", "prod"]),
    ]);
    let r = restart_rollout(&f, &all(&f), &pace(30, 120));
    let (end, ran) = drive(&mut f, r, &[hub_id("nasa", "staging")]);
    assert_eq!(ran, ["leap/staging", "nasa/staging"]);
    let Ending::Failed {
        wave,
        hub,
        why,
        error,
    } = end
    else {
        panic!("{end:?}")
    };
    assert_eq!(
        (wave.as_str(), hub.to_string().as_str()),
        ("staging", "nasa/staging")
    );
    assert!(why.contains("hub not ready"), "{why}");
    assert_eq!(error, None, "the gate failed, not the action");
}

#[test]
fn a_passing_rollout_acts_on_every_hub_wave_by_wave() {
    let mut f = fleet_of(&[
        ("leap", &["staging", "prod"]),
        ("nasa", &["staging", "prod"]),
    ]);
    let r = restart_rollout(&f, &all(&f), &pace(30, 120));
    let (end, ran) = drive(&mut f, r, &[]);
    assert_eq!(end, Ending::Passed);
    assert_eq!(
        ran,
        ["leap/staging", "nasa/staging", "leap/prod", "nasa/prod"]
    );
}

#[test]
fn a_wave_that_changes_nothing_passes_without_waiting_out_the_settle_time() {
    let f = fleet_of(&[("leap", &["prod"])]);
    let mut p = Progress::new(restart_rollout(&f, &all(&f), &pace(600, 900)));
    // The staging wave has no hub: the prod hub's action comes at once.
    let Next::Run { hub, .. } = p.next(&f, at(1)) else {
        panic!("{:?}", p.status())
    };
    assert_eq!(hub.to_string(), "leap/prod");
}

#[test]
fn a_failed_action_stops_at_once_and_cancel_waits_for_the_hub_out() {
    let f = fleet_of(&[("leap", &["staging", "prod"]), ("nasa", &["staging"])]);
    let mut p = Progress::new(restart_rollout(&f, &all(&f), &pace(30, 120)));
    let Next::Run { hub, .. } = p.next(&f, at(1)) else {
        panic!()
    };
    p.hub_done(&hub, Err(ActionError::Conflict("changed".into())));
    let Next::Done(Ending::Failed { hub, error, .. }) = p.next(&f, at(2)) else {
        panic!()
    };
    assert_eq!(hub.to_string(), "leap/staging");
    assert_eq!(error, Some(ActionError::Conflict("changed".into())));

    let mut p = Progress::new(restart_rollout(&f, &all(&f), &pace(30, 120)));
    let Next::Run { hub, .. } = p.next(&f, at(1)) else {
        panic!()
    };
    p.cancel();
    assert_eq!(
        p.next(&f, at(2)),
        Next::Busy,
        "the hub's request is still out"
    );
    p.hub_done(&hub, Ok(vec![]));
    assert_eq!(
        p.next(&f, at(3)),
        Next::Done(Ending::Cancelled {
            wave: "staging".into()
        })
    );
    let status = p.status();
    assert_eq!(
        (status.wave, status.waves, status.done, status.acting),
        (1, 2, 1, 2)
    );
    let events = p.take_events();
    assert!(matches!(
        events[0],
        Event::WaveStarted {
            index: 1,
            of: 2,
            acting: 2,
            ..
        }
    ));
}
