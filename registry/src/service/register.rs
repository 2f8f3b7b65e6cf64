//! Registration, lookup and compatibility checks: the policy every client of the registry
//! goes through.
//!
//! A registration checks the subject's mode, picks the effective compatibility level and runs
//! the check inside the store's write transaction, so two registrations to one subject (from
//! this process or another) cannot both pass against the same versions. The check only reads
//! the cache; when a version's schema was registered elsewhere and is not cached yet, the
//! transaction is abandoned, the schemas are loaded, and the registration starts again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::schema::{CompatibilityLevel, Report, Schema, check};
use crate::storage::{NewSchema, Registered, StorageError, VersionRow};

use super::contract::{Metadata, merge_metadata, merge_rule_sets, to_stored};
use super::{CachedSchema, Mode, Question, Registry, SchemaRequest, ServiceError, check_subject};

/// How many times a registration reloads schemas registered meanwhile (by concurrent
/// requests or other instances) before it gives up.
const REGISTER_ATTEMPTS: usize = 64;

/// How a request is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Store and compare the schema's canonical form.
    pub normalize: bool,
    /// Let soft-deleted versions count (lookups).
    pub deleted: bool,
    /// Skip the compatibility check of a registration (Confluent's `force=true`).
    pub force: bool,
}

/// What a compatibility check compares the schema with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Against {
    /// One live version; `None` is the latest.
    Version(Option<i32>),
    /// Every live version, as the subject's level requires (none: compatible).
    Live,
}

/// Why the check inside a registration's transaction declined.
enum Declined {
    /// These versions' schemas must be loaded into the cache first.
    NotCached(Vec<i64>),
    /// The schema is incompatible.
    Incompatible(Vec<String>),
    /// A version cannot be numbered.
    Corrupt(StorageError),
}

