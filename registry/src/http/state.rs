//! The state every handler shares: the store, the cache of parsed schemas, settings lookups
//! and the schema building that registration, lookup and compatibility checks have in common.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use axum::body::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::schema::{CompatibilityLevel, Limits, Schema, SchemaType};
use crate::storage::{
    BoxFuture, CachedSchema, Reference, SchemaCache, SchemaRow, SchemaStore, SettingKind,
    VersionRow,
};

use super::auth::Credentials;
use super::error::Error;
use super::metrics::Metrics;
use super::references::{inline_avro, inline_json};

/// How deep references may nest (a references b references c ...).
const MAX_REFERENCE_DEPTH: usize = 32;

/// Confluent's registry modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Reads and writes.
    #[default]
    ReadWrite,
    /// Reads only.
    ReadOnly,
    /// Registration with given ids and versions, without compatibility checks.
    Import,
}

impl Mode {
    /// The Confluent name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::ReadWrite => "READWRITE",
            Mode::ReadOnly => "READONLY",
            Mode::Import => "IMPORT",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_uppercase().as_str() {
            "READWRITE" => Ok(Mode::ReadWrite),
            "READONLY" => Ok(Mode::ReadOnly),
            "IMPORT" => Ok(Mode::Import),
            _ => Err(Error::InvalidMode(s.to_owned())),
        }
    }
}

/// The body of register, lookup and compatibility requests.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaRequest {
    /// The schema text.
    pub schema: Option<String>,
    /// AVRO (default) or JSON.
    pub schema_type: Option<String>,
    /// References to other subjects' versions.
    #[serde(default)]
    pub references: Option<Vec<Reference>>,
    /// IMPORT mode: the id to use.
    pub id: Option<i64>,
    /// IMPORT mode: the version to use.
    pub version: Option<i32>,
}

/// A schema from a request, parsed with its references resolved.
#[derive(Debug)]
pub struct Candidate {
    /// AVRO or JSON.
    pub schema_type: SchemaType,
    /// The text to store.
    pub text: String,
    /// With Avro references inlined.
    pub resolved: String,
    /// References.
    pub references: Vec<Reference>,
    /// Parsed.
    pub schema: Schema,
    /// Identity: fingerprint plus references.
    pub key: String,
}

/// What the server was configured with, as the handlers need it.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Limits applied to schema text.
    pub limits: Limits,
}

