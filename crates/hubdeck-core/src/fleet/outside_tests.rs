//! Hubs checked from outside: judging a check, counting failures, the derived alert.

use std::time::Duration;

use jiff::SignedDuration;

use super::fixtures::{healthy_hub, t0};
use super::*;

fn declare(hubs: &[(&str, Option<&str>, u16)]) -> FleetUpdate {
    FleetUpdate::Declared {
        cluster: ClusterId::new("leap"),
        hubs: hubs
            .iter()
            .map(|(name, domain, expected)| DeclaredHub {
                name: (*name).into(),
                display_name: None,
                domain: domain.map(Into::into),
                chart: Chart::Basehub,
                expected_status: *expected,
            })
            .collect(),
    }
}

fn at(minutes: i64) -> jiff::Timestamp {
    t0() + SignedDuration::from_mins(minutes)
}

/// A fleet with leap/prod running, declared with a domain.
fn fleet() -> Fleet {
    let mut f = Fleet::new(Thresholds::default());
    let mut updates = healthy_hub("leap", "prod", &["ada"]);
    updates.push(declare(&[("prod", Some("prod.example.org"), 200)]));
    f.apply_all(updates, t0());
    f
}

/// Applies the checks of `probes`, a minute apart, as the poller chains them.
fn check(f: &mut Fleet, probes: &[Probe]) {
    for (i, probe) in probes.iter().enumerate() {
        let now = at(i as i64 + 1);
        let prev = f
            .cluster("leap")
            .and_then(|c| c.outside.get("prod"))
            .cloned();
        let detail = matches!(probe, Probe::Tls).then(|| "certificate expired".to_string());
        let latency = matches!(probe, Probe::Answered(_)).then(|| Duration::from_millis(84));
        let c = OutsideCheck::after(prev.as_ref(), *probe, detail, latency, now, 200);
        f.apply_all(
            [FleetUpdate::Outside {
                cluster: ClusterId::new("leap"),
                hub: "prod".into(),
                check: c,
            }],
            now,
        );
    }
}

fn outside_alerts(f: &Fleet) -> Vec<(Severity, String)> {
    f.alerts()
        .filter(|(_, a)| &*a.name == "HubUnreachableOutside")
        .map(|(_, a)| (a.severity, a.summary.clone()))
        .collect()
}

#[test]
fn a_failed_check_warns_then_is_critical_after_three_in_a_row_and_clears_when_it_passes() {
    let mut f = fleet();
    check(&mut f, &[Probe::Answered(200)]);
    assert!(outside_alerts(&f).is_empty());

    check(&mut f, &[Probe::Answered(503)]);
    assert_eq!(
        outside_alerts(&f),
        vec![(
            Severity::Warning,
            "leap/prod: hub unreachable from outside: status 503 (expected 200)".to_string()
        )]
    );
    check(&mut f, &[Probe::Timeout]);
    assert_eq!(outside_alerts(&f)[0].0, Severity::Warning);
    check(&mut f, &[Probe::Tls]);
    assert_eq!(
        outside_alerts(&f),
        vec![(
            Severity::Critical,
            "leap/prod: hub unreachable from outside: TLS: certificate expired".to_string()
        )]
    );
    let c = f.cluster("leap").unwrap();
    let last = &c.outside["prod"];
    assert_eq!((last.failures, last.state().as_str()), (3, "tls"));
    // The alert is as old as the first failure of the run.
    let alert = f
        .alerts()
        .find(|(_, a)| &*a.name == "HubUnreachableOutside");
    assert_eq!(alert.and_then(|(_, a)| a.since), Some(at(1)));

    check(&mut f, &[Probe::Answered(200)]);
    assert!(outside_alerts(&f).is_empty());
    let last = &f.cluster("leap").unwrap().outside["prod"];
    assert_eq!((last.failures, last.brief()), (0, "200 84ms".to_string()));
}

#[test]
fn the_repositorys_expected_status_is_what_counts_as_up() {
    // A hub behind a login page: the repository expects a redirect.
    let c = OutsideCheck::after(None, Probe::Answered(302), None, None, t0(), 302);
    assert!(c.passed());
    assert_eq!(c.state(), OutsideState::Ok);
    let c = OutsideCheck::after(Some(&c), Probe::Answered(200), None, None, at(1), 302);
    assert!(!c.passed());
    assert_eq!(
        (c.state().as_str(), c.failures, c.since),
        ("status", 1, at(1))
    );
    assert_eq!(c.reason().as_deref(), Some("status 200 (expected 302)"));
}

