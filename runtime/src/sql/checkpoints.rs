//! The statements on what the log's readers keep: `herald_checkpoints` (how far a relay or a
//! projection got) and `herald_dead_letters` (the events a projection gave up on).

use std::marker::PhantomData;

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, Type};
use uuid::Uuid;

use crate::envelope::from_micros;
use crate::projection::{CheckpointStore, DeadLetter};
use crate::sql::SqlBackend;
use crate::store::numbers::{from_i32, from_i64, to_i32, to_i64, to_micros};
use crate::store::{SqlStore, StoreError};

/// The statements on checkpoints and dead letters in database `DB`.
pub(crate) struct CheckpointTable<DB>(PhantomData<DB>);

impl<DB> CheckpointTable<DB>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> i32: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> String: Decode<'a, DB> + Type<DB>,
    for<'a> Uuid: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
{
    /// Checkpoint `name` (0: none). `lock` ends the statement: the backend's
    /// [`LOCK_FOR_UPDATE`](crate::sql::SqlBackend::LOCK_FOR_UPDATE) where a transaction
    /// must hold the row, `""` otherwise.
    pub(crate) async fn load<'c>(
        executor: impl Executor<'c, Database = DB>,
        name: &str,
        lock: &str,
    ) -> Result<u64, StoreError> {
        let sql = format!("SELECT position FROM herald_checkpoints WHERE name = $1 {lock}");
        let row = sqlx::query::<DB>(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(executor)
            .await?;
        match row {
            Some(row) => from_i64(row.try_get("position")?, "checkpoint"),
            None => Ok(0),
        }
    }

    /// Sets checkpoint `name` to `position`.
    pub(crate) async fn save<'c>(
        executor: impl Executor<'c, Database = DB>,
        name: &str,
        position: u64,
    ) -> Result<(), StoreError> {
        sqlx::query::<DB>(
            "INSERT INTO herald_checkpoints (name, position) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position",
        )
        .bind(name)
        .bind(to_i64(position, "checkpoint position")?)
        .execute(executor)
        .await?;
        Ok(())
    }

    /// Creates checkpoint `name` at 0 unless it exists.
    pub(crate) async fn ensure<'c>(
        executor: impl Executor<'c, Database = DB>,
        name: &str,
    ) -> Result<(), StoreError> {
        sqlx::query::<DB>(
            "INSERT INTO herald_checkpoints (name, position) VALUES ($1, 0) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .execute(executor)
        .await?;
        Ok(())
    }

    /// Every checkpoint (name, position), by name.
    pub(crate) async fn all<'c>(
        executor: impl Executor<'c, Database = DB>,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let rows = sqlx::query::<DB>("SELECT name, position FROM herald_checkpoints ORDER BY name")
            .fetch_all(executor)
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("name")?,
                    from_i64(row.try_get("position")?, "checkpoint")?,
                ))
            })
            .collect()
    }

    /// Records (or replaces) a projection's dead letter.
    pub(crate) async fn record_dead_letter<'c>(
        executor: impl Executor<'c, Database = DB>,
        dead_letter: &DeadLetter,
    ) -> Result<(), StoreError> {
        sqlx::query::<DB>(
            "INSERT INTO herald_dead_letters (projection, position, event_id, event_type, \
             attempts, error, failed_at_micros) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (projection, position) DO UPDATE SET attempts = EXCLUDED.attempts, \
             error = EXCLUDED.error, failed_at_micros = EXCLUDED.failed_at_micros",
        )
        .bind(dead_letter.projection.as_str())
        .bind(to_i64(dead_letter.position, "dead letter position")?)
        .bind(dead_letter.event_id)
        .bind(dead_letter.event_type.as_str())
        .bind(to_i32(dead_letter.attempts, "dead letter attempts")?)
        .bind(dead_letter.error.as_str())
        .bind(to_micros(dead_letter.failed_at, "dead letter time")?)
        .execute(executor)
        .await?;
        Ok(())
    }

    /// A projection's dead letters, by position.
    pub(crate) async fn dead_letters<'c>(
        executor: impl Executor<'c, Database = DB>,
        projection: &str,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let rows = sqlx::query::<DB>(
            "SELECT projection, position, event_id, event_type, attempts, error, failed_at_micros \
             FROM herald_dead_letters WHERE projection = $1 ORDER BY position",
        )
        .bind(projection)
        .fetch_all(executor)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DeadLetter {
                    projection: row.try_get("projection")?,
                    position: from_i64(row.try_get("position")?, "position")?,
                    event_id: row.try_get("event_id")?,
                    event_type: row.try_get("event_type")?,
                    attempts: from_i32(row.try_get("attempts")?, "attempts")?,
                    error: row.try_get("error")?,
                    failed_at: from_micros(row.try_get("failed_at_micros")?),
                })
            })
            .collect()
    }
}

impl<DB> CheckpointStore for SqlStore<DB>
where
    DB: SqlBackend,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> i32: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> String: Decode<'a, DB> + Type<DB>,
    for<'a> Uuid: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
{
    async fn load_checkpoint(&self, name: &str) -> Result<u64, StoreError> {
        CheckpointTable::<DB>::load(&self.pool, name, "").await
    }

    async fn save_checkpoint(&self, name: &str, position: u64) -> Result<(), StoreError> {
        CheckpointTable::<DB>::save(&self.pool, name, position).await
    }

    async fn record_dead_letter(&self, dead_letter: DeadLetter) -> Result<(), StoreError> {
        CheckpointTable::<DB>::record_dead_letter(&self.pool, &dead_letter).await
    }

    async fn dead_letters(&self, projection: &str) -> Result<Vec<DeadLetter>, StoreError> {
        CheckpointTable::<DB>::dead_letters(&self.pool, projection).await
    }
}
