use std::time::Duration;

use super::*;
use crate::fleet::fixtures::{pod_event, t0};

fn ev(name: &str, step: Step, message: &str, at: i64) -> PodEvent {
    pod_event("prod", "jupyter-ada", name, step, message, at)
}

fn reasons(s: &Story) -> Vec<&'static str> {
    s.iter().map(|e| e.step.as_str()).collect()
}

const FIT: &str = "0/12 nodes are available: 3 Insufficient memory, 9 node(s) didn't match Pod's node affinity/selector. preemption: 0/12 nodes are available: 3 No preemption victims found for incoming pod, 9 Preemption is not helpful for scheduling.";

#[test]
fn steps_are_told_newest_first_and_within_a_second_in_the_order_they_happen() {
    let mut s = Story::default();
    // The autoscaler writes whole seconds, the scheduler microseconds: the scale-up answers
    // the failed scheduling of the same second, so it is the newer step.
    let mut failed = ev("a", Step::FailedScheduling, FIT, 0);
    failed.first = failed
        .first
        .map(|t| t + jiff::SignedDuration::from_millis(700));
    let up = ev(
        "b",
        Step::TriggeredScaleUp,
        "pod triggered scale-up: [{nb 2->3 (max: 10)}]",
        0,
    );
    assert!(s.upsert(up.clone()));
    assert!(s.upsert(failed.clone()));
    assert_eq!(reasons(&s), ["TriggeredScaleUp", "FailedScheduling"]);
    assert!(s.upsert(ev(
        "c",
        Step::Scheduled,
        "Successfully assigned prod/jupyter-ada to n1",
        70
    )));
    assert!(s.upsert(ev("d", Step::Pulling, "Pulling image \"x\"", 71)));
    assert_eq!(
        reasons(&s),
        [
            "Pulling",
            "Scheduled",
            "TriggeredScaleUp",
            "FailedScheduling"
        ]
    );
    // A repeat of the scheduler's event updates its step, and does not move it: the story is
    // told by when each step began.
    let mut again = failed;
    again.count = 5;
    again.last = Some(t0() + jiff::SignedDuration::from_secs(60));
    assert!(s.upsert(again.clone()));
    assert!(!s.upsert(again), "the same event again changes nothing");
    assert_eq!(s.len(), 4);
    assert_eq!(s.iter().last().map(|e| e.count), Some(5));
    assert!(s.remove(&up.key));
    assert_eq!(reasons(&s), ["Pulling", "Scheduled", "FailedScheduling"]);
}

#[test]
fn a_story_keeps_only_its_newest_steps() {
    let mut s = Story::default();
    for i in 0..20 {
        s.upsert(ev(&format!("e{i:02}"), Step::FailedMount, "timed out", i));
    }
    assert_eq!(s.len(), STORY_LEN);
    assert_eq!(s.newest().map(|e| &*e.key.name), Some("e19"));
    assert!(
        !s.upsert(ev("old", Step::FailedMount, "timed out", -5)),
        "older than all it keeps"
    );
    assert_eq!(s.iter().last().map(|e| &*e.key.name), Some("e12"));
}

#[test]
fn the_kubelets_pull_figure_is_read_in_go_duration_text() {
    let pulled = |m: &str| ev("p", Step::Pulled, m, 10).pull_time();
    assert_eq!(
        pulled(
            "Successfully pulled image \"quay.io/x:1\" in 3.207854023s (3.207854023s including waiting). Image size: 1290432 bytes."
        ),
        Some(Duration::from_nanos(3_207_854_023))
    );
    assert_eq!(
        pulled("Successfully pulled image \"x\" in 1m5.5s (1m9s including waiting)"),
        Some(Duration::from_millis(65_500))
    );
    assert_eq!(
        pulled("Successfully pulled image \"x\" in 850ms"),
        Some(Duration::from_millis(850))
    );
    assert_eq!(
        pulled("Container image \"x\" already present on machine"),
        None
    );
    assert_eq!(pulled("Successfully pulled image \"x\" in soon"), None);
    let e = ev(
        "p",
        Step::Pulled,
        "Successfully pulled image \"x\" in 12.3s",
        10,
    );
    assert_eq!(e.summary(), "image pulled in 12.3s");
}

#[test]
fn without_a_figure_the_pull_took_from_pulling_to_pulled() {
    let mut s = Story::default();
    s.upsert(ev("a", Step::Pulling, "Pulling image \"x\"", 10));
    let done = ev("b", Step::Pulled, "Successfully pulled image \"x\"", 52);
    s.upsert(done.clone());
    assert_eq!(s.pull_time(&done), Some(Duration::from_secs(42)));
    let figure = ev(
        "c",
        Step::Pulled,
        "Successfully pulled image \"x\" in 2s",
        52,
    );
    assert_eq!(s.pull_time(&figure), Some(Duration::from_secs(2)));
}

