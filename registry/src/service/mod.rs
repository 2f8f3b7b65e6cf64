//! The registry's decisions, between `http/` (which parses requests and renders answers) and
//! `storage/` (which keeps rows): registration with its mode checks and compatibility policy,
//! lookups, compatibility checks, and the cache of parsed schemas they share. A web UI or a
//! CLI calls these same functions.

mod cache;
mod candidate;
mod codegen;
mod contract;
mod delete;
mod error;
mod history;
pub mod keys;
mod payload;
mod references;
mod register;
mod settings;
mod utc;

use std::fmt;
use std::sync::Arc;

use crate::schema::Limits;
use crate::storage::{BoxFuture, SchemaRow, SchemaStore, StorageError, VersionRow};

pub use cache::{CachedSchema, Generation, Question, SchemaCache};
pub use candidate::{Candidate, SchemaAnswer, SchemaRequest};
pub use codegen::rust_code;
pub use contract::{Metadata, Rule, RuleSet, merge_metadata, merge_rule_sets};
pub use error::ServiceError;
pub use history::{History, VersionVerdict};
pub use payload::{PayloadCheckError, PayloadError, validate_payload};
pub use register::{Against, Options, version_number};
pub use settings::{Mode, SubjectConfig};
pub use utc::utc_text;

/// How deep references may nest (a references b references c ...).
const MAX_REFERENCE_DEPTH: usize = 32;

/// The registry: its store, and the parsed schemas every request shares.
pub struct Registry {
    store: Arc<dyn SchemaStore>,
    cache: SchemaCache,
    limits: Limits,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("backend", &self.store.backend())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A registry over `store` that accepts schemas within `limits`.
    pub fn new(store: Arc<dyn SchemaStore>, limits: Limits) -> Self {
        Registry {
            store,
            cache: SchemaCache::default(),
            limits,
        }
    }

    /// The store.
    pub fn store(&self) -> &dyn SchemaStore {
        self.store.as_ref()
    }

    /// The cache of parsed schemas.
    pub fn cache(&self) -> &SchemaCache {
        &self.cache
    }

    /// The schema with this id, from the cache or loaded (and cached) once.
    pub async fn schema_by_id(&self, id: i64) -> Result<Arc<CachedSchema>, ServiceError> {
        if let Some(hit) = self.cache.get(id) {
            return Ok(hit);
        }
        self.load(id, 0).await
    }

