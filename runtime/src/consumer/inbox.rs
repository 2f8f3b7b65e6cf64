//! The consumer's tables, `herald_inbox` and `herald_consumer_dead_letters`, in SQLite or
//! PostgreSQL: the statements are written once, over any [`SqlBackend`]; the only difference,
//! how replaying locks a dead letter, is the backend's [`SqlBackend::LOCK_FOR_UPDATE`].

use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::migrate::Migrate;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

use crate::consumer::dead_letter::DeadLetter;
use crate::envelope::from_micros;
use crate::sql::SqlBackend;
use crate::store::StoreError;
use crate::store::numbers::{from_i32, from_i64, to_i64, to_micros};

/// A database that can hold a consumer's inbox, dead letters and the handler's read model:
/// every [`SqlBackend`] (SQLite, PostgreSQL).
pub trait InboxDatabase: SqlBackend {
    /// Creates or updates the inbox and dead-letter tables (history in
    /// `herald_consumer_migrations`).
    fn migrate(pool: &Pool<Self>) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Inserts the inbox row of `event_id`; `false` when it is already there (the message
    /// was taken before). PostgreSQL waits for a concurrent transaction holding the same row.
    fn claim(
        connection: &mut Self::Connection,
        consumer: &str,
        event_id: &str,
        stream_sequence: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Stores a dead letter (a second one for the same event keeps the first).
    fn bury(
        connection: &mut Self::Connection,
        letter: &DeadLetter,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The consumer's dead letters, oldest stream sequence first.
    fn dead_letters(
        pool: &Pool<Self>,
        consumer: &str,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, StoreError>> + Send;

    /// One dead letter, locked until the transaction ends.
    fn take_dead_letter(
        connection: &mut Self::Connection,
        consumer: &str,
        event_id: &str,
    ) -> impl Future<Output = Result<Option<DeadLetter>, StoreError>> + Send;

    /// Deletes a dead letter (it was replayed).
    fn remove_dead_letter(
        connection: &mut Self::Connection,
        consumer: &str,
        event_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Counts a failed replay: one more attempt, and its error.
    fn record_failure(
        pool: &Pool<Self>,
        consumer: &str,
        event_id: &str,
        error: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

const DEAD_LETTER_COLUMNS: &str = "consumer, event_id, subject, stream_sequence, headers, \
     payload, attempts, error, failed_at_micros";

impl<DB> InboxDatabase for DB
where
    DB: SqlBackend,
    DB::Arguments: IntoArguments<DB>,
    DB::Connection: Migrate,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> &'a str: Encode<'a, DB> + Decode<'a, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> i32: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> String: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> Vec<u8>: Decode<'a, DB> + Type<DB>,
    for<'a> &'a [u8]: Encode<'a, DB> + Type<DB>,
{
    async fn migrate(pool: &Pool<Self>) -> Result<(), StoreError> {
        // Under a write transaction, so that replicas starting at once on one SQLite
        // file wait for each other instead of failing with "database is locked".
        let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
        // `run_direct`: `run` on a transaction's connection trips the compiler's
        // "`Acquire` is not general enough" in an async trait method.
        let mut migrator = DB::CONSUMER_MIGRATOR;
        migrator.dangerous_set_table_name("herald_consumer_migrations");
        migrator.run_direct(None, &mut *tx, false).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn claim(
        connection: &mut Self::Connection,
        consumer: &str,
        event_id: &str,
        stream_sequence: u64,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query::<DB>(
            "INSERT INTO herald_inbox (consumer, event_id, stream_sequence, \
             received_at_micros) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING \
             RETURNING stream_sequence",
        )
        .bind(consumer)
        .bind(event_id)
        .bind(to_i64(stream_sequence, "stream sequence")?)
        .bind(now_micros())
        .fetch_optional(&mut *connection)
        .await?;
        Ok(inserted.is_some())
    }

    async fn bury(
        connection: &mut Self::Connection,
        letter: &DeadLetter,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO herald_consumer_dead_letters ({DEAD_LETTER_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING"
        );
        sqlx::query::<DB>(sqlx::AssertSqlSafe(sql))
            .bind(letter.consumer.as_str())
            .bind(letter.event_id.as_str())
            .bind(letter.subject.as_str())
            .bind(to_i64(letter.stream_sequence, "stream sequence")?)
            .bind(serde_json::to_string(&letter.headers)?)
            .bind(letter.payload.as_slice())
            .bind(i32::try_from(letter.attempts).unwrap_or(i32::MAX))
            .bind(letter.error.as_str())
            .bind(to_micros(letter.failed_at, "failure time")?)
            .execute(&mut *connection)
            .await?;
        Ok(())
    }

    async fn dead_letters(
        pool: &Pool<Self>,
        consumer: &str,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let sql = format!(
            "SELECT {DEAD_LETTER_COLUMNS} FROM herald_consumer_dead_letters \
                     WHERE consumer = $1 ORDER BY stream_sequence, event_id"
        );
        let rows = sqlx::query::<DB>(sqlx::AssertSqlSafe(sql))
            .bind(consumer)
            .fetch_all(pool)
            .await?;
        rows.iter().map(dead_letter_from_row::<DB>).collect()
    }

    async fn take_dead_letter(
        connection: &mut Self::Connection,
        consumer: &str,
        event_id: &str,
    ) -> Result<Option<DeadLetter>, StoreError> {
        let sql = format!(
            "SELECT {DEAD_LETTER_COLUMNS} FROM herald_consumer_dead_letters \
                     WHERE consumer = $1 AND event_id = $2 {}",
            DB::LOCK_FOR_UPDATE
        );
        let row = sqlx::query::<DB>(sqlx::AssertSqlSafe(sql))
            .bind(consumer)
            .bind(event_id)
            .fetch_optional(&mut *connection)
            .await?;
        row.as_ref().map(dead_letter_from_row::<DB>).transpose()
    }

    async fn remove_dead_letter(
        connection: &mut Self::Connection,
        consumer: &str,
        event_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query::<DB>(
            "DELETE FROM herald_consumer_dead_letters \
                     WHERE consumer = $1 AND event_id = $2",
        )
        .bind(consumer)
        .bind(event_id)
        .execute(&mut *connection)
        .await?;
        Ok(())
    }

    async fn record_failure(
        pool: &Pool<Self>,
        consumer: &str,
        event_id: &str,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query::<DB>(
            "UPDATE herald_consumer_dead_letters SET attempts = attempts + 1, \
                     error = $3, failed_at_micros = $4 WHERE consumer = $1 AND event_id = $2",
        )
        .bind(consumer)
        .bind(event_id)
        .bind(error)
        .bind(now_micros())
        .execute(pool)
        .await?;
        Ok(())
    }
}

/// Now in microseconds since the Unix epoch (0 before it).
fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A dead letter from a row of [`DEAD_LETTER_COLUMNS`].
fn dead_letter_from_row<DB>(row: &DB::Row) -> Result<DeadLetter, StoreError>
where
    DB: Database,
    for<'a> &'a str: ColumnIndex<DB::Row>,
    for<'a> i64: Decode<'a, DB> + Type<DB>,
    for<'a> i32: Decode<'a, DB> + Type<DB>,
    for<'a> String: Decode<'a, DB> + Type<DB>,
    for<'a> Vec<u8>: Decode<'a, DB> + Type<DB>,
{
    let headers: String = row.try_get("headers")?;
    Ok(DeadLetter {
        consumer: row.try_get("consumer")?,
        event_id: row.try_get("event_id")?,
        subject: row.try_get("subject")?,
        stream_sequence: from_i64(row.try_get("stream_sequence")?, "stream sequence")?,
        headers: serde_json::from_str(&headers)?,
        payload: row.try_get("payload")?,
        attempts: from_i32(row.try_get("attempts")?, "attempts")?,
        error: row.try_get("error")?,
        failed_at: from_micros(row.try_get("failed_at_micros")?),
    })
}
