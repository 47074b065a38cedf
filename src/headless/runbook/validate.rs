//! A runbook is checked whole against the fleet before its first step runs, in `--dry-run` as
//! with `--yes`: every step's parameters, every hub and cluster it names, every assertion's
//! listing and selector. What only the run can tell (an alert that is not firing yet, how many
//! rows an assertion will count) is left to the step.

use std::fmt;

use jiff::Timestamp;

use super::steps::{Step, hub_ref};
use super::{Runbook, assert_query};
use crate::action::{Request, ResolveError, find_hub, resolve};
use crate::fleet::Fleet;
use crate::headless::exit;

/// One step that cannot run as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// 1-based step number.
    pub step: usize,
    /// Steps in the runbook.
    pub total: usize,
    /// The step, described.
    pub describe: String,
    /// What is wrong with it.
    pub message: String,
    /// The exit code the step would have failed with.
    pub code: i32,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {}/{} ({}): {}",
            self.step, self.total, self.describe, self.message
        )
    }
}

/// Every problem of the runbook, in step order; empty when it may run.
pub fn problems(
    fleet: &Fleet,
    book: &Runbook,
    rules: &hubdeck_core::rollout::WaveRules,
    now: Timestamp,
) -> Vec<Problem> {
    let total = book.steps.len();
    book.steps
        .iter()
        .enumerate()
        .filter_map(|(i, step)| {
            super::waves::check(fleet, rules, step)
                .unwrap_or_else(|| check(fleet, step, now))
                .err()
                .map(|(message, code)| Problem {
                    step: i + 1,
                    total,
                    describe: step.describe(),
                    message,
                    code,
                })
        })
        .collect()
}

