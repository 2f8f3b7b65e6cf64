//! Parsed schemas by global id, and the answers of lookups by their exact request.
//!
//! A schema's text never changes once it has an id, so an entry goes stale only when the id
//! stops being served (its last version permanently deleted); reads are served from here and
//! never re-parse. A lookup's answer (`POST /subjects/{subject}`, which every Confluent
//! serializer calls) depends on the subject's versions and config as well, so every write
//! forgets them all: this process's writes at once, other processes' through the same
//! notices as deletes.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;

use crate::schema::{Schema, SchemaType};
use crate::storage::notifications::{Change, Notice};
use crate::storage::{Reference, VersionRow};

use super::SchemaRequest;
use super::contract::{Metadata, RuleSet};

/// How many bytes of requests the lookup answers may hold before they are all forgotten.
const LOOKUP_BYTES: usize = 16 << 20;

/// A registered schema, parsed once, with what every read needs already rendered.
#[derive(Debug)]
pub struct CachedSchema {
    /// Global id.
    pub id: i64,
    /// AVRO, JSON or PROTOBUF.
    pub schema_type: SchemaType,
    /// The text as registered.
    pub text: String,
    /// The text with its references resolved into it (Avro named types inlined, JSON
    /// Schemas embedded under `definitions`); the same as `text` without references.
    pub resolved: String,
    /// Its references.
    pub references: Vec<Reference>,
    /// The parsed schema (of `resolved`).
    pub schema: Schema,
    /// Its metadata.
    pub metadata: Option<Metadata>,
    /// Its rules.
    pub rule_set: Option<RuleSet>,
    /// Identity of the schema alone: documented form plus references.
    pub text_key: String,
    /// Identity across subjects: `text_key` plus metadata and rule set.
    pub key: String,
    /// The JSON body of `GET /schemas/ids/{id}`.
    pub body: Bytes,
}

/// Parsed schemas by id, shared by every request.
///
/// An id stops being served when its last version is permanently deleted, by this process
/// or by another one on the same database ([`Notice`]s from a
/// [`ChangeListener`](crate::storage::notifications::ChangeListener)). A load that raced
/// with such a delete must not cache what it read: it takes a [`Generation`] before reading
/// the database and [`insert`](Self::insert) caches only if nothing was invalidated since.
#[derive(Debug, Default)]
pub struct SchemaCache {
    inner: RwLock<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    by_id: HashMap<i64, Arc<CachedSchema>>,
    /// Lookup answers by the hash of their question; a bucket holds the questions that
    /// collide.
    lookups: HashMap<u64, Vec<Lookup>>,
    /// The size of the requests in `lookups`, bounded by [`LOOKUP_BYTES`].
    lookup_bytes: usize,
    /// Hashes the questions of lookups.
    hasher: RandomState,
    /// Bumped when an id may have been deleted: loads of schemas that began before do not
    /// cache.
    schemas: u64,
    /// Bumped by every write: lookups that began before do not cache.
    writes: u64,
    /// Whether invalidations may be missed (the change listener is down): nothing is cached.
    deaf: bool,
}

/// A lookup: the question (subject, options and the request as sent) and its answer.
#[derive(Debug)]
struct Lookup {
    question: Question,
    answer: (VersionRow, Arc<CachedSchema>),
}

/// What a lookup's answer depends on besides the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Question {
    /// The subject looked up.
    pub subject: String,
    /// `normalize=true`.
    pub normalize: bool,
    /// `deleted=true`.
    pub deleted: bool,
    /// The request body.
    pub request: SchemaRequest,
}

impl Question {
    /// Roughly how many bytes it holds.
    fn size(&self) -> usize {
        let request = &self.request;
        self.subject.len()
            + request.schema.as_ref().map_or(0, String::len)
            + request.references.as_ref().map_or(0, |refs| {
                refs.iter()
                    .map(|r| r.name.len() + r.subject.len() + 8)
                    .sum()
            })
            + 128
    }
}

