//! The SQLite backend.
//!
//! Appends run in `BEGIN IMMEDIATE` transactions: SQLite admits one writer at a time, so
//! positions (read from `herald_head` and written back in the same transaction) are handed
//! out in commit order and readers never see a hole. [`SqliteStore::connect`] opens the file
//! in WAL mode, so readers do not block the writer, with `synchronous=FULL`: an append that
//! returned survives a power loss, not only the process being killed.

use std::time::{Duration, SystemTime};

use futures_util::TryStreamExt;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite};

use crate::envelope::{NewEvent, RecordedEvent, to_micros};
use crate::store::append::{Admission, admit, check_retry, writable_version};
use crate::store::numbers::{check_append, limit, to_i32, to_i64};
use crate::store::sql::{
    EVENT_COLUMNS, Tables as SharedTables, checkpoint_functions, stream_page_clause, tables_methods,
};
use crate::store::{
    Appended, Direction, EventStore, Expected, StoreError, StoredPayload, StreamInfo,
};

type Tables = SharedTables<Sqlite>;

/// An event store in SQLite.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Uses an existing pool. Call [`SqliteStore::migrate`] once before use.
    pub fn new(pool: SqlitePool) -> Self {
        SqliteStore { pool }
    }

    /// Connects with `options` and runs the migrations.
    pub async fn connect_with(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        let store = SqliteStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// Opens (creating it if missing) the database at `url` (`sqlite://path/to/file.db`) and
    /// runs the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options: SqliteConnectOptions = url.parse()?;
        Self::connect_with(options).await
    }

    /// Creates or updates the store's tables (`runtime/migrations/sqlite`).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrate(&self.pool).await
    }

    /// The pool (for read models living in the same database).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Fails with [`StoreError::StreamDeleted`] if the stream is deleted.
    async fn refuse_deleted(&self, stream_id: &str) -> Result<(), StoreError> {
        let deleted: Option<bool> =
            sqlx::query_scalar("SELECT deleted FROM herald_streams WHERE stream_id = $1")
                .bind(stream_id)
                .fetch_optional(&self.pool)
                .await?;
        if deleted == Some(true) {
            return Err(StoreError::StreamDeleted(stream_id.to_owned()));
        }
        Ok(())
    }
}

/// Runs Herald's SQLite migrations on `pool` (the event store's tables, checkpoints and
/// dead letters); their history is kept in `herald_schema_migrations`.
pub(crate) async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let mut migrator = sqlx::migrate!("migrations/sqlite");
    migrator.dangerous_set_table_name("herald_schema_migrations");
    migrator.run(pool).await?;
    Ok(())
}

/// A stream's state as `herald_streams` records it (a row per stream that has events).
async fn stream_state(
    connection: &mut sqlx::SqliteConnection,
    stream_id: &str,
) -> Result<Option<StreamInfo>, StoreError> {
    sqlx::query(
        "SELECT version, deleted, truncated_before FROM herald_streams WHERE stream_id = $1",
    )
    .bind(stream_id)
    .fetch_optional(&mut *connection)
    .await?
    .map(|row| Tables::info_from_row(&row))
    .transpose()
}

/// Where the batch's event ids are already stored.
async fn stored_ids(
    connection: &mut sqlx::SqliteConnection,
    events: &[NewEvent],
) -> Result<Vec<(uuid::Uuid, String, u64, u64)>, StoreError> {
    let mut lookup = QueryBuilder::<Sqlite>::new(
        "SELECT event_id, stream_id, stream_version, position FROM herald_events WHERE event_id IN (",
    );
    let mut separated = lookup.separated(", ");
    for event in events {
        separated.push_bind(event.event_id);
    }
    separated.push_unseparated(")");
    let rows = lookup.build().fetch_all(&mut *connection).await?;
    rows.iter().map(Tables::stored_from_row).collect()
}

