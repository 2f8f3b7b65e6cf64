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

mod group;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use sqlx::Row;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow, Postgres};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::envelope::{NewEvent, RecordedEvent, from_micros, to_micros};
use crate::store::{
    Appended, DeadLetter, Direction, EventStore, Expected, Snapshot, StoreError, StoredPayload,
    StreamInfo, check_retry,
};

use group::{Append, Group, Load};

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

    /// Runs one group of appends (distinct streams) and answers each. When the group's
    /// transaction fails as a whole, each append is retried alone, so one append's error
    /// never becomes another's.
    async fn run_group(&self, group: Vec<Append>) {
        match self.append_group(&group).await {
            Ok(outcomes) => {
                for (pending, outcome) in group.into_iter().zip(outcomes) {
                    let result = self.answer(&pending, outcome).await;
                    let _ = pending.reply.send(result);
                }
            }
            Err(error) if group.len() == 1 => {
                if let Some(pending) = group.into_iter().next() {
                    let result = self.database_error(&pending, error).await;
                    let _ = pending.reply.send(result);
                }
            }
            Err(_) => {
                for pending in group {
                    let result = match self.append_group(std::slice::from_ref(&pending)).await {
                        Ok(outcomes) => match outcomes.first() {
                            Some(outcome) => self.answer(&pending, *outcome).await,
                            None => Err(no_outcome()),
                        },
                        Err(error) => self.database_error(&pending, error).await,
                    };
                    let _ = pending.reply.send(result);
                }
            }
        }
    }

    /// Runs one group of loads as one query and hands each its rows. When the query fails,
    /// each load is retried alone, so one load's error never becomes another's.
    async fn run_loads(&self, group: Vec<Load>) {
        match self.load_group(&group).await {
            Ok(rows) => {
                for (load, rows) in group.into_iter().zip(rows) {
                    let _ = load.reply.send(Ok(rows));
                }
            }
            Err(error) if group.len() == 1 => {
                if let Some(load) = group.into_iter().next() {
                    let _ = load.reply.send(Err(error.into()));
                }
            }
            Err(_) => {
                for load in group {
                    let result = self
                        .load_group(std::slice::from_ref(&load))
                        .await
                        .map(|mut rows| rows.pop().unwrap_or_default())
                        .map_err(StoreError::from);
                    let _ = load.reply.send(result);
                }
            }
        }
    }

    /// One query for `group`: each load's rows, in group order.
    async fn load_group(&self, group: &[Load]) -> Result<Vec<Vec<PgRow>>, sqlx::Error> {
        let streams: Vec<&str> = group.iter().map(|load| load.stream_id.as_str()).collect();
        let froms: Vec<i64> = group.iter().map(|load| to_i64(load.from)).collect();
        let limits: Vec<i64> = group.iter().map(|load| to_i64(load.limit as u64)).collect();
        let rows = sqlx::query(
            "SELECT q.n::INTEGER, s.deleted, e.stream_version, e.event_type, e.schema_version, \
             e.payload FROM unnest($1::TEXT[], $2::BIGINT[], $3::BIGINT[]) \
             WITH ORDINALITY AS q(stream_id, from_version, max_rows, n) \
             LEFT JOIN herald_streams s ON s.stream_id = q.stream_id \
             LEFT JOIN LATERAL (SELECT ev.stream_version, ev.event_type, ev.schema_version, \
             ev.payload FROM herald_events ev WHERE ev.stream_id = q.stream_id \
             AND ev.stream_version >= q.from_version ORDER BY ev.stream_version \
             LIMIT q.max_rows) e ON TRUE",
        )
        .bind(&streams)
        .bind(&froms)
        .bind(&limits);
        let mut connection = self.loads_connection.take(&self.pool).await?;
        let rows = rows.fetch_all(&mut *connection).await?;
        self.loads_connection.put(connection);
        let mut per_load: Vec<Vec<PgRow>> = group.iter().map(|_| Vec::new()).collect();
        for row in rows {
            let request: i32 = row.try_get(0)?;
            if let Some(rows) = usize::try_from(request)
                .ok()
                .and_then(|request| request.checked_sub(1))
                .and_then(|index| per_load.get_mut(index))
            {
                rows.push(row);
            }
        }
        Ok(per_load)
    }

    /// One `herald_append` call for `group`: `(outcome, version, first position)` per append.
    async fn append_group(&self, group: &[Append]) -> Result<Vec<(i32, i64, i64)>, sqlx::Error> {
        let events = group.iter().map(|pending| pending.events.len()).sum();
        let mut streams = Vec::with_capacity(group.len());
        let mut expected = Vec::with_capacity(group.len());
        let mut counts = Vec::with_capacity(group.len());
        let mut requests = Vec::with_capacity(events);
        let mut ids = Vec::with_capacity(events);
        let mut types = Vec::with_capacity(events);
        let mut schema_versions = Vec::with_capacity(events);
        let mut correlations = Vec::with_capacity(events);
        let mut causations = Vec::with_capacity(events);
        let mut metadata = Vec::with_capacity(events);
        let mut payloads = Vec::with_capacity(events);
        for (index, pending) in group.iter().enumerate() {
            streams.push(pending.stream_id.as_str());
            expected.push(match pending.expected {
                Expected::Any => -1,
                Expected::NoStream => -2,
                Expected::StreamExists => -3,
                Expected::Exact(version) => to_i64(version),
            });
            counts.push(i32::try_from(pending.events.len()).unwrap_or(i32::MAX));
            let request = i32::try_from(index + 1).unwrap_or(i32::MAX);
            for event in &pending.events {
                requests.push(request);
                ids.push(event.event_id);
                types.push(event.event_type.as_str());
                schema_versions.push(i32::try_from(event.schema_version).unwrap_or(i32::MAX));
                correlations.push(event.effective_correlation_id());
                causations.push(event.causation_id);
                metadata.push(sqlx::types::Json(&event.metadata));
                payloads.push(event.payload.as_slice());
            }
        }
        let query = sqlx::query_as::<_, (i32, i32, i64, i64)>(
            "SELECT * FROM herald_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&streams)
        .bind(&expected)
        .bind(&counts)
        .bind(&requests)
        .bind(&ids)
        .bind(&types)
        .bind(&schema_versions)
        .bind(to_micros(SystemTime::now()))
        .bind(&correlations)
        .bind(&causations)
        .bind(&metadata)
        .bind(&payloads);
        let mut connection = self.appends_connection.take(&self.pool).await?;
        let rows = query.fetch_all(&mut *connection).await?;
        self.appends_connection.put(connection);
        let mut outcomes = vec![(-1, 0, 0); group.len()];
        for (request, outcome, version, first) in rows {
            if let Some(slot) = usize::try_from(request)
                .ok()
                .and_then(|request| request.checked_sub(1))
                .and_then(|index| outcomes.get_mut(index))
            {
                *slot = (outcome, version, first);
            }
        }
        Ok(outcomes)
    }

    /// Turns one append's outcome into its answer.
    async fn answer(
        &self,
        pending: &Append,
        (outcome, version, first): (i32, i64, i64),
    ) -> Result<Appended, StoreError> {
        let stream_id = &pending.stream_id;
        match outcome {
            0 => {
                let first_position = to_u64(first, "position")?;
                Ok(Appended {
                    stream_version: to_u64(version, "stream version")?,
                    first_position,
                    last_position: first_position + pending.events.len() as u64 - 1,
                    duplicate: false,
                })
            }
            1 => Err(StoreError::Conflict {
                stream_id: stream_id.clone(),
                expected: pending.expected,
                actual: to_u64(version, "stream version")?,
            }),
            2 => Err(StoreError::StreamDeleted(stream_id.clone())),
            3 => self.retried(pending).await,
            _ => Err(no_outcome()),
        }
    }

    /// A group of one failed: a unique violation on an event id means a concurrent append
    /// stored it first (maybe a retry); anything else is the error.
    async fn database_error(
        &self,
        pending: &Append,
        error: sqlx::Error,
    ) -> Result<Appended, StoreError> {
        match &error {
            sqlx::Error::Database(database) if database.code().as_deref() == Some("23505") => {
                self.retried(pending).await
            }
            _ => Err(StoreError::Database(error)),
        }
    }

    /// Some ids of the batch are stored: a retry if they are the whole batch, in order.
    async fn retried(&self, pending: &Append) -> Result<Appended, StoreError> {
        let ids: Vec<Uuid> = pending.events.iter().map(|event| event.event_id).collect();
        let rows = sqlx::query(
            "SELECT event_id, stream_id, stream_version, position FROM herald_events \
             WHERE event_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        let mut stored = Vec::with_capacity(rows.len());
        for row in &rows {
            stored.push((
                row.try_get::<Uuid, _>("event_id")?,
                row.try_get::<String, _>("stream_id")?,
                to_u64(row.try_get("stream_version")?, "stream version")?,
                to_u64(row.try_get("position")?, "position")?,
            ));
        }
        check_retry(&pending.stream_id, &pending.events, &stored)?.ok_or_else(|| {
            StoreError::Corrupt("an event id was reported stored but cannot be found".to_owned())
        })
    }
}

fn no_outcome() -> StoreError {
    StoreError::Corrupt("herald_append returned no outcome for an append".to_owned())
}

/// Runs Herald's PostgreSQL migrations on `pool` (the event store's tables, checkpoints and
/// dead letters); their history is kept in `herald_schema_migrations`.
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let mut migrator = sqlx::migrate!("migrations/postgres");
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
    .map(|row| info_from_row(&row))
    .transpose()
}

