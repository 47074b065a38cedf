//! The store keeps stories of pending user servers only: events find their pod, wait a little
//! for one not known yet, and go when it runs.

use super::fixtures::{healthy_hub, pending_server, pod_event, server, t0};
use super::*;

const FIT: &str = "0/12 nodes are available: 3 Insufficient memory, 9 node(s) didn't match Pod's node affinity/selector. preemption: 0/12 nodes are available: 3 No preemption victims found for incoming pod, 9 Preemption is not helpful for scheduling.";
const AT_MAX: &str = "pod didn't trigger scale-up: 1 max node group size reached, 1 node(s) didn't match Pod's node affinity/selector";

fn leap() -> ClusterId {
    ClusterId::new("leap")
}

fn events(delta: Delta<PodEvent>) -> FleetUpdate {
    FleetUpdate::PodEvents {
        cluster: leap(),
        delta,
    }
}

fn pods(delta: Delta<PodInfo>) -> FleetUpdate {
    FleetUpdate::Pods {
        cluster: leap(),
        delta,
    }
}

/// The story of jupyter-cy waiting for a full pool: the scheduler, then the autoscaler.
fn waiting_for_a_full_pool() -> Vec<PodEvent> {
    vec![
        pod_event("prod", "jupyter-cy", "cy.1", Step::FailedScheduling, FIT, 0),
        pod_event(
            "prod",
            "jupyter-cy",
            "cy.2",
            Step::NotTriggerScaleUp,
            AT_MAX,
            0,
        ),
    ]
}

fn story<'a>(f: &'a Fleet, pod: &str) -> Option<&'a Story> {
    f.hub(&fixtures::hub_id("leap", "prod"))?.story(pod)
}

fn steps(f: &Fleet, pod: &str) -> Vec<&'static str> {
    story(f, pod).map_or_else(Vec::new, |s| s.iter().map(|e| e.step.as_str()).collect())
}

fn with_pending_cy() -> Fleet {
    let mut f = Fleet::new(Thresholds::default());
    let mut updates = healthy_hub("leap", "prod", &["ada"]);
    updates.push(pods(Delta::Upsert(pending_server("prod", "prod", "cy"))));
    f.apply_all(updates, t0());
    f
}

#[test]
fn a_pending_server_tells_its_story_until_it_runs() {
    let mut f = with_pending_cy();
    let v = f.version();
    for e in waiting_for_a_full_pool() {
        assert!(f.apply(events(Delta::Upsert(e)), t0()));
    }
    assert_eq!(
        steps(&f, "jupyter-cy"),
        ["NotTriggerScaleUp", "FailedScheduling"]
    );
    let changed: Vec<Change> = f.changes_since(v).expect("listed").cloned().collect();
    assert!(changed.contains(&Change::Pod(
        fixtures::hub_id("leap", "prod"),
        "jupyter-cy".into()
    )));
    // Scheduled after all: it runs, and its story goes.
    f.apply(pods(Delta::Upsert(server("prod", "prod", "cy"))), t0());
    assert_eq!(story(&f, "jupyter-cy"), None);
    // A late event of a running pod is not kept either.
    let late = pod_event(
        "prod",
        "jupyter-cy",
        "cy.3",
        Step::Pulled,
        "Successfully pulled image \"x\" in 2s",
        9,
    );
    let v = f.version();
    assert!(
        !f.apply(events(Delta::Upsert(late)), t0()),
        "nothing to show"
    );
    assert_eq!(f.version(), v);
    assert_eq!(story(&f, "jupyter-cy"), None);
}

#[test]
fn a_story_goes_with_its_pod_and_a_step_with_its_event() {
    let mut f = with_pending_cy();
    let story_events = waiting_for_a_full_pool();
    f.apply_all(
        story_events
            .iter()
            .cloned()
            .map(|e| events(Delta::Upsert(e))),
        t0(),
    );
    f.apply(events(Delta::Remove(story_events[1].clone())), t0());
    assert_eq!(steps(&f, "jupyter-cy"), ["FailedScheduling"]);
    f.apply(
        pods(Delta::Remove(pending_server("prod", "prod", "cy"))),
        t0(),
    );
    assert_eq!(story(&f, "jupyter-cy"), None);
}

