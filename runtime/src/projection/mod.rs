//! Projections: code that follows the global log, with a checkpoint per projection.
//!
//! - [`Projection`] + [`ProjectionRunner`]: for side effects outside the store's database
//!   (e-mails, HTTP calls, another service). Delivery is **at least once**: the checkpoint
//!   is saved after the effect, so a crash in between repeats it; use
//!   [`Envelope::event_id`] as the idempotency key. Failures are retried with exponential
//!   backoff; after [`RunnerOptions::max_attempts`] the event is dead-lettered and the runner
//!   halts or skips it ([`OnFailure`]).
//! - [`sql::SqlProjection`] + [`sql::SqlProjectionRunner`]: read models in SQLite or
//!   PostgreSQL whose writes and checkpoint commit in one transaction, so each event's
//!   effect lands **exactly once**, even when the process dies mid-batch.
//!
//! Both runners take [`RunnerOptions`] through `with_options`, and share one batch loop, the
//! [`Runner`] trait: [`Runner::catch_up`], [`Runner::rebuild`] (reset, then replay from
//! position 1) with [`Progress`] reports, and [`Runner::run`] to follow the log. Both report
//! [`Lag`].
//!
//! **Several replicas.** `Runner::run_leased` follows the log only while this replica holds
//! the projection's [lease](crate::lease), and every checkpoint it writes is fenced by the
//! lease's token. A busy projection can be split into [`Partition`]s (by a stable hash of the
//! stream id), each with its own checkpoint and lease (`name#k`), so replicas share it.

pub(crate) mod batch_loop;
mod checkpoints;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod sql;

use std::future::Future;
use std::time::{Duration, SystemTime};

use batch_loop::Batches;
pub use batch_loop::Runner;
pub(crate) use checkpoints::CheckpointWriter;
pub use checkpoints::{CheckpointStore, DeadLetter};

use crate::envelope::{Envelope, RecordedEvent};
use crate::event::Event;
use crate::store::{EventStore, StoreError, is_event_of};

/// The error a projection's handler returns.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A projection with side effects outside the store (at-least-once delivery).
pub trait Projection: Send {
    /// The events it reads (current version; older ones are upcast). Events of other types
    /// are passed over.
    type Event: Event + Send + Sync;

    /// Its name, the key of its checkpoint and dead letters.
    fn name(&self) -> &str;

    /// Handles one event. May be called again for the same event after a crash or a
    /// failure: use `event.event_id` as idempotency key.
    fn handle(
        &mut self,
        event: &Envelope<Self::Event>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// Clears what the projection built, before a rebuild.
    fn reset(&mut self) -> impl Future<Output = Result<(), HandlerError>> + Send {
        async { Ok(()) }
    }
}

/// What a runner does with an event that failed every attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Dead-letter it and stop: the checkpoint stays before it, so the next run retries it.
    Halt,
    /// Dead-letter it and go on with the next event.
    Skip,
}

/// How a runner reads and retries; both runners take it through `with_options`.
///
/// The retry fields (`max_attempts`, `initial_backoff`, `max_backoff`, `on_failure`) are
/// for [`ProjectionRunner`]; a [`sql::SqlProjectionRunner`] rolls a failed batch back and
/// returns the error instead, so the next run retries the whole batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunnerOptions {
    /// Events per batch (per transaction for SQL projections; at least 1).
    pub batch_size: usize,
    /// Attempts per event before dead-lettering it (at least 1).
    pub max_attempts: u32,
    /// Wait before the first retry; doubled each time.
    pub initial_backoff: Duration,
    /// Longest wait between retries.
    pub max_backoff: Duration,
    /// What to do after the last attempt.
    pub on_failure: OnFailure,
    /// Wait between polls when caught up (`run`).
    pub poll_interval: Duration,
}

/// One of `count` partitions of a projection, set with [`Runner::with_partition`]: the
/// events whose stream id hashes (64-bit FNV-1a of its UTF-8 bytes, modulo `count`) to
/// `index`. Each partition has its own checkpoint and lease, named `<projection>#<index>`;
/// every event belongs to exactly one partition, and a stream's events stay in order within
/// it.
///
/// Partitions of one read model commit concurrently, so its writes must not depend on the
/// order of events of different streams (increments commute; "last event wins" across
/// streams does not), and under PostgreSQL two partitions updating the same rows may
/// deadlock: a leased run retries the rolled-back batch. [`Runner::rebuild`] on a partition
/// calls the projection's `reset` but resets only that partition's checkpoint: rebuild a
/// partitioned read model only with a `reset` that clears that partition's rows alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    index: u32,
    count: u32,
}

impl Default for Partition {
    fn default() -> Self {
        Partition::ALL
    }
}

