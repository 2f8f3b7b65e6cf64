//! `herald serve` in a child process on a random port, and a small JSON client for it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{Backend, TestDatabase, herald_binary};

/// What a `herald serve` is started with besides its database and a random port: its
/// environment and, optionally, users for basic authentication.
#[derive(Debug, Clone, Default)]
pub struct ServeSettings {
    env: Vec<(String, String)>,
    users: Option<String>,
}

impl ServeSettings {
    /// No setting: the server's defaults, no authentication.
    pub fn new() -> ServeSettings {
        ServeSettings::default()
    }

    /// Sets one environment variable of the server (`HERALD_MAX_BODY_BYTES`, …).
    pub fn env(mut self, name: &str, value: impl ToString) -> ServeSettings {
        self.env.push((name.to_owned(), value.to_string()));
        self
    }

    /// Turns on basic authentication with these `name:password:role` lines.
    pub fn users(mut self, lines: &str) -> ServeSettings {
        self.users = Some(lines.to_owned());
        self
    }

    /// Starts the server on a fresh database of `backend`, which it owns.
    pub async fn start(self, backend: Backend) -> HeraldServe {
        self.start_on(TestDatabase::new(backend).await)
    }

    /// Starts the server on `database`, which it owns (see [`HeraldServe::stop`]).
    pub fn start_on(self, database: TestDatabase) -> HeraldServe {
        let mut server = self.spawn(&database.url);
        server.database = Some(database);
        server
    }

    /// Starts the server on the database at `database_url`, which others may share.
    pub fn spawn(self, database_url: &str) -> HeraldServe {
        let mut command = Command::new(herald_binary());
        command
            .arg("serve")
            .env("HERALD_LISTEN", "127.0.0.1:0")
            .env("HERALD_DATABASE_URL", database_url)
            .env("RUST_LOG", "info")
            .envs(self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let users = self.users.map(|lines| {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let file = dir.path().join("users");
            std::fs::write(&file, lines).expect("write the credentials file");
            command.env("HERALD_CREDENTIALS_FILE", file);
            dir
        });
        let mut child = command.spawn().expect("spawn herald serve");
        let stderr = child.stderr.take().expect("herald serve's stderr is piped");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("herald serve: {line}");
                // `listening on http://127.0.0.1:port` (or `https://`): the base URL.
                let address = line
                    .split("listening on ")
                    .nth(1)
                    .filter(|rest| rest.starts_with("http"))
                    .map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned());
                sink.lock().expect("the log lines").push(line);
                if let Some(address) = address {
                    let _ = tx.send(address);
                }
            }
        });
        let mut server = HeraldServe {
            child,
            base: String::new(),
            http: reqwest::Client::new(),
            logs,
            database: None,
            _users: users,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(address) = rx.recv_timeout(Duration::from_millis(100)) {
                server.base = address;
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "herald serve exited with {status} before listening: {:?}",
                    server.logs()
                );
            }
            assert!(
                Instant::now() < deadline,
                "herald serve did not start listening within 60 s: {:?}",
                server.logs()
            );
        }
    }
}

/// `herald serve` (the `herald` binary cargo built) in a child process, listening on a
/// random port; killed on drop, then its database, if it owns one, is removed.
pub struct HeraldServe {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// An HTTP client for requests the [`Client`] does not make.
    pub http: reqwest::Client,
    logs: Arc<Mutex<Vec<String>>>,
    database: Option<TestDatabase>,
    _users: Option<tempfile::TempDir>,
}

impl HeraldServe {
    /// `herald serve` with the defaults on a fresh database of `backend`, which it owns.
    pub async fn start(backend: Backend) -> HeraldServe {
        ServeSettings::new().start(backend).await
    }

    /// `herald serve` with the defaults on `database`, which it owns.
    pub fn start_on(database: TestDatabase) -> HeraldServe {
        ServeSettings::new().start_on(database)
    }

    /// `herald serve` with the defaults on the database at `database_url`.
    pub fn spawn(database_url: &str) -> HeraldServe {
        ServeSettings::new().spawn(database_url)
    }

    /// The database the server owns; panics when it was started on a URL.
    pub fn database(&self) -> &TestDatabase {
        self.database
            .as_ref()
            .expect("this herald serve was started on a URL, it owns no database")
    }

    /// Stops the server with SIGTERM (it finishes in-flight requests) and hands back its
    /// database, for another server to start on.
    pub fn stop(mut self) -> TestDatabase {
        self.signal("TERM");
        let status = self.wait(Duration::from_secs(30));
        assert!(
            status.is_some_and(|status| status.success()),
            "herald serve did not stop cleanly ({status:?}): {:?}",
            self.logs()
        );
        self.database
            .take()
            .expect("this herald serve was started on a URL, it owns no database")
    }

    /// A JSON client for the server.
    pub fn client(&self) -> Client {
        Client {
            base: self.base.clone(),
            http: self.http.clone(),
        }
    }

    /// `GET path`: the status and the JSON answer (or the text as a JSON string).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.client().get(path).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.client().post(path, body).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.client().put(path, body).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.client().delete(path).await
    }

    /// The process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal by name or number (`TERM`, `9`).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the process to exit, at most `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The lines the server wrote to stderr so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().expect("the log lines").clone()
    }

    /// The server's log, once it holds each of `expected` (they come through a pipe, a little
    /// after the answers); panics with the log when one is still missing after 10 s.
    pub async fn wait_for_logs(&self, expected: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let logs = self.logs().join("\n");
            let missing: Vec<_> = expected
                .iter()
                .filter(|line| !logs.contains(*line))
                .collect();
            if missing.is_empty() {
                return logs;
            }
            assert!(
                Instant::now() < deadline,
                "no {missing:?} in the log of herald serve:\n{logs}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for HeraldServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small JSON client for one registry: each call answers the status and the JSON body
/// (or the text as a JSON string).
#[derive(Clone)]
pub struct Client {
    /// `http://host:port`.
    pub base: String,
    /// The HTTP client.
    pub http: reqwest::Client,
}

impl Client {
    /// A client for the registry at `base`.
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

    /// `GET path`.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// `POST path` with a JSON body in Confluent's content type.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.with_body(self.http.post(format!("{}{path}", self.base)), body))
            .await
    }

    /// `PUT path` with a JSON body in Confluent's content type.
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.with_body(self.http.put(format!("{}{path}", self.base)), body))
            .await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.http.delete(format!("{}{path}", self.base)))
            .await
    }

    fn with_body(&self, request: reqwest::RequestBuilder, body: Value) -> reqwest::RequestBuilder {
        request
            .header("content-type", herald_protocol::CONTENT_TYPE)
            .body(body.to_string())
    }
}
