//! A step in a few words, read from its reporter's message. Each reporter writes its own
//! format (the scheduler's `FitError`, cluster-autoscaler's scale-up verdicts, the kubelet's
//! image and volume messages); a message in none of them is shown as said, clipped.

use std::time::Duration;

use super::{PodEvent, Step};

/// Longest summary, in characters.
const SUMMARY_MAX: usize = 96;

pub(super) fn summary(e: &PodEvent) -> String {
    let m = e.message.trim();
    let s = match e.step {
        Step::FailedScheduling => no_node(m),
        Step::TriggeredScaleUp => scale_up(m),
        Step::NotTriggerScaleUp => no_scale_up(m),
        Step::Nominated => format!("nominated: {}", after(m, "Pod should schedule on: ")),
        Step::Scheduled => match m.rsplit_once(" to ") {
            Some((_, node)) if m.starts_with("Successfully assigned ") => {
                format!("scheduled on {node}")
            }
            _ => "scheduled".into(),
        },
        Step::FailedAttachVolume => format!("volume attach failed: {}", cause(m)),
        Step::FailedMount => mount(m),
        Step::FailedCreatePodSandBox => format!("pod sandbox failed: {}", cause(m)),
        Step::Pulling => "pulling image".into(),
        Step::Pulled => match pull_time(m) {
            Some(d) => format!("image pulled in {}", seconds(d)),
            None if m.contains("already present") => "image already present".into(),
            None => "image pulled".into(),
        },
        Step::Failed => failed(m),
        Step::BackOff => back_off(m),
    };
    crate::text::clip(&s, SUMMARY_MAX).into_owned()
}

fn after<'a>(m: &'a str, prefix: &str) -> &'a str {
    m.strip_prefix(prefix).unwrap_or(m)
}

/// The scheduler's `0/12 nodes are available: 3 Insufficient memory, 9 node(s) didn't match
/// Pod's node affinity/selector. preemption: 0/12 nodes are available: ...` becomes `0/12
/// nodes: 3 Insufficient memory`: what the nodes meant for the pod lack, without the nodes of
/// other pools or the preemption verdict. Karpenter's own message loses its preamble.
fn no_node(m: &str) -> String {
    let Some((head, rest)) = m.split_once(" nodes are available: ") else {
        return after(m, "Failed to schedule pod, ").to_string();
    };
    let filter = rest
        .split(". ")
        .next()
        .unwrap_or(rest)
        .trim_end_matches('.');
    format!("{head} nodes: {}", relevant(filter).join(", "))
}

/// The entries of a `, `-separated verdict that concern the pod's own pool: "didn't match
/// Pod's node affinity/selector" counts nodes never meant for it (unless that is all there is).
fn relevant(list: &str) -> Vec<&str> {
    let all: Vec<&str> = list
        .split(", ")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let kept: Vec<&str> = all
        .iter()
        .copied()
        .filter(|p| !p.contains("didn't match Pod's node affinity/selector"))
        .collect();
    if kept.is_empty() { all } else { kept }
}

/// cluster-autoscaler's `pod triggered scale-up: [{GROUP 2->3 (max: 10)} ...]` (GROUP is a URL
/// on GKE: its last segment names the group) becomes `scale-up triggered: GROUP 2->3`.
fn scale_up(m: &str) -> String {
    let groups: Vec<String> = after(m, "pod triggered scale-up: ")
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split('}')
        .filter_map(|g| {
            let (id, rest) = g.trim().trim_start_matches('{').split_once(' ')?;
            let sizes = rest.split(' ').next().filter(|s| s.contains("->"))?;
            Some(format!("{} {sizes}", id.rsplit('/').next().unwrap_or(id)))
        })
        .collect();
    match groups.is_empty() {
        true => "scale-up triggered".into(),
        false => format!("scale-up triggered: {}", groups.join(", ")),
    }
}

