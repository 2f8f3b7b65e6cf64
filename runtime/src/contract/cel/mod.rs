//! CEL rules of Confluent data contracts, evaluated as Confluent's clients evaluate them.
//!
//! A schema version's `ruleSet` lists domain rules (modes `WRITE`, `READ`, `WRITEREAD`) and
//! migration rules (`UPGRADE`, `DOWNGRADE`, `UPDOWN`). [`CelRules::compile`] compiles the
//! rules of type `CEL` and `CEL_FIELD` of one such list once, against the schema that gives
//! their fields types and tags; [`CelRules::run`] then runs them on each message in one mode
//! and answers a [`Decision`] the caller acts on. Rules of other types (`ENCRYPT`, `JSONATA`,
//! ...) are left to their own executors.
//!
//! - `CEL`: the expression sees the whole message as `message`. A CONDITION must give a
//!   `bool`; a TRANSFORM gives the new message.
//! - `CEL_FIELD`: the expression runs once for each primitive field value (see the walk
//!   below), with `value`, `name`, `fullName`, `typeName` (`STRING`, `INT`, `LONG`, `FLOAT`,
//!   `DOUBLE`, `BOOLEAN`, `BYTES`, `NULL`), `tags` (the field's `confluent:tags` and the
//!   metadata's tags whose path pattern matches `fullName`) and `message` (the record holding
//!   the field). A rule with `tags` only visits fields sharing one of them. A TRANSFORM's
//!   result replaces the value; a CONDITION fails on the first field where it gives `false`.
//!   Of several TRANSFORMs with the same mode and the same tags, only the first runs.
//! - Either may be written `guard ; body`: when the guard is not true (Python's truthiness,
//!   as Confluent's Python client has it) a CONDITION passes and a TRANSFORM changes nothing.
//!
//! Fields are walked as Confluent's clients walk them: an Avro record's fields present in the
//! message, with `fullName` the record's full name, a dot and the field's name, unions by the
//! branch that holds the value (a null value takes the `null` branch and is visited with
//! `typeName` `NULL`), array items and map values under their field; a JSON Schema's
//! `properties`, with `fullName` the path from `$` (`$.address.city`), through `$ref`s
//! (local ones), `allOf`, `anyOf` (every branch that holds the value), `oneOf` (the first)
//! and `type` lists, skipping null values. Enums and fixed values are not visited. Which
//! branch holds a value is told from its JSON shape (type, required properties, enum
//! symbols), where Confluent's clients validate it against the branch.
//!
//! The message is a JSON value: objects are CEL maps, integers `int`, other numbers
//! `double` (and a field the schema declares `float` or `double` is a `double` even when its
//! JSON has no fraction).

mod executor;
mod functions;
mod value;
mod walk;
mod wildcard;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, OnceLock};

use cel::{Context, Env, Program};
use serde_json::Value;

use cel::common::types::{CelList, CelString};

use super::{Action, Mode, Rule, RuleKind, UnknownAction};
use value::{to_json, to_val, to_val_double, truthy};
use walk::{FieldType, Leaf, Tree, Verdict};

pub use executor::CelExecutor;

/// The schema a rule set's fields are typed by: the writer's schema when producing, the
/// reader's when consuming.
#[derive(Debug, Clone, Copy)]
pub enum Schema<'a> {
    /// An Avro schema (its JSON).
    Avro(&'a Value),
    /// A JSON Schema.
    Json(&'a Value),
}

/// Why a rule set could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CelError {
    /// A rule's expression is not valid CEL.
    #[error("rule `{rule}`: invalid CEL: {message}")]
    Expression {
        /// The rule.
        rule: String,
        /// The parser's message.
        message: String,
    },
    /// A rule names an action that is not ERROR, NONE or DLQ.
    #[error(transparent)]
    Action(#[from] UnknownAction),
    /// The schema cannot be walked.
    #[error("schema: {0}")]
    Schema(String),
}

/// What the caller does with a message after [`CelRules::run`].
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Go on with this message (changed by the TRANSFORMs that ran).
    Accept(Value),
    /// Refuse the message (action ERROR): the write or the read fails.
    Refuse(Refusal),
    /// Send the message to the dead-letter table (action DLQ) and go no further.
    DeadLetter(Refusal),
}

/// The rule that stopped a message, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The rule's name.
    pub rule: String,
    /// The mode the message was processed in.
    pub mode: Mode,
    /// What the rule did.
    pub cause: Cause,
}

/// How a rule ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Cause {
    /// A CONDITION was false; Confluent's message (the rule's `doc`, or `Rule expr failed:`
    /// and the expression).
    Condition(String),
    /// The expression could not be evaluated (a missing field, a type error, a CONDITION
    /// that did not give a `bool`, a TRANSFORM whose result JSON cannot hold).
    Evaluation(String),
    /// The rule succeeded, and its `onSuccess` action stops the message.
    Succeeded,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Condition(message) => f.write_str(message),
            Cause::Evaluation(message) => write!(f, "CEL evaluation failed: {message}"),
            Cause::Succeeded => f.write_str("the rule succeeded and its action stops the message"),
        }
    }
}

