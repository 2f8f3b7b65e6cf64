//! The event store: one narrow trait, [`EventStore`], with a module per backend.
//!
//! - [`memory::MemoryStore`], always available, for tests and prototypes;
//! - `sqlite::SqliteStore` (feature `sqlite`);
//! - `postgres::PostgresStore` (feature `postgres`).
//!
//! # Semantics shared by every backend
//!
//! - Stream versions start at 1 and have no gaps; [`Expected`] is checked against the
//!   stream's current version inside the appending transaction, and a conflict is
//!   [`StoreError::Conflict`] carrying the actual version.
//! - A batch is atomic: all of its events are stored, or none.
//! - Appending events whose ids are already stored, in the same stream and order, is a retry:
//!   it succeeds with [`Appended::duplicate`] set and writes nothing.
//! - Global positions start at 1 and are assigned **in commit order**: once a reader has seen
//!   position `p`, no event with a position below `p` can commit later. Readers may
//!   therefore keep "the last position I saw" and never skip an event (see
//!   `postgres` for how that is obtained and what it costs).
//! - A soft-deleted stream refuses reads and appends ([`StoreError::StreamDeleted`]); its
//!   events stay in the global log. Truncating a stream removes its events below a version;
//!   later versions keep their numbers.
//! - Versions and positions go up to `i64::MAX`, schema versions and attempts up to
//!   `i32::MAX` (what SQL columns hold); a larger value given to any backend is
//!   [`StoreError::OutOfRange`], never clamped.

mod append;
pub mod memory;
pub(crate) mod numbers;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql_store;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod subscription;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod tables;

use std::future::Future;

use serde_json::Value;
use uuid::Uuid;

use crate::envelope::{Envelope, NewEvent, RecordedEvent};
use crate::error::DecodeError;
use crate::event::Event;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use crate::sql::SqlBackend;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use sql_store::SqlStore;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) use sql_store::{Batch, Page};
pub use subscription::Subscription;

/// What the appender believes about the stream's current version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// No check.
    Any,
    /// The stream must not exist (have no events yet).
    NoStream,
    /// The stream must exist.
    StreamExists,
    /// The stream's current version must be exactly this (0 means no events).
    Exact(u64),
}

impl Expected {
    /// Checks the expectation against `actual` (the current version, 0 when the stream has
    /// no events).
    pub fn check(self, stream_id: &str, actual: u64) -> Result<(), StoreError> {
        let ok = match self {
            Expected::Any => true,
            Expected::NoStream => actual == 0,
            Expected::StreamExists => actual > 0,
            Expected::Exact(version) => actual == version,
        };
        if ok {
            Ok(())
        } else {
            Err(StoreError::Conflict {
                stream_id: stream_id.to_owned(),
                expected: self,
                actual,
            })
        }
    }
}

/// Which way [`EventStore::read_stream`] walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From `from` up.
    Forward,
    /// From `from` down.
    Backward,
}

/// What an append stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The stream's version after the append.
    pub stream_version: u64,
    /// The position of the first event of the batch (0 for an empty batch).
    pub first_position: u64,
    /// The position of the last event of the batch (0 for an empty batch).
    pub last_position: u64,
    /// The events were already stored by an earlier attempt; nothing was written.
    pub duplicate: bool,
}

/// A stream's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamInfo {
    /// The current version (0 when no event was appended).
    pub version: u64,
    /// Soft-deleted.
    pub deleted: bool,
    /// Events with a lower stream version were truncated away.
    pub truncated_before: u64,
}

/// An aggregate snapshot: its state at a stream version, tagged with the aggregate type and
/// the snapshot's own schema version so that a changed aggregate ignores old snapshots.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The aggregate's stream.
    pub stream_id: String,
    /// The aggregate type that wrote it.
    pub aggregate_type: String,
    /// The snapshot schema version that wrote it.
    pub schema_version: u32,
    /// The stream version the state includes.
    pub stream_version: u64,
    /// The serialized state.
    pub state: Value,
}

/// What folding a stream into state needs of each event, borrowed from the store's row:
/// see [`EventStore::fold_stream`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredPayload<'a> {
    /// The event's version in its stream.
    pub stream_version: u64,
    /// The event type as stored.
    pub event_type: &'a str,
    /// The schema version that wrote the payload.
    pub schema_version: u32,
    /// The payload as stored.
    pub payload: &'a [u8],
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The stream's version is not the expected one.
    #[error("stream `{stream_id}`: expected {expected:?}, but its version is {actual}")]
    Conflict {
        /// The stream.
        stream_id: String,
        /// What the appender expected.
        expected: Expected,
        /// The stream's actual version (0: no events).
        actual: u64,
    },
    /// The stream was soft-deleted.
    #[error("stream `{0}` is deleted")]
    StreamDeleted(String),
    /// Some but not all event ids of a batch are already stored, or stored elsewhere: not a
    /// retry of the same append.
    #[error(
        "event `{event_id}` is already stored (stream `{stored_stream}`), but the batch is not a retry of that append"
    )]
    DuplicateEventId {
        /// The id.
        event_id: Uuid,
        /// Where it is stored.
        stored_stream: String,
    },
    /// A stored event could not be decoded.
    #[error("event at position {position} (`{event_type}`): {source}")]
    Decode {
        /// Its position.
        position: u64,
        /// Its event type.
        event_type: String,
        /// Why.
        #[source]
        source: DecodeError,
    },
    /// An event of a stream could not be decoded while loading an aggregate.
    #[error("stream `{stream_id}` version {stream_version} (`{event_type}`): {source}")]
    DecodeInStream {
        /// The stream.
        stream_id: String,
        /// The event's version in the stream.
        stream_version: u64,
        /// Its event type.
        event_type: String,
        /// Why.
        #[source]
        source: Box<DecodeError>,
    },
    /// A snapshot or metadata could not be (de)serialized.
    #[error("serialization: {0}")]
    Serialization(#[from] serde_json::Error),
    /// The database failed.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Running the store's migrations failed.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A value given to the store is beyond what it can store.
    #[error("{what} {value} is out of range (at most {max})")]
    OutOfRange {
        /// What the value is (`"schema version"`, `"checkpoint position"`...).
        what: &'static str,
        /// The value given.
        value: u64,
        /// The largest value the store takes.
        max: u64,
    },
    /// A stored value is out of range (a negative version, an unknown UUID...).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The task running a grouped request stopped before answering (its runtime shut down).
    /// An append may or may not have been stored: retrying it with the same event ids is safe.
    #[error(
        "request on stream `{stream_id}` interrupted; retry it (an append with the same event ids)"
    )]
    Interrupted {
        /// The stream.
        stream_id: String,
    },
}