    fn load(
        &self,
        id: i64,
        depth: usize,
    ) -> BoxFuture<'_, Result<Arc<CachedSchema>, ServiceError>> {
        Box::pin(async move {
            if let Some(hit) = self.cache.get(id) {
                return Ok(hit);
            }
            let since = self.cache.generation();
            let Some(row) = self.store.schema(id).await? else {
                return Err(ServiceError::SchemaNotFound(id.to_string()));
            };
            let SchemaRow {
                id,
                schema_type,
                text,
                references,
                metadata,
                rule_set,
            } = row;
            let metadata = contract::parse_stored(metadata.as_deref())?;
            let rule_set = contract::parse_stored(rule_set.as_deref())?;
            let referenced = self.resolve(&references, depth + 1).await?;
            let candidate = self
                .build(schema_type, text, references, &referenced, false)?
                .with_contract(metadata, rule_set);
            Ok(self.cache.insert(candidate.into_cached(id), since))
        })
    }

    /// Recomputes the keys of schemas stored before the identity kept documentation, so a
    /// schema registered again after an upgrade finds its id; returns how many were
    /// rekeyed. A schema that no version holds any more, or that no longer parses, keeps its
    /// old key (nothing can match it by accident: keys are SHA-256 digests).
    pub async fn rekey(&self) -> Result<usize, StorageError> {
        let mut done = 0;
        for id in self.store.stale_keys().await? {
            match self.schema_by_id(id).await {
                Ok(schema) => {
                    self.store.set_key(id, &schema.key).await?;
                    done += 1;
                }
                Err(ServiceError::Store(err)) => return Err(err),
                Err(ServiceError::SchemaNotFound(_)) => {}
                Err(err) => tracing::warn!(id, error = %err, "schema keeps its old key"),
            }
        }
        Ok(done)
    }

    /// The schemas `references` point at, in order.
    async fn resolve(
        &self,
        references: &[crate::storage::Reference],
        depth: usize,
    ) -> Result<Vec<Arc<CachedSchema>>, ServiceError> {
        if depth > MAX_REFERENCE_DEPTH {
            return Err(ServiceError::InvalidSchema(
                "references are nested too deeply".to_owned(),
            ));
        }
        let mut out = Vec::with_capacity(references.len());
        for reference in references {
            let rows = self.store.versions(&reference.subject).await?;
            let row = if reference.version == -1 {
                rows.iter().rev().find(|r| !r.deleted)
            } else {
                rows.iter().find(|r| r.version == reference.version)
            };
            let Some(row) = row else {
                return Err(ServiceError::InvalidSchema(format!(
                    "reference {} to subject {} version {} cannot be resolved",
                    reference.name, reference.subject, reference.version
                )));
            };
            let id = row.schema_id;
            let schema = match self.cache.get(id) {
                Some(hit) => hit,
                None => self.load(id, depth).await?,
            };
            out.push(schema);
        }
        Ok(out)
    }

    /// A subject's versions, soft-deleted ones included; `SubjectNotFound` when none is
    /// visible (`deleted`: soft-deleted ones count).
    pub async fn versions(
        &self,
        subject: &str,
        deleted: bool,
    ) -> Result<Vec<VersionRow>, ServiceError> {
        check_subject(subject)?;
        let rows = self.store.versions(subject).await?;
        if !rows.iter().any(|r| deleted || !r.deleted) {
            return Err(ServiceError::SubjectNotFound(subject.to_owned()));
        }
        Ok(rows)
    }

    /// The version of a subject that `version` names (`None`: the latest live one).
    pub async fn version(
        &self,
        subject: &str,
        version: Option<i32>,
        deleted: bool,
    ) -> Result<VersionRow, ServiceError> {
        let rows = self.versions(subject, deleted).await?;
        pick(&rows, version, deleted).ok_or_else(|| version_not_found(version))
    }
}

/// Rejects subject names Confluent rejects: empty, over 4096 bytes, or with control
/// characters.
pub fn check_subject(subject: &str) -> Result<(), ServiceError> {
    if subject.is_empty() || subject.chars().any(char::is_control) || subject.len() > 4096 {
        return Err(ServiceError::InvalidSubject(subject.to_owned()));
    }
    Ok(())
}

/// The row a version names: the latest live one for `None`.
pub fn pick(rows: &[VersionRow], version: Option<i32>, deleted: bool) -> Option<VersionRow> {
    match version {
        Some(v) => rows
            .iter()
            .find(|r| r.version == v && (deleted || !r.deleted))
            .cloned(),
        None => rows.iter().rev().find(|r| deleted || !r.deleted).cloned(),
    }
}

/// Parses a version path segment: a number in [1, 2^31-1], or `latest` / `-1` (`None`);
/// `InvalidVersion` (42202) otherwise.
pub fn parse_version(text: &str) -> Result<Option<i32>, ServiceError> {
    if text.eq_ignore_ascii_case("latest") || text == "-1" {
        return Ok(None);
    }
    match text.parse::<i32>() {
        Ok(version) if version >= 1 => Ok(Some(version)),
        _ => Err(ServiceError::InvalidVersion(text.to_owned())),
    }
}

/// `VersionNotFound` for a version, `latest` for `None`.
pub fn version_not_found(version: Option<i32>) -> ServiceError {
    ServiceError::VersionNotFound(version.map_or_else(|| "latest".to_owned(), |v| v.to_string()))
}
