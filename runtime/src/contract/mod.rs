//! Data contracts: running the rules of a registered schema's `ruleSet` on messages, as
//! Confluent's serializers do, so that Herald and Confluent's clients read each other's
//! messages.
//!
//! A registered schema may carry `ruleSet.domainRules`, each with a `type` (`ENCRYPT`,
//! `CEL`, ...), a `kind` (`TRANSFORM` or `CONDITION`), a `mode` (`WRITE`, `READ` or
//! `WRITEREAD`), `tags` selecting fields and `params`. A [`Contract`] runs them on a message
//! with the [`RuleExecutor`] registered for each type: on write in order, on read in reverse
//! order. A rule whose type has no executor fails the message (unless its `onFailure` is
//! `NONE`), as in Confluent's clients.
//!
//! **The seam.** An executor receives a [`RuleContext`] (the rule, its parameters, the mode,
//! the subject and the writer's schema) and the message's datum in the schema's binary
//! encoding, and returns the datum to go on with: a `TRANSFORM` returns it changed, a
//! `CONDITION` returns it unchanged or fails with [`RuleError::Condition`]. An executor that
//! works on values decodes the datum with [`AvroSchema::schema`] (apache-avro) and encodes
//! its result back; field-level executors use the tag selection of [`RuleContext`]. Only Avro
//! schemas are supported so far: a JSON Schema or Protobuf schema with rules that apply is
//! refused with [`RuleError::UnsupportedSchema`].
//!
//! **Field encryption** ([`FieldEncryption`], type `ENCRYPT`) is Confluent's
//! `FieldEncryptionExecutor`: see its documentation for the parameters and the ciphertext
//! format.

#[cfg(feature = "rules")]
pub mod cel;
mod encrypt;
mod fields;
mod kms;
mod rules;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Deserialize;

pub use encrypt::FieldEncryption;
pub use fields::{AvroSchema, FieldKind};
pub use kms::{BoxFuture, KeyBytes, Kms, KmsError, LOCAL_KMS, LocalKms};
pub use rules::{Action, Mode, Rule, RuleKind, RuleMode, RuleSet, UnknownAction};

use crate::registry_client::{RegisteredSchema, RegistryClient, RegistryError, SchemaType};

/// A writer's schema with what its rules need: the parsed Avro schema, the `ruleSet` and the
/// `metadata.properties` that rule parameters fall back to.
#[derive(Debug)]
pub struct ContractSchema {
    /// The registry id.
    pub id: u32,
    /// The schema's kind.
    pub schema_type: SchemaType,
    /// The parsed schema (Avro only).
    pub avro: Option<AvroSchema>,
    /// The rules.
    pub rules: RuleSet,
    /// `metadata.properties`.
    pub properties: BTreeMap<String, String>,
    /// `metadata.tags`: field tags by path pattern (`com.example.Order.ssn`, `**.ssn`).
    pub tags: BTreeMap<String, BTreeSet<String>>,
    /// The schema's text, as registered.
    pub text: String,
}

impl ContractSchema {
    /// Reads a registered schema's contract.
    pub fn of(schema: &RegisteredSchema) -> Result<Self, RuleError> {
        let rules = match &schema.rule_set {
            Some(rules) => RuleSet::deserialize(rules)
                .map_err(|error| RuleError::Schema(format!("ruleSet: {error}")))?,
            None => RuleSet::default(),
        };
        let metadata = |key: &str| schema.metadata.as_ref().and_then(|m| m.get(key));
        let properties = metadata("properties")
            .and_then(|properties| BTreeMap::deserialize(properties).ok())
            .unwrap_or_default();
        let tags = metadata("tags")
            .and_then(|tags| BTreeMap::deserialize(tags).ok())
            .unwrap_or_default();
        let avro = match schema.schema_type {
            SchemaType::Avro => Some(AvroSchema::parse(&schema.schema)?),
            _ => None,
        };
        Ok(ContractSchema {
            id: schema.id,
            schema_type: schema.schema_type,
            avro,
            rules,
            properties,
            tags,
            text: schema.schema.clone(),
        })
    }

    /// Whether any domain rule runs in `mode`.
    pub fn has_rules(&self, mode: Mode) -> bool {
        self.rules.runs_in(mode)
    }
}

/// What an executor is given besides the datum.
#[derive(Debug, Clone, Copy)]
pub struct RuleContext<'a> {
    /// Writing or reading.
    pub mode: Mode,
    /// The subject the message is written to or read from (`orders-value`).
    pub subject: &'a str,
    /// The rule.
    pub rule: &'a Rule,
    /// The writer's schema.
    pub schema: &'a ContractSchema,
}

impl<'a> RuleContext<'a> {
    /// A parameter: the rule's own, else the schema's `metadata.properties`, as in
    /// Confluent's clients.
    pub fn parameter(&self, name: &str) -> Option<&'a str> {
        self.rule
            .params
            .get(name)
            .or_else(|| self.schema.properties.get(name))
            .map(String::as_str)
    }
}

/// Runs one type of rule.
pub trait RuleExecutor: Send + Sync + fmt::Debug {
    /// The rule type it runs (`ENCRYPT`), upper case.
    fn rule_type(&self) -> &str;

    /// Runs `context.rule` on `datum` (a datum of `context.schema` in its binary encoding)
    /// and returns the datum to go on with.
    fn execute<'a>(
        &'a self,
        context: RuleContext<'a>,
        datum: Vec<u8>,
    ) -> BoxFuture<'a, Result<Vec<u8>, RuleError>>;
}

