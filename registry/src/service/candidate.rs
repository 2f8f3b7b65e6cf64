//! A schema from a request, parsed with its references resolved: what registration, lookup
//! and compatibility checks compare, and what the cache keeps once it has an id.

use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::schema::documented::documented_form;
use crate::schema::{Parsed, Schema, SchemaType, json_validator};
use crate::storage::Reference;

use super::contract::{Metadata, RuleSet, to_stored};
use super::references::{inline_avro, inline_json};
use super::{CachedSchema, Registry, ServiceError};

/// The body of register, lookup and compatibility requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchemaRequest {
    /// The schema text.
    pub schema: Option<String>,
    /// AVRO (default), JSON or PROTOBUF.
    pub schema_type: Option<String>,
    /// References to other subjects' versions.
    #[serde(default)]
    pub references: Option<Vec<Reference>>,
    /// IMPORT mode: the id to use.
    pub id: Option<i64>,
    /// IMPORT mode: the version to use, in [1, 2^31-1].
    pub version: Option<i64>,
    /// The version's metadata; absent on register: the previous version's.
    pub metadata: Option<Metadata>,
    /// The version's rules; absent on register: the previous version's.
    pub rule_set: Option<RuleSet>,
}

/// A schema from a request, parsed with its references resolved.
#[derive(Debug)]
pub struct Candidate {
    /// AVRO, JSON or PROTOBUF.
    pub schema_type: SchemaType,
    /// The text to store.
    pub text: String,
    /// With Avro references inlined.
    pub resolved: String,
    /// References.
    pub references: Vec<Reference>,
    /// Parsed.
    pub schema: Schema,
    /// Metadata.
    pub metadata: Option<Metadata>,
    /// Rules.
    pub rule_set: Option<RuleSet>,
    /// Identity of the schema alone: its documented form plus references.
    pub text_key: String,
    /// Identity: `text_key` plus metadata and rule set.
    pub key: String,
}

impl Candidate {
    /// Sets the metadata and rule set, and the identity that follows from them.
    pub(crate) fn with_contract(
        mut self,
        metadata: Option<Metadata>,
        rule_set: Option<RuleSet>,
    ) -> Self {
        self.key = contract_key(&self.text_key, metadata.as_ref(), rule_set.as_ref());
        self.metadata = metadata;
        self.rule_set = rule_set;
        self
    }

    /// The cache entry for this schema under `id`, with its JSON body rendered once.
    pub(crate) fn into_cached(self, id: i64) -> CachedSchema {
        let body = SchemaAnswer::new(
            self.schema_type,
            &self.text,
            &self.references,
            self.metadata.as_ref(),
            self.rule_set.as_ref(),
        );
        CachedSchema {
            id,
            schema_type: self.schema_type,
            text: self.text,
            resolved: self.resolved,
            references: self.references,
            schema: self.schema,
            metadata: self.metadata,
            rule_set: self.rule_set,
            text_key: self.text_key,
            key: self.key,
            body: Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
        }
    }
}

impl Registry {
    /// Parses a request's schema with its references resolved. With `normalize`, the stored
    /// text is the canonical form.
    pub async fn candidate(
        &self,
        request: &SchemaRequest,
        normalize: bool,
    ) -> Result<Candidate, ServiceError> {
        let Some(text) = request
            .schema
            .clone()
            .filter(|text| !text.trim().is_empty())
        else {
            return Err(ServiceError::EmptySchema);
        };
        let schema_type = match request.schema_type.as_deref() {
            None => SchemaType::Avro,
            Some(name) => name.parse().map_err(|_| {
                ServiceError::InvalidSchema(format!(
                    "unsupported schema type `{name}` (AVRO, JSON or PROTOBUF)"
                ))
            })?,
        };
        let references = request.references.clone().unwrap_or_default();
        let referenced = self.resolve(&references, 1).await?;
        let candidate = self.build(schema_type, text, references, &referenced, normalize)?;
        Ok(candidate.with_contract(request.metadata.clone(), request.rule_set.clone()))
    }

