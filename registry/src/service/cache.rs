//! Parsed schemas by global id. A schema's text never changes once it has an id, so an entry
//! goes stale only when the id stops being served (its last version permanently deleted);
//! reads are served from here and never re-parse.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;

use crate::schema::{Schema, SchemaType};
use crate::storage::Reference;
use crate::storage::notifications::{Change, Notice};

use super::contract::{Metadata, RuleSet};

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
    /// Bumped by every invalidation.
    generation: u64,
    /// Whether invalidations may be missed (the change listener is down): nothing is cached.
    deaf: bool,
}

/// When a load began, for [`SchemaCache::insert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(u64);

impl SchemaCache {
    /// The cached schema with this id.
    pub fn get(&self, id: i64) -> Option<Arc<CachedSchema>> {
        self.read().by_id.get(&id).cloned()
    }

    /// Taken before reading a schema from the database, to cache it afterwards.
    pub fn generation(&self) -> Generation {
        Generation(self.read().generation)
    }

    /// Caches `entry`, read from the database since `since`, unless its id is cached already
    /// or something was invalidated since; returns the cached entry (or `entry` uncached).
    pub fn insert(&self, entry: CachedSchema, since: Generation) -> Arc<CachedSchema> {
        let mut entries = self.write();
        if entries.deaf || entries.generation != since.0 {
            return Arc::new(entry);
        }
        entries
            .by_id
            .entry(entry.id)
            .or_insert_with(|| Arc::new(entry))
            .clone()
    }

    /// Forgets an id (after a version holding it was permanently deleted).
    pub fn remove(&self, id: i64) {
        let mut entries = self.write();
        entries.generation += 1;
        entries.by_id.remove(&id);
    }

    /// Follows a change listener: forgets deleted ids, and everything when notifications may
    /// have been missed; caches nothing while they are being missed.
    pub fn apply(&self, notice: Notice) {
        match notice {
            Notice::Changed(Change::SchemaDeleted(id)) => self.remove(id),
            Notice::Listening | Notice::Lost => {
                let mut entries = self.write();
                entries.generation += 1;
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
}
