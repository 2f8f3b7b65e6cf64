//! The consumer's tables, `herald_inbox` and `herald_consumer_dead_letters`, in SQLite or
//! PostgreSQL. The statements read the same in both and are written once (the
//! `inbox_database!` macro); the only difference is how replaying locks a dead letter.

use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::migrate::Migrator;
use sqlx::{Database, Pool, Row, Transaction};

use crate::consumer::dead_letter::DeadLetter;
use crate::envelope::from_micros;
use crate::store::StoreError;

/// A database that can hold a consumer's inbox, dead letters and the handler's read model:
/// SQLite or PostgreSQL (the trait is sealed).
pub trait InboxDatabase: Database + sealed::Sealed {
    /// Creates or updates the inbox and dead-letter tables (history in
    /// `herald_consumer_migrations`).
    fn migrate(pool: &Pool<Self>) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Starts a transaction that will write (SQLite: `BEGIN IMMEDIATE`).
    fn begin_write(
        pool: &Pool<Self>,
    ) -> impl Future<Output = Result<Transaction<'static, Self>, sqlx::Error>> + Send;

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

mod sealed {
    /// Only SQLite and PostgreSQL hold inboxes.
    pub trait Sealed {}
    #[cfg(feature = "sqlite")]
    impl Sealed for sqlx::Sqlite {}
    #[cfg(feature = "postgres")]
    impl Sealed for sqlx::Postgres {}
}

/// A JetStream stream sequence as a `BIGINT`.
fn sequence(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange {
        what: "stream sequence",
        value,
        max: i64::MAX.unsigned_abs(),
    })
}

/// A timestamp in microseconds since the Unix epoch (0 before it).
fn micros(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A stored count read back; negative is corrupt.
fn unsigned<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what}: {value}")))
}

const DEAD_LETTER_COLUMNS: &str = "consumer, event_id, subject, stream_sequence, headers, \
     payload, attempts, error, failed_at_micros";

fn migrator(mut migrator: Migrator) -> Migrator {
    migrator.dangerous_set_table_name("herald_consumer_migrations");
    migrator
}

/// Implements [`InboxDatabase`] for `$db`, whose row type is `$row`, with `$begin` starting
/// a write transaction and `$lock` appended to the select of a dead letter to replay.
macro_rules! inbox_database {
    ($db:ty, $row:ty, $migrations:literal, $begin:literal, $lock:literal) => {
        impl InboxDatabase for $db {
            async fn migrate(pool: &Pool<Self>) -> Result<(), StoreError> {
                // Under a write transaction, so that replicas starting at once on one SQLite
                // file wait for each other instead of failing with "database is locked".
                let mut tx = Self::begin_write(pool).await?;
                // `run_direct`: `run` on a transaction's connection trips the compiler's
                // "`Acquire` is not general enough" in an async trait method.
                migrator(sqlx::migrate!($migrations))
                    .run_direct(None, &mut *tx, false)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn begin_write(
                pool: &Pool<Self>,
            ) -> Result<Transaction<'static, Self>, sqlx::Error> {
                pool.begin_with($begin).await
            }

            async fn claim(
                connection: &mut Self::Connection,
                consumer: &str,
                event_id: &str,
                stream_sequence: u64,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "INSERT INTO herald_inbox (consumer, event_id, stream_sequence, \
                     received_at_micros) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(consumer)
                .bind(event_id)
                .bind(sequence(stream_sequence)?)
                .bind(micros(SystemTime::now()))
                .execute(&mut *connection)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn bury(
                connection: &mut Self::Connection,
                letter: &DeadLetter,
            ) -> Result<(), StoreError> {
                let sql = format!(
                    "INSERT INTO herald_consumer_dead_letters ({DEAD_LETTER_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&letter.consumer)
                    .bind(&letter.event_id)
                    .bind(&letter.subject)
                    .bind(sequence(letter.stream_sequence)?)
                    .bind(serde_json::to_string(&letter.headers)?)
                    .bind(&letter.payload)
                    .bind(i32::try_from(letter.attempts).unwrap_or(i32::MAX))
                    .bind(&letter.error)
                    .bind(micros(letter.failed_at))
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
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(consumer)
                    .fetch_all(pool)
                    .await?;
                rows.iter().map(dead_letter_from_row).collect()
            }

            async fn take_dead_letter(
                connection: &mut Self::Connection,
                consumer: &str,
                event_id: &str,
            ) -> Result<Option<DeadLetter>, StoreError> {
                let sql = format!(
                    "SELECT {DEAD_LETTER_COLUMNS} FROM herald_consumer_dead_letters \
                     WHERE consumer = $1 AND event_id = $2{}",
                    $lock
                );
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(consumer)
                    .bind(event_id)
                    .fetch_optional(&mut *connection)
                    .await?;
                row.as_ref().map(dead_letter_from_row).transpose()
            }

            async fn remove_dead_letter(
                connection: &mut Self::Connection,
                consumer: &str,
                event_id: &str,
            ) -> Result<(), StoreError> {
                sqlx::query(
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
                sqlx::query(
                    "UPDATE herald_consumer_dead_letters SET attempts = attempts + 1, \
                     error = $3, failed_at_micros = $4 WHERE consumer = $1 AND event_id = $2",
                )
                .bind(consumer)
                .bind(event_id)
                .bind(error)
                .bind(micros(SystemTime::now()))
                .execute(pool)
                .await?;
                Ok(())
            }
        }

        impl FromDeadLetterRow for $row {
            fn dead_letter(&self) -> Result<DeadLetter, StoreError> {
                let headers: String = self.try_get("headers")?;
                Ok(DeadLetter {
                    consumer: self.try_get("consumer")?,
                    event_id: self.try_get("event_id")?,
                    subject: self.try_get("subject")?,
                    stream_sequence: unsigned(self.try_get("stream_sequence")?, "stream sequence")?,
                    headers: serde_json::from_str(&headers)?,
                    payload: self.try_get("payload")?,
                    attempts: unsigned(i64::from(self.try_get::<i32, _>("attempts")?), "attempts")?,
                    error: self.try_get("error")?,
                    failed_at: from_micros(self.try_get("failed_at_micros")?),
                })
            }
        }
    };
}

/// Reads a dead letter from a row of [`DEAD_LETTER_COLUMNS`].
trait FromDeadLetterRow {
    fn dead_letter(&self) -> Result<DeadLetter, StoreError>;
}

fn dead_letter_from_row<R: FromDeadLetterRow>(row: &R) -> Result<DeadLetter, StoreError> {
    row.dead_letter()
}

#[cfg(feature = "sqlite")]
inbox_database!(
    sqlx::Sqlite,
    sqlx::sqlite::SqliteRow,
    "migrations/consumer/sqlite",
    "BEGIN IMMEDIATE",
    ""
);

#[cfg(feature = "postgres")]
inbox_database!(
    sqlx::Postgres,
    sqlx::postgres::PgRow,
    "migrations/consumer/postgres",
    "BEGIN",
    " FOR UPDATE"
);