#[test]
fn events_listed_before_their_pods_wait_for_them() {
    let mut f = Fleet::new(Thresholds::default());
    let mut first = healthy_hub("leap", "prod", &[]);
    let pod_list = first.pop().expect("the pods list comes last");
    f.apply_all(first, t0());
    // The events watch lists first: of the pending server, and of a server already running.
    let mut listed = waiting_for_a_full_pool();
    listed.push(pod_event(
        "prod",
        "jupyter-ada",
        "ada.1",
        Step::Pulled,
        "Successfully pulled image \"x\" in 2s",
        -600,
    ));
    f.apply(events(Delta::Replace(listed)), t0());
    assert_eq!(f.cluster("leap").map(|c| c.unclaimed.len()), Some(3));
    let FleetUpdate::Pods {
        delta: Delta::Replace(mut all),
        ..
    } = pod_list
    else {
        panic!("a pods list")
    };
    all.push(pending_server("prod", "prod", "cy"));
    all.push(server("prod", "prod", "ada"));
    f.apply_all([pods(Delta::Replace(all))], t0());
    assert_eq!(
        steps(&f, "jupyter-cy"),
        ["NotTriggerScaleUp", "FailedScheduling"]
    );
    assert_eq!(story(&f, "jupyter-ada"), None, "running: no story");
    assert_eq!(f.cluster("leap").map(|c| c.unclaimed.len()), Some(0));
    // One pod at a time, too.
    let dee = pod_event(
        "prod",
        "jupyter-dee",
        "dee.1",
        Step::FailedScheduling,
        FIT,
        1,
    );
    f.apply(events(Delta::Upsert(dee)), t0());
    f.apply(
        pods(Delta::Upsert(pending_server("prod", "prod", "dee"))),
        t0(),
    );
    assert_eq!(steps(&f, "jupyter-dee"), ["FailedScheduling"]);
}

#[test]
fn events_of_pods_nobody_watches_are_few_and_go() {
    let mut f = with_pending_cy();
    for i in 0..1000 {
        let e = pod_event(
            "kube-system",
            &format!("coredns-{i}"),
            &format!("e{i}"),
            Step::Scheduled,
            "Successfully assigned kube-system/x to n",
            i,
        );
        f.apply(events(Delta::Upsert(e)), t0());
    }
    let c = f.cluster("leap").expect("cluster");
    assert_eq!(c.unclaimed.len(), UNCLAIMED_MAX);
    assert!(
        c.unclaimed.iter().all(|e| e.key.name.as_ref() >= "e744"),
        "the newest are kept"
    );
    // Listed, and minutes later nobody claimed them.
    f.refresh(t0() + jiff::SignedDuration::from_secs(1000 + 121));
    assert_eq!(f.cluster("leap").map(|c| c.unclaimed.len()), Some(0));
}

#[test]
fn a_relist_of_events_replaces_the_stories() {
    let mut f = with_pending_cy();
    f.apply_all(
        waiting_for_a_full_pool()
            .into_iter()
            .map(|e| events(Delta::Upsert(e))),
        t0(),
    );
    let fresh = pod_event(
        "prod",
        "jupyter-cy",
        "cy.9",
        Step::FailedScheduling,
        FIT,
        30,
    );
    f.apply_all([events(Delta::Replace(vec![fresh]))], t0());
    let s = story(&f, "jupyter-cy").expect("a story");
    assert_eq!(s.iter().map(|e| &*e.key.name).collect::<Vec<_>>(), ["cy.9"]);
    f.apply_all([events(Delta::Replace(vec![]))], t0());
    assert_eq!(story(&f, "jupyter-cy"), None);
}

#[test]
fn only_user_servers_have_stories() {
    let mut f = with_pending_cy();
    let mut placeholder = fixtures::pod(
        "prod",
        "prod",
        Component::UserPlaceholder,
        "user-placeholder-1",
    );
    placeholder.phase = PodPhase::Pending;
    f.apply(pods(Delta::Upsert(placeholder)), t0());
    let e = pod_event(
        "prod",
        "user-placeholder-1",
        "p.1",
        Step::FailedScheduling,
        FIT,
        0,
    );
    assert!(!f.apply(events(Delta::Upsert(e)), t0()));
    assert_eq!(story(&f, "user-placeholder-1"), None);
}

#[test]
fn the_pending_too_long_alert_says_why_the_newest_waits() {
    let mut f = with_pending_cy();
    f.apply_all(
        waiting_for_a_full_pool()
            .into_iter()
            .map(|e| events(Delta::Upsert(e))),
        t0(),
    );
    f.refresh(t0() + jiff::SignedDuration::from_secs(600));
    let alert = f
        .alerts()
        .map(|(_, a)| a)
        .find(|a| &*a.name == "UserServersPendingTooLong")
        .expect("pending too long");
    assert_eq!(
        alert.summary,
        "leap/prod: 1 user servers pending too long (newest: no scale-up: max node group size reached)"
    );
}
