use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::fleet::fixtures::{healthy_hub, server, t0};
use crate::fleet::{
    AlertInfo, AlertOrigin, ClusterId, Delta, Fleet, FleetUpdate, HubId, HubRef, PodPhase,
    ServerActivity, Severity, SourceState, Thresholds,
};

fn fleet(updates: Vec<FleetUpdate>) -> Fleet {
    let mut f = Fleet::new(Thresholds::default());
    f.apply_all(updates, t0());
    f
}

fn leap() -> Fleet {
    fleet(healthy_hub("leap", "prod", &["ada", "bob", "cy"]))
}

fn prod() -> HubRef {
    "leap/prod".parse().unwrap()
}

fn id() -> HubId {
    crate::fleet::fixtures::hub_id("leap", "prod")
}

fn later(h: i64) -> Timestamp {
    t0() + SignedDuration::from_hours(h)
}

fn activity(f: &mut Fleet, last: &[(&str, Timestamp)]) {
    let servers = last
        .iter()
        .map(|(u, t)| ServerActivity {
            user: (*u).into(),
            server: "".into(),
            ready: true,
            pending: None,
            started: Some(t0()),
            last_activity: Some(*t),
        })
        .collect();
    f.apply(
        FleetUpdate::Activity {
            hub: id(),
            source: SourceState::Ok,
            servers,
        },
        t0(),
    );
}

fn users(a: &Action) -> Vec<String> {
    match a {
        Action::StopServers { servers } => servers.iter().map(|s| s.id.user.to_string()).collect(),
        other => panic!("not a stop: {other:?}"),
    }
}

#[test]
fn restart_names_the_deployment_found_by_labels() {
    let a = resolve(
        &leap(),
        &Request::Restart {
            hub: prod(),
            proxy: false,
        },
        t0(),
    )
    .unwrap();
    assert_eq!(
        a,
        Action::RestartHub {
            hub: id(),
            deployment: "hub".into()
        }
    );
}

#[test]
fn a_hub_id_and_its_typed_reference_resolve_alike() {
    let typed = Request::Restart {
        hub: prod(),
        proxy: true,
    };
    let selected = Request::Restart {
        hub: HubRef::from(&id()),
        proxy: true,
    };
    assert_eq!(
        resolve(&leap(), &typed, t0()),
        resolve(&leap(), &selected, t0())
    );
}

#[test]
fn scaling_carries_the_replicas_the_model_shows_and_refuses_no_ops() {
    let f = leap();
    let a = resolve(
        &f,
        &Request::Scale {
            hub: prod(),
            placeholders: true,
            replicas: 3,
        },
        t0(),
    )
    .unwrap();
    assert!(matches!(
        a,
        Action::ScalePlaceholders {
            replicas: 3,
            expected: Some(1),
            ..
        }
    ));
    let same = Request::Scale {
        hub: prod(),
        placeholders: false,
        replicas: 1,
    };
    assert!(matches!(
        resolve(&f, &same, t0()),
        Err(ResolveError::NothingToDo(_))
    ));
    let two = Request::Scale {
        hub: prod(),
        placeholders: false,
        replicas: 2,
    };
    assert!(matches!(
        resolve(&f, &two, t0()),
        Err(ResolveError::Invalid(_))
    ));
}

