//! Parsed schemas by global id. A schema's text never changes once it has an id, so entries
//! never go stale; reads are served from here and never re-parse.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bytes::Bytes;

use crate::schema::{Schema, SchemaType};
use crate::storage::Reference;

use super::contract::{Metadata, RuleSet};

/// A registered schema, parsed once, with what every read needs already rendered.
#[derive(Debug)]
pub struct CachedSchema {
    /// Global id.
    pub id: i64,
    /// AVRO or JSON.
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
#[derive(Debug, Default)]
pub struct SchemaCache {
    by_id: RwLock<HashMap<i64, Arc<CachedSchema>>>,
}

impl SchemaCache {
    /// The cached schema with this id.
    pub fn get(&self, id: i64) -> Option<Arc<CachedSchema>> {
        let map = self
            .by_id
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.get(&id).cloned()
    }

    /// Caches `entry` unless its id is cached already; returns the cached entry.
    pub fn insert(&self, entry: CachedSchema) -> Arc<CachedSchema> {
        let mut map = self
            .by_id
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.entry(entry.id)
            .or_insert_with(|| Arc::new(entry))
            .clone()
    }

    /// Forgets an id (after its last subject version was permanently deleted).
    pub fn remove(&self, id: i64) {
        let mut map = self
            .by_id
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.remove(&id);
    }

    /// How many schemas are cached.
    pub fn len(&self) -> usize {
        let map = self
            .by_id
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
