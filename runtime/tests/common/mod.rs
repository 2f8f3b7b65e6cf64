//! Herald's stores on each backend for the generic test suites, and a Kafka publisher for
//! the test broker: what needs `herald`'s own types. The databases, streams and services
//! under them are `herald-test-support`'s. PostgreSQL and NATS must be running: the tests
//! fail with a clear message when they are not, they never skip.
#![allow(dead_code)]

use herald::store::memory::MemoryStore;
use herald::store::postgres::PostgresStore;
use herald::store::sqlite::SqliteStore;
use herald_test_support::{PgSchema, sqlite_pool};

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

/// An in-memory store (nothing to clean up).
pub async fn memory() -> (MemoryStore, ()) {
    (MemoryStore::new(), ())
}

/// A SQLite store in a fresh file, and the folder that holds it.
pub async fn sqlite() -> (SqliteStore, tempfile::TempDir) {
    let (pool, dir) = sqlite_pool().await;
    let store = SqliteStore::new(pool);
    store.migrate().await.unwrap();
    (store, dir)
}

/// A PostgreSQL store in a fresh schema, and the schema.
pub async fn postgres() -> (PostgresStore, PgSchema) {
    let schema = PgSchema::create().await;
    let store = PostgresStore::new(schema.pool.clone());
    store.migrate().await.unwrap();
    (store, schema)
}

/// Another store on `schema` with a pool of its own of `max_connections`, as a second
/// process would have.
pub async fn postgres_store_on(schema: &PgSchema, max_connections: u32) -> PostgresStore {
    PostgresStore::new(schema.connect(max_connections).await)
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
