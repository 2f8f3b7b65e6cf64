//! Read models in SQLite or PostgreSQL, updated exactly once per event.
//!
//! The runner opens one transaction per batch in the read model's database, reads the
//! checkpoint inside it, applies the batch through [`SqlProjection::apply`] on the same
//! connection, writes the new checkpoint and commits. Either the whole batch and its
//! checkpoint are committed or neither is, so a process killed mid-batch resumes from the
//! last committed checkpoint and never applies an event twice. The read model's database
//! needs Herald's migrations (for `herald_checkpoints`); it may be the store's database or
//! another one.
//!
//! The checkpoint row is created (at 0) before the first batch, so that two runners starting
//! on a fresh database both lock it and take turns instead of both applying the first batch.
//! Run leased ([`Runner::run_leased`](crate::projection::Runner::run_leased), with
//! [`Leases`](crate::lease::Leases) in the read model's database), the transaction also
//! checks the lease's fencing token before it commits: a replica that lost its lease rolls
//! its batch back.

use std::future::Future;

use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Transaction, Type,
};
use uuid::Uuid;

use crate::envelope::Envelope;
use crate::event::Event;
use crate::lease::{Fence, LeaseError};
use crate::projection::batch_loop::Batches;
use crate::projection::{
    HandlerError, Lag, Partition, ProjectionError, RunnerOptions, lag, selects,
};
use crate::sql::SqlBackend;
use crate::sql::checkpoints::CheckpointTable;
use crate::sql::leases::LeaseTable;
use crate::store::{EventStore, StoreError};

