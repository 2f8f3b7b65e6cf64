//! Databases of a test's own: a SQLite file in a temporary folder, or a fresh schema in the
//! machine's PostgreSQL; each is removed when dropped, even when the test panicked.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::services::clean_up;
use crate::{POSTGRES_URL, unique};

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// The machine's PostgreSQL.
    Postgres,
}

/// A schema of its own in the test database, with a pool whose `search_path` is it; dropped
/// (with everything in it) on drop.
pub struct PgSchema {
    /// The schema's name.
    pub name: String,
    /// A pool confined to the schema.
    pub pool: PgPool,
}

/// One connection to the test database as its owner; panics saying why when PostgreSQL is
/// not reachable.
async fn admin() -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect(POSTGRES_URL)
        .await
        .unwrap_or_else(|error| {
            panic!(
                "PostgreSQL is required at {POSTGRES_URL} (user postgres, trust auth, database \
                 test) and is not reachable: {error}. Start it; these tests never skip."
            )
        })
}

impl PgSchema {
    /// Creates the schema; panics with an explanation if PostgreSQL is down.
    pub async fn create() -> PgSchema {
        let name = unique("herald_test");
        let admin = admin().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&admin)
            .await
            .expect("create a test schema");
        admin.close().await;
        let options = Self::options(&name);
        let pool = PgPoolOptions::new()
            .max_connections(40)
            .connect_with(options)
            .await
            .expect("connect to the test schema");
        PgSchema { name, pool }
    }

    fn options(name: &str) -> PgConnectOptions {
        PgConnectOptions::from_str(POSTGRES_URL)
            .expect("POSTGRES_URL parses")
            .options([("search_path", name)])
    }

    /// The schema as a database URL, for a process of its own.
    pub fn url(&self) -> String {
        format!("{POSTGRES_URL}?options=-c%20search_path%3D{}", self.name)
    }

    /// Another pool on the schema of `max_connections`, as a second process would have.
    pub async fn connect(&self, max_connections: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(20))
            .connect_with(Self::options(&self.name))
            .await
            .expect("connect to the test schema")
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let name = self.name.clone();
        clean_up(async move {
            if let Ok(admin) = PgPool::connect(POSTGRES_URL).await {
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {name} CASCADE"
                )))
                .execute(&admin)
                .await;
                admin.close().await;
            }
        });
    }
}

/// A pool on a fresh SQLite file (WAL, waiting up to 30 s for locks), and the folder that
/// holds it.
pub async fn sqlite_pool() -> (SqlitePool, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let options = SqliteConnectOptions::from_str(&format!(
        "sqlite://{}",
        dir.path().join("herald.db").display()
    ))
    .expect("a SQLite URL")
    .create_if_missing(true)
    .journal_mode(SqliteJournalMode::Wal)
    .busy_timeout(Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .expect("open the SQLite file");
    (pool, dir)
}

/// A database for one test, by URL: a SQLite file in a temporary folder, or a fresh
/// PostgreSQL schema ([`PgSchema`]).
pub struct TestDatabase {
    /// The database's URL, for `herald serve` or a pool.
    pub url: String,
    kept: Kept,
}

/// What keeps a [`TestDatabase`] alive.
enum Kept {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(PgSchema),
}

impl TestDatabase {
    /// A fresh database of `backend`.
    pub async fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => TestDatabase::sqlite(),
            Backend::Postgres => {
                let schema = PgSchema::create().await;
                TestDatabase {
                    url: schema.url(),
                    kept: Kept::Postgres(schema),
                }
            }
        }
    }

    /// A fresh SQLite file (created by whoever opens it first).
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("a temporary directory");
        TestDatabase {
            url: format!("sqlite://{}", dir.path().join("herald.db").display()),
            kept: Kept::Sqlite(dir),
        }
    }

    /// Runs one statement on the database directly, behind its users' backs.
    pub async fn execute(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match &self.kept {
            Kept::Postgres(schema) => {
                sqlx::query(sql)
                    .execute(&schema.pool)
                    .await
                    .expect("execute");
            }
            Kept::Sqlite(_) => {
                let pool = SqlitePool::connect(&self.url).await.expect("connect");
                sqlx::query(sql).execute(&pool).await.expect("execute");
                pool.close().await;
            }
        }
    }
}

/// Declares one async test per backend (modules `sqlite` and `postgres`) for each named
/// `async fn name(backend: Backend)`: `backend_tests!(a, b);`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await;
                }
            )*
        }
    };
}
