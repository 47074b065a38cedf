//! Which wave a hub rolls out in: named waves in order, each a list of hub-name patterns, as a
//! deployment repository's CI deploys every cluster's `staging` hub before the production ones.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fleet::HubId;

/// The wave definitions: their default order and the hub names each takes. A wave without
/// patterns takes every hub no other wave takes (at most one such wave).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaveRules {
    /// Every wave, in the order rollouts run them unless told otherwise.
    pub order: Vec<String>,
    /// Patterns per wave: `*` matches any run of characters; a pattern matches a hub's name
    /// (`staging`, or `namespace/release`) or its full name (`leap/staging`).
    pub patterns: BTreeMap<String, Vec<String>>,
    /// How many of a wave's hubs are acted on at once unless a rollout says otherwise
    /// (`[waves] parallel`).
    #[serde(default = "default_parallel")]
    pub parallel: usize,
}

fn default_parallel() -> usize {
    super::DEFAULT_PARALLEL
}

impl Default for WaveRules {
    /// `staging` (hubs named `staging`, `staging-*` or `*-staging`), then `prod` (the rest).
    fn default() -> Self {
        Self {
            order: vec!["staging".into(), "prod".into()],
            patterns: BTreeMap::from([(
                "staging".to_string(),
                vec!["staging".into(), "staging-*".into(), "*-staging".into()],
            )]),
            parallel: super::DEFAULT_PARALLEL,
        }
    }
}

/// A hub the waves asked for do not include, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// The hub.
    pub hub: HubId,
    /// Why it is not rolled out.
    pub why: String,
}

/// Hubs grouped into the waves asked for, in that order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    /// (wave, its hubs sorted by name) in run order; waves with no hub are kept, empty.
    pub waves: Vec<(String, Vec<HubId>)>,
    /// Hubs of waves not asked for, or of no wave.
    pub left_out: Vec<LeftOut>,
}

/// `*`-glob match of the whole text.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    if parts.len() == 1 {
        return pattern == text;
    }
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

