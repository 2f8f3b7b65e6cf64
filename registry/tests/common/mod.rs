//! Shared helpers of the server tests: a registry on a random port against SQLite or the
//! machine's PostgreSQL (each test in its own schema), an HTTP client, and process guards.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use herald_registry::server::ServeOptions;
pub use herald_test_support::{POSTGRES_URL, unique};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database for one test: a SQLite file in a temporary directory, or a fresh PostgreSQL
/// schema that is dropped when this is dropped.
pub struct TestDatabase {
    pub url: String,
    pg_schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("herald.db").display());
                TestDatabase {
                    url,
                    pg_schema: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let schema = unique("herald_t_");
                let pool = admin_pool().await;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&pool)
                    .await
                    .expect("create a test schema");
                pool.close().await;
                let url = format!("{POSTGRES_URL}?options=-c%20search_path%3D{schema}");
                TestDatabase {
                    url,
                    pg_schema: Some(schema),
                    _dir: None,
                }
            }
        }
    }
}

impl TestDatabase {
    /// Runs one statement on the database directly, behind the registry's back.
    pub async fn execute(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if self.pg_schema.is_some() {
            let pool = sqlx::PgPool::connect(&self.url).await.expect("connect");
            sqlx::query(sql).execute(&pool).await.expect("execute");
            pool.close().await;
        } else {
            let pool = sqlx::SqlitePool::connect(&self.url).await.expect("connect");
            sqlx::query(sql).execute(&pool).await.expect("execute");
            pool.close().await;
        }
    }
}

async fn admin_pool() -> sqlx::PgPool {
    match sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect(POSTGRES_URL)
        .await
    {
        Ok(pool) => pool,
        Err(err) => panic!(
            "PostgreSQL is not reachable at {POSTGRES_URL}: {err}. The server tests need it \
             (user postgres, trust auth, database test); start it and run the tests again."
        ),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(schema) = self.pg_schema.take() else {
            return;
        };
        // Drop runs inside the test's runtime; use a thread with its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let pool = admin_pool().await;
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE"
                )))
                .execute(&pool)
                .await;
                pool.close().await;
            });
        })
        .join();
    }
}

/// A registry served in-process on a random port.
pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    pub db: TestDatabase,
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut ServeOptions)) -> TestServer {
        let db = TestDatabase::new(backend).await;
        Self::start_on(db, adjust).await
    }

    pub async fn start_on(db: TestDatabase, adjust: impl FnOnce(&mut ServeOptions)) -> TestServer {
        let mut config = ServeOptions::new(db.url.clone());
        config.max_connections = 5;
        adjust(&mut config);
        let state = herald_registry::server::connect(&config)
            .await
            .expect("connect the registry to its database");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            herald_registry::server::serve(listener, state, async move {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        TestServer {
            base,
            client: reqwest::Client::new(),
            shutdown: Some(tx),
            task: Some(task),
            db,
        }
    }

    /// Stops serving and waits for in-flight requests.
    pub async fn stop(mut self) -> TestDatabase {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        TestDatabase {
            url: self.db.url.clone(),
            pg_schema: self.db.pg_schema.take(),
            _dir: self.db._dir.take(),
        }
    }

    pub fn client(&self) -> Client {
        Client {
            base: self.base.clone(),
            http: self.client.clone(),
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.client().get(path).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.client().post(path, body).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.client().put(path, body).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.client().delete(path).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A small JSON client for one registry.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

impl Client {
    pub fn new(base: impl Into<String>) -> Client {
        Client {
            base: base.into(),
            http: reqwest::Client::new(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .header("content-type", CONTENT_TYPE)
                .body(body.to_string()),
        )
        .await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(
            self.http
                .put(format!("{}{path}", self.base))
                .header("content-type", CONTENT_TYPE)
                .body(body.to_string()),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.http.delete(format!("{}{path}", self.base)))
            .await
    }
}

/// Asserts a Confluent error answer.
#[track_caller]
pub fn assert_error(answer: &(u16, Value), status: u16, code: u64) {
    assert_eq!(answer.0, status, "unexpected status, body: {}", answer.1);
    assert_eq!(
        answer.1["error_code"].as_u64(),
        Some(code),
        "unexpected error code, body: {}",
        answer.1
    );
    assert!(answer.1["message"].is_string(), "no message: {}", answer.1);
}

/// An Avro record schema named `name` with string fields `fields`, each without default.
pub fn avro_record(name: &str, fields: &[&str]) -> String {
    let fields: Vec<Value> = fields
        .iter()
        .map(|f| serde_json::json!({"name": f, "type": "string"}))
        .collect();
    serde_json::json!({"type": "record", "name": name, "fields": fields}).to_string()
}

/// A `herald serve` child process; killed when dropped.
pub struct ServerProcess {
    pub child: Child,
    pub base: String,
    pub stderr_lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts `herald serve` on a random port and waits until it listens.
    pub fn spawn(database_url: &str, extra_env: &[(&str, &str)]) -> ServerProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_herald"));
        command
            .arg("serve")
            .env("HERALD_LISTEN", "127.0.0.1:0")
            .env("HERALD_DATABASE_URL", database_url)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in extra_env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn herald serve");
        let stderr = child.stderr.take().expect("stderr");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let address = line
                    .split("listening on http://")
                    .nth(1)
                    .map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned());
                sink.lock().expect("lines").push(line);
                if let Some(address) = address {
                    let _ = tx.send(address);
                }
            }
        });
        let mut process = ServerProcess {
            child,
            base: String::new(),
            stderr_lines: lines,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(address) = rx.recv_timeout(Duration::from_millis(100)) {
                process.base = format!("http://{address}");
                return process;
            }
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!(
                    "herald serve exited with {status} before listening: {:?}",
                    process.stderr_lines.lock().expect("lines")
                );
            }
            assert!(
                Instant::now() < deadline,
                "herald serve did not start listening: {:?}",
                process.stderr_lines.lock().expect("lines")
            );
        }
    }

    pub fn client(&self) -> Client {
        Client::new(self.base.clone())
    }

    /// Sends a signal by number (15 = SIGTERM, 9 = SIGKILL).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the process to exit, at most `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    pub fn logs(&self) -> Vec<String> {
        self.stderr_lines.lock().expect("lines").clone()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Declares one async test per backend for each named `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await;
                }
            )*
        }
    };
}