/// The shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn SchemaStore>,
    cache: SchemaCache,
    metrics: Metrics,
    credentials: Option<Credentials>,
    settings: Settings,
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("backend", &self.inner.store.backend())
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State over `store`.
    pub fn new(
        store: Arc<dyn SchemaStore>,
        settings: Settings,
        credentials: Option<Credentials>,
    ) -> Self {
        AppState {
            inner: Arc::new(Inner {
                store,
                cache: SchemaCache::default(),
                metrics: Metrics::default(),
                credentials,
                settings,
            }),
        }
    }

    /// The store.
    pub fn store(&self) -> &dyn SchemaStore {
        self.inner.store.as_ref()
    }

    /// The cache of parsed schemas.
    pub fn cache(&self) -> &SchemaCache {
        &self.inner.cache
    }

    /// Request metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Basic-auth credentials, when authentication is on.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.inner.credentials.as_ref()
    }

    /// The configured body limit.
    pub fn max_body_bytes(&self) -> usize {
        self.inner.settings.max_body_bytes
    }

    /// The schema with this id, from the cache or loaded (and cached) once.
    pub async fn schema_by_id(&self, id: i64) -> Result<Arc<CachedSchema>, Error> {
        if let Some(hit) = self.cache().get(id) {
            return Ok(hit);
        }
        self.load(id, 0).await
    }

    fn load(&self, id: i64, depth: usize) -> BoxFuture<'_, Result<Arc<CachedSchema>, Error>> {
        Box::pin(async move {
            if let Some(hit) = self.cache().get(id) {
                return Ok(hit);
            }
            let Some(row) = self.store().schema(id).await? else {
                return Err(Error::SchemaNotFound(id.to_string()));
            };
            let SchemaRow {
                id,
                schema_type,
                text,
                references,
            } = row;
            let referenced = self.resolve(&references, depth + 1).await?;
            let candidate = self.build(schema_type, text, references, &referenced, false)?;
            Ok(self.cache().insert(cached(id, candidate)))
        })
    }

    /// The schemas `references` point at, in order.
    pub async fn resolve(
        &self,
        references: &[Reference],
        depth: usize,
    ) -> Result<Vec<Arc<CachedSchema>>, Error> {
        if depth > MAX_REFERENCE_DEPTH {
            return Err(Error::InvalidSchema(
                "references are nested too deeply".to_owned(),
            ));
        }
        let mut out = Vec::with_capacity(references.len());
        for reference in references {
            let rows = self.store().versions(&reference.subject).await?;
            let row = if reference.version == -1 {
                rows.iter().rev().find(|r| !r.deleted)
            } else {
                rows.iter().find(|r| r.version == reference.version)
            };
            let Some(row) = row else {
                return Err(Error::InvalidSchema(format!(
                    "reference {} to subject {} version {} cannot be resolved",
                    reference.name, reference.subject, reference.version
                )));
            };
            let id = row.schema_id;
            let schema = match self.cache().get(id) {
                Some(hit) => hit,
                None => self.load(id, depth).await?,
            };
            out.push(schema);
        }
        Ok(out)
    }

    /// Parses a request's schema with its references resolved. With `normalize`, the stored
    /// text is the canonical form.
    pub async fn candidate(
        &self,
        request: &SchemaRequest,
        normalize: bool,
    ) -> Result<Candidate, Error> {
        let Some(text) = request.schema.clone() else {
            return Err(Error::InvalidSchema("the request has no schema".to_owned()));
        };
        let schema_type = match request.schema_type.as_deref() {
            None => SchemaType::Avro,
            Some(name) => name.parse().map_err(|_| {
                Error::InvalidSchema(format!("unsupported schema type `{name}` (AVRO or JSON)"))
            })?,
        };
        let references = request.references.clone().unwrap_or_default();
        let referenced = self.resolve(&references, 1).await?;
        self.build(schema_type, text, references, &referenced, normalize)
    }

    fn build(
        &self,
        schema_type: SchemaType,
        text: String,
        references: Vec<Reference>,
        referenced: &[Arc<CachedSchema>],
        normalize: bool,
    ) -> Result<Candidate, Error> {
        let limits = &self.inner.settings.limits;
        if text.len() > limits.max_bytes {
            return Err(Error::SchemaTooLarge(format!(
                "schema is {} bytes, over the limit of {} bytes",
                text.len(),
                limits.max_bytes
            )));
        }
        let resolved = if referenced.is_empty() {
            text.clone()
        } else if schema_type == SchemaType::Avro {
            let texts: Vec<&str> = referenced.iter().map(|r| r.resolved.as_str()).collect();
            inline_avro(&text, &texts).map_err(Error::InvalidSchema)?
        } else {
            let named: Vec<(&str, &str)> = references
                .iter()
                .zip(referenced)
                .map(|(reference, target)| (reference.name.as_str(), target.resolved.as_str()))
                .collect();
            inline_json(&text, &named).map_err(Error::InvalidSchema)?
        };
        let schema = Schema::parse_with_limits(schema_type, &resolved, limits)?;
        let key = identity(&schema, &references);
        let text = if normalize && references.is_empty() {
            schema.canonical().to_owned()
        } else {
            text
        };
        Ok(Candidate {
            schema_type,
            text,
            resolved,
            references,
            schema,
            key,
        })
    }

    /// The subject's compatibility level, else the global one, else BACKWARD.
    pub async fn effective_level(
        &self,
        subject: Option<&str>,
    ) -> Result<CompatibilityLevel, Error> {
        let value = match subject {
            Some(subject) => match self
                .store()
                .setting(SettingKind::Compatibility, Some(subject))
                .await?
            {
                Some(value) => Some(value),
                None => {
                    self.store()
                        .setting(SettingKind::Compatibility, None)
                        .await?
                }
            },
            None => {
                self.store()
                    .setting(SettingKind::Compatibility, None)
                    .await?
            }
        };
        Ok(value
            .and_then(|v| v.parse().ok())
            .unwrap_or(CompatibilityLevel::Backward))
    }

    /// The subject's mode, else the global one, else READWRITE.
    pub async fn effective_mode(&self, subject: Option<&str>) -> Result<Mode, Error> {
        if let Some(subject) = subject
            && let Some(value) = self
                .store()
                .setting(SettingKind::Mode, Some(subject))
                .await?
        {
            return value.parse();
        }
        match self.store().setting(SettingKind::Mode, None).await? {
            Some(value) => value.parse(),
            None => Ok(Mode::ReadWrite),
        }
    }

    /// Makes sure every live version's schema of `rows` is cached.
    pub async fn warm(&self, rows: &[VersionRow]) -> Result<(), Error> {
        for row in rows.iter().filter(|r| !r.deleted) {
            self.schema_by_id(row.schema_id).await?;
        }
        Ok(())
    }

    /// Caches a schema just registered under `id`.
    pub fn remember(&self, id: i64, candidate: Candidate) -> Arc<CachedSchema> {
        self.cache().insert(cached(id, candidate))
    }
}

/// The identity of a schema across subjects: its fingerprint, combined with its references.
fn identity(schema: &Schema, references: &[Reference]) -> String {
    if references.is_empty() {
        return schema.fingerprint().to_string();
    }
    let mut hasher = Sha256::new();
    hasher.update(schema.fingerprint().as_bytes());
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

fn cached(id: i64, candidate: Candidate) -> CachedSchema {
    let body = schema_body(
        candidate.schema_type,
        &candidate.text,
        &candidate.references,
        None,
    );
    CachedSchema {
        id,
        schema_type: candidate.schema_type,
        text: candidate.text,
        resolved: candidate.resolved,
        references: candidate.references,
        schema: candidate.schema,
        key: candidate.key,
        body: Bytes::from(body.to_string()),
    }
}

/// The JSON of a schema as Confluent returns it: `schema`, `schemaType` unless AVRO,
/// `references` unless empty, plus `extra` fields first.
pub fn schema_body(
    schema_type: SchemaType,
    text: &str,
    references: &[Reference],
    extra: Option<serde_json::Map<String, Value>>,
) -> Value {
    let mut map = extra.unwrap_or_default();
    if schema_type != SchemaType::Avro {
        map.insert("schemaType".to_owned(), json!(schema_type.as_str()));
    }
    if !references.is_empty() {
        map.insert("references".to_owned(), json!(references));
    }
    map.insert("schema".to_owned(), json!(text));
    Value::Object(map)
}
