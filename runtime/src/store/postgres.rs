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
//! concurrent aggregate loads are grouped into one query the same way. The benchmark in
//! `benches/cqrs-peer` measures this against unordered `BIGSERIAL` appends. Several processes
//! on one database stay correct; their groups take turns on the head lock.

mod append;
mod group;
mod load;

use std::sync::{Arc, Mutex, PoisonError};

use sqlx::Row;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, Postgres};

use crate::envelope::{NewEvent, RecordedEvent};
use crate::store::append::{Admission, admit, writable_version};
use crate::store::numbers::{check_append, to_i64};
use crate::store::sql::{
    EVENT_COLUMNS, Tables as SharedTables, checkpoint_functions, stream_page_clause, tables_methods,
};
use crate::store::{
    Appended, Direction, EventStore, Expected, StoreError, StoredPayload, StreamInfo,
};

use group::{Append, Group, Load};

type Tables = SharedTables<Postgres>;

/// An event store in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
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

impl PostgresStore {
    /// Uses an existing pool. Call [`PostgresStore::migrate`] once before use.
    ///
    /// While appends or aggregate loads are queued, the store keeps up to two of the pool's
    /// connections for them (one each); give the pool at least three.
    pub fn new(pool: PgPool) -> Self {
        PostgresStore {
            pool,
            appends: Group::default(),
            loads: Group::default(),
            appends_connection: Kept::default(),
            loads_connection: Kept::default(),
        }
    }

    /// Connects with `options` and runs the migrations.
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(32)
            .connect_with(options)
            .await?;
        let store = PostgresStore::new(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// Connects to `url` and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse()?;
        Self::connect_with(options).await
    }

    /// Creates or updates the store's tables (`runtime/migrations/postgres`).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrate(&self.pool).await
    }

    /// The pool (for read models living in the same database).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Runs Herald's PostgreSQL migrations on `pool` (the event store's tables, checkpoints and
/// dead letters); their history is kept in `herald_schema_migrations`.
pub(crate) async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let mut migrator = sqlx::migrate!("migrations/postgres");
    migrator.dangerous_set_table_name("herald_schema_migrations");
    migrator.run(pool).await?;
    Ok(())
}

/// Takes the log's lock (the `herald_head` row) until the transaction ends, as appends do:
/// stream versions cannot change meanwhile.
async fn lock_log(connection: &mut sqlx::PgConnection) -> Result<(), StoreError> {
    sqlx::query("SELECT position FROM herald_head WHERE id = 1 FOR UPDATE")
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// A stream's version (its last event's, or the one recorded when it was deleted or
/// truncated), deletion and truncation; `None` if it never existed.
async fn stream_state(
    connection: &mut sqlx::PgConnection,
    stream_id: &str,
) -> Result<Option<StreamInfo>, StoreError> {
    sqlx::query(
        "SELECT greatest(coalesce(last.stream_version, 0), coalesce(s.version, 0)) AS version, \
         coalesce(s.deleted, FALSE) AS deleted, coalesce(s.truncated_before, 0) AS truncated_before \
         FROM (SELECT $1::TEXT AS stream_id) q \
         LEFT JOIN herald_streams s ON s.stream_id = q.stream_id \
         LEFT JOIN LATERAL (SELECT e.stream_version FROM herald_events e \
         WHERE e.stream_id = q.stream_id ORDER BY e.stream_version DESC LIMIT 1) last ON TRUE \
         WHERE s.stream_id IS NOT NULL OR last.stream_version IS NOT NULL",
    )
    .bind(stream_id)
    .fetch_optional(&mut *connection)
    .await?
    .map(|row| Tables::info_from_row(&row))
    .transpose()
}

impl EventStore for PostgresStore {
    async fn append(
        &self,
        stream_id: &str,
        expected: Expected,
        events: Vec<NewEvent>,
    ) -> Result<Appended, StoreError> {
        check_append(expected, &events)?;
        if events.is_empty() {
            let info = self.stream_info(stream_id).await?;
            if let Admission::Done(appended) = admit(stream_id, expected, info, 0)? {
                return Ok(appended);
            }
        }
        self.append_grouped(stream_id, expected, events).await
    }

    async fn read_stream(
        &self,
        stream_id: &str,
        from: u64,
        direction: Direction,
        count: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        // One round trip: the stream's deletion flag (a row only for deleted or truncated
        // streams) joined with the page of events.
        let page = stream_page_clause(direction);
        let sql = format!(
            "SELECT s.deleted, r.* FROM (SELECT $1::TEXT AS stream_id) q \
             LEFT JOIN herald_streams s ON s.stream_id = q.stream_id LEFT JOIN LATERAL (\
             SELECT {EVENT_COLUMNS} FROM herald_events e WHERE {page}) r ON TRUE"
        );
        let rows = Tables::stream_page(&self.pool, sql, stream_id, from, count).await?;
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            if row.try_get::<Option<bool>, _>("deleted")?.unwrap_or(false) {
                return Err(StoreError::StreamDeleted(stream_id.to_owned()));
            }
            if row.try_get::<Option<i64>, _>("position")?.is_some() {
                events.push(Tables::event_from_row(row)?);
            }
        }
        Ok(events)
    }

    async fn fold_stream<T, F>(
        &self,
        stream_id: &str,
        from: u64,
        count: usize,
        state: &mut T,
        apply: F,
    ) -> Result<usize, StoreError>
    where
        T: Send,
        F: FnMut(&mut T, StoredPayload<'_>) -> Result<(), StoreError> + Send,
    {
        let rows = self.load_rows(stream_id, from, count).await?;
        load::fold_rows(stream_id, &rows, state, apply)
    }

    async fn stream_info(&self, stream_id: &str) -> Result<Option<StreamInfo>, StoreError> {
        stream_state(&mut *self.pool.acquire().await?, stream_id).await
    }

    async fn delete_stream(&self, stream_id: &str, expected: Expected) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        lock_log(&mut tx).await?;
        let info = stream_state(&mut tx, stream_id).await?;
        let version = writable_version(stream_id, expected, info)?;
        sqlx::query(
            "INSERT INTO herald_streams (stream_id, version, deleted) VALUES ($1, $2, TRUE) \
             ON CONFLICT (stream_id) DO UPDATE SET deleted = TRUE, version = EXCLUDED.version",
        )
        .bind(stream_id)
        .bind(to_i64(version, "stream version")?)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn truncate_stream(&self, stream_id: &str, before: u64) -> Result<(), StoreError> {
        let before_value = to_i64(before, "truncation version")?;
        let mut tx = self.pool.begin().await?;
        lock_log(&mut tx).await?;
        let Some(info) = stream_state(&mut tx, stream_id).await? else {
            return Ok(());
        };
        Tables::delete_events_before(&mut *tx, stream_id, before).await?;
        // The version is recorded, so it survives every event being truncated away.
        sqlx::query(
            "INSERT INTO herald_streams (stream_id, version, truncated_before) VALUES ($1, $2, $3) \
             ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version, \
             truncated_before = GREATEST(herald_streams.truncated_before, EXCLUDED.truncated_before)",
        )
        .bind(stream_id)
        .bind(to_i64(info.version, "stream version")?)
        .bind(before_value)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    tables_methods!(Postgres);
}

// The checkpoint row stays locked until the read model's transaction ends, so two runners
// of one read model take turns.
checkpoint_functions!(Postgres, sqlx::PgConnection, "FOR UPDATE");