impl Partition {
    /// The whole log: no partitioning, the checkpoint is named after the projection.
    pub const ALL: Partition = Partition { index: 0, count: 1 };

    /// Partition `index` of `count`; `None` unless `index < count`.
    pub fn new(index: u32, count: u32) -> Option<Partition> {
        (index < count).then_some(Partition { index, count })
    }

    /// Every partition of `count` (none for 0).
    pub fn all(count: u32) -> impl Iterator<Item = Partition> {
        (0..count).map(move |index| Partition { index, count })
    }

    /// This partition's index.
    pub fn index(self) -> u32 {
        self.index
    }

    /// How many partitions there are.
    pub fn count(self) -> u32 {
        self.count
    }

    /// Whether events of `stream_id` belong to this partition.
    pub fn contains(self, stream_id: &str) -> bool {
        let hash = stream_id
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
            });
        hash % u64::from(self.count.max(1)) == u64::from(self.index)
    }

    /// The checkpoint (and lease) name of this partition of `projection`.
    pub fn checkpoint_name(self, projection: &str) -> String {
        if self.count <= 1 {
            projection.to_owned()
        } else {
            format!("{projection}#{}", self.index)
        }
    }
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            batch_size: 500,
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            on_failure: OnFailure::Halt,
            poll_interval: Duration::from_millis(100),
        }
    }
}

impl RunnerOptions {
    /// The wait before retry number `retry` (from 1).
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Why a projection stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event failed every attempt and the runner is configured to halt.
    #[error("projection `{projection}` halted at position {position} (event {event_id}): {error}")]
    Halted {
        /// The projection.
        projection: String,
        /// The event's position.
        position: u64,
        /// The event's id.
        event_id: uuid::Uuid,
        /// The last error.
        error: String,
    },
    /// The handler failed on an event (SQL projections: the batch was rolled back).
    #[error("projection `{projection}` failed at position {position}: {source}")]
    Handler {
        /// The projection.
        projection: String,
        /// The event's position (0 for a reset).
        position: u64,
        /// The handler's error.
        #[source]
        source: HandlerError,
    },
    /// The read model's database failed.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[error("read model database: {0}")]
    Database(#[from] sqlx::Error),
    /// The lease failed, or was lost by a runner that wanted to commit.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[error(transparent)]
    Lease(#[from] crate::lease::LeaseError),
}

impl ProjectionError {
    /// Wraps the error of a projection's `reset` (position 0).
    fn reset(projection: &str) -> impl FnOnce(HandlerError) -> ProjectionError + '_ {
        move |source| ProjectionError::Handler {
            projection: projection.to_owned(),
            position: 0,
            source,
        }
    }
}

/// Rebuild or catch-up progress.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Positions processed since the start of this run.
    pub done: u64,
    /// Positions to process in this run (head at start minus the checkpoint at start).
    pub total: u64,
    /// Time since the start of this run.
    pub elapsed: Duration,
}

impl Progress {
    /// Positions per second so far.
    pub fn rate(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.done as f64 / seconds
        } else {
            0.0
        }
    }

    /// `done / total` in `[0, 1]` (1 when there is nothing to do).
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            (self.done as f64 / self.total as f64).min(1.0)
        }
    }
}

/// How far a consumer is behind the head of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lag {
    /// The head position.
    pub head: u64,
    /// The consumer's checkpoint.
    pub checkpoint: u64,
    /// `head - checkpoint`.
    pub positions: u64,
    /// Age of the oldest event not yet processed (`None` when caught up).
    pub oldest_unprocessed_age: Option<Duration>,
}

/// The lag of a consumer whose checkpoint is `checkpoint`.
pub async fn lag<S: EventStore>(store: &S, checkpoint: u64) -> Result<Lag, StoreError> {
    let head = store.head_position().await?;
    let oldest = store.read_all(checkpoint + 1, 1).await?;
    let now = SystemTime::now();
    Ok(Lag {
        head,
        checkpoint,
        positions: head.saturating_sub(checkpoint),
        oldest_unprocessed_age: oldest
            .first()
            .map(|event| now.duration_since(event.recorded_at).unwrap_or_default()),
    })
}

/// Whether a runner of `partition` handles `event`: an `E`, in its partition.
pub(crate) fn selects<E: Event>(partition: Partition, event: &RecordedEvent) -> bool {
    is_event_of::<E>(&event.event_type) && partition.contains(&event.stream_id)
}

/// Runs a [`Projection`] over a store, with its checkpoint and dead letters in the store.
#[derive(Debug)]
pub struct ProjectionRunner<S, P> {
    store: S,
    projection: P,
    options: RunnerOptions,
    partition: Partition,
    checkpoints: CheckpointWriter,
}