/// One compiled rule.
#[derive(Debug)]
struct Compiled {
    rule: Rule,
    /// `CEL_FIELD` rather than `CEL`.
    field: bool,
    guard: Option<Program>,
    /// `None`: the rule has no expression and passes, as in Confluent's clients.
    body: Option<Program>,
    /// The expression binds `message` (a field rule converts the record only then).
    uses_message: bool,
    condition_message: String,
    /// A field TRANSFORM after another one with the same mode and tags: it never runs.
    shadowed: bool,
}

/// The CEL rules of one rule list (a version's domain rules or its migration rules),
/// compiled against its schema.
#[derive(Debug)]
pub struct CelRules {
    rules: Vec<Compiled>,
    /// The schema's walk, when a `CEL_FIELD` rule needs it.
    tree: Option<Tree>,
}

/// The environment every rule is compiled and run in: CEL's standard library (with `has`,
/// `all`, `exists`, `exists_one`, `map`, `filter`, `size`, `contains`, `startsWith`,
/// `endsWith`, `matches`), the strings extension (`lowerAscii`, `upperAscii`, `trim`,
/// `replace`, `split`, `substring`, `indexOf`, ...) and the checks Confluent's executors add
/// (`isEmail`, `isHostname`, `isIpv4`, `isIpv6`, `isUri`, `isUriRef`, `isUuid`).
fn env() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        // Declaring these on a fresh environment cannot conflict; were it to, the rules
        // would only miss the functions.
        let _ = env.add_extension(cel::extensions::strings);
        let _ = functions::declare(&mut env);
        Arc::new(env)
    })
    .clone()
}

impl CelRules {
    /// Compiles the `CEL` and `CEL_FIELD` rules of `rules`; `tags` are the schema metadata's
    /// tags by path pattern (`metadata.tags`).
    pub fn compile(
        rules: &[Rule],
        schema: Schema<'_>,
        tags: &BTreeMap<String, BTreeSet<String>>,
    ) -> Result<CelRules, CelError> {
        let env = env();
        let mut compiled: Vec<Compiled> = Vec::new();
        for rule in rules {
            let field = match rule.rule_type.to_ascii_uppercase().as_str() {
                "CEL" => false,
                "CEL_FIELD" => true,
                _ => continue,
            };
            for mode in [Mode::Write, Mode::Read, Mode::Upgrade, Mode::Downgrade] {
                rule.success_action(mode)?;
                rule.failure_action(mode)?;
            }
            let program = |source: &str| {
                env.compile(source).map_err(|error| CelError::Expression {
                    rule: rule.name.clone(),
                    message: error.to_string(),
                })
            };
            let (guard, body) = match rule.expr.as_deref() {
                None => (None, None),
                Some(expr) => match expr.split_once(';') {
                    Some((guard, body)) if !guard.trim().is_empty() => {
                        (Some(program(guard)?), Some(program(body)?))
                    }
                    Some((_, body)) => (None, Some(program(body)?)),
                    None => (None, Some(program(expr)?)),
                },
            };
            let uses_message = [&guard, &body]
                .into_iter()
                .flatten()
                .any(|p| p.references().has_variable("message"));
            let shadowed = field
                && rule.kind == RuleKind::Transform
                && !rule.tags.is_empty()
                && compiled.iter().any(|earlier| {
                    earlier.field
                        && earlier.rule.kind == RuleKind::Transform
                        && earlier.rule.mode == rule.mode
                        && earlier.rule.tags == rule.tags
                });
            compiled.push(Compiled {
                rule: rule.clone(),
                field,
                guard,
                body,
                uses_message,
                condition_message: rule.condition_message(),
                shadowed,
            });
        }
        let tree = if compiled.iter().any(|rule| rule.field) {
            Some(match schema {
                Schema::Avro(schema) => Tree::avro(schema, tags)?,
                Schema::Json(schema) => Tree::json_schema(schema, tags)?,
            })
        } else {
            None
        };
        Ok(CelRules {
            rules: compiled,
            tree,
        })
    }

    /// Whether a rule runs in `mode` (when none does, [`run`](Self::run) accepts every
    /// message as it is).
    pub fn runs_in(&self, mode: Mode) -> bool {
        self.rules
            .iter()
            .any(|compiled| compiled.rule.runs_in(mode))
    }

    /// Runs the rules of `mode` on `message`, in order (last to first when reading or
    /// downgrading), each rule's action deciding what follows.
    pub fn run(&self, mode: Mode, message: Value) -> Decision {
        let mut message = message;
        let order: Box<dyn Iterator<Item = &Compiled>> = if mode.reversed() {
            Box::new(self.rules.iter().rev())
        } else {
            Box::new(self.rules.iter())
        };
        for rule in order {
            if rule.shadowed || !rule.rule.runs_in(mode) {
                continue;
            }
            // The actions parsed when the rule was compiled.
            let (action, cause) = match self.evaluate(rule, &mut message) {
                Ok(()) => (
                    rule.rule.success_action(mode).unwrap_or(Action::None),
                    Cause::Succeeded,
                ),
                Err(cause) => (
                    rule.rule.failure_action(mode).unwrap_or(Action::Error),
                    cause,
                ),
            };
            let refusal = || Refusal {
                rule: rule.rule.name.clone(),
                mode,
                cause: cause.clone(),
            };
            match action {
                Action::None => {}
                Action::Error => return Decision::Refuse(refusal()),
                Action::Dlq => return Decision::DeadLetter(refusal()),
            }
        }
        Decision::Accept(message)
    }