#[test]
fn failures_reset_on_a_pass_and_the_run_start_moves_only_on_a_change() {
    let mut prev = None;
    let mut runs = Vec::new();
    for (i, p) in [Probe::Dns, Probe::Dns, Probe::Answered(200), Probe::Connect]
        .into_iter()
        .enumerate()
    {
        let c = OutsideCheck::after(prev.as_ref(), p, None, None, at(i as i64), 200);
        runs.push((c.failures, c.since));
        prev = Some(c);
    }
    assert_eq!(
        runs,
        vec![(1, at(0)), (2, at(0)), (0, at(2)), (1, at(3))],
        "failures in a row, and when the current run began"
    );
}

#[test]
fn brief_fits_eight_columns() {
    let answered = |ms| {
        OutsideCheck::after(
            None,
            Probe::Answered(503),
            None,
            Some(Duration::from_millis(ms)),
            t0(),
            200,
        )
        .brief()
    };
    assert_eq!(answered(84), "503 84ms");
    assert_eq!(answered(999), "503 999ms");
    assert_eq!(answered(1234), "503 1.2s");
    assert_eq!(answered(12_345), "503 12s");
    for p in [Probe::Dns, Probe::Tls, Probe::Timeout, Probe::Connect] {
        let b = OutsideCheck::after(None, p, None, None, t0(), 200).brief();
        assert!(b.len() <= 8, "{b}");
    }
}

#[test]
fn a_hub_without_a_domain_or_one_that_does_not_run_raises_no_outside_alert() {
    let mut f = Fleet::new(Thresholds::default());
    let mut updates = healthy_hub("leap", "prod", &["ada"]);
    // `workshop` is declared and not running: HubMissing says so, not a second alert.
    updates.push(declare(&[
        ("prod", None, 200),
        ("workshop", Some("workshop.example.org"), 200),
    ]));
    f.apply_all(updates, t0());
    f.apply_all(
        [FleetUpdate::Outside {
            cluster: ClusterId::new("leap"),
            hub: "workshop".into(),
            check: OutsideCheck::after(None, Probe::Dns, None, None, at(1), 200),
        }],
        at(1),
    );
    assert!(outside_alerts(&f).is_empty(), "{:?}", outside_alerts(&f));
    assert!(f.alerts().any(|(_, a)| &*a.name == "HubMissing"));
    let c = f.cluster("leap").unwrap();
    let prod = c.hubs.values().find(|h| &*h.id.key.namespace == "prod");
    assert!(prod.is_some_and(|h| c.outside_of(h).is_none()));
}

#[test]
fn a_hub_unreachable_from_outside_is_alerted_even_while_its_cluster_is_unreachable() {
    let mut f = fleet();
    f.apply_all(
        [FleetUpdate::Status {
            cluster: ClusterId::new("leap"),
            status: ClusterStatus::Unreachable {
                error: "connection refused".into(),
                since: t0(),
            },
        }],
        at(1),
    );
    check(&mut f, &[Probe::Connect]);
    let names: Vec<&str> = f.alerts().map(|(_, a)| &*a.name).collect();
    assert!(names.contains(&"ClusterUnreachable"), "{names:?}");
    assert!(names.contains(&"HubUnreachableOutside"), "{names:?}");
}

#[test]
fn a_new_check_redraws_the_hub_row_and_the_same_one_again_changes_nothing() {
    let mut f = fleet();
    let v = f.version();
    let c = OutsideCheck::after(None, Probe::Answered(200), None, None, at(1), 200);
    let update = FleetUpdate::Outside {
        cluster: ClusterId::new("leap"),
        hub: "prod".into(),
        check: c,
    };
    assert!(f.apply(update.clone(), at(1)));
    let changed: Vec<String> = f
        .changes_since(v)
        .into_iter()
        .flatten()
        .map(|c| format!("{c:?}"))
        .collect();
    assert!(changed.iter().any(|c| c.contains("Hub(")), "{changed:?}");
    assert!(!f.apply(update, at(1)));
}