impl<S: EventStore + CheckpointStore, P: Projection> ProjectionRunner<S, P> {
    /// A runner with default options.
    pub fn new(store: S, projection: P) -> Self {
        ProjectionRunner {
            store,
            projection,
            options: RunnerOptions::default(),
            partition: Partition::ALL,
            checkpoints: CheckpointWriter::default(),
        }
    }

    /// The projection.
    pub fn projection(&self) -> &P {
        &self.projection
    }

    /// The projection, mutably.
    pub fn projection_mut(&mut self) -> &mut P {
        &mut self.projection
    }

    /// The projection's (or its partition's) checkpoint.
    pub async fn checkpoint(&self) -> Result<u64, StoreError> {
        self.store.load_checkpoint(&self.name()).await
    }

    /// The checkpoint's name: the projection's, `#k` for partition `k`.
    fn name(&self) -> String {
        self.partition.checkpoint_name(self.projection.name())
    }

    /// Saves the checkpoint, fenced by the lease while the runner runs leased.
    async fn save_checkpoint(&mut self, name: &str, position: u64) -> Result<(), ProjectionError> {
        self.checkpoints.save(&self.store, name, position).await
    }

    /// The projection's lag.
    pub async fn lag(&self) -> Result<Lag, StoreError> {
        lag(&self.store, self.checkpoint().await?).await
    }

    /// Processes one batch after the checkpoint; returns how many events were read
    /// (0: caught up).
    pub async fn run_batch(&mut self) -> Result<usize, ProjectionError> {
        Ok(self.next_batch().await?.0)
    }

    async fn deliver(&mut self, name: &str, event: &RecordedEvent) -> Result<(), ProjectionError> {
        let mut attempts = 0;
        let error = match event.decode::<P::Event>() {
            Err(error) => {
                attempts = 1;
                error.to_string()
            }
            Ok(envelope) => loop {
                attempts += 1;
                match self.projection.handle(&envelope).await {
                    Ok(()) => return Ok(()),
                    Err(error) if attempts >= self.options.max_attempts.max(1) => {
                        break error.to_string();
                    }
                    Err(error) => {
                        tracing::warn!(projection = name, position = event.position, attempts, %error, "projection handler failed; retrying");
                        tokio::time::sleep(self.options.backoff(attempts)).await;
                    }
                }
            },
        };
        self.store
            .record_dead_letter(DeadLetter {
                projection: name.to_owned(),
                event_id: event.event_id,
                position: event.position,
                event_type: event.event_type.clone(),
                attempts,
                error: error.clone(),
                failed_at: SystemTime::now(),
            })
            .await?;
        match self.options.on_failure {
            OnFailure::Skip => {
                tracing::error!(projection = name, position = event.position, %error, "event dead-lettered and skipped");
                Ok(())
            }
            OnFailure::Halt => Err(ProjectionError::Halted {
                projection: name.to_owned(),
                position: event.position,
                event_id: event.event_id,
                error,
            }),
        }
    }
}

impl<S: EventStore + CheckpointStore, P: Projection> Batches for ProjectionRunner<S, P> {
    fn options(&mut self) -> &mut RunnerOptions {
        &mut self.options
    }

    fn checkpoint_name(&self) -> String {
        self.name()
    }

    fn set_partition(&mut self, partition: Partition) {
        self.partition = partition;
    }

    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    fn set_fence(&mut self, fence: Option<crate::lease::Fence>) {
        self.checkpoints.fence = fence;
    }

    async fn checkpoint_and_head(&mut self) -> Result<(u64, u64), ProjectionError> {
        let name = self.name();
        let checkpoint = self.store.load_checkpoint(&name).await?;
        Ok((checkpoint, self.store.head_position().await?))
    }

    async fn next_batch(&mut self) -> Result<(usize, u64), ProjectionError> {
        let name = self.name();
        let checkpoint = self.store.load_checkpoint(&name).await?;
        let events = self
            .store
            .read_all(checkpoint + 1, self.options.batch_size.max(1))
            .await?;
        let mut done = checkpoint;
        for event in &events {
            if selects::<P::Event>(self.partition, event)
                && let Err(error) = self.deliver(&name, event).await
            {
                if done > checkpoint {
                    self.save_checkpoint(&name, done).await?;
                }
                return Err(error);
            }
            done = event.position;
        }
        if done > checkpoint {
            self.save_checkpoint(&name, done).await?;
        }
        Ok((events.len(), done))
    }

    async fn reset(&mut self) -> Result<(), ProjectionError> {
        let name = self.name();
        let reset = self.projection.reset().await;
        reset.map_err(ProjectionError::reset(&name))?;
        self.save_checkpoint(&name, 0).await
    }
}
