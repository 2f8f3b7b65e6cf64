//! The one way the runtime writes SQL: each statement once, over [`sqlx::Database`], for
//! SQLite and PostgreSQL alike; a [`SqlBackend`] carries what truly differs (a keyword, a
//! function name, the clock, a row lock, how a write transaction starts) and the event
//! store's own appends and loads, which each backend tunes.
//!
//! The statements live with the tables they touch: the event log's in
//! `store::tables`, the checkpoints' and projection dead letters' in [`checkpoints`],
//! the leases' in [`leases`], the sagas' deadlines and index in [`sagas`], the consumer's in `consumer::inbox`. Code generic over the
//! backend states the `sqlx` bounds it uses (which types it binds and decodes).

pub(crate) mod checkpoints;
pub(crate) mod leases;
pub(crate) mod sagas;

use std::fmt::Debug;
use std::future::Future;

use sqlx::migrate::Migrator;
use sqlx::{Connection, Database};

use crate::store::{Appended, Batch, Page, SqlStore, StoreError};

/// A database Herald's SQL runs on: SQLite or PostgreSQL (the trait is sealed). It carries
/// every difference between the two that the statements of the [module](self) meet.
pub trait SqlBackend: Database + sealed::Sealed {
    /// What the store keeps besides its pool (PostgreSQL: its request groups).
    type State: Debug + Clone + Default + Send + Sync + 'static;
    /// The pool size [`SqlStore::connect_with`] opens.
    const MAX_CONNECTIONS: u32;
    /// The event store's migrations (`runtime/migrations/<backend>`).
    const MIGRATOR: Migrator;
    /// The statement that starts a transaction that will write (SQLite: `BEGIN IMMEDIATE`,
    /// so that it waits for the write lock up front instead of failing to upgrade later).
    const BEGIN_WRITE: &'static str;
    /// The statement that then locks the log until the transaction ends, if one is needed.
    const LOCK_LOG: Option<&'static str> = None;
    /// The query of a stream's `version, deleted, truncated_before` (stream `$1`; no row if
    /// the stream never existed).
    const STREAM_STATE: &'static str;
    /// The keyword that lets a joined subquery follow the rows before it (or nothing).
    const LATERAL: &'static str = "";
    /// The function that takes the larger of two values.
    const GREATEST: &'static str;
    /// The current time in microseconds since the Unix epoch, on the database's clock.
    const NOW_MICROS: &'static str;
    /// What ends a read whose rows the transaction must hold until it ends, against writers
    /// (`FOR UPDATE`; nothing in SQLite, whose write transaction is already the only writer).
    const LOCK_FOR_UPDATE: &'static str = "";
    /// What ends a read whose rows must not change until the transaction ends (`FOR SHARE`;
    /// nothing in SQLite).
    const LOCK_FOR_SHARE: &'static str = "";
    /// The statement that ends the session of a transaction idle longer than `$1`
    /// milliseconds, freeing its locks (PostgreSQL); `None` where nothing can.
    const STALL_TIMEOUT: Option<&'static str> = None;
    /// The consumer's migrations (`runtime/migrations/consumer/<backend>`).
    const CONSUMER_MIGRATOR: Migrator;

    /// The options [`SqlStore::connect_with`] opens its pool with, from the caller's.
    fn prepare(
        options: <Self::Connection as Connection>::Options,
    ) -> <Self::Connection as Connection>::Options;

    /// Stores a checked, non-empty `batch`.
    fn append(
        store: &SqlStore<Self>,
        batch: Batch<'_>,
    ) -> impl Future<Output = Result<Appended, StoreError>> + Send;

    /// The rows folding reads for `page` (forward): a request number, the stream's deletion
    /// flag, then each event's stream version (NULL: none), type, schema version and payload.
    fn load(
        store: &SqlStore<Self>,
        page: Page<'_>,
    ) -> impl Future<Output = Result<Vec<Self::Row>, StoreError>> + Send;
}

mod sealed {
    /// Only Herald's backends are [`SqlBackend`](super::SqlBackend)s.
    pub trait Sealed {}
    #[cfg(feature = "sqlite")]
    impl Sealed for sqlx::Sqlite {}
    #[cfg(feature = "postgres")]
    impl Sealed for sqlx::Postgres {}
}
