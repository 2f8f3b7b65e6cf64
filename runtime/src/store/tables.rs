//! The statements on the `herald_*` tables that read the same in SQLite and PostgreSQL, and
//! the mapping of their rows, written once over [`sqlx::Database`]. The store built on them
//! is [`SqlStore`](crate::store::SqlStore); a backend's dialect and its own appends and loads
//! are its [`SqlBackend`](crate::sql::SqlBackend) implementation.

use std::marker::PhantomData;

use serde_json::Value;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, SqlSafeStr, Type};
use uuid::Uuid;

use crate::envelope::{RecordedEvent, from_micros};
use crate::store::numbers::{from_i32, from_i64, limit, to_i32, to_i64};
use crate::store::sql_store::Page;
use crate::store::{Direction, Snapshot, StoreError, StoredPayload, StreamInfo};

/// The columns of an event, as [`Tables::event_from_row`] reads them.
pub(crate) const EVENT_COLUMNS: &str = "position, event_id, stream_id, stream_version, \
     event_type, schema_version, recorded_at_micros, correlation_id, causation_id, metadata, \
     payload";

/// The condition, order and limit of a page of a stream's events `e`: stream `$1`, from
/// version `$2` in `direction`, at most `$3` (bound by [`Tables::stream_page`]).
pub(crate) fn stream_page_clause(direction: Direction) -> &'static str {
    match direction {
        Direction::Forward => {
            "e.stream_id = $1 AND e.stream_version >= $2 ORDER BY e.stream_version LIMIT $3"
        }
        Direction::Backward => {
            "e.stream_id = $1 AND e.stream_version <= $2 ORDER BY e.stream_version DESC LIMIT $3"
        }
    }
}

/// A page of a stream's events (`columns` of `herald_events e`, see
/// [`stream_page_clause`]) joined with the stream's deletion flag: rows of `n` (always 1),
/// `deleted` and the columns, one row of NULL columns where the page is empty, so that a
/// deleted stream is seen in the same round trip. `lateral` is the dialect's keyword for a
/// subquery joined after the rows before it.
pub(crate) fn flagged_page_sql(lateral: &str, columns: &str, direction: Direction) -> String {
    let page = stream_page_clause(direction);
    format!(
        "SELECT 1 AS n, s.deleted, r.* FROM (SELECT CAST($1 AS TEXT) AS stream_id) q \
         LEFT JOIN herald_streams s ON s.stream_id = q.stream_id LEFT JOIN {lateral} (\
         SELECT {columns} FROM herald_events e WHERE {page}) r ON TRUE"
    )
}

/// The shared statements on database `DB` (`Tables::<Sqlite>`, `Tables::<Postgres>`).
pub(crate) struct Tables<DB>(PhantomData<DB>);