impl EventStore for SqliteStore {
    async fn append(
        &self,
        stream_id: &str,
        expected: Expected,
        events: Vec<NewEvent>,
    ) -> Result<Appended, StoreError> {
        check_append(expected, &events)?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // The lock that orders positions by commit: held until `commit` below.
        let head = Tables::head_position(&mut *tx).await?;
        if !events.is_empty() {
            let stored = stored_ids(&mut tx, &events).await?;
            if let Some(appended) = check_retry(stream_id, &events, &stored)? {
                return Ok(appended);
            }
        }
        let info = stream_state(&mut tx, stream_id).await?;
        let version = match admit(stream_id, expected, info, events.len())? {
            Admission::Write { version } => version,
            Admission::Done(appended) => return Ok(appended),
        };
        let count = events.len() as u64;
        let new_version = to_i64(version + count, "stream version")?;
        let new_head = to_i64(head + count, "position")?;
        let recorded_at = to_micros(SystemTime::now());
        let mut rows = Vec::with_capacity(events.len());
        for (offset, event) in (1..).zip(events) {
            rows.push((
                to_i64(head + offset, "position")?,
                to_i64(version + offset, "stream version")?,
                to_i32(event.schema_version, "schema version")?,
                serde_json::to_string(&event.metadata)?,
                event,
            ));
        }
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO herald_events (position, event_id, stream_id, stream_version, event_type, \
             schema_version, recorded_at_micros, correlation_id, causation_id, metadata, payload) ",
        );
        insert.push_values(
            rows,
            |mut row, (position, version, schema_version, metadata, event)| {
                let correlation_id = event.effective_correlation_id();
                row.push_bind(position)
                    .push_bind(event.event_id)
                    .push_bind(stream_id.to_owned())
                    .push_bind(version)
                    .push_bind(event.event_type)
                    .push_bind(schema_version)
                    .push_bind(recorded_at)
                    .push_bind(correlation_id)
                    .push_bind(event.causation_id)
                    .push_bind(metadata)
                    .push_bind(event.payload);
            },
        );
        insert.build().execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO herald_streams (stream_id, version) VALUES ($1, $2) \
             ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version",
        )
        .bind(stream_id)
        .bind(new_version)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE herald_head SET position = $1 WHERE id = 1")
            .bind(new_head)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Appended {
            stream_version: version + count,
            first_position: head + 1,
            last_position: head + count,
            duplicate: false,
        })
    }

    async fn read_stream(
        &self,
        stream_id: &str,
        from: u64,
        direction: Direction,
        count: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.refuse_deleted(stream_id).await?;
        let page = stream_page_clause(direction);
        let sql = format!("SELECT {EVENT_COLUMNS} FROM herald_events e WHERE {page}");
        let rows = Tables::stream_page(&self.pool, sql, stream_id, from, count).await?;
        rows.iter().map(Tables::event_from_row).collect()
    }

    async fn fold_stream<T, F>(
        &self,
        stream_id: &str,
        from: u64,
        count: usize,
        state: &mut T,
        mut apply: F,
    ) -> Result<usize, StoreError>
    where
        T: Send,
        F: FnMut(&mut T, StoredPayload<'_>) -> Result<(), StoreError> + Send,
    {
        self.refuse_deleted(stream_id).await?;
        let mut rows = sqlx::query(
            "SELECT stream_version, event_type, schema_version, payload FROM herald_events \
             WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version LIMIT $3",
        )
        .bind(stream_id)
        .bind(to_i64(from, "stream version")?)
        .bind(limit(count))
        .fetch(&self.pool);
        let mut folded = 0;
        while let Some(row) = rows.try_next().await? {
            apply(state, Tables::payload_from_row(&row)?)?;
            folded += 1;
        }
        Ok(folded)
    }

    async fn stream_info(&self, stream_id: &str) -> Result<Option<StreamInfo>, StoreError> {
        stream_state(&mut *self.pool.acquire().await?, stream_id).await
    }

    async fn delete_stream(&self, stream_id: &str, expected: Expected) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let info = stream_state(&mut tx, stream_id).await?;
        writable_version(stream_id, expected, info)?;
        sqlx::query(
            "INSERT INTO herald_streams (stream_id, version, deleted) VALUES ($1, 0, 1) \
             ON CONFLICT (stream_id) DO UPDATE SET deleted = 1",
        )
        .bind(stream_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn truncate_stream(&self, stream_id: &str, before: u64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Tables::delete_events_before(&mut *tx, stream_id, before).await?;
        sqlx::query(
            "UPDATE herald_streams SET truncated_before = MAX(truncated_before, $2) WHERE stream_id = $1",
        )
        .bind(stream_id)
        .bind(to_i64(before, "truncation version")?)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    tables_methods!(Sqlite);
}

// A read model's transaction is `BEGIN IMMEDIATE`: already the only writer, no row lock.
checkpoint_functions!(Sqlite, sqlx::SqliteConnection, "");
