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
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite};
use uuid::Uuid;

use crate::envelope::{NewEvent, RecordedEvent, from_micros, to_micros};
use crate::store::{
    Appended, DeadLetter, Direction, EventStore, Expected, Snapshot, StoreError, StoredPayload,
    StreamInfo, check_retry,
};

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
pub async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let mut migrator = sqlx::migrate!("migrations/sqlite");
    migrator.dangerous_set_table_name("herald_schema_migrations");
    migrator.run(pool).await?;
    Ok(())
}

fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what}: {value}")))
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn event_from_row(row: &SqliteRow) -> Result<RecordedEvent, StoreError> {
    let metadata: String = row.try_get("metadata")?;
    let schema_version: i32 = row.try_get("schema_version")?;
    Ok(RecordedEvent {
        position: to_u64(row.try_get("position")?, "position")?,
        event_id: row.try_get("event_id")?,
        stream_id: row.try_get("stream_id")?,
        stream_version: to_u64(row.try_get("stream_version")?, "stream version")?,
        event_type: row.try_get("event_type")?,
        schema_version: u32::try_from(schema_version)
            .map_err(|_| StoreError::Corrupt(format!("schema version {schema_version}")))?,
        recorded_at: from_micros(row.try_get("recorded_at_micros")?),
        correlation_id: row.try_get("correlation_id")?,
        causation_id: row.try_get("causation_id")?,
        metadata: serde_json::from_str(&metadata)?,
        payload: row.try_get("payload")?,
    })
}

fn info_from_row(row: &SqliteRow) -> Result<StreamInfo, StoreError> {
    Ok(StreamInfo {
        version: to_u64(row.try_get("version")?, "stream version")?,
        deleted: row.try_get("deleted")?,
        truncated_before: to_u64(row.try_get("truncated_before")?, "truncation")?,
    })
}

