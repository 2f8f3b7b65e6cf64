//! Where the log's readers keep their place: a checkpoint per relay or projection (the last
//! position it processed), and the events a projection gave up on. Every store here keeps
//! them in its own tables, beside the log, so that a checkpoint can be written in the same
//! database as what it guards.

use std::future::Future;
use std::time::SystemTime;

use uuid::Uuid;

use crate::store::StoreError;

/// An event a projection gave up on.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// The projection.
    pub projection: String,
    /// The event's id.
    pub event_id: Uuid,
    /// The event's global position.
    pub position: u64,
    /// The event type.
    pub event_type: String,
    /// How many attempts were made.
    pub attempts: u32,
    /// The last error.
    pub error: String,
    /// When it was dead-lettered.
    pub failed_at: SystemTime,
}

/// A store's checkpoints and dead letters ([`MemoryStore`](crate::store::memory::MemoryStore)
/// and the SQL stores implement it beside [`EventStore`](crate::store::EventStore)).
pub trait CheckpointStore: Clone + Send + Sync + 'static {
    /// The last position a named consumer (projection, relay) has processed (0: none).
    fn load_checkpoint(&self, name: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Records the last position a named consumer has processed.
    fn save_checkpoint(
        &self,
        name: &str,
        position: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records (or replaces) a projection's dead letter.
    fn record_dead_letter(
        &self,
        dead_letter: DeadLetter,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The dead letters of a projection, by position.
    fn dead_letters(
        &self,
        projection: &str,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, StoreError>> + Send;
}

/// Where a runner that checkpoints in the store ([`ProjectionRunner`](super::ProjectionRunner),
/// the saga runner) writes its checkpoint: straight to the store, or, while it runs leased,
/// through its lease's fence.
#[derive(Debug, Clone, Default)]
pub(crate) struct CheckpointWriter {
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fence: Option<crate::lease::Fence>,
}

impl CheckpointWriter {
    /// Saves checkpoint `name` at `position`, fenced while a fence is set.
    pub(crate) async fn save<S: CheckpointStore>(
        &self,
        store: &S,
        name: &str,
        position: u64,
    ) -> Result<(), super::ProjectionError> {
        #[cfg(any(feature = "sqlite", feature = "postgres"))]
        if let Some(fence) = &self.fence {
            return Ok(fence.save_checkpoint(position).await?);
        }
        Ok(store.save_checkpoint(name, position).await?)
    }
}