/// The event store boundary every backend implements.
///
/// The futures are `Send`, so a store can be used from spawned tasks. Stores are cheap to
/// clone (they share a pool or an `Arc`).
pub trait EventStore: Clone + Send + Sync + 'static {
    /// Appends `events` to `stream_id` atomically if `expected` holds.
    fn append(
        &self,
        stream_id: &str,
        expected: Expected,
        events: Vec<NewEvent>,
    ) -> impl Future<Output = Result<Appended, StoreError>> + Send;

    /// Reads up to `limit` events of a stream from stream version `from`, in `direction`.
    /// A stream that does not exist reads as empty.
    fn read_stream(
        &self,
        stream_id: &str,
        from: u64,
        direction: Direction,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, StoreError>> + Send;

    /// Folds up to `limit` events of a stream, from stream version `from`, into `state` with
    /// `apply`, seeing only what rebuilding state needs (no envelope, nothing copied per
    /// event). Returns the number of events folded. Aggregates load with it; backends answer
    /// it with a narrower query than [`EventStore::read_stream`].
    fn fold_stream<T, F>(
        &self,
        stream_id: &str,
        from: u64,
        limit: usize,
        state: &mut T,
        mut apply: F,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send
    where
        T: Send,
        F: FnMut(&mut T, StoredPayload<'_>) -> Result<(), StoreError> + Send,
    {
        async move {
            let events = self
                .read_stream(stream_id, from, Direction::Forward, limit)
                .await?;
            for event in &events {
                apply(
                    state,
                    StoredPayload {
                        stream_version: event.stream_version,
                        event_type: &event.event_type,
                        schema_version: event.schema_version,
                        payload: &event.payload,
                    },
                )?;
            }
            Ok(events.len())
        }
    }

    /// Reads up to `limit` events of the global log from position `from_position` on, in
    /// position order.
    fn read_all(
        &self,
        from_position: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, StoreError>> + Send;

    /// The stored event with this id, if any (what a receiver that deduplicates by event id
    /// asks: see [`Repository::execute_once`](crate::aggregate::Repository::execute_once)).
    fn read_event(
        &self,
        event_id: Uuid,
    ) -> impl Future<Output = Result<Option<RecordedEvent>, StoreError>> + Send;

    /// The highest committed position (0 when the log is empty).
    fn head_position(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// A stream's state, `None` if it never existed.
    fn stream_info(
        &self,
        stream_id: &str,
    ) -> impl Future<Output = Result<Option<StreamInfo>, StoreError>> + Send;

    /// Soft-deletes a stream if `expected` holds.
    fn delete_stream(
        &self,
        stream_id: &str,
        expected: Expected,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes the stream's events with a version below `before`.
    fn truncate_stream(
        &self,
        stream_id: &str,
        before: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The latest snapshot of a stream.
    fn load_snapshot(
        &self,
        stream_id: &str,
    ) -> impl Future<Output = Result<Option<Snapshot>, StoreError>> + Send;

    /// Stores a snapshot, replacing the stream's previous one.
    fn save_snapshot(
        &self,
        snapshot: Snapshot,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// [`EventStore::read_stream`], decoded into the current version of `E`.
    fn read_stream_as<E: Event + Send>(
        &self,
        stream_id: &str,
        from: u64,
        direction: Direction,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Envelope<E>>, StoreError>> + Send {
        async move {
            let events = self.read_stream(stream_id, from, direction, limit).await?;
            decode_all(&events)
        }
    }

    /// [`EventStore::read_all`], decoded into the current version of `E`. Every event in the
    /// range must be an `E`; use [`is_event_of`] on raw reads to mix event families.
    fn read_all_as<E: Event + Send>(
        &self,
        from_position: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Envelope<E>>, StoreError>> + Send {
        async move {
            let events = self.read_all(from_position, limit).await?;
            decode_all(&events)
        }
    }
}

/// Decodes raw events into `E`, naming the position of the first failure.
pub fn decode_all<E: Event>(events: &[RecordedEvent]) -> Result<Vec<Envelope<E>>, StoreError> {
    events
        .iter()
        .map(|event| {
            event.decode::<E>().map_err(|source| StoreError::Decode {
                position: event.position,
                event_type: event.event_type.clone(),
                source,
            })
        })
        .collect()
}

/// Whether a stored event type belongs to `E` in any version of its chain.
pub fn is_event_of<E: Event>(event_type: &str) -> bool {
    E::history()
        .iter()
        .any(|version| version.event_types.contains(&event_type))
        || E::EVENT_TYPES.contains(&event_type)
}
