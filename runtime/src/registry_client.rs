//! A client for any schema registry speaking Confluent's REST API (Herald's `herald serve`
//! or Confluent's own): schemas by id, each fetched once and kept; and, for producers such
//! as the relay's [framing](crate::relay::ConfluentFraming), the ids of schemas looked up
//! or registered under a subject ([`RegistryClient::lookup`], [`RegistryClient::register`]).
//!
//! A Confluent-framed message names its writer's schema by id (a zero byte, the id as a
//! big-endian `u32`, then the payload); [`RegistryClient::schema`] answers
//! `GET /schemas/ids/{id}` and caches the answer for the life of the client. Registered
//! schemas never change, so the cache never expires; concurrent requests for one id share a
//! single fetch, and a failed fetch is not cached.
//!
//! ```no_run
//! # async fn run() -> Result<(), herald::registry_client::RegistryError> {
//! use herald::registry_client::RegistryClient;
//!
//! let registry = RegistryClient::new("http://127.0.0.1:8081")?.with_basic_auth("reader", "secret");
//! let schema = registry.schema(42).await?;
//! println!("{:?}: {}", schema.schema_type, schema.schema);
//! # Ok(())
//! # }
//! ```
//!
//! The client speaks plain HTTP as built; for `https://` registries enable one of reqwest's
//! TLS features in the application (`reqwest = { version = "0.12", features = ["rustls-tls"] }`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::OnceCell;

/// The media type of Confluent's REST API.
const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// Why a schema could not be had from the registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry's address is not an `http://` or `https://` URL.
    #[error("`{0}` is not a registry URL (expected http://host:port)")]
    InvalidUrl(String),
    /// No HTTP answer (connection refused, timeout, ...).
    #[error("registry {url} is unreachable: {source}")]
    Unreachable {
        /// The request URL.
        url: String,
        /// The transport error.
        source: reqwest::Error,
    },
    /// The registry holds no schema with this id.
    #[error("registry {url}: no schema with id {id}")]
    NotFound {
        /// The request URL.
        url: String,
        /// The id.
        id: u32,
    },
    /// The registry refused the credentials (401 or 403).
    #[error("registry {url} refused the credentials ({status})")]
    Unauthorized {
        /// The request URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// Any other unsuccessful answer.
    #[error("registry {url} answered {status}: {body}")]
    Status {
        /// The request URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The answer's body.
        body: String,
    },
    /// A successful answer that is not what was asked for (a schema, a schema id).
    #[error("registry {url} answered something unexpected: {message}")]
    InvalidAnswer {
        /// The request URL.
        url: String,
        /// What is wrong with it.
        message: String,
    },
}

/// The kind of a registered schema (`schemaType`; absent means Avro): the registry core's.
pub use herald_registry::schema::SchemaType;

/// A reference from a schema to another registered schema.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SchemaReference {
    /// The name the schema uses for it.
    pub name: String,
    /// The subject it is registered under.
    pub subject: String,
    /// Its version in that subject.
    pub version: i64,
}

/// A schema as the registry holds it under an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredSchema {
    /// The id.
    pub id: u32,
    /// Its kind.
    pub schema_type: SchemaType,
    /// Its text, as the registry returns it.
    pub schema: String,
    /// The schemas it references.
    pub references: Vec<SchemaReference>,
}

/// The body of `GET /schemas/ids/{id}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaAnswer {
    schema: String,
    #[serde(default)]
    schema_type: Option<String>,
    #[serde(default)]
    references: Vec<SchemaReference>,
}

type Slot = Arc<OnceCell<Arc<RegisteredSchema>>>;

/// A cached client of one registry; cheap to clone (clones share the cache).
#[derive(Debug, Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    base: String,
    http: reqwest::Client,
    credentials: Option<(String, String)>,
    cache: Mutex<HashMap<u32, Slot>>,
}

impl RegistryClient {
    /// A client of the registry at `base_url` (`http://host:port`, optionally with a path
    /// prefix), with a 10 s timeout per request.
    pub fn new(base_url: impl Into<String>) -> Result<Self, RegistryError> {
        Self::with_timeout(base_url, Duration::from_secs(10))
    }

