//! The vocabulary of a `ruleSet`, in Confluent's JSON: [`Rule`], [`RuleSet`], [`RuleKind`],
//! [`RuleMode`], the [`Action`] that follows a rule, and the [`Mode`] a message is processed
//! in.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

/// The mode a message is processed in.
///
/// A producer runs domain rules in `Write` mode, first to last; a consumer in `Read` mode,
/// last to first. A consumer reading a message written with another version of the subject
/// (another compatibility group) runs migration rules: `Upgrade` with the rules of each newer
/// version up to its own, first to last, `Downgrade` with the rules of each newer version down
/// to its own, last to first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Writing (serializing).
    Write,
    /// Reading (deserializing).
    Read,
    /// Migrating to a newer version.
    Upgrade,
    /// Migrating to an older version.
    Downgrade,
}

impl Mode {
    /// Whether rules run last to first in this mode (`Read`, `Downgrade`).
    pub fn reversed(self) -> bool {
        matches!(self, Mode::Read | Mode::Downgrade)
    }
}

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RuleKind {
    /// Changes the message (or a field's value).
    #[default]
    Transform,
    /// Accepts or refuses the message.
    Condition,
}

/// When a rule runs: in its own [`Mode`]; `WriteRead` rules in `Write` and `Read`, `UpDown`
/// rules in `Upgrade` and `Downgrade`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RuleMode {
    /// On write.
    Write,
    /// On read.
    Read,
    /// On write and on read.
    #[default]
    #[serde(rename = "WRITEREAD")]
    WriteRead,
    /// Migration to a newer version.
    Upgrade,
    /// Migration to an older version.
    Downgrade,
    /// Both migrations.
    #[serde(rename = "UPDOWN")]
    UpDown,
}

impl RuleMode {
    /// Whether a rule of this mode runs when a message is processed in `mode`.
    pub fn runs_in(self, mode: Mode) -> bool {
        matches!(
            (self, mode),
            (RuleMode::WriteRead, Mode::Write | Mode::Read)
                | (RuleMode::UpDown, Mode::Upgrade | Mode::Downgrade)
                | (RuleMode::Write, Mode::Write)
                | (RuleMode::Read, Mode::Read)
                | (RuleMode::Upgrade, Mode::Upgrade)
                | (RuleMode::Downgrade, Mode::Downgrade)
        )
    }

    /// Whether an action may be written as two, comma-separated: the first for `Write` or
    /// `Upgrade`, the second for `Read` or `Downgrade`.
    fn two_way(self) -> bool {
        matches!(self, RuleMode::WriteRead | RuleMode::UpDown)
    }
}

/// One rule of a `ruleSet`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Documentation, which is also the message of a failed CONDITION.
    #[serde(default)]
    pub doc: Option<String>,
    /// Its kind (TRANSFORM by default).
    #[serde(default)]
    pub kind: RuleKind,
    /// When it runs (WRITEREAD by default).
    #[serde(default)]
    pub mode: RuleMode,
    /// Its type, the executor that runs it (`ENCRYPT`, `CEL`, `CEL_FIELD`).
    #[serde(rename = "type", default)]
    pub rule_type: String,
    /// The field tags it applies to (every field when empty).
    #[serde(default)]
    pub tags: BTreeSet<String>,
    /// Its parameters.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Its expression (for CEL rules, `body` or `guard ; body`).
    #[serde(default)]
    pub expr: Option<String>,
    /// The action when it succeeds: `NONE` (the default), `ERROR` or `DLQ`; two,
    /// comma-separated, for WRITEREAD and UPDOWN rules (write or upgrade, then read or
    /// downgrade).
    #[serde(default)]
    pub on_success: Option<String>,
    /// The action when it fails: `ERROR` (the default), `NONE` or `DLQ`; two as above.
    #[serde(default)]
    pub on_failure: Option<String>,
    /// Whether it is switched off.
    #[serde(default)]
    pub disabled: bool,
}

/// What follows a rule's success or failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The message is refused: the write or the read fails.
    Error,
    /// Nothing: the next rule runs (after a failure, on the message as it was before).
    None,
    /// The message goes to the dead-letter queue, and is not processed further.
    Dlq,
}

/// A rule names an action that is not `ERROR`, `NONE` or `DLQ`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule `{rule}`: unknown action `{action}` (ERROR, NONE or DLQ)")]
pub struct UnknownAction {
    /// The rule.
    pub rule: String,
    /// The action as written.
    pub action: String,
}

impl Rule {
    /// The action after the rule succeeds in `mode` (`NONE` unless written).
    pub fn success_action(&self, mode: Mode) -> Result<Action, UnknownAction> {
        self.action(self.on_success.as_deref(), mode, Action::None)
    }

    /// The action after the rule fails in `mode` (`ERROR` unless written).
    pub fn failure_action(&self, mode: Mode) -> Result<Action, UnknownAction> {
        self.action(self.on_failure.as_deref(), mode, Action::Error)
    }

    fn action(
        &self,
        text: Option<&str>,
        mode: Mode,
        default: Action,
    ) -> Result<Action, UnknownAction> {
        let text = text.unwrap_or_default();
        let name = match text.split_once(',') {
            Some((forward, backward)) if self.mode.two_way() => {
                if mode.reversed() {
                    backward.split(',').next().unwrap_or_default()
                } else {
                    forward
                }
            }
            _ => text,
        };
        match name {
            "" => Ok(default),
            "ERROR" => Ok(Action::Error),
            "NONE" => Ok(Action::None),
            "DLQ" => Ok(Action::Dlq),
            other => Err(UnknownAction {
                rule: self.name.clone(),
                action: other.to_owned(),
            }),
        }
    }

    /// The message of a failed CONDITION, as Confluent's clients word it: the rule's `doc`,
    /// else `Rule expr failed:` and the expression, else `Rule failed:` and the name.
    pub fn condition_message(&self) -> String {
        match (&self.doc, &self.expr) {
            (Some(doc), _) if !doc.is_empty() => doc.clone(),
            (_, Some(expr)) if !expr.is_empty() => format!("Rule expr failed: {expr}"),
            _ => format!("Rule failed: {}", self.name),
        }
    }

    /// Whether the rule is on and runs in `mode`.
    pub fn runs_in(&self, mode: Mode) -> bool {
        !self.disabled && self.mode.runs_in(mode)
    }
}

/// A schema's `ruleSet`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSet {
    /// Rules on messages of the schema.
    #[serde(default)]
    pub domain_rules: Vec<Rule>,
    /// Rules between versions (not run by Herald's [`Contract`](super::Contract) yet).
    #[serde(default)]
    pub migration_rules: Vec<Rule>,
}

impl RuleSet {
    /// Whether any domain rule runs in `mode`.
    pub fn runs_in(&self, mode: Mode) -> bool {
        self.domain_rules.iter().any(|rule| rule.runs_in(mode))
    }
}