fn check(fleet: &Fleet, step: &Step, now: Timestamp) -> Result<(), (String, i32)> {
    let usage = |e: String| (e, exit::USAGE);
    let unresolved = |e: ResolveError| (e.to_string(), exit::for_resolve(&e));
    match step.request().map_err(usage)? {
        Some(Request::Silence { comment, .. }) if comment.trim().is_empty() => {
            Err(usage("a silence needs a comment saying why".into()))
        }
        Some(request @ Request::Silence { .. }) => match resolve(fleet, &request, now) {
            Ok(_) | Err(ResolveError::NothingToDo(_)) => Ok(()),
            // The alert may start firing during the run (the step waits for it); the cluster
            // must exist, and an alert firing now must be one Alertmanager can silence.
            Err(ResolveError::NotFound(_)) if matches!(&request, Request::Silence { cluster, .. } if fleet.cluster(cluster).is_some()) => {
                Ok(())
            }
            Err(e) => Err(unresolved(e)),
        },
        Some(request) => match resolve(fleet, &request, now) {
            Ok(_) | Err(ResolveError::NothingToDo(_)) => Ok(()),
            Err(e) => Err(unresolved(e)),
        },
        None => match step {
            Step::Wait { hub, .. } => {
                let r = hub_ref(hub).map_err(usage)?;
                find_hub(fleet, &r).map(|_| ()).map_err(unresolved)
            }
            _ => {
                let Some((_, filter)) = assert_query(step).map_err(usage)? else {
                    return Ok(());
                };
                if let Some(c) = &filter.cluster
                    && fleet.cluster(c).is_none()
                {
                    return Err((format!("no cluster {c:?} in the fleet"), exit::CONFLICT));
                }
                match &filter.hub {
                    Some(r) => find_hub(fleet, r).map(|_| ()).map_err(unresolved),
                    None => Ok(()),
                }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::Thresholds;
    use crate::fleet::fixtures::{healthy_hub, t0};

    fn fleet() -> Fleet {
        let mut f = Fleet::new(Thresholds::default());
        f.apply_all(healthy_hub("leap", "prod", &["ada"]), t0());
        f
    }

    fn book(steps: &str) -> Runbook {
        serde_yaml_ng::from_str(&format!("steps:\n{steps}")).unwrap()
    }

    fn found(steps: &str) -> Vec<String> {
        problems(&fleet(), &book(steps), &Default::default(), t0())
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_runbook_naming_only_what_exists_has_no_problems() {
        let steps = "  - assert: {get: hubs, hub: leap/prod, selector: \"health!=down\", count: 1}\n  \
                     - restart: {hub: leap/prod}\n  - wait: {hub: leap/prod, ready: true}\n  \
                     - stop: {hub: leap/prod, idle_for: 8h}\n  \
                     - silence: {cluster: leap, alert: NotFiringYet, comment: maintenance}\n";
        assert_eq!(found(steps), Vec::<String>::new());
    }

    #[test]
    fn every_bad_step_is_named_not_only_the_first() {
        let steps = "  - restart: {hub: leap/prod}\n  - restart: {hub: leap/nope}\n  \
                     - wait: {hub: nasa/science}\n  \
                     - assert: {get: servers, selector: \"phse=Pending\", count: 0}\n  \
                     - stop: {hub: leap/prod}\n  \
                     - silence: {cluster: leap, alert: X, comment: \" \"}\n  \
                     - assert: {get: nodez, count: 0}\n";
        let p = problems(&fleet(), &book(steps), &Default::default(), t0());
        let steps: Vec<usize> = p.iter().map(|p| p.step).collect();
        assert_eq!(steps, [2, 3, 4, 5, 6, 7], "{p:#?}");
        assert!(
            p[0].to_string()
                .starts_with("step 2/7 (restart hub leap/nope): "),
            "{}",
            p[0]
        );
        assert!(
            p[2].message.contains("\"phse\" is not a field of servers"),
            "{}",
            p[2]
        );
        assert!(
            p[3].message.contains("either `user` or `idle_for`"),
            "{}",
            p[3]
        );
        assert!(p[4].message.contains("comment"), "{}", p[4]);
        assert!(p[5].message.contains("unknown listing"), "{}", p[5]);
        assert_eq!(p[0].code, exit::CONFLICT, "a hub that is not there");
        assert_eq!(p[2].code, exit::USAGE, "a selector that cannot match");
    }

    #[test]
    fn steps_over_many_hubs_are_checked_whole_before_step_one() {
        let steps = "  - restart: {hubs: {selector: \"cluster=leap\", settle: 1m}}\n  \
                     - restart: {hubs: {selector: \"clustr=leap\"}}\n  \
                     - scale: {hubs: {selector: \"cluster=leap\", waves: [canary]}, replicas: 1}\n  \
                     - restart: {hubs: {selector: \"cluster=mars\"}}\n  \
                     - scale: {hubs: {selector: \"cluster=leap\"}, replicas: 2}\n  \
                     - restart: {hub: leap/prod, hubs: {selector: \"cluster=leap\"}}\n  \
                     - patch-values: {hubs: {selector: \"cluster=leap\", settle: 20m, timeout: 10m}, merge_patch: {a: 1}}\n  \
                     - patch-values: {hubs: {selector: \"cluster=leap\"}, merge_patch: [1]}\n";
        let p = problems(&fleet(), &book(steps), &Default::default(), t0());
        let found: Vec<(usize, i32)> = p.iter().map(|p| (p.step, p.code)).collect();
        assert_eq!(
            found,
            [(2, 2), (3, 2), (4, 5), (5, 2), (6, 2), (7, 2), (8, 2)],
            "{p:#?}"
        );
        assert!(
            p[0].message.contains("\"clustr\" is not a field of hubs"),
            "{}",
            p[0]
        );
        assert!(p[1].message.contains("unknown wave \"canary\""), "{}", p[1]);
        assert_eq!(p[2].message, "the selector matches no hub");
        assert!(
            p[3].message.contains("leap/prod: the hub runs 0"),
            "{}",
            p[3]
        );
        assert!(p[4].message.contains("not both"), "{}", p[4]);
        assert!(
            p[5].message.contains("longer than the wave timeout"),
            "{}",
            p[5]
        );
        assert!(p[6].message.contains("must be a mapping"), "{}", p[6]);
    }

    #[test]
    fn a_silence_on_an_unknown_cluster_is_a_problem_even_though_alerts_may_fire_later() {
        let p = found("  - silence: {cluster: mars, alert: X, comment: why}\n");
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("no cluster \"mars\""), "{p:?}");
    }
}