/// When a load began, for [`SchemaCache::insert`] and [`SchemaCache::remember_lookup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation {
    schemas: u64,
    writes: u64,
}

impl SchemaCache {
    /// The cached schema with this id.
    pub fn get(&self, id: i64) -> Option<Arc<CachedSchema>> {
        self.read().by_id.get(&id).cloned()
    }

    /// Taken before reading a schema from the database, to cache it afterwards.
    pub fn generation(&self) -> Generation {
        let entries = self.read();
        Generation {
            schemas: entries.schemas,
            writes: entries.writes,
        }
    }

    /// Caches `entry`, read from the database since `since`, unless its id is cached already
    /// or an id may have been deleted since; returns the cached entry (or `entry` uncached).
    /// Other writes do not matter: an id's schema never changes.
    pub fn insert(&self, entry: CachedSchema, since: Generation) -> Arc<CachedSchema> {
        let mut entries = self.write();
        if entries.deaf || entries.schemas != since.schemas {
            return Arc::new(entry);
        }
        entries
            .by_id
            .entry(entry.id)
            .or_insert_with(|| Arc::new(entry))
            .clone()
    }

    /// Forgets an id (after a version holding it was permanently deleted), and every lookup
    /// answer.
    pub fn remove(&self, id: i64) {
        let mut entries = self.write();
        entries.forget_lookups();
        entries.schemas += 1;
        entries.by_id.remove(&id);
    }

    /// The answer a lookup gave to this exact question, unless something was written since.
    pub fn lookup(&self, question: &Question) -> Option<(VersionRow, Arc<CachedSchema>)> {
        let entries = self.read();
        let hash = entries.hasher.hash_one(question);
        entries
            .lookups
            .get(&hash)?
            .iter()
            .find(|lookup| lookup.question == *question)
            .map(|lookup| lookup.answer.clone())
    }

    /// Keeps a lookup's answer, found in the store since `since`, unless something was
    /// written since then.
    pub fn remember_lookup(
        &self,
        question: Question,
        answer: (VersionRow, Arc<CachedSchema>),
        since: Generation,
    ) {
        let mut entries = self.write();
        if entries.deaf || entries.writes != since.writes {
            return;
        }
        let size = question.size();
        if entries.lookup_bytes + size > LOOKUP_BYTES {
            entries.lookups.clear();
            entries.lookup_bytes = 0;
        }
        let hash = entries.hasher.hash_one(&question);
        let bucket = entries.lookups.entry(hash).or_default();
        if bucket.iter().any(|lookup| lookup.question == question) {
            return;
        }
        bucket.push(Lookup { question, answer });
        entries.lookup_bytes += size;
    }

    /// Forgets every lookup answer: a subject's versions or config changed.
    pub fn forget_lookups(&self) {
        self.write().forget_lookups();
    }

    /// Follows a change listener: forgets deleted ids, and everything when notifications may
    /// have been missed; caches nothing while they are being missed.
    pub fn apply(&self, notice: Notice) {
        match notice {
            Notice::Changed(Change::SchemaDeleted(id)) => self.remove(id),
            Notice::Changed(Change::Written) => self.forget_lookups(),
            Notice::Listening | Notice::Lost => {
                let mut entries = self.write();
                entries.forget_lookups();
                entries.schemas += 1;
                entries.by_id.clear();
                entries.deaf = notice == Notice::Lost;
            }
        }
    }

