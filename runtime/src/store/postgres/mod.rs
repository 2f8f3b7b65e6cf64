//! The PostgreSQL backend.
//!
//! # Hole-free global order
//!
//! A `BIGSERIAL` position is handed out when a row is inserted, not when its transaction
//! commits: a transaction that took position 7 may commit after one that took 8, and a
//! reader that saw 8 and then asks for `position > 8` skips 7 forever.
//!
//! Herald hands positions out in commit order instead. Every write to the log (an append, a
//! deletion, a truncation) first locks the single `herald_head` row and holds the lock until
//! it commits. Under it, an append (`herald_append`, one round trip) reads its stream's
//! version (its last event's: the unique `(stream_id, stream_version)` index), checks the
//! expectation and numbers its events after the head. The next writer can only number its
//! events once these are visible, so `WHERE position >= $next ORDER BY position` never skips
//! one, and readers (`read_all`, subscriptions, projections, the relay) keep a single integer
//! as their place. Only the events and the head row are written; `herald_streams` holds a
//! row only for deleted or truncated streams.
//!
//! **Cost:** writes to the log are serialized, so PostgreSQL cannot share one WAL flush
//! among them. Herald wins that back inside each process: concurrent appends to distinct
//! streams are grouped into one `herald_append` call, one transaction and one flush (the
//! `group` module), and each append in the group still succeeds or fails on its own;
//! concurrent aggregate loads are grouped into one `herald_load` call the same way. The
//! benchmark in `benches/cqrs-peer` measures this against unordered `BIGSERIAL` appends.
//! Several processes on one database stay correct; their groups take turns on the head lock.

mod append;
mod group;
mod load;

use std::sync::{Arc, Mutex, PoisonError};

use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgRow, Postgres};

use crate::sql::SqlBackend;
use crate::store::Appended;
use crate::store::StoreError;
use crate::store::sql_store::{Batch, Page, SqlStore};
use crate::store::tables::Tables as SharedTables;

use group::{Append, Group, Load};

type Tables = SharedTables<Postgres>;

/// An event store in PostgreSQL.
///
/// While appends or aggregate loads are queued, the store keeps up to two of the pool's
/// connections for them (one each); give the pool at least three.
pub type PostgresStore = SqlStore<Postgres>;

/// What a PostgreSQL store keeps besides its pool: its groups of appends and loads, and the
/// connection each kind keeps while requests are queued.
#[derive(Debug, Clone, Default)]
pub struct Groups {
    appends: Group<Append>,
    loads: Group<Load>,
    appends_connection: Kept,
    loads_connection: Kept,
}

/// The connection a kind of group keeps between its statements while requests are queued
/// (one group of a kind runs at a time), instead of going through the pool for each: under
/// load, checking a connection out of the pool and back in for every group cost more than
/// the statement (commands went from 1.7x to 2.8x cqrs-es when groups kept theirs). It goes
/// back to the pool when the queue is empty, and is dropped after an error.
#[derive(Debug, Clone, Default)]
struct Kept(Arc<Mutex<Option<PoolConnection<Postgres>>>>);

impl Kept {
    async fn take(&self, pool: &PgPool) -> Result<PoolConnection<Postgres>, sqlx::Error> {
        let kept = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        match kept {
            Some(connection) => Ok(connection),
            None => pool.acquire().await,
        }
    }

    fn put(&self, connection: PoolConnection<Postgres>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(connection);
    }

    fn release(&self) {
        drop(self.0.lock().unwrap_or_else(PoisonError::into_inner).take());
    }
}

impl SqlBackend for Postgres {
    type State = Groups;
    const MAX_CONNECTIONS: u32 = 32;
    const MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");
    const BEGIN_WRITE: &'static str = "BEGIN";
    // Taken until the transaction ends, as appends do: stream versions cannot change meanwhile.
    const LOCK_LOG: Option<&'static str> =
        Some("SELECT position FROM herald_head WHERE id = 1 FOR UPDATE");
    // The stream's version is its last event's, or the one recorded when it was deleted or
    // truncated.
    const STREAM_STATE: &'static str = "SELECT greatest(coalesce(last.stream_version, 0), \
         coalesce(s.version, 0)) AS version, coalesce(s.deleted, FALSE) AS deleted, \
         coalesce(s.truncated_before, 0) AS truncated_before \
         FROM (SELECT $1::TEXT AS stream_id) q \
         LEFT JOIN herald_streams s ON s.stream_id = q.stream_id \
         LEFT JOIN LATERAL (SELECT e.stream_version FROM herald_events e \
         WHERE e.stream_id = q.stream_id ORDER BY e.stream_version DESC LIMIT 1) last ON TRUE \
         WHERE s.stream_id IS NOT NULL OR last.stream_version IS NOT NULL";
    const LATERAL: &'static str = "LATERAL";
    const GREATEST: &'static str = "GREATEST";
    const NOW_MICROS: &'static str =
        "CAST(extract(epoch FROM clock_timestamp()) * 1000000 AS BIGINT)";
    // A read model's checkpoint row stays locked until its transaction ends, so two runners
    // of one read model take turns.
    const LOCK_FOR_UPDATE: &'static str = "FOR UPDATE";
    const LOCK_FOR_SHARE: &'static str = "FOR SHARE";
    const STALL_TIMEOUT: Option<&'static str> =
        Some("SELECT set_config('idle_in_transaction_session_timeout', $1, true)::TEXT");
    const CONSUMER_MIGRATOR: Migrator = sqlx::migrate!("migrations/consumer/postgres");

    fn prepare(options: PgConnectOptions) -> PgConnectOptions {
        options
    }

    async fn append(store: &PostgresStore, batch: Batch<'_>) -> Result<Appended, StoreError> {
        store
            .append_grouped(batch.stream_id, batch.expected, batch.events)
            .await
    }

    async fn load(store: &PostgresStore, page: Page<'_>) -> Result<Vec<PgRow>, StoreError> {
        store.load_rows(page).await
    }
}