/// cluster-autoscaler's `pod didn't trigger scale-up: 1 max node group size reached, 1 node(s)
/// didn't match Pod's node affinity/selector` (older ones add `(it wouldn't fit if a new node
/// is added)` before the colon) becomes `no scale-up: max node group size reached`.
fn no_scale_up(m: &str) -> String {
    let Some((_, rest)) = m.split_once(": ") else {
        return "no scale-up".into();
    };
    let mut reasons: Vec<&str> = relevant(rest).into_iter().map(without_count).collect();
    reasons.dedup();
    format!("no scale-up: {}", reasons.join(", "))
}

/// `3 Insufficient memory` → `Insufficient memory`.
fn without_count(s: &str) -> &str {
    match s.split_once(' ') {
        Some((n, rest)) if n.chars().all(|c| c.is_ascii_digit()) => rest,
        _ => s,
    }
}

/// The innermost cause of a Go error chain (`a: b: c` → `c`), with the one before it when it
/// is too short to say much (`connection is unauthorized: Unauthorized`), without gRPC's
/// `code = X desc =` preamble.
fn cause(m: &str) -> &str {
    let m = m.trim_end_matches('.');
    let Some((head, last)) = m.rsplit_once(": ") else {
        return m;
    };
    let found = if last.chars().count() >= 16 {
        last
    } else {
        match head.rsplit_once(": ") {
            Some((_, before)) => &m[m.len() - last.len() - 2 - before.len()..],
            None => m,
        }
    };
    let found = found.rsplit_once(" desc = ").map_or(found, |(_, d)| d);
    found.trim()
}

/// The kubelet's `Unable to attach or mount volumes: unmounted volumes=[home], ...` becomes
/// `volumes not mounted: [home]`; `MountVolume.SetUp failed for volume "x" : secret "y" not
/// found` becomes `mount failed: secret "y" not found`.
fn mount(m: &str) -> String {
    const UNMOUNTED: &str = "unmounted volumes=";
    if let Some(i) = m.find(UNMOUNTED) {
        let rest = &m[i + UNMOUNTED.len()..];
        let end = rest.find(']').map_or(rest.len(), |j| j + 1);
        return format!("volumes not mounted: {}", &rest[..end]);
    }
    format!("mount failed: {}", cause(m))
}

/// The kubelet's `Failed` is an image pull (`Failed to pull image "x": ...`) or a container it
/// could not create or start (`Error: ErrImagePull`, `Error: secret "x" not found`).
fn failed(m: &str) -> String {
    if m.starts_with("Failed to pull image") {
        return format!("image pull failed: {}", cause(m));
    }
    match m.strip_prefix("Error: ") {
        Some(word) if !word.contains(' ') => word.to_string(),
        Some(e) => format!("container not started: {e}"),
        None => m.to_string(),
    }
}

fn back_off(m: &str) -> String {
    if m.starts_with("Back-off pulling image") {
        "back-off pulling image".into()
    } else if m.starts_with("Back-off restarting failed container") {
        "back-off restarting failed container".into()
    } else {
        m.to_string()
    }
}

/// `3.2s` under a minute, `1m5s` above.
fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(60) {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        crate::duration::humanize(d)
    }
}

/// The figure of the kubelet's `Successfully pulled image "x" in 3.207854023s (3.2s including
/// waiting). Image size: 123 bytes.` (older kubelets stop after the first figure). It is Go's
/// `time.Duration` text (`850ms`, `12.3s`, `1m5.2s`), which jiff's friendly format reads;
/// hubdeck's own duration grammar is for what people type, and refuses fractions.
pub(super) fn pull_time(m: &str) -> Option<Duration> {
    let rest = m.strip_prefix("Successfully pulled image \"")?;
    let (_, rest) = rest.split_once('"')?;
    let figure = rest
        .strip_prefix(" in ")?
        .split_whitespace()
        .next()?
        .trim_end_matches(['.', ',']);
    let d: jiff::SignedDuration = figure.parse().ok()?;
    Duration::try_from(d).ok()
}