impl EventStore for SqliteStore {
    async fn append(
        &self,
        stream_id: &str,
        expected: Expected,
        events: Vec<NewEvent>,
    ) -> Result<Appended, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // The lock that orders positions by commit: held until `commit` below.
        let head: i64 = sqlx::query_scalar("SELECT position FROM herald_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let head = to_u64(head, "head position")?;
        if !events.is_empty() {
            let ids: Vec<Uuid> = events.iter().map(|event| event.event_id).collect();
            let mut lookup = QueryBuilder::<Sqlite>::new(
                "SELECT event_id, stream_id, stream_version, position FROM herald_events WHERE event_id IN (",
            );
            let mut separated = lookup.separated(", ");
            for id in ids {
                separated.push_bind(id);
            }
            separated.push_unseparated(")");
            let rows = lookup.build().fetch_all(&mut *tx).await?;
            let mut stored = Vec::with_capacity(rows.len());
            for row in &rows {
                stored.push((
                    row.try_get::<Uuid, _>("event_id")?,
                    row.try_get::<String, _>("stream_id")?,
                    to_u64(row.try_get("stream_version")?, "stream version")?,
                    to_u64(row.try_get("position")?, "position")?,
                ));
            }
            if let Some(appended) = check_retry(stream_id, &events, &stored)? {
                return Ok(appended);
            }
        }
        let info = sqlx::query(
            "SELECT version, deleted, truncated_before FROM herald_streams WHERE stream_id = $1",
        )
        .bind(stream_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| info_from_row(&row))
        .transpose()?;
        if info.is_some_and(|info| info.deleted) {
            return Err(StoreError::StreamDeleted(stream_id.to_owned()));
        }
        let version = info.map_or(0, |info| info.version);
        expected.check(stream_id, version)?;
        if events.is_empty() {
            return Ok(Appended {
                stream_version: version,
                first_position: 0,
                last_position: 0,
                duplicate: false,
            });
        }
        let count = events.len() as u64;
        let recorded_at = to_micros(SystemTime::now());
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO herald_events (position, event_id, stream_id, stream_version, event_type, \
             schema_version, recorded_at_micros, correlation_id, causation_id, metadata, payload) ",
        );
        let mut metadata = Vec::with_capacity(events.len());
        for event in &events {
            metadata.push(serde_json::to_string(&event.metadata)?);
        }
        insert.push_values(
            events.into_iter().zip(metadata).enumerate(),
            |mut row, (index, (event, metadata))| {
                let offset = index as u64 + 1;
                row.push_bind(to_i64(head + offset))
                    .push_bind(event.event_id)
                    .push_bind(stream_id.to_owned())
                    .push_bind(to_i64(version + offset))
                    .push_bind(event.event_type.clone())
                    .push_bind(i32::try_from(event.schema_version).unwrap_or(i32::MAX))
                    .push_bind(recorded_at)
                    .push_bind(event.effective_correlation_id())
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
        .bind(to_i64(version + count))
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE herald_head SET position = $1 WHERE id = 1")
            .bind(to_i64(head + count))
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
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.refuse_deleted(stream_id).await?;
        let sql = match direction {
            Direction::Forward => {
                "SELECT position, event_id, stream_id, stream_version, event_type, schema_version, \
                 recorded_at_micros, correlation_id, causation_id, metadata, payload \
                 FROM herald_events WHERE stream_id = $1 AND stream_version >= $2 \
                 ORDER BY stream_version LIMIT $3"
            }
            Direction::Backward => {
                "SELECT position, event_id, stream_id, stream_version, event_type, schema_version, \
                 recorded_at_micros, correlation_id, causation_id, metadata, payload \
                 FROM herald_events WHERE stream_id = $1 AND stream_version <= $2 \
                 ORDER BY stream_version DESC LIMIT $3"
            }
        };
        let rows = sqlx::query(sql)
            .bind(stream_id)
            .bind(to_i64(from))
            .bind(to_i64(limit as u64))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn fold_stream<T, F>(
        &self,
        stream_id: &str,
        from: u64,
        limit: usize,
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
        .bind(to_i64(from))
        .bind(to_i64(limit as u64))
        .fetch(&self.pool);
        let mut folded = 0;
        while let Some(row) = rows.try_next().await? {
            let schema_version: i32 = row.try_get(2)?;
            apply(
                state,
                StoredPayload {
                    stream_version: to_u64(row.try_get(0)?, "stream version")?,
                    event_type: row.try_get(1)?,
                    schema_version: u32::try_from(schema_version).map_err(|_| {
                        StoreError::Corrupt(format!("schema version {schema_version}"))
                    })?,
                    payload: row.try_get(3)?,
                },
            )?;
            folded += 1;
        }
        Ok(folded)
    }

    async fn read_all(
        &self,
        from_position: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT position, event_id, stream_id, stream_version, event_type, schema_version, \
             recorded_at_micros, correlation_id, causation_id, metadata, payload \
             FROM herald_events WHERE position >= $1 ORDER BY position LIMIT $2",
        )
        .bind(to_i64(from_position))
        .bind(to_i64(limit as u64))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn head_position(&self) -> Result<u64, StoreError> {
        let head: i64 = sqlx::query_scalar("SELECT position FROM herald_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        to_u64(head, "head position")
    }

    async fn stream_info(&self, stream_id: &str) -> Result<Option<StreamInfo>, StoreError> {
        sqlx::query(
            "SELECT version, deleted, truncated_before FROM herald_streams WHERE stream_id = $1",
        )
        .bind(stream_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| info_from_row(&row))
        .transpose()
    }

    async fn delete_stream(&self, stream_id: &str, expected: Expected) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let info = sqlx::query(
            "SELECT version, deleted, truncated_before FROM herald_streams WHERE stream_id = $1",
        )
        .bind(stream_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| info_from_row(&row))
        .transpose()?;
        if info.is_some_and(|info| info.deleted) {
            return Err(StoreError::StreamDeleted(stream_id.to_owned()));
        }
        expected.check(stream_id, info.map_or(0, |info| info.version))?;
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
        sqlx::query("DELETE FROM herald_events WHERE stream_id = $1 AND stream_version < $2")
            .bind(stream_id)
            .bind(to_i64(before))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE herald_streams SET truncated_before = MAX(truncated_before, $2) WHERE stream_id = $1",
        )
        .bind(stream_id)
        .bind(to_i64(before))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn load_snapshot(&self, stream_id: &str) -> Result<Option<Snapshot>, StoreError> {
        let row = sqlx::query(
            "SELECT stream_id, aggregate_type, schema_version, stream_version, state \
             FROM herald_snapshots WHERE stream_id = $1",
        )
        .bind(stream_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let state: String = row.try_get("state")?;
        let schema_version: i32 = row.try_get("schema_version")?;
        Ok(Some(Snapshot {
            stream_id: row.try_get("stream_id")?,
            aggregate_type: row.try_get("aggregate_type")?,
            schema_version: u32::try_from(schema_version)
                .map_err(|_| StoreError::Corrupt(format!("snapshot version {schema_version}")))?,
            stream_version: to_u64(row.try_get("stream_version")?, "stream version")?,
            state: serde_json::from_str(&state)?,
        }))
    }

    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO herald_snapshots (stream_id, aggregate_type, schema_version, stream_version, state) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (stream_id) DO UPDATE SET \
             aggregate_type = EXCLUDED.aggregate_type, schema_version = EXCLUDED.schema_version, \
             stream_version = EXCLUDED.stream_version, state = EXCLUDED.state",
        )
        .bind(&snapshot.stream_id)
        .bind(&snapshot.aggregate_type)
        .bind(i32::try_from(snapshot.schema_version).unwrap_or(i32::MAX))
        .bind(to_i64(snapshot.stream_version))
        .bind(serde_json::to_string(&snapshot.state)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn load_checkpoint(&self, name: &str) -> Result<u64, StoreError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT position FROM herald_checkpoints WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        to_u64(position.unwrap_or(0), "checkpoint")
    }

    async fn save_checkpoint(&self, name: &str, position: u64) -> Result<(), StoreError> {
        save_checkpoint(&mut *self.pool.acquire().await?, name, position).await
    }

    async fn record_dead_letter(&self, dead_letter: DeadLetter) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO herald_dead_letters (projection, position, event_id, event_type, attempts, error, failed_at_micros) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (projection, position) DO UPDATE SET \
             attempts = EXCLUDED.attempts, error = EXCLUDED.error, failed_at_micros = EXCLUDED.failed_at_micros",
        )
        .bind(&dead_letter.projection)
        .bind(to_i64(dead_letter.position))
        .bind(dead_letter.event_id)
        .bind(&dead_letter.event_type)
        .bind(i32::try_from(dead_letter.attempts).unwrap_or(i32::MAX))
        .bind(&dead_letter.error)
        .bind(to_micros(dead_letter.failed_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn dead_letters(&self, projection: &str) -> Result<Vec<DeadLetter>, StoreError> {
        let rows = sqlx::query(
            "SELECT projection, position, event_id, event_type, attempts, error, failed_at_micros \
             FROM herald_dead_letters WHERE projection = $1 ORDER BY position",
        )
        .bind(projection)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let attempts: i32 = row.try_get("attempts")?;
                Ok(DeadLetter {
                    projection: row.try_get("projection")?,
                    position: to_u64(row.try_get("position")?, "position")?,
                    event_id: row.try_get("event_id")?,
                    event_type: row.try_get("event_type")?,
                    attempts: u32::try_from(attempts).unwrap_or(0),
                    error: row.try_get("error")?,
                    failed_at: from_micros(row.try_get("failed_at_micros")?),
                })
            })
            .collect()
    }
}

/// Reads a checkpoint on `connection` (inside a read model's transaction).
pub async fn load_checkpoint(
    connection: &mut sqlx::SqliteConnection,
    name: &str,
) -> Result<u64, StoreError> {
    let position: Option<i64> =
        sqlx::query_scalar("SELECT position FROM herald_checkpoints WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *connection)
            .await?;
    to_u64(position.unwrap_or(0), "checkpoint")
}

/// Writes a checkpoint on `connection` (inside a read model's transaction).
pub async fn save_checkpoint(
    connection: &mut sqlx::SqliteConnection,
    name: &str,
    position: u64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO herald_checkpoints (name, position) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position",
    )
    .bind(name)
    .bind(to_i64(position))
    .execute(&mut *connection)
    .await?;
    Ok(())
}