impl Registry {
    /// Registers the request's schema under `subject` (or finds it registered there), by the
    /// subject's mode and compatibility level, for the principal `by` (a new version records
    /// it, with the time, on the version and in the audit log); returns the outcome and the
    /// registered schema with its merged metadata and rule set.
    pub async fn register(
        &self,
        subject: &str,
        request: &SchemaRequest,
        options: Options,
        by: &str,
    ) -> Result<(Registered, Arc<CachedSchema>), ServiceError> {
        check_subject(subject)?;
        let mode = self.ensure_writable(subject).await?;
        if (request.id.is_some() || request.version.is_some()) && mode != Mode::Import {
            return Err(ServiceError::NotPermitted(format!(
                "Subject {subject} is not in import mode: an id or version cannot be given"
            )));
        }
        let version = request.version.map(import_version).transpose()?;
        if let Some(id) = request.id {
            import_id(id)?;
        }
        if let Some(rule_set) = &request.rule_set {
            rule_set.validate()?;
        }
        let config = self.effective_config(subject).await?;
        let normalize = options.normalize || config.normalize == Some(true);
        let previous = self.latest_live(subject).await?;
        // Confluent's way to attach metadata or rules to the latest schema without sending it
        // again: an empty schema takes the latest live version's text, type and references.
        let filled;
        let request = match &previous {
            Some(previous) if is_empty(request) => {
                filled = SchemaRequest {
                    schema: Some(previous.text.clone()),
                    schema_type: Some(previous.schema_type.as_str().to_owned()),
                    references: Some(previous.references.clone()),
                    ..request.clone()
                };
                &filled
            }
            _ => request,
        };
        let candidate = self.candidate(request, normalize).await?;
        let level = if mode == Mode::Import || options.force {
            CompatibilityLevel::None
        } else {
            config.compatibility_level.unwrap_or_default()
        };
        // Confluent's merge: the config's default, then the request's own (else the latest
        // version's), then the config's override.
        let metadata = request
            .metadata
            .clone()
            .or_else(|| previous.as_ref().and_then(|p| p.metadata.clone()));
        let rule_set = request
            .rule_set
            .clone()
            .or_else(|| previous.as_ref().and_then(|p| p.rule_set.clone()));
        let metadata = merge_metadata(
            merge_metadata(config.default_metadata, metadata),
            config.override_metadata,
        );
        let rule_set = merge_rule_sets(
            merge_rule_sets(config.default_rule_set, rule_set),
            config.override_rule_set,
        );
        let candidate = candidate.with_contract(metadata, rule_set);
        let group = config.compatibility_group;
        let new = NewSchema {
            schema_type: candidate.schema_type,
            text: candidate.text.clone(),
            key: candidate.key.clone(),
            references: candidate.references.clone(),
            metadata: to_stored(candidate.metadata.as_ref()),
            rule_set: to_stored(candidate.rule_set.as_ref()),
            id: request.id,
            version,
        };
        // Schemas loaded for the check when the cache did not hold them: the check uses these
        // too, so a cache that cannot keep them (a listener that is down) still lets it pass.
        let mut loaded = HashMap::new();
        for _ in 0..REGISTER_ATTEMPTS {
            let declined = Mutex::new(None);
            let compat = |live: &[VersionRow]| -> bool {
                let grouped = Grouped {
                    key: group.as_deref(),
                    metadata: candidate.metadata.as_ref(),
                };
                match self.check_live(level, &candidate.schema, grouped, live, &loaded) {
                    Ok(()) => true,
                    Err(reason) => {
                        *declined.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason);
                        false
                    }
                }
            };
            let since = self.cache().generation();
            let written = self.store().register(subject, &new, &compat, by).await;
            self.cache().forget_lookups();
            let written = written.map_err(|err| ServiceError::registering(err, subject))?;
            if let Some(registered) = written {
                let schema = if registered.created {
                    self.cache()
                        .insert(candidate.into_cached(registered.id), since)
                } else {
                    self.schema_by_id(registered.id).await?
                };
                return Ok((registered, schema));
            }
            let reason = declined.into_inner().unwrap_or_else(|p| p.into_inner());
            match reason {
                Some(Declined::NotCached(ids)) => {
                    for id in ids {
                        loaded.insert(id, self.schema_by_id(id).await?);
                    }
                }
                Some(Declined::Incompatible(messages)) => {
                    return Err(ServiceError::Incompatible {
                        subject: subject.to_owned(),
                        messages,
                    });
                }
                Some(Declined::Corrupt(err)) => return Err(err.into()),
                None => break,
            }
        }
        Err(ServiceError::Contended {
            subject: subject.to_owned(),
            attempts: REGISTER_ATTEMPTS,
        })
    }

    /// The check a registration runs on the live versions, from the cache only.
    fn check_live(
        &self,
        level: CompatibilityLevel,
        schema: &Schema,
        grouped: Grouped<'_>,
        live: &[VersionRow],
        loaded: &HashMap<i64, Arc<CachedSchema>>,
    ) -> Result<(), Declined> {
        if level == CompatibilityLevel::None {
            return Ok(());
        }
        let mut previous = Vec::with_capacity(live.len());
        let mut missing = Vec::new();
        for row in live {
            let cached = self
                .cache()
                .get(row.schema_id)
                .or_else(|| loaded.get(&row.schema_id).cloned());
            match cached {
                Some(cached) => previous.push((row.version, cached)),
                None => missing.push(row.schema_id),
            }
        }
        if !missing.is_empty() {
            return Err(Declined::NotCached(missing));
        }
        previous.retain(|(_, cached)| grouped.includes(cached.metadata.as_ref()));
        let report = compare(level, schema, &previous).map_err(Declined::Corrupt)?;
        if report.is_compatible {
            Ok(())
        } else {
            Err(Declined::Incompatible(report.messages))
        }
    }

    /// The version of `subject` holding the request's schema, with that schema: the latest
    /// with the same text and references, and the same metadata and rule set where the
    /// request gives them.
    pub async fn lookup(
        &self,
        subject: &str,
        request: &SchemaRequest,
        options: Options,
    ) -> Result<(VersionRow, Arc<CachedSchema>), ServiceError> {
        check_subject(subject)?;
        let question = Question {
            subject: subject.to_owned(),
            normalize: options.normalize,
            deleted: options.deleted,
            request: request.clone(),
        };
        if let Some(answer) = self.cache().lookup(&question) {
            return Ok(answer);
        }
        let since = self.cache().generation();
        let normalize =
            options.normalize || self.effective_config(subject).await?.normalize == Some(true);
        let candidate = self.candidate(request, normalize).await?;
        let rows = self.versions(subject, options.deleted).await?;
        for row in rows.iter().rev().filter(|r| options.deleted || !r.deleted) {
            let schema = self.schema_by_id(row.schema_id).await?;
            let same = schema.text_key == candidate.text_key
                && (request.metadata.is_none() || schema.metadata == candidate.metadata)
                && (request.rule_set.is_none() || schema.rule_set == candidate.rule_set);
            if same {
                let answer = (row.clone(), schema);
                self.cache()
                    .remember_lookup(question, answer.clone(), since);
                return Ok(answer);
            }
        }
        Err(ServiceError::SchemaNotFound(format!(
            "under subject {subject}"
        )))
    }

    /// The latest version of `subject` whose metadata properties hold every `(key, value)`
    /// pair (`deleted`: soft-deleted versions count), as `use.latest.with.metadata` asks.
    pub async fn latest_with_metadata(
        &self,
        subject: &str,
        properties: &[(String, String)],
        deleted: bool,
    ) -> Result<(VersionRow, Arc<CachedSchema>), ServiceError> {
        let rows = self.versions(subject, deleted).await?;
        for row in rows.iter().rev().filter(|r| deleted || !r.deleted) {
            let schema = self.schema_by_id(row.schema_id).await?;
            let holds = schema.metadata.as_ref().is_some_and(|metadata| {
                properties
                    .iter()
                    .all(|(key, value)| metadata.properties.get(key) == Some(value))
            });
            if holds {
                return Ok((row.clone(), schema));
            }
        }
        Err(ServiceError::SchemaNotFound(format!(
            "with the given metadata under subject {subject}"
        )))
    }

    /// The latest live version's schema of `subject`, if any.
    async fn latest_live(&self, subject: &str) -> Result<Option<Arc<CachedSchema>>, ServiceError> {
        let rows = self.store().versions(subject).await?;
        match rows.iter().rev().find(|r| !r.deleted) {
            Some(row) => Ok(Some(self.schema_by_id(row.schema_id).await?)),
            None => Ok(None),
        }
    }

    /// Checks the request's schema against `subject`'s versions at the subject's level,
    /// without registering it.
    pub async fn check_compatibility(
        &self,
        subject: &str,
        against: Against,
        request: &SchemaRequest,
        options: Options,
    ) -> Result<Report, ServiceError> {
        check_subject(subject)?;
        // As Confluent: a numbered version that is not live is 40402, whether the subject's
        // versions were soft-deleted, permanently deleted or never registered; `latest` of a
        // subject without live versions is compatible.
        let mut rows = self.store().versions(subject).await?;
        rows.retain(|r| !r.deleted);
        match against {
            Against::Version(Some(version)) => {
                rows.retain(|r| r.version == version);
                if rows.is_empty() {
                    return Err(ServiceError::VersionNotFound(version.to_string()));
                }
            }
            Against::Version(None) => {
                let latest = rows.pop();
                rows = latest.into_iter().collect();
            }
            Against::Live => {}
        }
        let normalize =
            options.normalize || self.effective_config(subject).await?.normalize == Some(true);
        let candidate = self.candidate(request, normalize).await?;
        let level = self.effective_level(Some(subject)).await?;
        let group = self.effective_config(subject).await?.compatibility_group;
        let grouped = Grouped {
            key: group.as_deref(),
            metadata: candidate.metadata.as_ref(),
        };
        let mut previous = Vec::with_capacity(rows.len());
        for row in &rows {
            let schema = self.schema_by_id(row.schema_id).await?;
            if grouped.includes(schema.metadata.as_ref()) {
                previous.push((row.version, schema));
            }
        }
        Ok(compare(level, &candidate.schema, &previous)?)
    }
}