    /// [`RegistryClient::new`] with another timeout per request.
    pub fn with_timeout(
        base_url: impl Into<String>,
        timeout: Duration,
    ) -> Result<Self, RegistryError> {
        let base = base_url.into().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(RegistryError::InvalidUrl(base));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|source| RegistryError::Unreachable {
                url: base.clone(),
                source,
            })?;
        Ok(RegistryClient {
            inner: Arc::new(Inner {
                base,
                http,
                credentials: None,
                cache: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Sends HTTP basic credentials with every request (Confluent Cloud: the API key and
    /// secret). Call before the first request: the client is rebuilt with an empty cache.
    pub fn with_basic_auth(self, user: impl Into<String>, password: impl Into<String>) -> Self {
        RegistryClient {
            inner: Arc::new(Inner {
                base: self.inner.base.clone(),
                http: self.inner.http.clone(),
                credentials: Some((user.into(), password.into())),
                cache: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The registry's base URL.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The schema registered under `id`: fetched on first use, then from the cache.
    pub async fn schema(&self, id: u32) -> Result<Arc<RegisteredSchema>, RegistryError> {
        let slot = {
            let mut cache = self
                .inner
                .cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            Arc::clone(cache.entry(id).or_default())
        };
        slot.get_or_try_init(|| self.fetch(id)).await.cloned()
    }

    /// How many schemas the cache holds.
    pub fn cached(&self) -> usize {
        let cache = self
            .inner
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        cache.values().filter(|slot| slot.initialized()).count()
    }

    /// The id under which `subject` holds `schema` (`POST /subjects/{subject}`); `None` when
    /// the subject does not hold it, or does not exist.
    pub async fn lookup(
        &self,
        subject: &str,
        schema_type: SchemaType,
        schema: &str,
    ) -> Result<Option<u32>, RegistryError> {
        let path = format!("/subjects/{subject}");
        let body = serde_json::json!({ "schemaType": schema_type.as_str(), "schema": schema });
        match self.send(reqwest::Method::POST, &path, Some(&body)).await? {
            Some(answer) => self.id_in(&path, &answer).map(Some),
            None => Ok(None),
        }
    }

    /// Registers `schema` under `subject` with `properties` as its `metadata.properties`
    /// (`POST /subjects/{subject}/versions`) and returns its id; a schema the subject holds
    /// already keeps its id. A version the subject's compatibility rules refuse is an error.
    pub async fn register(
        &self,
        subject: &str,
        schema_type: SchemaType,
        schema: &str,
        properties: &[(&str, &str)],
    ) -> Result<u32, RegistryError> {
        let path = format!("/subjects/{subject}/versions");
        let mut body = serde_json::json!({ "schemaType": schema_type.as_str(), "schema": schema });
        if !properties.is_empty() {
            let properties: serde_json::Map<String, serde_json::Value> = properties
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).into()))
                .collect();
            body["metadata"] = serde_json::json!({ "properties": properties });
        }
        match self.send(reqwest::Method::POST, &path, Some(&body)).await? {
            Some(answer) => self.id_in(&path, &answer),
            None => Err(RegistryError::Status {
                url: self.url(&path),
                status: 404,
                body: String::new(),
            }),
        }
    }

    /// Sets `subject`'s `compatibilityGroup` (`PUT /config/{subject}`): versions are checked
    /// only against earlier versions with the same value of that `metadata.properties` key.
    pub async fn set_compatibility_group(
        &self,
        subject: &str,
        group: &str,
    ) -> Result<(), RegistryError> {
        let path = format!("/config/{subject}");
        let body = serde_json::json!({ "compatibilityGroup": group });
        self.send(reqwest::Method::PUT, &path, Some(&body)).await?;
        Ok(())
    }

    async fn fetch(&self, id: u32) -> Result<Arc<RegisteredSchema>, RegistryError> {
        let path = format!("/schemas/ids/{id}");
        let Some(answer) = self.send(reqwest::Method::GET, &path, None).await? else {
            return Err(RegistryError::NotFound {
                url: self.url(&path),
                id,
            });
        };
        let invalid = |message: String| RegistryError::InvalidAnswer {
            url: self.url(&path),
            message,
        };
        let answer: SchemaAnswer =
            serde_json::from_value(answer).map_err(|error| invalid(error.to_string()))?;
        let schema_type = match answer.schema_type.as_deref() {
            None | Some("AVRO") => SchemaType::Avro,
            Some("JSON") => SchemaType::Json,
            Some("PROTOBUF") => SchemaType::Protobuf,
            Some(other) => return Err(invalid(format!("unknown schemaType `{other}`"))),
        };
        Ok(Arc::new(RegisteredSchema {
            id,
            schema_type,
            schema: answer.schema,
            references: answer.references,
        }))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.base)
    }

    /// The JSON answer of one request, with the credentials; `None` on 404.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Option<serde_json::Value>, RegistryError> {
        let url = self.url(path);
        let mut request = self
            .inner
            .http
            .request(method, &url)
            .header(reqwest::header::ACCEPT, CONTENT_TYPE);
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
                .body(body.to_string());
        }
        if let Some((user, password)) = &self.inner.credentials {
            request = request.basic_auth(user, Some(password));
        }
        let unreachable = |source| RegistryError::Unreachable {
            url: url.clone(),
            source,
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(unreachable)?;
        match status {
            200..=299 => {}
            401 | 403 => return Err(RegistryError::Unauthorized { url, status }),
            404 => return Ok(None),
            _ => return Err(RegistryError::Status { url, status, body }),
        }
        serde_json::from_str(&body)
            .map(Some)
            .map_err(|error| RegistryError::InvalidAnswer {
                url,
                message: error.to_string(),
            })
    }

    /// The `id` of a lookup's or registration's answer.
    fn id_in(&self, path: &str, answer: &serde_json::Value) -> Result<u32, RegistryError> {
        answer
            .get("id")
            .and_then(serde_json::Value::as_u64)
            .and_then(|id| u32::try_from(id).ok())
            .ok_or_else(|| RegistryError::InvalidAnswer {
                url: self.url(path),
                message: format!("no schema id in {answer}"),
            })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A minimal HTTP server answering `/schemas/ids/7` with a schema (after a pause, so
    /// that concurrent requests overlap) and anything else with 404; counts requests.
    async fn server() -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    let mut buffer = vec![0; 4096];
                    let read = socket.read(&mut buffer).await.unwrap();
                    counter.fetch_add(1, Ordering::SeqCst);
                    let request = String::from_utf8_lossy(&buffer[..read]).into_owned();
                    let (status, body) = if request.starts_with("GET /schemas/ids/7 ") {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        ("200 OK", r#"{"schema":"\"string\""}"#)
                    } else {
                        (
                            "404 Not Found",
                            r#"{"error_code":40403,"message":"not found"}"#,
                        )
                    };
                    let answer = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    socket.write_all(answer.as_bytes()).await.unwrap();
                });
            }
        });
        (base, requests)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_requests_for_one_id_share_one_fetch() {
        let (base, requests) = server().await;
        let client = RegistryClient::new(base).unwrap();
        let fetches: Vec<_> = (0..20)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.schema(7).await })
            })
            .collect();
        for fetch in fetches {
            let schema = fetch.await.unwrap().unwrap();
            assert_eq!((schema.id, schema.schema_type), (7, SchemaType::Avro));
            assert_eq!(schema.schema, "\"string\"");
        }
        assert_eq!(requests.load(Ordering::SeqCst), 1);
        assert_eq!(client.cached(), 1);

        // A failure is not cached: asking again asks the registry again.
        for expected in [2, 3] {
            assert!(matches!(
                client.schema(8).await,
                Err(RegistryError::NotFound { id: 8, .. })
            ));
            assert_eq!(requests.load(Ordering::SeqCst), expected);
        }
        assert!(matches!(
            RegistryClient::new("localhost:8081"),
            Err(RegistryError::InvalidUrl(_))
        ));
    }
}
