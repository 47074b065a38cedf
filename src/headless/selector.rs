//! `--selector`: conditions on the fields of printed rows, in label-selector syntax
//! (`health!=ok,cluster=leap`). Fields are the JSON keys of the rows.

use serde::Serialize;

/// One `field=value` or `field!=value` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Condition {
    field: String,
    value: String,
    negated: bool,
}

/// All conditions must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    conditions: Vec<Condition>,
}

impl std::str::FromStr for Selector {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut conditions = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, value, negated) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, true)
            } else if let Some((f, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (f, v, false)
            } else {
                return Err(format!(
                    "selector {part:?}: expected FIELD=VALUE or FIELD!=VALUE"
                ));
            };
            if field.trim().is_empty() {
                return Err(format!("selector {part:?}: empty field name"));
            }
            conditions.push(Condition {
                field: field.trim().to_string(),
                value: value.trim().to_string(),
                negated,
            });
        }
        Ok(Self { conditions })
    }
}

impl Selector {
    /// Refuses a condition on a field the rows do not have: a misspelt field would otherwise
    /// match nothing (or everything, negated) without a word, and an assertion on it pass.
    pub fn check_fields(&self, listing: &str, fields: &[&str]) -> Result<(), String> {
        match self
            .conditions
            .iter()
            .find(|c| !fields.contains(&c.field.as_str()))
        {
            None => Ok(()),
            Some(c) => Err(format!(
                "selector field {:?} is not a field of {listing}; fields: {}",
                hubdeck_core::text::clip(&c.field, 60),
                fields.join(", ")
            )),
        }
    }

    /// Whether a row satisfies every condition. A missing field counts as empty.
    pub fn matches<R: Serialize>(&self, row: &R) -> bool {
        if self.conditions.is_empty() {
            return true;
        }
        let Ok(serde_json::Value::Object(map)) = serde_json::to_value(row) else {
            return false;
        };
        self.conditions.iter().all(|c| {
            let actual = match map.get(&c.field) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            };
            (actual == c.value) != c.negated
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        health: &'static str,
        ready: bool,
        node: Option<String>,
    }

    #[test]
    fn selector_conditions_all_hold() {
        let row = Row {
            health: "down",
            ready: false,
            node: None,
        };
        let s: Selector = "health!=ok, ready=false".parse().unwrap();
        assert!(s.matches(&row));
        let s: Selector = "health=ok".parse().unwrap();
        assert!(!s.matches(&row));
        let s: Selector = "node=".parse().unwrap();
        assert!(s.matches(&row));
    }

    #[test]
    fn a_condition_on_an_unknown_field_is_refused_naming_the_fields() {
        let sel: Selector = "phse=Pending,ready=true".parse().unwrap();
        let err = sel
            .check_fields("servers", &["phase", "ready"])
            .unwrap_err();
        assert_eq!(
            err,
            "selector field \"phse\" is not a field of servers; fields: phase, ready"
        );
        let ok: Selector = "phase!=Running".parse().unwrap();
        assert_eq!(ok.check_fields("servers", &["phase", "ready"]), Ok(()));
    }

    #[test]
    fn malformed_selector_names_the_part() {
        let err = "health".parse::<Selector>().unwrap_err();
        assert_eq!(
            err,
            "selector \"health\": expected FIELD=VALUE or FIELD!=VALUE"
        );
    }
}