/// Which earlier versions a new one is checked against under a compatibility group: those
/// whose `metadata.properties[key]` equals the new one's (both absent counts as equal).
#[derive(Debug, Clone, Copy)]
pub(super) struct Grouped<'a> {
    /// The config's `compatibilityGroup`; `None`: every version counts.
    pub(super) key: Option<&'a str>,
    /// The new version's metadata.
    pub(super) metadata: Option<&'a Metadata>,
}

impl Grouped<'_> {
    pub(super) fn includes(&self, other: Option<&Metadata>) -> bool {
        let Some(key) = self.key else {
            return true;
        };
        let value =
            |metadata: Option<&Metadata>| metadata.and_then(|m| m.properties.get(key).cloned());
        value(self.metadata) == value(other)
    }
}

/// Runs the compatibility engine against numbered versions.
pub(super) fn compare(
    level: CompatibilityLevel,
    schema: &Schema,
    previous: &[(i32, Arc<CachedSchema>)],
) -> Result<Report, StorageError> {
    let numbered = previous
        .iter()
        .map(|(version, cached)| Ok((version_number(*version)?, &cached.schema)))
        .collect::<Result<Vec<(u32, &Schema)>, StorageError>>()?;
    Ok(check(level, schema, &numbered))
}

/// A stored version as the compatibility engine and code generation number it.
pub fn version_number(version: i32) -> Result<u32, StorageError> {
    u32::try_from(version)
        .map_err(|_| StorageError::Corrupt(format!("version {version} is not positive")))
}

/// Whether a request has no schema text (absent or blank).
fn is_empty(request: &SchemaRequest) -> bool {
    request
        .schema
        .as_deref()
        .is_none_or(|text| text.trim().is_empty())
}

/// A version an IMPORT gives: in [1, 2^31-1].
/// An imported schema id must be one that `GET /schemas/ids/{id}` can serve: Confluent's ids
/// are 32-bit, from 1.
fn import_id(id: i64) -> Result<i32, ServiceError> {
    i32::try_from(id).ok().filter(|id| *id >= 1).ok_or_else(|| {
        ServiceError::NotPermitted(format!(
            "Schema id {id} is out of range: imported ids must be between 1 and {}",
            i32::MAX
        ))
    })
}

fn import_version(version: i64) -> Result<i32, ServiceError> {
    i32::try_from(version)
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| ServiceError::InvalidVersion(version.to_string()))
}