    pub(super) fn build(
        &self,
        schema_type: SchemaType,
        text: String,
        references: Vec<Reference>,
        referenced: &[Arc<CachedSchema>],
        normalize: bool,
    ) -> Result<Candidate, ServiceError> {
        let limits = &self.limits;
        if text.len() > limits.max_bytes {
            return Err(ServiceError::SchemaTooLarge(format!(
                "schema is {} bytes, over the limit of {} bytes",
                text.len(),
                limits.max_bytes
            )));
        }
        if schema_type == SchemaType::Protobuf {
            // References stay separate files, imported by the reference's name.
            let imports: Vec<(&str, &Schema)> = references
                .iter()
                .zip(referenced)
                .map(|(reference, target)| (reference.name.as_str(), &target.schema))
                .collect();
            let schema = Schema::parse_protobuf(&text, &imports, limits)?;
            if schema.canonical().trim().is_empty() {
                // Comments and whitespace only: the empty schema, refused as `""` is.
                return Err(ServiceError::EmptySchema);
            }
            // Identity follows the normalized print, as it follows the documented form of
            // the other types: respellings of one schema (whitespace, comments, type names
            // relative or qualified, a serialized descriptor) are one schema.
            let text_key = identity(schema_type, schema.canonical(), &references);
            let text = if normalize {
                schema.canonical().to_owned()
            } else {
                schema.protobuf_text().unwrap_or_default().to_owned()
            };
            return Ok(Candidate {
                schema_type,
                resolved: text.clone(),
                text,
                references,
                schema,
                metadata: None,
                rule_set: None,
                key: text_key.clone(),
                text_key,
            });
        }
        let resolved = if referenced.is_empty() {
            text.clone()
        } else if schema_type == SchemaType::Avro {
            let texts: Vec<&str> = referenced.iter().map(|r| r.resolved.as_str()).collect();
            inline_avro(&text, &texts).map_err(ServiceError::InvalidSchema)?
        } else {
            let named: Vec<(&str, &str)> = references
                .iter()
                .zip(referenced)
                .map(|(reference, target)| (reference.name.as_str(), target.resolved.as_str()))
                .collect();
            inline_json(&text, &named).map_err(ServiceError::InvalidSchema)?
        };
        let schema = Schema::parse_with_limits(schema_type, &resolved, limits)?;
        if let Parsed::Json(json) = schema.parsed() {
            // What `/validate` would build later: refused now, not stored to fail then.
            json_validator(&json.value, json.draft()).map_err(|err| {
                ServiceError::InvalidSchema(format!("the schema cannot validate payloads: {err}"))
            })?;
        }
        let value: Value = serde_json::from_str(&text)
            .map_err(|err| ServiceError::InvalidSchema(err.to_string()))?;
        let documented = documented_form(schema_type, &value);
        let text_key = identity(schema_type, &documented, &references);
        let text = if normalize {
            documented
        } else {
            compact(&text)
        };
        Ok(Candidate {
            schema_type,
            text,
            resolved,
            references,
            schema,
            metadata: None,
            rule_set: None,
            key: text_key.clone(),
            text_key,
        })
    }
}

/// JSON `text` without insignificant whitespace, everything else as written: the form
/// Confluent stores and answers (compact, keys in their order, docs and custom attributes
/// kept), so two spellings of one schema answer byte-identically.
pub(crate) fn compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

/// The identity of a schema across subjects: its documented form (which keeps docs and
/// custom properties), its type and its references.
fn identity(schema_type: SchemaType, documented: &str, references: &[Reference]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(schema_type.as_str().as_bytes());
    hasher.update([0u8]);
    hasher.update(documented.as_bytes());
    for reference in references {
        hasher.update(reference.name.as_bytes());
        hasher.update([0u8]);
        hasher.update(reference.subject.as_bytes());
        hasher.update([0u8]);
        hasher.update(reference.version.to_be_bytes());
    }
    let digest: [u8; 32] = hasher.finalize().into();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The identity of a schema with its metadata and rule set: `text_key` alone when it has
/// neither, so schemas registered before data contracts keep their identity.
fn contract_key(text_key: &str, metadata: Option<&Metadata>, rule_set: Option<&RuleSet>) -> String {
    if metadata.is_none() && rule_set.is_none() {
        return text_key.to_owned();
    }
    let mut hasher = Sha256::new();
    hasher.update(text_key.as_bytes());
    for part in [to_stored(metadata), to_stored(rule_set)] {
        hasher.update([0u8]);
        hasher.update(part.unwrap_or_default().as_bytes());
    }
    let digest: [u8; 32] = hasher.finalize().into();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A schema as `GET /schemas/ids/{id}` answers it (and as its body is cached).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchemaAnswer {
    /// The schema text.
    pub schema: String,
    /// `JSON` or `PROTOBUF`; absent for AVRO.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_type: Option<String>,
    /// References to other subjects' versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub references: Option<Vec<Reference>>,
    /// The data contract's metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// The data contract's rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_set: Option<RuleSet>,
}

impl SchemaAnswer {
    /// The answer for a schema, with the text given (its stored, resolved or serialized form).
    pub fn new(
        schema_type: SchemaType,
        text: &str,
        references: &[Reference],
        metadata: Option<&Metadata>,
        rule_set: Option<&RuleSet>,
    ) -> Self {
        SchemaAnswer {
            schema: text.to_owned(),
            schema_type: (schema_type != SchemaType::Avro).then(|| schema_type.as_str().to_owned()),
            references: (!references.is_empty()).then(|| references.to_vec()),
            metadata: metadata.cloned(),
            rule_set: rule_set.cloned(),
        }
    }

    /// The answer for a cached schema, with the text given.
    pub fn of(schema: &CachedSchema, text: &str) -> Self {
        SchemaAnswer::new(
            schema.schema_type,
            text,
            &schema.references,
            schema.metadata.as_ref(),
            schema.rule_set.as_ref(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::compact;

    #[test]
    fn compact_keeps_strings_and_order() {
        let text = "{ \"type\" : \"record\",\n  \"doc\": \"a \\\" b  c\", \"name\":\"R\" }";
        assert_eq!(
            compact(text),
            "{\"type\":\"record\",\"doc\":\"a \\\" b  c\",\"name\":\"R\"}"
        );
    }
}
