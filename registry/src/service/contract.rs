//! Confluent's data contracts: the `metadata` and `ruleSet` a schema version carries, their
//! validation (Confluent's messages, error 42210) and the merge a registration applies
//! (config default, then the request's or the previous version's, then config override).
//!
//! Maps and sets are ordered, so the JSON of a value is canonical: equal contracts serialize
//! to equal text, which is what the schema identity hashes.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::ServiceError;

/// Longest rule name Confluent accepts.
const RULE_NAME_MAX_LENGTH: usize = 256;

/// A schema's metadata: tags per path, free properties, names of sensitive properties.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Tags by path in the schema.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, BTreeSet<String>>,
    /// Properties (`major_version`, `owner`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    /// Names of properties whose values are sensitive.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub sensitive: BTreeSet<String>,
}

/// One rule of a rule set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// The rule's name, unique within its rule set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// TRANSFORM (default) or CONDITION.
    #[serde(default = "transform")]
    pub kind: String,
    /// UPGRADE, DOWNGRADE, UPDOWN, WRITE, READ or WRITEREAD (default).
    #[serde(default = "writeread")]
    pub mode: String,
    /// The rule executor (`CEL`, `ENCRYPT`, `JSONATA`, ...).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub rule_type: Option<String>,
    /// Tags of the fields the rule applies to.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub tags: BTreeSet<String>,
    /// Executor parameters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    /// The expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
    /// The action on success (two, comma-separated, for WRITEREAD and UPDOWN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_success: Option<String>,
    /// The action on failure (two, comma-separated, for WRITEREAD and UPDOWN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<String>,
    /// Whether the rule is off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

fn transform() -> String {
    "TRANSFORM".to_owned()
}

fn writeread() -> String {
    "WRITEREAD".to_owned()
}

/// The rules of a schema: migration, domain and encoding rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleSet {
    /// Rules run when reading across versions (UPGRADE, DOWNGRADE, UPDOWN).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub migration_rules: Vec<Rule>,
    /// Rules run on the data (WRITE, READ, WRITEREAD).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domain_rules: Vec<Rule>,
    /// Rules run on the encoded bytes (WRITE, READ, WRITEREAD).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encoding_rules: Vec<Rule>,
}

impl Rule {
    /// Checks the rule as Confluent's `Rule.validate` does.
    fn validate(&self) -> Result<(), ServiceError> {
        let invalid = |message: String| Err(ServiceError::InvalidRuleSet(message));
        let Some(name) = &self.name else {
            return invalid("Missing rule name".to_owned());
        };
        let mut chars = name.chars();
        let Some(first) = chars.next() else {
            return invalid("Empty rule name".to_owned());
        };
        if name.chars().count() > RULE_NAME_MAX_LENGTH {
            return invalid("Rule name too long".to_owned());
        }
        if !(first.is_alphabetic() || first == '_') {
            return invalid(format!("Illegal initial character in rule name: {name}"));
        }
        if !chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
            return invalid(format!("Illegal character in rule name: {name}"));
        }
        if !matches!(self.kind.as_str(), "TRANSFORM" | "CONDITION") {
            return invalid(format!("Invalid rule kind: {}", self.kind));
        }
        if !matches!(
            self.mode.as_str(),
            "UPGRADE" | "DOWNGRADE" | "UPDOWN" | "WRITE" | "READ" | "WRITEREAD"
        ) {
            return invalid(format!("Invalid rule mode: {}", self.mode));
        }
        if self.rule_type.is_none() {
            return invalid("Missing rule type".to_owned());
        }
        let single = !matches!(self.mode.as_str(), "WRITEREAD" | "UPDOWN");
        let multiple = |action: &Option<String>| action.as_deref().is_some_and(|a| a.contains(','));
        if single && (multiple(&self.on_success) || multiple(&self.on_failure)) {
            return invalid("Multiple actions only valid with WRITEREAD and UPDOWN".to_owned());
        }
        Ok(())
    }

    fn is_migration(&self) -> bool {
        matches!(self.mode.as_str(), "UPGRADE" | "DOWNGRADE" | "UPDOWN")
    }
}

impl RuleSet {
    /// Checks the rule set as Confluent's `RuleSet.validate` does: unique names, valid rules,
    /// and modes that fit each list.
    pub fn validate(&self) -> Result<(), ServiceError> {
        let mut names = BTreeSet::new();
        let lists = [
            (
                &self.migration_rules,
                true,
                "Migration rules can only be UPGRADE, DOWNGRADE, UPDOWN",
            ),
            (
                &self.domain_rules,
                false,
                "Domain rules can only be WRITE, READ, WRITEREAD",
            ),
            (
                &self.encoding_rules,
                false,
                "Encoding rules can only be WRITE, READ, WRITEREAD",
            ),
        ];
        for (rules, migration, wrong_mode) in lists {
            for rule in rules {
                if !names.insert(rule.name.clone()) {
                    return Err(ServiceError::InvalidRuleSet(format!(
                        "Found rule with duplicate name '{}'",
                        rule.name.as_deref().unwrap_or("null")
                    )));
                }
                rule.validate()?;
                if rule.is_migration() != migration {
                    return Err(ServiceError::InvalidRuleSet(wrong_mode.to_owned()));
                }
            }
        }
        Ok(())
    }
}

