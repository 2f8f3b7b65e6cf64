//! The PostgreSQL dialect: any number of stateless registry processes on one database.
//! Ids come from a sequence; writers to one subject are serialized with a transaction-scoped
//! advisory lock on the subject's hash, and the compatibility check runs while it is held.

use std::str::FromStr;
use std::time::Duration;

use sqlx::Postgres;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::sql::{Dialect, Pools, SqlStorage};
use super::{BoxFuture, StorageError};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// A registry stored in a PostgreSQL database (or one schema of it, chosen with
/// `options=-c search_path=...` in the URL).
pub type PostgresStorage = SqlStorage<Postgres>;

impl Dialect for Postgres {
    const BACKEND: &'static str = "postgres";
    const BEGIN_WRITE: &'static str = "BEGIN";
    const LOCK_SUBJECT: Option<&'static str> =
        Some("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))");
    // Another subject may insert the same schema concurrently: it keeps its id.
    const INSERT_SCHEMA: &'static str = "INSERT INTO schemas (id, schema_type, schema_text, schema_key, refs, metadata, rule_set) \
         VALUES (COALESCE($1, nextval(pg_get_serial_sequence('schemas', 'id'))), \
         $2, $3, $4, $5, $6, $7) ON CONFLICT (schema_key) DO NOTHING RETURNING id";
    const SYNC_IDS: Option<&'static str> = Some(
        "SELECT setval(pg_get_serial_sequence('schemas', 'id'), \
         GREATEST($1, (SELECT last_value FROM schemas_id_seq)))",
    );

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    fn open(url: &str, max_connections: u32) -> BoxFuture<'_, Result<Pools<Self>, StorageError>> {
        Box::pin(async move {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(2))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(PgConnectOptions::from_str(url)?)
                .await?;
            Ok((pool.clone(), pool))
        })
    }
}