impl<DB> Tables<DB>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> &'a str: Encode<'a, DB> + Decode<'a, DB> + Type<DB> + ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> i32: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> bool: Decode<'a, DB> + Type<DB>,
    for<'a> String: Decode<'a, DB> + Type<DB>,
    for<'a> Vec<u8>: Decode<'a, DB> + Type<DB>,
    for<'a> &'a [u8]: Decode<'a, DB> + Type<DB>,
    for<'a> Uuid: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> Option<Uuid>: Decode<'a, DB>,
    for<'a> Json<Value>: Decode<'a, DB> + Type<DB>,
    for<'a> Json<&'a Value>: Encode<'a, DB> + Type<DB>,
{
    /// The highest committed position.
    pub(crate) async fn head_position<'c, E>(executor: E) -> Result<u64, StoreError>
    where
        E: Executor<'c, Database = DB>,
    {
        let row = sqlx::query::<DB>("SELECT position FROM herald_head WHERE id = 1")
            .fetch_one(executor)
            .await?;
        from_i64(row.try_get("position")?, "head position")
    }

    /// Up to `count` events of the log from `from_position` on.
    pub(crate) async fn read_all<'c, E>(
        executor: E,
        from_position: u64,
        count: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>
    where
        E: Executor<'c, Database = DB>,
    {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM herald_events WHERE position >= $1 \
             ORDER BY position LIMIT $2"
        );
        let rows = sqlx::query::<DB>(sqlx::AssertSqlSafe(sql))
            .bind(to_i64(from_position, "position")?)
            .bind(limit(count))
            .fetch_all(executor)
            .await?;
        rows.iter().map(Self::event_from_row).collect()
    }

    /// The event with id `event_id`, if stored.
    pub(crate) async fn read_event<'c, E>(
        executor: E,
        event_id: Uuid,
    ) -> Result<Option<RecordedEvent>, StoreError>
    where
        E: Executor<'c, Database = DB>,
    {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM herald_events WHERE event_id = $1");
        let row = sqlx::query::<DB>(sqlx::AssertSqlSafe(sql))
            .bind(event_id)
            .fetch_optional(executor)
            .await?;
        row.as_ref().map(Self::event_from_row).transpose()
    }

    /// The rows of `sql`, a query of a stream's `page` (`$1`, `$2`, `$3`, as
    /// [`stream_page_clause`] uses them).
    pub(crate) async fn stream_page<'c, E>(
        executor: E,
        sql: impl SqlSafeStr,
        page: Page<'_>,
    ) -> Result<Vec<DB::Row>, StoreError>
    where
        E: Executor<'c, Database = DB>,
    {
        Ok(sqlx::query::<DB>(sql)
            .bind(page.stream_id)
            .bind(page.from)
            .bind(page.limit)
            .fetch_all(executor)
            .await?)
    }

    /// A stream's state by `sql`, the backend's query of `version, deleted,
    /// truncated_before` for stream `$1`; `None` if it never existed.
    pub(crate) async fn stream_state<'c, E>(
        executor: E,
        sql: &'static str,
        stream_id: &str,
    ) -> Result<Option<StreamInfo>, StoreError>
    where
        E: Executor<'c, Database = DB>,
    {
        sqlx::query::<DB>(sql)
            .bind(stream_id)
            .fetch_optional(executor)
            .await?
            .map(|row| Self::info_from_row(&row))
            .transpose()
    }

    /// Marks a stream deleted at `version` (its events stay in the log).
    pub(crate) async fn mark_deleted<'c, E>(
        executor: E,
        stream_id: &str,
        version: u64,
    ) -> Result<(), StoreError>
    where
        E: Executor<'c, Database = DB>,
    {
        sqlx::query::<DB>(
            "INSERT INTO herald_streams (stream_id, version, deleted) VALUES ($1, $2, TRUE) \
             ON CONFLICT (stream_id) DO UPDATE SET deleted = TRUE, version = EXCLUDED.version",
        )
        .bind(stream_id)
        .bind(to_i64(version, "stream version")?)
        .execute(executor)
        .await?;
        Ok(())
    }

    /// Records that a stream at `version` is truncated below `before` (never lowering an
    /// earlier truncation; `greatest` is the dialect's function for the larger value).
    pub(crate) async fn record_truncation<'c, E>(
        executor: E,
        greatest: &'static str,
        stream_id: &str,
        version: u64,
        before: u64,
    ) -> Result<(), StoreError>
    where
        E: Executor<'c, Database = DB>,
    {
        let sql = format!(
            "INSERT INTO herald_streams (stream_id, version, truncated_before) VALUES ($1, $2, $3) \
             ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version, truncated_before = \
             {greatest}(herald_streams.truncated_before, EXCLUDED.truncated_before)"
        );
        sqlx::query::<DB>(sqlx::AssertSqlSafe(sql))
            .bind(stream_id)
            .bind(to_i64(version, "stream version")?)
            .bind(to_i64(before, "truncation version")?)
            .execute(executor)
            .await?;
        Ok(())
    }

    /// Removes a stream's events below version `before`.
    pub(crate) async fn delete_events_before<'c, E>(
        executor: E,
        stream_id: &str,
        before: u64,
    ) -> Result<(), StoreError>
    where
        E: Executor<'c, Database = DB>,
    {
        sqlx::query::<DB>("DELETE FROM herald_events WHERE stream_id = $1 AND stream_version < $2")
            .bind(stream_id)
            .bind(to_i64(before, "truncation version")?)
            .execute(executor)
            .await?;
        Ok(())
    }

    /// The stream's snapshot.
    pub(crate) async fn load_snapshot<'c, E>(
        executor: E,
        stream_id: &str,
    ) -> Result<Option<Snapshot>, StoreError>
    where
        E: Executor<'c, Database = DB>,
    {
        let row = sqlx::query::<DB>(
            "SELECT stream_id, aggregate_type, schema_version, stream_version, state \
             FROM herald_snapshots WHERE stream_id = $1",
        )
        .bind(stream_id)
        .fetch_optional(executor)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let Json(state) = row.try_get::<Json<Value>, _>("state")?;
        Ok(Some(Snapshot {
            stream_id: row.try_get("stream_id")?,
            aggregate_type: row.try_get("aggregate_type")?,
            schema_version: from_i32(row.try_get("schema_version")?, "snapshot version")?,
            stream_version: from_i64(row.try_get("stream_version")?, "stream version")?,
            state,
        }))
    }

    /// Stores `snapshot`, replacing its stream's.
    pub(crate) async fn save_snapshot<'c, E>(
        executor: E,
        snapshot: &Snapshot,
    ) -> Result<(), StoreError>
    where
        E: Executor<'c, Database = DB>,
    {
        sqlx::query::<DB>(
            "INSERT INTO herald_snapshots (stream_id, aggregate_type, schema_version, \
             stream_version, state) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (stream_id) DO UPDATE \
             SET aggregate_type = EXCLUDED.aggregate_type, schema_version = EXCLUDED.schema_version, \
             stream_version = EXCLUDED.stream_version, state = EXCLUDED.state",
        )
        .bind(snapshot.stream_id.as_str())
        .bind(snapshot.aggregate_type.as_str())
        .bind(to_i32(snapshot.schema_version, "snapshot schema version")?)
        .bind(to_i64(snapshot.stream_version, "snapshot stream version")?)
        .bind(Json(&snapshot.state))
        .execute(executor)
        .await?;
        Ok(())
    }

    /// The events of a stream's page read with its deletion flag: rows of `deleted` and
    /// [`EVENT_COLUMNS`], the latter NULL where the page is empty.
    pub(crate) fn events_of_page(
        stream_id: &str,
        rows: &[DB::Row],
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            if row.try_get::<Option<bool>, _>("deleted")?.unwrap_or(false) {
                return Err(StoreError::StreamDeleted(stream_id.to_owned()));
            }
            if row.try_get::<Option<i64>, _>("position")?.is_some() {
                events.push(Self::event_from_row(row)?);
            }
        }
        Ok(events)
    }

    /// Folds a load's rows into `state` with `apply`; the number of events folded.
    ///
    /// Columns: request, deleted, stream version (NULL: no event), type, schema version,
    /// payload. Rows come in stream order: each load's rows are its subquery's, which is
    /// ordered and which the nested loop passes through as it comes. Rows out of order would
    /// be an error here, never folded.
    pub(crate) fn fold_rows<T>(
        stream_id: &str,
        rows: &[DB::Row],
        state: &mut T,
        mut apply: impl FnMut(&mut T, StoredPayload<'_>) -> Result<(), StoreError>,
    ) -> Result<usize, StoreError> {
        if let Some(first) = rows.first()
            && first.try_get::<Option<bool>, _>(1)?.unwrap_or(false)
        {
            return Err(StoreError::StreamDeleted(stream_id.to_owned()));
        }
        let mut folded = 0;
        let mut last = None;
        for row in rows {
            let Some(version) = row.try_get::<Option<i64>, _>(2)? else {
                continue;
            };
            if let Some(last) = last.filter(|last| version <= *last) {
                return Err(StoreError::Corrupt(format!(
                    "stream `{stream_id}`: version {version} arrived after {last}"
                )));
            }
            last = Some(version);
            // By position: a lookup by name costs a hash per column and row.
            apply(
                state,
                StoredPayload {
                    stream_version: from_i64(version, "stream version")?,
                    event_type: row.try_get(3)?,
                    schema_version: from_i32(row.try_get(4)?, "schema version")?,
                    payload: row.try_get(5)?,
                },
            )?;
            folded += 1;
        }
        Ok(folded)
    }

    /// An event from a row holding [`EVENT_COLUMNS`].
    pub(crate) fn event_from_row(row: &DB::Row) -> Result<RecordedEvent, StoreError> {
        let Json(metadata) = row.try_get::<Json<Value>, _>("metadata")?;
        Ok(RecordedEvent {
            position: from_i64(row.try_get("position")?, "position")?,
            event_id: row.try_get("event_id")?,
            stream_id: row.try_get("stream_id")?,
            stream_version: from_i64(row.try_get("stream_version")?, "stream version")?,
            event_type: row.try_get("event_type")?,
            schema_version: from_i32(row.try_get("schema_version")?, "schema version")?,
            recorded_at: from_micros(row.try_get("recorded_at_micros")?),
            correlation_id: row.try_get("correlation_id")?,
            causation_id: row.try_get("causation_id")?,
            metadata,
            payload: row.try_get("payload")?,
        })
    }

    /// A stream's state from a row of `version, deleted, truncated_before`.
    pub(crate) fn info_from_row(row: &DB::Row) -> Result<StreamInfo, StoreError> {
        Ok(StreamInfo {
            version: from_i64(row.try_get("version")?, "stream version")?,
            deleted: row.try_get("deleted")?,
            truncated_before: from_i64(row.try_get("truncated_before")?, "truncation")?,
        })
    }

    /// Where an event id is stored, from a row of `event_id, stream_id, stream_version,
    /// position` (see [`check_retry`](crate::store::append::check_retry)).
    pub(crate) fn stored_from_row(row: &DB::Row) -> Result<(Uuid, String, u64, u64), StoreError> {
        Ok((
            row.try_get("event_id")?,
            row.try_get("stream_id")?,
            from_i64(row.try_get("stream_version")?, "stream version")?,
            from_i64(row.try_get("position")?, "position")?,
        ))
    }
}