    /// Runs one rule: a TRANSFORM replaces `message` when it succeeds, and leaves it as it
    /// was when it fails.
    fn evaluate(&self, rule: &Compiled, message: &mut Value) -> Result<(), Cause> {
        let Some(body) = &rule.body else {
            return Ok(());
        };
        match (&self.tree, rule.field) {
            (Some(tree), true) => self.evaluate_fields(tree, rule, body, message),
            _ => {
                let mut context = Context::with_env(env());
                context.add_variable_as_val("message", to_val(message));
                let Some(result) = run(rule, body, &context)? else {
                    return Ok(());
                };
                drop(context);
                match rule.rule.kind {
                    RuleKind::Condition => condition(rule, &result),
                    RuleKind::Transform => match to_json(&result) {
                        Some(Value::Null) | None => Err(Cause::Evaluation(format!(
                            "the transform gave {result:?}, not a message"
                        ))),
                        Some(new) => {
                            *message = new;
                            Ok(())
                        }
                    },
                }
            }
        }
    }

    fn evaluate_fields(
        &self,
        tree: &Tree,
        rule: &Compiled,
        body: &Program,
        message: &mut Value,
    ) -> Result<(), Cause> {
        let mut visit = |leaf: Leaf<'_>, value: &mut Value| -> Result<Verdict, Cause> {
            if !rule.rule.tags.is_empty() && rule.rule.tags.is_disjoint(&leaf.field.tags) {
                return Ok(None);
            }
            let mut context = Context::with_env(env());
            let bound = match leaf.kind {
                FieldType::Float | FieldType::Double => to_val_double(value),
                _ => to_val(value),
            };
            context.add_variable_as_val("value", bound);
            let field = leaf.field;
            context.add_variable_as_val("name", Box::new(CelString::from(field.name.as_str())));
            context.add_variable_as_val(
                "fullName",
                Box::new(CelString::from(field.full_name.as_str())),
            );
            context.add_variable_as_val("typeName", Box::new(CelString::from(leaf.kind.name())));
            let tags: Vec<Box<dyn cel::common::value::Val + '_>> = field
                .tags
                .iter()
                .map(|tag| Box::new(CelString::from(tag.as_str())) as Box<_>)
                .collect();
            context.add_variable_as_val("tags", Box::new(CelList::from(tags)));
            if let Some(record) = leaf.message {
                context.add_variable_as_val("message", to_val(record));
            }
            let Some(result) = run(rule, body, &context)? else {
                return Ok(match rule.rule.kind {
                    RuleKind::Condition => Some(true),
                    RuleKind::Transform => None,
                });
            };
            drop(context);
            match rule.rule.kind {
                RuleKind::Condition => match result {
                    cel::Value::Bool(verdict) => Ok(Some(verdict)),
                    other => Err(not_bool(&other)),
                },
                RuleKind::Transform => {
                    *value = to_json(&result).ok_or_else(|| {
                        Cause::Evaluation(format!("the transform gave {result:?}, not JSON"))
                    })?;
                    Ok(None)
                }
            }
        };
        let refused = || Cause::Condition(rule.condition_message.clone());
        match rule.rule.kind {
            RuleKind::Condition => tree.walk(message, rule.uses_message, &mut visit, &refused),
            RuleKind::Transform => {
                let mut changed = message.clone();
                tree.walk(&mut changed, rule.uses_message, &mut visit, &refused)?;
                *message = changed;
                Ok(())
            }
        }
    }
}

/// Runs a rule's guard, then its body, with the variables of `context`: `None` when the
/// guard stops the body.
fn run(
    rule: &Compiled,
    body: &Program,
    context: &Context<'_, '_>,
) -> Result<Option<cel::Value>, Cause> {
    let execute = |program: &Program| {
        program
            .execute(context)
            .map_err(|error| Cause::Evaluation(error.to_string()))
    };
    if let Some(guard) = &rule.guard
        && !truthy(&execute(guard)?)
    {
        return Ok(None);
    }
    execute(body).map(Some)
}

/// A CONDITION's result: `true` passes, `false` fails with Confluent's message.
fn condition(rule: &Compiled, result: &cel::Value) -> Result<(), Cause> {
    match result {
        cel::Value::Bool(true) => Ok(()),
        cel::Value::Bool(false) => Err(Cause::Condition(rule.condition_message.clone())),
        other => Err(not_bool(other)),
    }
}

fn not_bool(result: &cel::Value) -> Cause {
    Cause::Evaluation(format!("a condition must give a bool, not {result:?}"))
}

#[cfg(test)]
mod tests;