/// Why a rule failed. It never holds key material or field values.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The schema or its `ruleSet` does not parse.
    #[error("the writer's schema: {0}")]
    Schema(String),
    /// The datum does not match its schema.
    #[error("the datum does not match its schema: {0}")]
    Datum(String),
    /// A rule selects a field whose type it cannot transform.
    #[error("field `{0}` is tagged for encryption but is neither a string nor bytes")]
    UnsupportedField(String),
    /// Rules apply to a schema kind Herald does not run them on yet.
    #[error("data-contract rules on {0:?} schemas are not supported")]
    UnsupportedSchema(SchemaType),
    /// No executor runs the rule's type.
    #[error("rule `{rule}`: no executor for rule type `{rule_type}`")]
    NoExecutor {
        /// The rule.
        rule: String,
        /// Its type.
        rule_type: String,
    },
    /// A rule parameter is missing or wrong.
    #[error("rule `{rule}`: {message}")]
    Parameter {
        /// The rule.
        rule: String,
        /// What is wrong.
        message: String,
    },
    /// A condition refused the message, with Confluent's message (the rule's `doc`, or
    /// `Rule expr failed:` and the expression).
    #[error("rule `{rule}`: {message}")]
    Condition {
        /// The rule.
        rule: String,
        /// Why.
        message: String,
    },
    /// A rule's expression did not compile or could not be evaluated.
    #[error("rule `{rule}`: {message}")]
    Expression {
        /// The rule.
        rule: String,
        /// What failed.
        message: String,
    },
    /// The registry (schemas, KEKs, DEKs) failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The KMS failed.
    #[error(transparent)]
    Kms(#[from] KmsError),
    /// A key is missing, or encryption or decryption failed.
    #[error("{0}")]
    Key(String),
}

/// The rules of registered schemas, run with one executor per rule type; cheap to share
/// behind an `Arc`. Schemas are fetched once per id.
#[derive(Debug)]
pub struct Contract {
    registry: RegistryClient,
    executors: HashMap<String, Arc<dyn RuleExecutor>>,
    schemas: Mutex<HashMap<u32, Arc<ContractSchema>>>,
}

impl Contract {
    /// Schemas come from `registry`; with feature `rules`, CEL rules (types `CEL` and
    /// `CEL_FIELD`) run with [`cel::CelExecutor`], other types need [`with_executor`](Self::with_executor).
    pub fn new(registry: RegistryClient) -> Self {
        let contract = Contract {
            registry,
            executors: HashMap::new(),
            schemas: Mutex::new(HashMap::new()),
        };
        #[cfg(feature = "rules")]
        let contract = contract
            .with_executor(cel::CelExecutor::cel())
            .with_executor(cel::CelExecutor::cel_field());
        contract
    }

    /// Runs rules of `executor`'s type with it.
    pub fn with_executor(mut self, executor: impl RuleExecutor + 'static) -> Self {
        self.executors.insert(
            executor.rule_type().to_ascii_uppercase(),
            Arc::new(executor),
        );
        self
    }

    /// The registry.
    pub fn registry(&self) -> &RegistryClient {
        &self.registry
    }

    /// The contract of schema `id`.
    pub async fn schema(&self, id: u32) -> Result<Arc<ContractSchema>, RuleError> {
        if let Some(schema) = self.lock().get(&id) {
            return Ok(Arc::clone(schema));
        }
        let registered = self.registry.schema(id).await?;
        let schema = Arc::new(ContractSchema::of(&registered)?);
        self.lock().insert(id, Arc::clone(&schema));
        Ok(schema)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Arc<ContractSchema>>> {
        self.schemas.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs the domain rules of schema `id` on `datum` in `mode`, for `subject`.
    pub async fn run(
        &self,
        mode: Mode,
        subject: &str,
        id: u32,
        datum: Vec<u8>,
    ) -> Result<Vec<u8>, RuleError> {
        let schema = self.schema(id).await?;
        self.run_with(mode, subject, &schema, datum).await
    }

    /// [`Contract::run`] with the schema at hand.
    pub async fn run_with(
        &self,
        mode: Mode,
        subject: &str,
        schema: &ContractSchema,
        mut datum: Vec<u8>,
    ) -> Result<Vec<u8>, RuleError> {
        if !schema.has_rules(mode) {
            return Ok(datum);
        }
        if schema.avro.is_none() {
            return Err(RuleError::UnsupportedSchema(schema.schema_type));
        }
        let mut rules: Vec<&Rule> = schema
            .rules
            .domain_rules
            .iter()
            .filter(|rule| rule.runs_in(mode))
            .collect();
        if mode.reversed() {
            rules.reverse();
        }
        for rule in rules {
            let context = RuleContext {
                mode,
                subject,
                rule,
                schema,
            };
            // The datum as it was, to go on with when a failure is ignored.
            let kept = (rule.failure_action(mode) == Ok(Action::None)).then(|| datum.clone());
            let executor = self
                .executors
                .get(rule.rule_type.as_str())
                .or_else(|| self.executors.get(&rule.rule_type.to_ascii_uppercase()));
            let result = match executor {
                Some(executor) => executor.execute(context, std::mem::take(&mut datum)).await,
                None => Err(RuleError::NoExecutor {
                    rule: rule.name.clone(),
                    rule_type: rule.rule_type.clone(),
                }),
            };
            match (result, kept) {
                (Ok(changed), _) => datum = changed,
                (Err(_), Some(kept)) => datum = kept,
                (Err(error), None) => return Err(error),
            }
        }
        Ok(datum)
    }
}