/// A database that can hold a read model with its checkpoint: every [`SqlBackend`]
/// (SQLite, PostgreSQL).
pub trait ReadModelDatabase: SqlBackend {
    /// Reads a checkpoint inside a transaction, holding its row until the transaction ends.
    fn load_checkpoint(
        connection: &mut Self::Connection,
        name: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Writes a checkpoint inside a transaction.
    fn save_checkpoint(
        connection: &mut Self::Connection,
        name: &str,
        position: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Creates checkpoint `name` at 0 unless it exists.
    fn ensure_checkpoint(
        pool: &Pool<Self>,
        name: &str,
    ) -> impl Future<Output = Result<(), LeaseError>> + Send;

    /// At the start of a write transaction that `fence` will guard: on PostgreSQL, ends the
    /// session if the transaction stays idle longer than the lease's TTL, so that a stalled
    /// holder does not keep its row locks from the replica that took over.
    fn guard(
        connection: &mut Self::Connection,
        fence: &Fence,
    ) -> impl Future<Output = Result<(), LeaseError>> + Send;

    /// Inside a write transaction: [`LeaseError::Lost`] unless the fence's lease still has
    /// its token (locking the lease row until the transaction ends).
    fn check_fence(
        connection: &mut Self::Connection,
        fence: &Fence,
    ) -> impl Future<Output = Result<(), LeaseError>> + Send;
}

impl<DB> ReadModelDatabase for DB
where
    DB: SqlBackend,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'a> Option<&'a str>: Encode<'a, DB>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> i32: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> String: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> Uuid: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
{
    async fn load_checkpoint(
        connection: &mut Self::Connection,
        name: &str,
    ) -> Result<u64, StoreError> {
        CheckpointTable::<DB>::load(connection, name, DB::LOCK_FOR_UPDATE).await
    }

    async fn save_checkpoint(
        connection: &mut Self::Connection,
        name: &str,
        position: u64,
    ) -> Result<(), StoreError> {
        CheckpointTable::<DB>::save(connection, name, position).await
    }

    async fn ensure_checkpoint(pool: &Pool<Self>, name: &str) -> Result<(), LeaseError> {
        Ok(CheckpointTable::<DB>::ensure(pool, name).await?)
    }

    async fn guard(connection: &mut Self::Connection, fence: &Fence) -> Result<(), LeaseError> {
        LeaseTable::<DB>::guard(connection, fence.leases.options().ttl).await
    }

    async fn check_fence(
        connection: &mut Self::Connection,
        fence: &Fence,
    ) -> Result<(), LeaseError> {
        LeaseTable::<DB>::check(connection, fence).await
    }
}

/// A read model in database `DB`, written inside the runner's transaction.
pub trait SqlProjection<DB: Database>: Send {
    /// The events it reads (current version; older ones are upcast). Other events are
    /// passed over.
    type Event: Event + Send + Sync;

    /// Its name, the key of its checkpoint.
    fn name(&self) -> &str;

    /// Applies one event on `connection`, which is inside the batch's transaction. Return
    /// an error to roll the whole batch back.
    fn apply(
        &mut self,
        connection: &mut DB::Connection,
        event: &Envelope<Self::Event>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// Empties the read model, in the same transaction that resets the checkpoint.
    fn reset(
        &mut self,
        connection: &mut DB::Connection,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// Runs a [`SqlProjection`] from a store into a read model database, exactly once per event.
#[derive(Debug)]
pub struct SqlProjectionRunner<DB: Database, S, P> {
    pool: Pool<DB>,
    store: S,
    projection: P,
    options: RunnerOptions,
    partition: Partition,
    fence: Option<Fence>,
    checkpoint_exists: bool,
}

impl<DB, S, P> SqlProjectionRunner<DB, S, P>
where
    DB: ReadModelDatabase,
    S: EventStore,
    P: SqlProjection<DB>,
{
    /// A runner that reads `store` and writes the read model through `pool`, with default
    /// options.
    pub fn new(pool: Pool<DB>, store: S, projection: P) -> Self {
        SqlProjectionRunner {
            pool,
            store,
            projection,
            options: RunnerOptions::default(),
            partition: Partition::ALL,
            fence: None,
            checkpoint_exists: false,
        }
    }

    /// The projection.
    pub fn projection(&self) -> &P {
        &self.projection
    }

    /// The committed checkpoint (of the runner's partition).
    pub async fn checkpoint(&self) -> Result<u64, ProjectionError> {
        let mut connection = self.pool.acquire().await?;
        Ok(DB::load_checkpoint(&mut connection, &self.checkpoint_name()).await?)
    }

    /// Starts a write transaction, guarded against stalls while fenced.
    async fn begin(&mut self) -> Result<Transaction<'static, DB>, ProjectionError> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        if let Some(fence) = &self.fence {
            DB::guard(&mut tx, fence).await?;
        }
        Ok(tx)
    }

    /// Checks the fence (if any), then commits.
    async fn commit(&mut self, mut tx: Transaction<'static, DB>) -> Result<(), ProjectionError> {
        if let Some(fence) = &self.fence {
            DB::check_fence(&mut tx, fence).await?;
        }
        Ok(tx.commit().await?)
    }

    /// The projection's lag.
    pub async fn lag(&self) -> Result<Lag, ProjectionError> {
        let checkpoint = self.checkpoint().await?;
        Ok(lag(&self.store, checkpoint).await?)
    }

    /// Applies one batch after the checkpoint in one transaction; returns how many events
    /// were read (0: caught up).
    pub async fn run_batch(&mut self) -> Result<usize, ProjectionError> {
        Ok(self.next_batch().await?.0)
    }
}

impl<DB, S, P> Batches for SqlProjectionRunner<DB, S, P>
where
    DB: ReadModelDatabase,
    S: EventStore,
    P: SqlProjection<DB>,
{
    fn options(&mut self) -> &mut RunnerOptions {
        &mut self.options
    }

    fn checkpoint_name(&self) -> String {
        self.partition.checkpoint_name(self.projection.name())
    }

    fn set_partition(&mut self, partition: Partition) {
        self.partition = partition;
    }

    fn set_fence(&mut self, fence: Option<Fence>) {
        self.fence = fence;
    }

    async fn checkpoint_and_head(&mut self) -> Result<(u64, u64), ProjectionError> {
        let name = self.checkpoint_name();
        let mut connection = self.pool.acquire().await?;
        let checkpoint = DB::load_checkpoint(&mut connection, &name).await?;
        Ok((checkpoint, self.store.head_position().await?))
    }

    /// One transaction: the checkpoint, the batch's writes and the new checkpoint.
    async fn next_batch(&mut self) -> Result<(usize, u64), ProjectionError> {
        let name = self.checkpoint_name();
        if !self.checkpoint_exists {
            DB::ensure_checkpoint(&self.pool, &name).await?;
            self.checkpoint_exists = true;
        }
        let mut tx = self.begin().await?;
        let checkpoint = DB::load_checkpoint(&mut tx, &name).await?;
        let events = self
            .store
            .read_all(checkpoint + 1, self.options.batch_size.max(1))
            .await?;
        let Some(last) = events.last() else {
            tx.rollback().await?;
            return Ok((0, checkpoint));
        };
        let last = last.position;
        for event in &events {
            if !selects::<P::Event>(self.partition, event) {
                continue;
            }
            let handler_error = |source: HandlerError| ProjectionError::Handler {
                projection: name.clone(),
                position: event.position,
                source,
            };
            let envelope = event
                .decode::<P::Event>()
                .map_err(|error| handler_error(Box::new(error)))?;
            self.projection
                .apply(&mut tx, &envelope)
                .await
                .map_err(handler_error)?;
        }
        DB::save_checkpoint(&mut tx, &name, last).await?;
        self.commit(tx).await?;
        Ok((events.len(), last))
    }

    /// Empties the read model and resets the checkpoint in one transaction, so a rebuild
    /// interrupted by a crash resumes with
    /// [`Runner::catch_up`](crate::projection::Runner::catch_up) from its last committed
    /// batch.
    async fn reset(&mut self) -> Result<(), ProjectionError> {
        let name = self.checkpoint_name();
        let mut tx = self.begin().await?;
        let reset = self.projection.reset(&mut tx).await;
        reset.map_err(ProjectionError::reset(&name))?;
        DB::save_checkpoint(&mut tx, &name, 0).await?;
        self.commit(tx).await
    }
}
