//! Why a user server is pending: the story its Events tell (the scheduler, cluster-autoscaler,
//! Karpenter, the attach-detach controller, the kubelet), kept while the pod is pending and only
//! then, a few steps per pod, newest first.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::objects::ObjectKey;

mod summary;

/// Steps a story is told in: the Event reasons that explain a wait. Events of other reasons
/// are not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Step {
    /// No node fits (`0/12 nodes are available: ...`), from the scheduler or Karpenter.
    FailedScheduling,
    /// cluster-autoscaler grows a node group for the pod.
    TriggeredScaleUp,
    /// cluster-autoscaler will not (a group at its maximum size, ...).
    NotTriggerScaleUp,
    /// Karpenter launches a node for the pod.
    Nominated,
    /// Bound to a node.
    Scheduled,
    /// A volume does not attach to the node.
    FailedAttachVolume,
    /// A volume does not mount.
    FailedMount,
    /// The runtime could not create the pod's sandbox (its network, usually).
    FailedCreatePodSandBox,
    /// The kubelet pulls an image.
    Pulling,
    /// The image is there: pulled (saying how long it took) or already present.
    Pulled,
    /// Pulling an image, or creating or starting a container, failed.
    Failed,
    /// Back-off pulling an image or restarting a container.
    BackOff,
}

impl Step {
    /// Every step.
    pub const ALL: [Step; 12] = [
        Self::FailedScheduling,
        Self::TriggeredScaleUp,
        Self::NotTriggerScaleUp,
        Self::Nominated,
        Self::Scheduled,
        Self::FailedAttachVolume,
        Self::FailedMount,
        Self::FailedCreatePodSandBox,
        Self::Pulling,
        Self::Pulled,
        Self::Failed,
        Self::BackOff,
    ];

    /// The step an Event's `reason` tells, if it tells one.
    pub fn from_reason(reason: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == reason)
    }

    /// The Event reason, as its reporter writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FailedScheduling => "FailedScheduling",
            Self::TriggeredScaleUp => "TriggeredScaleUp",
            Self::NotTriggerScaleUp => "NotTriggerScaleUp",
            Self::Nominated => "Nominated",
            Self::Scheduled => "Scheduled",
            Self::FailedAttachVolume => "FailedAttachVolume",
            Self::FailedMount => "FailedMount",
            Self::FailedCreatePodSandBox => "FailedCreatePodSandBox",
            Self::Pulling => "Pulling",
            Self::Pulled => "Pulled",
            Self::Failed => "Failed",
            Self::BackOff => "BackOff",
        }
    }

    /// Where the step comes in a pod's way to running. Most reporters write timestamps to the
    /// second, so the scheduler's FailedScheduling and the autoscaler's answer to it often
    /// share one: within a second, the later step is the newer.
    fn rank(self) -> u8 {
        match self {
            Self::FailedScheduling => 0,
            Self::TriggeredScaleUp | Self::NotTriggerScaleUp | Self::Nominated => 1,
            Self::Scheduled => 2,
            Self::FailedAttachVolume => 3,
            Self::FailedMount => 4,
            Self::FailedCreatePodSandBox => 5,
            Self::Pulling => 6,
            Self::Pulled => 7,
            Self::Failed => 8,
            Self::BackOff => 9,
        }
    }
}

/// Longest message kept, in characters: a scheduler's message on a large cluster can list
/// dozens of reasons, and the detail pane shows a few lines.
pub const MESSAGE_MAX: usize = 480;

/// One Event about a pod, reduced to a step of its story. Producers sanitize and clip the
/// message (`text::clip(message, MESSAGE_MAX)`): it comes from the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodEvent {
    /// Namespace and name of the Event object (its namespace is the pod's).
    pub key: ObjectKey,
    /// The pod it is about.
    pub pod: Arc<str>,
    /// What happened.
    pub step: Step,
    /// What the reporter said.
    pub message: Arc<str>,
    /// How often (`series.count` of events.k8s.io reporters, `count` of the others).
    pub count: u32,
    /// When it first happened (`eventTime`, or `firstTimestamp`).
    pub first: Option<Timestamp>,
    /// When it last happened (`series.lastObservedTime`, or `lastTimestamp`).
    pub last: Option<Timestamp>,
}

