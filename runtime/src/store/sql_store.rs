//! The SQL event store, written once over its backend: [`SqlStore<DB>`] is
//! [`SqliteStore`](crate::store::sqlite::SqliteStore) with `DB = sqlx::Sqlite` and
//! [`PostgresStore`](crate::store::postgres::PostgresStore) with `DB = sqlx::Postgres`.
//!
//! Everything both do alike lives here and in [`Tables`]: connecting, migrating, reading a
//! stream (one query joining the stream's deletion flag with its page of events), folding
//! it, deleting and truncating streams, and the statements on the log's head and tail,
//! snapshots, checkpoints and dead letters. A [`SqlBackend`] supplies what truly differs:
//! how a write transaction takes the log's lock, how a stream's state is found, a keyword
//! or a function name of its dialect, and how it appends and loads a stream to fold.

use std::fmt::Debug;

use serde_json::Value;
use sqlx::migrate::Migrate;
use sqlx::pool::PoolOptions;
use sqlx::types::Json;
use sqlx::{
    AssertSqlSafe, ColumnIndex, Connection, Decode, Encode, Executor, IntoArguments, Pool,
    Transaction, Type,
};
use uuid::Uuid;

use crate::envelope::{NewEvent, RecordedEvent};
use crate::sql::SqlBackend;
use crate::store::append::{Admission, admit, writable_version};
use crate::store::numbers::{check_append, limit, to_i64};
use crate::store::tables::{EVENT_COLUMNS, Tables, flagged_page_sql};
use crate::store::{
    Appended, Direction, EventStore, Expected, Snapshot, StoreError, StoredPayload, StreamInfo,
};

/// An event store in a SQL database `DB`, behind one pool.
#[derive(Debug)]
pub struct SqlStore<DB: SqlBackend> {
    pub(crate) pool: Pool<DB>,
    pub(crate) state: DB::State,
}

impl<DB: SqlBackend> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        SqlStore {
            pool: self.pool.clone(),
            state: self.state.clone(),
        }
    }
}

/// An append on its way to a backend: not empty, its numbers checked against the columns.
#[derive(Debug)]
pub struct Batch<'a> {
    /// The stream.
    pub(crate) stream_id: &'a str,
    /// What the appender believes about the stream's version.
    pub(crate) expected: Expected,
    /// The events, at least one.
    pub(crate) events: Vec<NewEvent>,
}

/// A page of a stream's events as queries bind it: stream `$1`, from version `$2`, at most
/// `$3` rows.
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    /// The stream.
    pub(crate) stream_id: &'a str,
    /// The first (or, backward, last) version.
    pub(crate) from: i64,
    /// The most rows.
    pub(crate) limit: i64,
}

impl<'a> Page<'a> {
    fn new(stream_id: &'a str, from: u64, count: usize) -> Result<Self, StoreError> {
        Ok(Page {
            stream_id,
            from: to_i64(from, "stream version")?,
            limit: limit(count),
        })
    }
}

impl<DB> SqlStore<DB>
where
    DB: SqlBackend,
    DB::Connection: Migrate,
{
    /// Connects with `options` and runs the migrations. SQLite: the file is created if
    /// missing and opened in WAL mode with `synchronous=FULL`.
    pub async fn connect_with(
        options: <DB::Connection as Connection>::Options,
    ) -> Result<Self, StoreError> {
        let pool = PoolOptions::<DB>::new()
            .max_connections(DB::MAX_CONNECTIONS)
            .connect_with(DB::prepare(options))
            .await?;
        let store = SqlStore::new(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// Connects to `url` (`sqlite://path/to/file.db`, `postgres://...`) and runs the
    /// migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options: <DB::Connection as Connection>::Options = url.parse()?;
        Self::connect_with(options).await
    }

    /// Creates or updates the store's tables (the event store's, checkpoints and dead
    /// letters); their history is kept in `herald_schema_migrations`.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut migrator = DB::MIGRATOR;
        migrator.dangerous_set_table_name("herald_schema_migrations");
        migrator.run(&self.pool).await?;
        Ok(())
    }
}