#[test]
fn summaries_keep_what_a_person_acts_on() {
    let said = |step: Step, m: &str| ev("x", step, m, 0).summary();
    assert_eq!(
        said(Step::FailedScheduling, FIT),
        "0/12 nodes: 3 Insufficient memory"
    );
    assert_eq!(
        said(
            Step::FailedScheduling,
            "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
        ),
        "0/3 nodes: 3 node(s) didn't match Pod's node affinity/selector"
    );
    assert_eq!(
        said(
            Step::FailedScheduling,
            "Failed to schedule pod, all available instance types exceed limits for nodepool: \"user\""
        ),
        "all available instance types exceed limits for nodepool: \"user\""
    );
    assert_eq!(
        said(
            Step::TriggeredScaleUp,
            "pod triggered scale-up: [{https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-b/instanceGroups/gke-leap-nb-grp 2->3 (max: 10)} {eks-nb-r5 1->2 (max: 4)}]"
        ),
        "scale-up triggered: gke-leap-nb-grp 2->3, eks-nb-r5 1->2"
    );
    assert_eq!(
        said(
            Step::NotTriggerScaleUp,
            "pod didn't trigger scale-up: 1 max node group size reached, 1 node(s) didn't match Pod's node affinity/selector"
        ),
        "no scale-up: max node group size reached"
    );
    assert_eq!(
        said(
            Step::NotTriggerScaleUp,
            "pod didn't trigger scale-up (it wouldn't fit if a new node is added): 2 Insufficient memory"
        ),
        "no scale-up: Insufficient memory"
    );
    assert_eq!(
        said(
            Step::Nominated,
            "Pod should schedule on: nodeclaim/user-x7k2q"
        ),
        "nominated: nodeclaim/user-x7k2q"
    );
    assert_eq!(
        said(
            Step::Scheduled,
            "Successfully assigned prod/jupyter-ada to gke-nb-1"
        ),
        "scheduled on gke-nb-1"
    );
    assert_eq!(
        said(
            Step::FailedAttachVolume,
            "AttachVolume.Attach failed for volume \"pvc-1\" : rpc error: code = Internal desc = Could not attach volume \"pvc-1\" to node \"n\": volume is still attached to another node"
        ),
        "volume attach failed: volume is still attached to another node"
    );
    assert_eq!(
        said(
            Step::FailedMount,
            "Unable to attach or mount volumes: unmounted volumes=[home], unattached volumes=[home], failed to process volumes=[]: timed out waiting for the condition"
        ),
        "volumes not mounted: [home]"
    );
    assert_eq!(
        said(
            Step::FailedMount,
            "MountVolume.SetUp failed for volume \"env\" : secret \"hub-env\" not found"
        ),
        "mount failed: secret \"hub-env\" not found"
    );
    assert_eq!(
        said(
            Step::Failed,
            "Failed to pull image \"x:1\": rpc error: code = NotFound desc = failed to pull and unpack image \"x:1\": not found"
        ),
        "image pull failed: failed to pull and unpack image \"x:1\": not found"
    );
    assert_eq!(said(Step::Failed, "Error: ErrImagePull"), "ErrImagePull");
    assert_eq!(
        said(Step::Failed, "Error: secret \"hub-env\" not found"),
        "container not started: secret \"hub-env\" not found"
    );
    assert_eq!(
        said(Step::BackOff, "Back-off pulling image \"x:1\""),
        "back-off pulling image"
    );
    let pulling = ev("p", Step::Pulling, "Pulling image \"x\"", 0);
    let later = t0() + jiff::SignedDuration::from_secs(40);
    assert_eq!(pulling.summary_at(later), "pulling image 40s");
    assert_eq!(pulling.summary(), "pulling image", "alerts never age");
}

#[test]
fn a_huge_message_makes_a_short_summary() {
    let list: Vec<String> = (0..400).map(|i| format!("1 reason number {i}")).collect();
    let m = format!("0/400 nodes are available: {}.", list.join(", "));
    let s = ev("x", Step::FailedScheduling, &m, 0).summary();
    assert!(s.chars().count() <= 96 && s.ends_with('…'), "{s}");
}

#[test]
fn every_reason_reads_back_as_its_step() {
    for s in Step::ALL {
        assert_eq!(Step::from_reason(s.as_str()), Some(s));
    }
    for other in [
        "Created",
        "Started",
        "Killing",
        "Unhealthy",
        "failedscheduling",
        "",
    ] {
        assert_eq!(Step::from_reason(other), None, "{other}");
    }
}
