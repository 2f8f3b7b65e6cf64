//! The SQLite backend.
//!
//! Appends run in `BEGIN IMMEDIATE` transactions: SQLite admits one writer at a time, so
//! positions (read from `herald_head` and written back in the same transaction) are handed
//! out in commit order and readers never see a hole. [`SqliteStore::connect`] opens the file
//! in WAL mode, so readers do not block the writer, with `synchronous=FULL`: an append that
//! returned survives a power loss, not only the process being killed. `herald_streams`
//! holds a row per stream that has events.

use std::time::{Duration, SystemTime};

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteRow, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite};

use crate::envelope::NewEvent;
use crate::sql::SqlBackend;
use crate::store::append::{Admission, admit, check_retry};
use crate::store::numbers::to_micros;
use crate::store::numbers::{to_i32, to_i64};
use crate::store::sql_store::{Batch, Page, SqlStore};
use crate::store::tables::{Tables as SharedTables, flagged_page_sql};
use crate::store::{Appended, Direction, StoreError};

type Tables = SharedTables<Sqlite>;

/// An event store in SQLite.
pub type SqliteStore = SqlStore<Sqlite>;

/// What folding reads of an event (after the request number and deletion flag).
const FOLD_COLUMNS: &str = "e.stream_version, e.event_type, e.schema_version, e.payload";

impl SqlBackend for Sqlite {
    type State = ();
    const MAX_CONNECTIONS: u32 = 8;
    const MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");
    // The only writer from here to `COMMIT`: no row lock needed (no `LOCK_LOG`, and nothing
    // for `LOCK_FOR_UPDATE` and `LOCK_FOR_SHARE`); nothing cuts a stalled writer short.
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const STREAM_STATE: &'static str =
        "SELECT version, deleted, truncated_before FROM herald_streams WHERE stream_id = $1";
    const GREATEST: &'static str = "MAX";
    const NOW_MICROS: &'static str =
        "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)";
    const CONSUMER_MIGRATOR: Migrator = sqlx::migrate!("migrations/consumer/sqlite");

    fn prepare(options: SqliteConnectOptions) -> SqliteConnectOptions {
        options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
    }

    async fn append(store: &SqliteStore, batch: Batch<'_>) -> Result<Appended, StoreError> {
        let Batch {
            stream_id,
            expected,
            events,
        } = batch;
        let mut tx = store.begin_write().await?;
        // Read under the write lock, which orders positions by commit.
        let head = Tables::head_position(&mut *tx).await?;
        let stored = stored_ids(&mut tx, &events).await?;
        if let Some(appended) = check_retry(stream_id, &events, &stored)? {
            return Ok(appended);
        }
        let info = Tables::stream_state(&mut *tx, Self::STREAM_STATE, stream_id).await?;
        let version = match admit(stream_id, expected, info, events.len())? {
            Admission::Write { version } => version,
            Admission::Done(appended) => return Ok(appended),
        };
        let count = events.len() as u64;
        let new_version = to_i64(version + count, "stream version")?;
        let new_head = to_i64(head + count, "position")?;
        insert_events(&mut tx, stream_id, head, version, events).await?;
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

    async fn load(store: &SqliteStore, page: Page<'_>) -> Result<Vec<SqliteRow>, StoreError> {
        let sql = flagged_page_sql(Self::LATERAL, FOLD_COLUMNS, Direction::Forward);
        Tables::stream_page(&store.pool, sqlx::AssertSqlSafe(sql), page).await
    }
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

/// Inserts `events` after position `head` and stream version `version`.
async fn insert_events(
    connection: &mut sqlx::SqliteConnection,
    stream_id: &str,
    head: u64,
    version: u64,
    events: Vec<NewEvent>,
) -> Result<(), StoreError> {
    let recorded_at = to_micros(SystemTime::now(), "recorded-at time")?;
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
    insert.build().execute(&mut *connection).await?;
    Ok(())
}
