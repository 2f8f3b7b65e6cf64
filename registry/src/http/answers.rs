//! The JSON answers of the API's handlers, as Confluent clients read them: each handler
//! builds one of these, and the OpenAPI document describes the same type, so the document
//! cannot drift from the wire.

use serde::Serialize;
use utoipa::ToSchema;

use crate::schema::CompatibilityLevel;
use crate::service::{CachedSchema, Metadata, PayloadError, RuleSet, SchemaAnswer};
use crate::storage::VersionRow;

/// A subject version with its schema.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionAnswer {
    /// The subject.
    pub subject: String,
    /// The version number.
    pub version: i32,
    /// The schema's global id.
    pub id: i64,
    /// The schema, as `GET /schemas/ids/{id}` answers it.
    #[serde(flatten)]
    pub schema: SchemaAnswer,
    /// When the version was registered, in milliseconds since the Unix epoch (Confluent's
    /// `ts`); absent for versions registered before the registry recorded it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts: Option<i64>,
    /// Who registered the version (the principal's name; a Herald extension that Confluent
    /// clients ignore); absent where `ts` is.
    #[serde(rename = "heraldRegisteredBy", skip_serializing_if = "Option::is_none")]
    pub registered_by: Option<String>,
}

impl VersionAnswer {
    /// The answer for a subject's version, with the schema's text given (its stored,
    /// resolved or serialized form).
    pub fn new(subject: &str, row: &VersionRow, schema: &CachedSchema, text: &str) -> Self {
        VersionAnswer {
            subject: subject.to_owned(),
            version: row.version,
            id: row.schema_id,
            schema: SchemaAnswer::of(schema, text),
            ts: row.registered.as_ref().map(|r| r.at),
            registered_by: row.registered.as_ref().map(|r| r.by.clone()),
        }
    }
}

/// A subject and version that use a schema.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectVersion {
    /// The subject.
    pub subject: String,
    /// The version number.
    pub version: i32,
}

/// The answer to a registration.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterAnswer {
    /// The schema's global id.
    pub id: i64,
    /// The version, when the schema has a data contract.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    /// The data contract's metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// The data contract's rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_set: Option<RuleSet>,
}

/// The answer to a compatibility check.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompatibilityAnswer {
    /// Whether the schema is compatible.
    pub is_compatible: bool,
    /// With `verbose=true`: why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<String>>,
}

/// The answer to a config update: the fields set, the level under `compatibility`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigUpdateAnswer {
    /// The compatibility level set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub compatibility: Option<CompatibilityLevel>,
    /// The other fields set, as in a config.
    #[serde(flatten)]
    pub rest: crate::service::SubjectConfig,
}

/// A mode.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModeAnswer {
    /// READWRITE, READONLY or IMPORT.
    pub mode: String,
}

/// The answer of the liveness and readiness probes.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusAnswer {
    /// `UP` or `READY`.
    pub status: String,
    /// The database (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
}

/// The answer to a payload validation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationAnswer {
    /// The subject.
    pub subject: String,
    /// The version number.
    pub version: i32,
    /// The schema's global id.
    pub id: i64,
    /// Whether the payload conforms.
    pub is_valid: bool,
    /// Every reason it does not.
    pub errors: Vec<PayloadError>,
}