impl<DB: SqlBackend> SqlStore<DB> {
    /// Uses an existing pool. Call [`SqlStore::migrate`] once before use.
    ///
    /// PostgreSQL: while appends or aggregate loads are queued, the store keeps up to two of
    /// the pool's connections for them (one each); give the pool at least three.
    pub fn new(pool: Pool<DB>) -> Self {
        SqlStore {
            pool,
            state: DB::State::default(),
        }
    }

    /// The pool (for read models living in the same database).
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }
}

impl<DB> SqlStore<DB>
where
    DB: SqlBackend,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    /// Starts a transaction that writes to the log, holding the log's lock until it ends.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, DB>, StoreError> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        if let Some(lock) = DB::LOCK_LOG {
            sqlx::query::<DB>(lock).execute(&mut *tx).await?;
        }
        Ok(tx)
    }
}

impl<DB> EventStore for SqlStore<DB>
where
    DB: SqlBackend,
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
    async fn append(
        &self,
        stream_id: &str,
        expected: Expected,
        events: Vec<NewEvent>,
    ) -> Result<Appended, StoreError> {
        check_append(expected, &events)?;
        if events.is_empty() {
            let info = self.stream_info(stream_id).await?;
            if let Admission::Done(appended) = admit(stream_id, expected, info, 0)? {
                return Ok(appended);
            }
        }
        let batch = Batch {
            stream_id,
            expected,
            events,
        };
        DB::append(self, batch).await
    }

    async fn read_stream(
        &self,
        stream_id: &str,
        from: u64,
        direction: Direction,
        count: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = flagged_page_sql(DB::LATERAL, EVENT_COLUMNS, direction);
        let page = Page::new(stream_id, from, count)?;
        let rows = Tables::<DB>::stream_page(&self.pool, AssertSqlSafe(sql), page).await?;
        Tables::<DB>::events_of_page(stream_id, &rows)
    }

    async fn fold_stream<T, F>(
        &self,
        stream_id: &str,
        from: u64,
        count: usize,
        state: &mut T,
        apply: F,
    ) -> Result<usize, StoreError>
    where
        T: Send,
        F: FnMut(&mut T, StoredPayload<'_>) -> Result<(), StoreError> + Send,
    {
        let rows = DB::load(self, Page::new(stream_id, from, count)?).await?;
        Tables::<DB>::fold_rows(stream_id, &rows, state, apply)
    }

    async fn stream_info(&self, stream_id: &str) -> Result<Option<StreamInfo>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        Tables::<DB>::stream_state(&mut *connection, DB::STREAM_STATE, stream_id).await
    }

    async fn delete_stream(&self, stream_id: &str, expected: Expected) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let info = Tables::<DB>::stream_state(&mut *tx, DB::STREAM_STATE, stream_id).await?;
        let version = writable_version(stream_id, expected, info)?;
        Tables::<DB>::mark_deleted(&mut *tx, stream_id, version).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn truncate_stream(&self, stream_id: &str, before: u64) -> Result<(), StoreError> {
        to_i64(before, "truncation version")?;
        let mut tx = self.begin_write().await?;
        let Some(info) = Tables::<DB>::stream_state(&mut *tx, DB::STREAM_STATE, stream_id).await?
        else {
            return Ok(());
        };
        Tables::<DB>::delete_events_before(&mut *tx, stream_id, before).await?;
        // The version is recorded, so it survives every event being truncated away.
        Tables::<DB>::record_truncation(&mut *tx, DB::GREATEST, stream_id, info.version, before)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn read_all(
        &self,
        from_position: u64,
        count: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        Tables::<DB>::read_all(&self.pool, from_position, count).await
    }

    async fn head_position(&self) -> Result<u64, StoreError> {
        Tables::<DB>::head_position(&self.pool).await
    }

    async fn read_event(&self, event_id: Uuid) -> Result<Option<RecordedEvent>, StoreError> {
        Tables::<DB>::read_event(&self.pool, event_id).await
    }

    async fn load_snapshot(&self, stream_id: &str) -> Result<Option<Snapshot>, StoreError> {
        Tables::<DB>::load_snapshot(&self.pool, stream_id).await
    }

    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError> {
        Tables::<DB>::save_snapshot(&self.pool, &snapshot).await
    }
}
