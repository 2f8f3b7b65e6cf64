//! Backends for the generic test suites. PostgreSQL and NATS must be running: the tests
//! fail with a clear message when they are not, they never skip.
#![allow(dead_code)]

use std::str::FromStr;

use herald::store::memory::MemoryStore;
use herald::store::postgres::PostgresStore;
use herald::store::sqlite::SqliteStore;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

pub use herald_test_support::{NATS_URL, POSTGRES_URL, unique};

/// A Kafka publisher to `brokers` with the settings the test broker needs
/// ([`herald_test_support::TANSU_PRODUCER_SETTINGS`]).
#[cfg(feature = "kafka")]
pub fn kafka_publisher(brokers: &str) -> herald::transport::kafka::KafkaPublisher {
    let options = herald_test_support::TANSU_PRODUCER_SETTINGS.iter().fold(
        herald::transport::kafka::KafkaOptions::new(brokers),
        |options, (key, value)| options.set(*key, *value),
    );
    herald::transport::kafka::KafkaPublisher::new(options).expect("a Kafka producer")
}

/// Keeps a backend's resources alive; dropping it removes them.
pub enum Guard {
    /// Nothing to clean.
    None,
    /// A temporary directory holding a SQLite file.
    Dir(tempfile::TempDir),
    /// A PostgreSQL schema, dropped on drop.
    Schema(PgSchema),
}

impl Guard {
    /// The PostgreSQL schema kept alive ("" for other backends).
    pub fn schema_name(&self) -> &str {
        match self {
            Guard::Schema(schema) => &schema.name,
            _ => "",
        }
    }
}

/// An in-memory store.
pub async fn memory() -> (MemoryStore, Guard) {
    (MemoryStore::new(), Guard::None)
}

/// A SQLite store in a fresh file.
pub async fn sqlite() -> (SqliteStore, Guard) {
    let (pool, dir) = sqlite_pool().await;
    let store = SqliteStore::new(pool);
    store.migrate().await.unwrap();
    (store, Guard::Dir(dir))
}

/// A pool on a fresh SQLite file.
pub async fn sqlite_pool() -> (SqlitePool, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteConnectOptions::from_str(&format!(
        "sqlite://{}",
        dir.path().join("herald.db").display()
    ))
    .unwrap()
    .create_if_missing(true)
    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
    .busy_timeout(std::time::Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .unwrap();
    (pool, dir)
}

/// A PostgreSQL store in a fresh schema.
pub async fn postgres() -> (PostgresStore, Guard) {
    let schema = PgSchema::create().await;
    let store = PostgresStore::new(schema.pool.clone());
    store.migrate().await.unwrap();
    (store, Guard::Schema(schema))
}

/// Another store on the schema `schema` with a pool of its own of `max_connections`, as a
/// second process would have.
pub async fn postgres_store_on(schema: &str, max_connections: u32) -> PostgresStore {
    let options = PgConnectOptions::from_str(POSTGRES_URL)
        .unwrap()
        .options([("search_path", schema)]);
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(std::time::Duration::from_secs(20))
        .connect_with(options)
        .await
        .unwrap();
    PostgresStore::new(pool)
}

/// A schema of its own in the test database, with a pool whose `search_path` is it.
pub struct PgSchema {
    /// The schema's name.
    pub name: String,
    /// A pool confined to the schema.
    pub pool: PgPool,
}

impl PgSchema {
    /// Creates the schema; panics with an explanation if PostgreSQL is down.
    pub async fn create() -> PgSchema {
        let name = unique("herald_test");
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(POSTGRES_URL)
            .await
            .unwrap_or_else(|error| {
                panic!("PostgreSQL is required at {POSTGRES_URL} and is not reachable: {error}. Start it; these tests never skip.")
            });
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let options = PgConnectOptions::from_str(POSTGRES_URL)
            .unwrap()
            .options([("search_path", name.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(40)
            .connect_with(options)
            .await
            .unwrap();
        PgSchema { name, pool }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Async work cannot run in `drop`; a short-lived thread with its own runtime drops
        // the schema even when the test panicked.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(admin) = PgPool::connect(POSTGRES_URL).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS {name} CASCADE"
                    )))
                    .execute(&admin)
                    .await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

/// Runs each listed generic test against every backend: `backends!(tests: a, b, c);`
/// expands to modules `memory`, `sqlite` and `postgres` with one `#[tokio::test]` per name.
#[macro_export]
macro_rules! backends {
    (tests: $($test:ident),+ $(,)?) => {
        mod memory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                let (store, _guard) = $crate::common::memory().await;
                super::$test(store).await;
            })+
        }
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                let (store, _guard) = $crate::common::sqlite().await;
                super::$test(store).await;
            })+
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                let (store, _guard) = $crate::common::postgres().await;
                super::$test(store).await;
            })+
        }
    };
}

/// A JetStream stream of its own (subjects `<name>.>`), deleted on drop.
pub struct JetStreamGuard {
    /// The JetStream context.
    pub context: async_nats::jetstream::Context,
    /// The stream's name, also the subject prefix.
    pub name: String,
}

impl JetStreamGuard {
    /// Connects to NATS and creates the stream; panics with an explanation if NATS is down.
    pub async fn create() -> JetStreamGuard {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(std::time::Duration::from_secs(5))
            .connect(NATS_URL)
            .await
            .unwrap_or_else(|error| {
                panic!("NATS with JetStream is required at {NATS_URL} and is not reachable: {error}. Start it; these tests never skip.")
            });
        let context = async_nats::jetstream::new(client);
        let name = unique("herald_relay");
        context
            .create_stream(async_nats::jetstream::stream::Config {
                name: name.clone(),
                subjects: vec![format!("{name}.>")],
                ..Default::default()
            })
            .await
            .unwrap_or_else(|error| panic!("cannot create a JetStream stream (is JetStream enabled on {NATS_URL}?): {error}"));
        JetStreamGuard { context, name }
    }

    /// Every message of the stream, in stream order.
    pub async fn messages(&self) -> Vec<async_nats::jetstream::message::StreamMessage> {
        let mut stream = self.context.get_stream(&self.name).await.unwrap();
        let count = stream.info().await.unwrap().state.messages;
        let mut messages = Vec::new();
        for sequence in 1..=count {
            messages.push(stream.get_raw_message(sequence).await.unwrap());
        }
        messages
    }
}

impl Drop for JetStreamGuard {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(client) = async_nats::connect(NATS_URL).await {
                    let _ = async_nats::jetstream::new(client)
                        .delete_stream(&name)
                        .await;
                }
            });
        })
        .join();
    }
}
