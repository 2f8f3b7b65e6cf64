//! The SQLite dialect: one file in WAL mode with `synchronous=FULL`, so an acknowledged
//! registration survives the process being killed. Writes go through a single writer
//! connection inside `BEGIN IMMEDIATE` transactions; reads use a separate pool.

use std::str::FromStr;
use std::time::Duration;

use sqlx::Sqlite;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::sql::{Dialect, Pools, SqlStorage};
use super::{BoxFuture, StorageError};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// A registry stored in one SQLite database. `sqlite::memory:` gives a throwaway one.
pub type SqliteStorage = SqlStorage<Sqlite>;

impl Dialect for Sqlite {
    const BACKEND: &'static str = "sqlite";
    // The single writer connection serializes every write.
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const LOCK_SUBJECT: Option<&'static str> = None;
    // A NULL id takes the next AUTOINCREMENT id, which also moves past given ids.
    const INSERT_SCHEMA: &'static str = "INSERT INTO schemas (id, schema_type, schema_text, schema_key, refs, metadata, rule_set) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (schema_key) DO NOTHING RETURNING id";
    const SYNC_IDS: Option<&'static str> = None;

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    fn open(url: &str, max_connections: u32) -> BoxFuture<'_, Result<Pools<Self>, StorageError>> {
        Box::pin(async move {
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options.clone())
                .await?;
            let reader = if in_memory {
                // Each connection to an in-memory database sees its own database unless they
                // share one; keep every access on the single connection.
                writer.clone()
            } else {
                SqlitePoolOptions::new()
                    .max_connections(max_connections.max(1))
                    .connect_with(options)
                    .await?
            };
            Ok((writer, reader))
        })
    }
}