impl WaveRules {
    /// Checks the definitions: a known, unrepeated order, at most one catch-all wave, no
    /// patterns for a wave the order does not name.
    pub fn check(&self) -> Result<(), String> {
        if self.order.is_empty() {
            return Err("waves: `order` names no wave".into());
        }
        if self.parallel == 0 {
            return Err("waves: `parallel` must be at least 1 (hubs acted on at once)".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for w in &self.order {
            if w.trim().is_empty() || w.contains(',') {
                return Err(format!("waves: {w:?} is not a wave name"));
            }
            if !seen.insert(w.as_str()) {
                return Err(format!("waves: {w:?} is listed twice in `order`"));
            }
        }
        if let Some(extra) = self.patterns.keys().find(|k| !seen.contains(k.as_str())) {
            return Err(format!(
                "waves: {extra:?} has patterns but is not in `order` ({})",
                self.order.join(", ")
            ));
        }
        let catch_all: Vec<&str> = self
            .order
            .iter()
            .filter(|w| self.patterns.get(*w).is_none_or(Vec::is_empty))
            .map(String::as_str)
            .collect();
        if catch_all.len() > 1 {
            return Err(format!(
                "waves: {} have no patterns; only one wave may take the hubs no other wave takes",
                catch_all.join(" and ")
            ));
        }
        Ok(())
    }

    /// The wave a hub belongs to: the first in `order` with a matching pattern, else the
    /// catch-all wave, else none.
    pub fn wave_of(&self, hub: &HubId) -> Option<&str> {
        let name = hub.key.name();
        let full = hub.to_string();
        let matching = |w: &&String| {
            self.patterns
                .get(*w)
                .is_some_and(|ps| ps.iter().any(|p| glob(p, &name) || glob(p, &full)))
        };
        self.order
            .iter()
            .find(matching)
            .or_else(|| {
                self.order
                    .iter()
                    .find(|w| self.patterns.get(*w).is_none_or(Vec::is_empty))
            })
            .map(String::as_str)
    }

    /// The waves to run: `asked` (names of defined waves, each once) or the whole order.
    pub fn run_order(&self, asked: Option<&[String]>) -> Result<Vec<String>, String> {
        let Some(asked) = asked else {
            return Ok(self.order.clone());
        };
        if asked.is_empty() {
            return Err("--waves names no wave".into());
        }
        let mut out: Vec<String> = Vec::with_capacity(asked.len());
        for w in asked {
            if !self.order.contains(w) {
                return Err(format!(
                    "unknown wave {:?}; waves: {}",
                    crate::text::clip(w, 40),
                    self.order.join(", ")
                ));
            }
            if out.contains(w) {
                return Err(format!("wave {w:?} is asked for twice"));
            }
            out.push(w.clone());
        }
        Ok(out)
    }

    /// Groups `hubs` into the waves `run` names, in that order.
    pub fn group(&self, hubs: &[HubId], run: &[String]) -> Grouping {
        let mut waves: Vec<(String, Vec<HubId>)> =
            run.iter().map(|w| (w.clone(), Vec::new())).collect();
        let mut left_out = Vec::new();
        let mut sorted: Vec<&HubId> = hubs.iter().collect();
        sorted.sort();
        sorted.dedup();
        for hub in sorted {
            match self.wave_of(hub) {
                Some(w) => match waves.iter_mut().find(|(name, _)| name == w) {
                    Some((_, list)) => list.push(hub.clone()),
                    None => left_out.push(LeftOut {
                        hub: hub.clone(),
                        why: format!("in wave {w}, which this rollout does not run"),
                    }),
                },
                None => left_out.push(LeftOut {
                    hub: hub.clone(),
                    why: "matches no wave's patterns".into(),
                }),
            }
        }
        Grouping { waves, left_out }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::fixtures::hub_id;

    #[test]
    fn globs_match_whole_names() {
        assert!(glob("staging", "staging"));
        assert!(!glob("staging", "staging2"));
        assert!(glob("*-staging", "dask-staging"));
        assert!(!glob("*-staging", "staging"));
        assert!(glob("staging-*", "staging-2"));
        assert!(glob("leap/*", "leap/prod"));
        assert!(glob("*a*b*", "xaxxb"));
        assert!(!glob("*a*b", "xbxa"));
        assert!(glob("*", ""));
    }

    #[test]
    fn staging_hubs_go_first_and_the_rest_are_prod() {
        let rules = WaveRules::default();
        let hubs = [
            hub_id("nasa", "prod"),
            hub_id("leap", "staging"),
            hub_id("leap", "dask-staging"),
            hub_id("leap", "prod"),
            hub_id("nasa", "staging"),
            hub_id("leap", "stagingarea"),
        ];
        let g = rules.group(&hubs, &rules.order);
        let names =
            |i: usize| -> Vec<String> { g.waves[i].1.iter().map(|h| h.to_string()).collect() };
        assert_eq!(g.waves[0].0, "staging");
        assert_eq!(
            names(0),
            ["leap/dask-staging", "leap/staging", "nasa/staging"]
        );
        assert_eq!(g.waves[1].0, "prod");
        assert_eq!(names(1), ["leap/prod", "leap/stagingarea", "nasa/prod"]);
        assert!(g.left_out.is_empty());
    }

    #[test]
    fn a_wave_not_asked_for_leaves_its_hubs_out_saying_so() {
        let rules = WaveRules::default();
        let run = rules.run_order(Some(&["staging".to_string()])).unwrap();
        let g = rules.group(&[hub_id("leap", "prod"), hub_id("leap", "staging")], &run);
        assert_eq!(g.waves.len(), 1);
        assert_eq!(g.waves[0].1, [hub_id("leap", "staging")]);
        assert_eq!(g.left_out.len(), 1);
        assert_eq!(
            g.left_out[0].why,
            "in wave prod, which this rollout does not run"
        );
        let err = rules.run_order(Some(&["canary".to_string()])).unwrap_err();
        assert_eq!(err, "unknown wave \"canary\"; waves: staging, prod");
    }

    #[test]
    fn configured_waves_match_full_names_and_are_checked() {
        let rules = WaveRules {
            order: vec!["staging".into(), "canary".into(), "prod".into()],
            patterns: BTreeMap::from([
                ("staging".to_string(), vec!["staging".to_string()]),
                ("canary".to_string(), vec!["leap/*".to_string()]),
            ]),
            parallel: 1,
        };
        rules.check().unwrap();
        assert_eq!(rules.wave_of(&hub_id("leap", "staging")), Some("staging"));
        assert_eq!(rules.wave_of(&hub_id("leap", "prod")), Some("canary"));
        assert_eq!(rules.wave_of(&hub_id("nasa", "prod")), Some("prod"));
        let two_catch_alls = WaveRules {
            order: vec!["a".into(), "b".into()],
            patterns: BTreeMap::new(),
            parallel: 1,
        };
        assert!(
            two_catch_alls
                .check()
                .unwrap_err()
                .contains("a and b have no patterns")
        );
        let stray = WaveRules {
            order: vec!["prod".into()],
            patterns: BTreeMap::from([("staging".to_string(), vec!["x".to_string()])]),
            parallel: 1,
        };
        assert!(stray.check().unwrap_err().contains("not in `order`"));
        let no_catch_all = WaveRules {
            order: vec!["staging".into()],
            patterns: BTreeMap::from([("staging".to_string(), vec!["staging".to_string()])]),
            parallel: 1,
        };
        let g = no_catch_all.group(&[hub_id("leap", "prod")], &no_catch_all.order);
        assert_eq!(g.left_out[0].why, "matches no wave's patterns");
    }
}