/// Merges `new` over `old` as Confluent's `Metadata.mergeMetadata`: a side that is absent
/// leaves the other; otherwise tags, properties and sensitive names are united, `new` winning.
pub fn merge_metadata(old: Option<Metadata>, new: Option<Metadata>) -> Option<Metadata> {
    match (old, new) {
        (None, new) => new,
        (old, None) => old,
        (Some(mut old), Some(new)) => {
            old.tags.extend(new.tags);
            old.properties.extend(new.properties);
            old.sensitive.extend(new.sensitive);
            Some(old)
        }
    }
}

/// Merges `new` over `old` as Confluent's `RuleSet.mergeRuleSets`: per list, the old rules
/// not named by a new one, then the new ones.
pub fn merge_rule_sets(old: Option<RuleSet>, new: Option<RuleSet>) -> Option<RuleSet> {
    match (old, new) {
        (None, new) => new,
        (old, None) => old,
        (Some(old), Some(new)) => Some(RuleSet {
            migration_rules: merge_rules(old.migration_rules, new.migration_rules),
            domain_rules: merge_rules(old.domain_rules, new.domain_rules),
            encoding_rules: merge_rules(old.encoding_rules, new.encoding_rules),
        }),
    }
}

fn merge_rules(old: Vec<Rule>, new: Vec<Rule>) -> Vec<Rule> {
    if old.is_empty() {
        return new;
    }
    if new.is_empty() {
        return old;
    }
    let mut merged: Vec<Rule> = old
        .into_iter()
        .filter(|rule| !new.iter().any(|n| n.name == rule.name))
        .collect();
    merged.extend(new);
    merged
}

/// Parses a stored JSON value (metadata or rule set).
pub(crate) fn parse_stored<T: for<'de> Deserialize<'de>>(
    text: Option<&str>,
) -> Result<Option<T>, ServiceError> {
    text.map(|text| {
        serde_json::from_str(text).map_err(|err| {
            ServiceError::Store(crate::storage::StorageError::Corrupt(format!(
                "data contract: {err}"
            )))
        })
    })
    .transpose()
}

/// The canonical JSON of a value to store, `None` for none.
pub(crate) fn to_stored<T: Serialize>(value: Option<&T>) -> Option<String> {
    value.and_then(|value| serde_json::to_string(value).ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule_set(rules: serde_json::Value) -> RuleSet {
        serde_json::from_value(json!({ "domainRules": rules })).unwrap()
    }

    fn message(set: &RuleSet) -> String {
        match set.validate() {
            Err(ServiceError::InvalidRuleSet(message)) => message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn validates_rules_as_confluent() {
        let ok = rule_set(json!([{"name": "checkSsn", "type": "CEL", "expr": "true"}]));
        ok.validate().unwrap();
        assert_eq!(
            message(&rule_set(json!([{"type": "CEL"}]))),
            "Missing rule name"
        );
        assert_eq!(
            message(&rule_set(json!([{"name": "a$b", "type": "CEL"}]))),
            "Illegal character in rule name: a$b"
        );
        assert_eq!(
            message(&rule_set(json!([{"name": "1a", "type": "CEL"}]))),
            "Illegal initial character in rule name: 1a"
        );
        assert_eq!(
            message(&rule_set(json!([{"name": "a"}]))),
            "Missing rule type"
        );
        assert_eq!(
            message(&rule_set(
                json!([{"name": "a", "type": "CEL", "mode": "WRITE", "onFailure": "ERROR,NONE"}])
            )),
            "Multiple actions only valid with WRITEREAD and UPDOWN"
        );
    }

    #[test]
    fn merges_in_confluent_order() {
        let old: Metadata =
            serde_json::from_value(json!({"properties": {"a": "1", "b": "1"}})).unwrap();
        let new: Metadata = serde_json::from_value(json!({"properties": {"b": "2"}})).unwrap();
        let merged = merge_metadata(Some(old), Some(new)).unwrap();
        assert_eq!(merged.properties["a"], "1");
        assert_eq!(merged.properties["b"], "2");
        let old = rule_set(
            json!([{"name": "x", "type": "CEL", "expr": "1"}, {"name": "y", "type": "CEL"}]),
        );
        let new = rule_set(json!([{"name": "x", "type": "CEL", "expr": "2"}]));
        let merged = merge_rule_sets(Some(old), Some(new)).unwrap();
        let names: Vec<_> = merged
            .domain_rules
            .iter()
            .map(|r| r.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["y", "x"]);
    }
}