    /// How many schemas are cached.
    pub fn len(&self) -> usize {
        self.read().by_id.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> RwLockReadGuard<'_, Entries> {
        self.inner
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Entries> {
        self.inner
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Entries {
    /// Forgets the lookup answers, and makes loads that began before not cache.
    fn forget_lookups(&mut self) {
        self.writes += 1;
        self.lookups.clear();
        self.lookup_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Limits;
    use crate::service::{Registry, SchemaRequest};

    /// A cache entry for the schema `"string"` under `id`.
    async fn entry(id: i64) -> CachedSchema {
        let store = crate::storage::connect("sqlite::memory:", 1).await.unwrap();
        let registry = Registry::new(store, Limits::default());
        let request = SchemaRequest {
            schema: Some("\"string\"".to_owned()),
            ..SchemaRequest::default()
        };
        let candidate = registry.candidate(&request, false).await.unwrap();
        candidate.into_cached(id)
    }

    #[tokio::test]
    async fn a_load_that_raced_an_invalidation_is_not_cached() {
        let cache = SchemaCache::default();
        let since = cache.generation();
        cache.remove(7);
        cache.insert(entry(7).await, since);
        assert!(cache.get(7).is_none());
        cache.insert(entry(7).await, cache.generation());
        assert!(cache.get(7).is_some());
        cache.apply(Notice::Changed(Change::SchemaDeleted(7)));
        assert!(cache.get(7).is_none());
    }

    #[tokio::test]
    async fn writes_do_not_stop_schemas_from_being_cached() {
        let cache = SchemaCache::default();
        let since = cache.generation();
        cache.forget_lookups();
        cache.apply(Notice::Changed(Change::Written));
        cache.insert(entry(3).await, since);
        assert!(cache.get(3).is_some(), "an id's schema never changes");
    }

    #[tokio::test]
    async fn nothing_is_cached_while_notifications_are_missed() {
        let cache = SchemaCache::default();
        cache.insert(entry(1).await, cache.generation());
        let before = cache.generation();
        cache.apply(Notice::Lost);
        assert!(cache.is_empty());
        cache.insert(entry(1).await, cache.generation());
        assert!(cache.is_empty());
        cache.apply(Notice::Listening);
        cache.insert(entry(1).await, before);
        assert!(cache.is_empty());
        cache.insert(entry(1).await, cache.generation());
        assert_eq!(cache.len(), 1);
    }

    fn question(subject: &str, schema: &str) -> Question {
        Question {
            subject: subject.to_owned(),
            normalize: false,
            deleted: false,
            request: SchemaRequest {
                schema: Some(schema.to_owned()),
                ..SchemaRequest::default()
            },
        }
    }

    fn row(version: i32) -> VersionRow {
        VersionRow {
            version,
            schema_id: 1,
            deleted: false,
            registered: None,
        }
    }

    #[tokio::test]
    async fn lookups_are_answered_until_something_is_written() {
        let cache = SchemaCache::default();
        let schema = Arc::new(entry(1).await);
        let asked = question("a", "\"string\"");
        cache.remember_lookup(asked.clone(), (row(1), schema.clone()), cache.generation());
        let (found, _) = cache.lookup(&asked).unwrap();
        assert_eq!(found.version, 1);
        // Another subject, text or option is another question.
        assert!(cache.lookup(&question("b", "\"string\"")).is_none());
        assert!(cache.lookup(&question("a", "\"int\"")).is_none());
        let mut normalized = asked.clone();
        normalized.normalize = true;
        assert!(cache.lookup(&normalized).is_none());
        // A write here, a write elsewhere, a lost listener: forgotten.
        cache.forget_lookups();
        assert!(cache.lookup(&asked).is_none());
        cache.remember_lookup(asked.clone(), (row(1), schema.clone()), cache.generation());
        cache.apply(Notice::Changed(Change::Written));
        assert!(cache.lookup(&asked).is_none());
        // An answer read before a write is not kept.
        let since = cache.generation();
        cache.forget_lookups();
        cache.remember_lookup(asked.clone(), (row(1), schema.clone()), since);
        assert!(cache.lookup(&asked).is_none());
        cache.remember_lookup(asked.clone(), (row(2), schema), cache.generation());
        assert_eq!(cache.lookup(&asked).unwrap().0.version, 2);
        cache.apply(Notice::Lost);
        assert!(cache.lookup(&asked).is_none());
    }
}
