//! [`CelExecutor`]: CEL rules run by a [`Contract`](crate::contract::Contract) on Avro datums.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::types::Value as Avro;
use apache_avro::writer::datum::GenericDatumWriter;
use serde_json::Value;

use super::{Cause, CelRules, Decision, Refusal, Schema};
use crate::contract::{BoxFuture, RuleContext, RuleError, RuleExecutor, RuleKind};

/// Runs rules of type `CEL` or `CEL_FIELD` on a message's Avro datum: the datum is read as
/// Confluent's JSON view of an Avro record (a union as its branch's value, an enum as its
/// symbol, bytes as a list of ints), the rule runs on it as [`CelRules`] runs it, and a
/// TRANSFORM's result is written back with the writer's schema. A false CONDITION fails with
/// [`RuleError::Condition`] and Confluent's message. Each rule is compiled once per schema
/// id.
#[derive(Debug)]
pub struct CelExecutor {
    rule_type: &'static str,
    compiled: Mutex<HashMap<(u32, String), Arc<CelRules>>>,
}

impl CelExecutor {
    /// The executor of type `CEL` (the expression sees the whole message).
    pub fn cel() -> Self {
        CelExecutor::of("CEL")
    }

    /// The executor of type `CEL_FIELD` (the expression sees each field's value).
    pub fn cel_field() -> Self {
        CelExecutor::of("CEL_FIELD")
    }

    fn of(rule_type: &'static str) -> Self {
        CelExecutor {
            rule_type,
            compiled: Mutex::new(HashMap::new()),
        }
    }

    /// The rule of `context`, compiled against its schema.
    fn rules(&self, context: &RuleContext<'_>) -> Result<Arc<CelRules>, RuleError> {
        let key = (context.schema.id, context.rule.name.clone());
        let mut compiled = self.compiled.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(rules) = compiled.get(&key) {
            return Ok(Arc::clone(rules));
        }
        let schema: Value = serde_json::from_str(&context.schema.text)
            .map_err(|error| RuleError::Schema(error.to_string()))?;
        let rules = CelRules::compile(
            std::slice::from_ref(context.rule),
            Schema::Avro(&schema),
            &context.schema.tags,
        )
        .map_err(|error| RuleError::Expression {
            rule: context.rule.name.clone(),
            message: error.to_string(),
        })?;
        let rules = Arc::new(rules);
        compiled.insert(key, Arc::clone(&rules));
        Ok(rules)
    }

    fn run(&self, context: RuleContext<'_>, datum: Vec<u8>) -> Result<Vec<u8>, RuleError> {
        let avro = context
            .schema
            .avro
            .as_ref()
            .ok_or(RuleError::UnsupportedSchema(context.schema.schema_type))?;
        let schema = avro.schema();
        let invalid = |error: apache_avro::Error| RuleError::Datum(error.to_string());
        let value = GenericDatumReader::builder(schema)
            .build()
            .and_then(|reader| reader.read_value(&mut datum.as_slice()))
            .map_err(invalid)?;
        let message = Value::try_from(value).map_err(invalid)?;
        let rules = self.rules(&context)?;
        match rules.run(context.mode, message) {
            Decision::Accept(_) if context.rule.kind == RuleKind::Condition => Ok(datum),
            Decision::Accept(message) => {
                let value = Avro::try_from(message)
                    .and_then(|value| value.resolve(schema))
                    .map_err(|error| RuleError::Expression {
                        rule: context.rule.name.clone(),
                        message: format!(
                            "the transformed message does not fit the schema: {error}"
                        ),
                    })?;
                GenericDatumWriter::builder(schema)
                    .build()
                    .and_then(|writer| writer.write_value_to_vec(value))
                    .map_err(invalid)
            }
            Decision::Refuse(refusal) | Decision::DeadLetter(refusal) => Err(refused(refusal)),
        }
    }
}

/// The error of a rule that stopped a message (a dead letter too: the contract has no
/// dead-letter queue).
fn refused(refusal: Refusal) -> RuleError {
    match refusal.cause {
        Cause::Condition(message) => RuleError::Condition {
            rule: refusal.rule,
            message,
        },
        cause => RuleError::Expression {
            rule: refusal.rule,
            message: cause.to_string(),
        },
    }
}

impl RuleExecutor for CelExecutor {
    fn rule_type(&self) -> &str {
        self.rule_type
    }

    fn execute<'a>(
        &'a self,
        context: RuleContext<'a>,
        datum: Vec<u8>,
    ) -> BoxFuture<'a, Result<Vec<u8>, RuleError>> {
        Box::pin(std::future::ready(self.run(context, datum)))
    }
}