#[test]
fn unknown_hubs_and_clusters_are_not_found_and_say_what_exists() {
    let f = leap();
    let err = resolve(
        &f,
        &Request::Restart {
            hub: "leap/nope".parse().unwrap(),
            proxy: false,
        },
        t0(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, ResolveError::NotFound(m) if m.contains("prod")),
        "{err}"
    );
    let err = resolve(
        &f,
        &Request::Restart {
            hub: "mars/prod".parse().unwrap(),
            proxy: false,
        },
        t0(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no cluster"), "{err}");
}

#[test]
fn idle_servers_are_most_idle_first_and_skip_terminating_pods() {
    let mut f = leap();
    // ada idle 10h, bob 9h, cy active an hour ago.
    activity(
        &mut f,
        &[("ada", t0()), ("bob", later(1)), ("cy", later(9))],
    );
    let req = Request::StopIdle {
        hub: prod(),
        idle_for: Duration::from_secs(8 * 3600),
    };
    let a = resolve(&f, &req, later(10)).unwrap();
    assert_eq!(users(&a), ["ada", "bob"]);

    let mut gone = server("prod", "prod", "ada");
    gone.phase = PodPhase::Terminating;
    f.apply(
        FleetUpdate::Pods {
            cluster: ClusterId::new("leap"),
            delta: Delta::Upsert(gone),
        },
        t0(),
    );
    let a = resolve(&f, &req, later(10)).unwrap();
    assert_eq!(
        users(&a),
        ["bob"],
        "a terminating server is stopping already"
    );
}

#[test]
fn no_idle_server_is_nothing_to_do() {
    let req = Request::StopIdle {
        hub: prod(),
        idle_for: Duration::from_secs(8 * 3600),
    };
    assert!(matches!(
        resolve(&leap(), &req, later(1)),
        Err(ResolveError::NothingToDo(_))
    ));
}

#[test]
fn stopping_named_servers_binds_their_pods_and_names_the_missing_ones() {
    let f = leap();
    let one = |u: &str| ServerRef {
        hub: prod(),
        user: u.into(),
        server: String::new(),
    };
    let a = resolve(
        &f,
        &Request::StopServers {
            servers: vec![one("bob"), one("ada")],
        },
        t0(),
    )
    .unwrap();
    assert_eq!(users(&a), ["bob", "ada"], "in the order asked");
    let err = resolve(
        &f,
        &Request::StopServers {
            servers: vec![one("bob"), one("zed")],
        },
        t0(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("leap/prod/zed"), "{err}");
}

#[test]
fn stopping_servers_of_two_clusters_is_refused() {
    let mut updates = healthy_hub("leap", "prod", &["ada"]);
    updates.extend(healthy_hub("nasa", "prod", &["bob"]));
    let f = fleet(updates);
    let req = Request::StopServers {
        servers: vec![
            ServerRef {
                hub: "leap/prod".parse().unwrap(),
                user: "ada".into(),
                server: String::new(),
            },
            ServerRef {
                hub: "nasa/prod".parse().unwrap(),
                user: "bob".into(),
                server: String::new(),
            },
        ],
    };
    assert!(matches!(
        resolve(&f, &req, t0()),
        Err(ResolveError::Invalid(m)) if m.contains("2 clusters")
    ));
}

fn alert(name: &str, origin: AlertOrigin) -> AlertInfo {
    AlertInfo {
        fingerprint: format!("fp-{name}").into(),
        name: name.into(),
        severity: Severity::Warning,
        origin,
        summary: String::new(),
        namespace: Some("prod".into()),
        release: None,
        pod: None,
        since: Some(t0()),
        silenced_by: vec![],
        labels: vec![
            ("alertname".into(), name.into()),
            ("namespace".into(), "prod".into()),
            ("severity".into(), "warning".into()),
        ],
    }
}

fn with_alert(a: AlertInfo) -> Fleet {
    let mut f = leap();
    f.apply(
        FleetUpdate::Alerts {
            cluster: ClusterId::new("leap"),
            source: SourceState::Ok,
            alerts: vec![a],
        },
        t0(),
    );
    f
}

#[test]
fn silences_match_every_label_severity_included() {
    let f = with_alert(alert("HubSlow", AlertOrigin::Alertmanager));
    for by in ["HubSlow", "fp-HubSlow"] {
        let a = resolve(
            &f,
            &Request::Silence {
                cluster: "leap".into(),
                alert: by.into(),
                duration: Duration::from_secs(7200),
                comment: "known".into(),
            },
            t0(),
        )
        .unwrap();
        let Action::SilenceAlert { matchers, .. } = a else {
            panic!("{a:?}")
        };
        let pairs: Vec<String> = matchers
            .iter()
            .map(|m| format!("{}={}", m.name, m.value))
            .collect();
        assert_eq!(
            pairs,
            ["alertname=HubSlow", "namespace=prod", "severity=warning"]
        );
    }
}

#[test]
fn derived_alerts_and_silences_without_comment_are_refused() {
    let f = with_alert(alert("HubSlow", AlertOrigin::Alertmanager));
    let no_comment = Request::Silence {
        cluster: "leap".into(),
        alert: "HubSlow".into(),
        duration: Duration::from_secs(60),
        comment: " ".into(),
    };
    assert!(matches!(
        resolve(&f, &no_comment, t0()),
        Err(ResolveError::Invalid(_))
    ));
    let f = with_alert(alert("HubDown", AlertOrigin::Derived));
    let derived = Request::Silence {
        cluster: "leap".into(),
        alert: "HubDown".into(),
        duration: Duration::from_secs(60),
        comment: "x".into(),
    };
    assert!(matches!(
        resolve(&f, &derived, t0()),
        Err(ResolveError::Invalid(m)) if m.contains("derived")
    ));
}

#[test]
fn config_edits_are_validated_and_carry_their_base_version() {
    let base = HubConfig {
        secret: "hub".into(),
        resource_version: "42".into(),
        values: "a: 1\n".into(),
    };
    let edit = |values: &str| Request::EditConfig {
        hub: prod(),
        base: base.clone(),
        values: values.into(),
    };
    let a = resolve(&leap(), &edit("a: 2\n"), t0()).unwrap();
    let Action::EditHubConfig {
        resource_version,
        diff,
        ..
    } = a
    else {
        panic!("{a:?}")
    };
    assert_eq!(resource_version, "42");
    assert!(diff.contains("-a: 1") && diff.contains("+a: 2"), "{diff}");
    assert!(matches!(
        resolve(&leap(), &edit("a: [1\n"), t0()),
        Err(ResolveError::Invalid(m)) if m.starts_with("values.yaml:")
    ));
    assert!(matches!(
        resolve(&leap(), &edit("a: 1\n"), t0()),
        Err(ResolveError::NothingToDo(_))
    ));
}

#[test]
fn servers_of_a_hub_that_is_down_are_stopped_by_deleting_their_pods_and_the_plan_says_why() {
    let mut f = leap();
    f.apply(
        FleetUpdate::Workloads {
            cluster: ClusterId::new("leap"),
            kind: crate::fleet::WorkloadKind::Deployment,
            delta: Delta::Upsert(crate::fleet::fixtures::workload(
                "prod",
                "prod",
                crate::fleet::Component::Hub,
                "hub",
                0,
            )),
        },
        t0(),
    );
    f.refresh(t0());
    let req = Request::StopServers {
        servers: vec![ServerRef {
            hub: prod(),
            user: "ada".into(),
            server: String::new(),
        }],
    };
    let a = resolve(&f, &req, t0()).unwrap();
    let Action::StopServers { servers } = &a else {
        panic!("{a:?}")
    };
    assert!(!servers[0].hub_running);
    let plan = a.plan(false);
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("hub is not running")),
        "{plan:?}"
    );
    let up = resolve(&leap(), &req, t0()).unwrap();
    assert!(up.plan(true).warnings[0].contains("nothing else is tried"));
}