fn event_from_row(row: &PgRow) -> Result<RecordedEvent, StoreError> {
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

fn info_from_row(row: &PgRow) -> Result<StreamInfo, StoreError> {
    Ok(StreamInfo {
        version: to_u64(row.try_get("version")?, "stream version")?,
        deleted: row.try_get("deleted")?,
        truncated_before: to_u64(row.try_get("truncated_before")?, "truncation")?,
    })
}

impl EventStore for PostgresStore {
    async fn append(
        &self,
        stream_id: &str,
        expected: Expected,
        events: Vec<NewEvent>,
    ) -> Result<Appended, StoreError> {
        if events.is_empty() {
            let info = self.stream_info(stream_id).await?;
            if info.is_some_and(|info| info.deleted) {
                return Err(StoreError::StreamDeleted(stream_id.to_owned()));
            }
            let version = info.map_or(0, |info| info.version);
            expected.check(stream_id, version)?;
            return Ok(Appended {
                stream_version: version,
                first_position: 0,
                last_position: 0,
                duplicate: false,
            });
        }
        // Duplicates inside the batch are refused before touching the database.
        check_retry(stream_id, &events, &[])?;
        let (reply, answer) = oneshot::channel();
        let store = self.clone();
        let append = Append {
            stream_id: stream_id.to_owned(),
            expected,
            events,
            reply,
        };
        let kept = self.appends_connection.clone();
        self.appends.submit(
            append,
            move |group| {
                let store = store.clone();
                async move { store.run_group(group).await }
            },
            move || kept.release(),
        );
        answer.await.map_err(|_| StoreError::Interrupted {
            stream_id: stream_id.to_owned(),
        })?
    }

    async fn read_stream(
        &self,
        stream_id: &str,
        from: u64,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        // One round trip: the stream's deletion flag (a row only for deleted or truncated
        // streams) joined with the page of events.
        let sql = match direction {
            Direction::Forward => {
                "SELECT s.deleted, r.* FROM (SELECT $1::TEXT AS stream_id) q \
                 LEFT JOIN herald_streams s ON s.stream_id = q.stream_id LEFT JOIN LATERAL (\
                 SELECT e.position, e.event_id, e.stream_id, e.stream_version, e.event_type, \
                 e.schema_version, e.recorded_at_micros, e.correlation_id, e.causation_id, \
                 e.metadata::text AS metadata, e.payload FROM herald_events e \
                 WHERE e.stream_id = q.stream_id AND e.stream_version >= $2 \
                 ORDER BY e.stream_version LIMIT $3) r ON TRUE"
            }
            Direction::Backward => {
                "SELECT s.deleted, r.* FROM (SELECT $1::TEXT AS stream_id) q \
                 LEFT JOIN herald_streams s ON s.stream_id = q.stream_id LEFT JOIN LATERAL (\
                 SELECT e.position, e.event_id, e.stream_id, e.stream_version, e.event_type, \
                 e.schema_version, e.recorded_at_micros, e.correlation_id, e.causation_id, \
                 e.metadata::text AS metadata, e.payload FROM herald_events e \
                 WHERE e.stream_id = q.stream_id AND e.stream_version <= $2 \
                 ORDER BY e.stream_version DESC LIMIT $3) r ON TRUE"
            }
        };
        let rows = sqlx::query(sql)
            .bind(stream_id)
            .bind(to_i64(from))
            .bind(to_i64(limit as u64))
            .fetch_all(&self.pool)
            .await?;
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            if row.try_get::<Option<bool>, _>("deleted")?.unwrap_or(false) {
                return Err(StoreError::StreamDeleted(stream_id.to_owned()));
            }
            if row.try_get::<Option<i64>, _>("position")?.is_some() {
                events.push(event_from_row(row)?);
            }
        }
        Ok(events)
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
        let (reply, answer) = oneshot::channel();
        let store = self.clone();
        let load = Load {
            stream_id: stream_id.to_owned(),
            from,
            limit,
            reply,
        };
        let kept = self.loads_connection.clone();
        self.loads.submit(
            load,
            move |group| {
                let store = store.clone();
                async move { store.run_loads(group).await }
            },
            move || kept.release(),
        );
        let rows = answer.await.map_err(|_| StoreError::Interrupted {
            stream_id: stream_id.to_owned(),
        })??;
        // Columns: request, deleted, stream version (NULL: no event), type, schema version,
        // payload. Rows come in stream order: each load's rows are its LATERAL subquery's,
        // which is ordered and which the nested loop passes through as it comes. Rows out of
        // order would be an error here, never folded.
        if let Some(first) = rows.first()
            && first.try_get::<Option<bool>, _>(1)?.unwrap_or(false)
        {
            return Err(StoreError::StreamDeleted(stream_id.to_owned()));
        }
        let mut folded = 0;
        let mut last = None;
        for row in &rows {
            let Some(version) = row.try_get::<Option<i64>, _>(2)? else {
                continue;
            };
            if let Some(last) = last.filter(|last| version <= *last) {
                return Err(StoreError::Corrupt(format!(
                    "stream `{stream_id}`: version {version} arrived after {last}"
                )));
            }
            last = Some(version);
            let schema_version: i32 = row.try_get(4)?;
            apply(
                state,
                StoredPayload {
                    stream_version: to_u64(version, "stream version")?,
                    event_type: row.try_get(3)?,
                    schema_version: u32::try_from(schema_version).map_err(|_| {
                        StoreError::Corrupt(format!("schema version {schema_version}"))
                    })?,
                    payload: row.try_get(5)?,
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
             recorded_at_micros, correlation_id, causation_id, metadata::text AS metadata, payload \
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
        stream_state(&mut *self.pool.acquire().await?, stream_id).await
    }

    async fn delete_stream(&self, stream_id: &str, expected: Expected) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        lock_log(&mut tx).await?;
        let info = stream_state(&mut tx, stream_id).await?;
        if info.is_some_and(|info| info.deleted) {
            return Err(StoreError::StreamDeleted(stream_id.to_owned()));
        }
        let version = info.map_or(0, |info| info.version);
        expected.check(stream_id, version)?;
        sqlx::query(
            "INSERT INTO herald_streams (stream_id, version, deleted) VALUES ($1, $2, TRUE) \
             ON CONFLICT (stream_id) DO UPDATE SET deleted = TRUE, version = EXCLUDED.version",
        )
        .bind(stream_id)
        .bind(to_i64(version))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn truncate_stream(&self, stream_id: &str, before: u64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        lock_log(&mut tx).await?;
        let Some(info) = stream_state(&mut tx, stream_id).await? else {
            return Ok(());
        };
        sqlx::query("DELETE FROM herald_events WHERE stream_id = $1 AND stream_version < $2")
            .bind(stream_id)
            .bind(to_i64(before))
            .execute(&mut *tx)
            .await?;
        // The version is recorded, so it survives every event being truncated away.
        sqlx::query(
            "INSERT INTO herald_streams (stream_id, version, truncated_before) VALUES ($1, $2, $3) \
             ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version, \
             truncated_before = GREATEST(herald_streams.truncated_before, EXCLUDED.truncated_before)",
        )
        .bind(stream_id)
        .bind(to_i64(info.version))
        .bind(to_i64(before))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn load_snapshot(&self, stream_id: &str) -> Result<Option<Snapshot>, StoreError> {
        let row = sqlx::query(
            "SELECT stream_id, aggregate_type, schema_version, stream_version, state::text AS state \
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
             VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (stream_id) DO UPDATE SET \
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
    connection: &mut sqlx::PgConnection,
    name: &str,
) -> Result<u64, StoreError> {
    let position: Option<i64> =
        sqlx::query_scalar("SELECT position FROM herald_checkpoints WHERE name = $1 FOR UPDATE")
            .bind(name)
            .fetch_optional(&mut *connection)
            .await?;
    to_u64(position.unwrap_or(0), "checkpoint")
}

/// Writes a checkpoint on `connection` (inside a read model's transaction).
pub async fn save_checkpoint(
    connection: &mut sqlx::PgConnection,
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