impl PodEvent {
    /// The step in a few words, for a table cell or an alert: `0/12 nodes: 3 Insufficient
    /// memory`, `scale-up triggered: pool-x 2->3`, `no scale-up: max node group size reached`,
    /// `image pulled in 12.3s`. Never depends on the time, so alerts built from it are stable.
    pub fn summary(&self) -> String {
        summary::summary(self)
    }

    /// The summary as of `now`: a pull in progress says for how long (`pulling image 40s`).
    pub fn summary_at(&self, now: Timestamp) -> String {
        let s = self.summary();
        match self.step {
            Step::Pulling => format!("{s} {}", crate::text::age(now, self.first)),
            _ => s,
        }
    }

    /// How long the pull took, by the kubelet's own figure (`Successfully pulled image "x" in
    /// 3.2s ...`); None for any other step, or an image that was already present.
    pub fn pull_time(&self) -> Option<Duration> {
        match self.step {
            Step::Pulled => summary::pull_time(&self.message),
            _ => None,
        }
    }

    /// When it last happened, else first.
    pub fn seen(&self) -> Option<Timestamp> {
        self.last.or(self.first)
    }

    /// Newest first: by the second it began, then by where the step comes, then by the
    /// sub-second part some reporters give, then by name so that the order is total.
    pub(crate) fn newest_first(&self, other: &Self) -> std::cmp::Ordering {
        let at = |e: &Self| {
            let t = e.first.or(e.last);
            (
                t.map_or(i64::MIN, |t| t.as_second()),
                e.step.rank(),
                t.map_or(0, |t| t.subsec_nanosecond()),
            )
        };
        at(other)
            .cmp(&at(self))
            .then_with(|| self.key.name.cmp(&other.key.name))
    }
}

/// Steps a story keeps: the newest of them.
pub const STORY_LEN: usize = 8;

/// A pending pod's story: its steps newest first, at most [`STORY_LEN`], one per Event object
/// (a repeated event updates its step).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Story {
    events: Vec<PodEvent>,
}

impl Story {
    /// The steps, newest first.
    pub fn iter(&self) -> std::slice::Iter<'_, PodEvent> {
        self.events.iter()
    }

    /// The newest step.
    pub fn newest(&self) -> Option<&PodEvent> {
        self.events.first()
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// How long the pull of `pulled` took: the kubelet's figure, else the time from the
    /// Pulling step before it to it.
    pub fn pull_time(&self, pulled: &PodEvent) -> Option<Duration> {
        if pulled.step != Step::Pulled {
            return None;
        }
        if let Some(d) = pulled.pull_time() {
            return Some(d);
        }
        let done = pulled.first?;
        let began = self
            .events
            .iter()
            .filter(|e| e.step == Step::Pulling)
            .filter_map(PodEvent::seen)
            .filter(|t| *t <= done)
            .max()?;
        Duration::try_from(done.duration_since(began)).ok()
    }

    /// Adds an event or updates the step of the same Event object; the oldest step goes when
    /// there are more than [`STORY_LEN`]. Returns whether the story changed.
    pub(crate) fn upsert(&mut self, event: PodEvent) -> bool {
        let mut changed = false;
        if let Some(i) = self.events.iter().position(|e| e.key == event.key) {
            if self.events[i] == event {
                return false;
            }
            self.events.remove(i);
            changed = true;
        }
        let at = self
            .events
            .partition_point(|e| e.newest_first(&event).is_lt());
        if at >= STORY_LEN {
            return changed;
        }
        self.events.insert(at, event);
        self.events.truncate(STORY_LEN);
        true
    }

    /// Drops the step of an Event object (deleted at its TTL); whether there was one.
    pub(crate) fn remove(&mut self, key: &ObjectKey) -> bool {
        let before = self.events.len();
        self.events.retain(|e| e.key != *key);
        self.events.len() != before
    }
}

#[cfg(test)]
mod tests;
