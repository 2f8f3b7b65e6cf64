//! A client for any schema registry speaking Confluent's REST API (Herald's `herald serve`
//! or Confluent's own): schemas by id, each fetched once and kept; the ids of schemas looked
//! up or registered under a subject ([`RegistryClient::lookup`], [`RegistryClient::register`]),
//! as producers such as the runtime's relay framing need them; and what `herald check` and
//! `herald push` ask (compatibility tests, subject configs, registered versions). The
//! command-line tool uses it through the [`blocking`] adapter; [`crate::push`] registers a
//! subject's versions with their majors.
//!
//! A Confluent-framed message names its writer's schema by id (a zero byte, the id as a
//! big-endian `u32`, then the payload); [`RegistryClient::schema`] answers
//! `GET /schemas/ids/{id}` and caches the answer for the life of the client. Registered
//! schemas never change, so the cache never expires; concurrent requests for one id share a
//! single fetch, and a failed fetch is not cached.
//!
//! ```no_run
//! # async fn run() -> Result<(), herald_protocol::registry_client::RegistryError> {
//! use herald_protocol::registry_client::RegistryClient;
//!
//! let registry = RegistryClient::new("http://127.0.0.1:8081")?.with_basic_auth("reader", "secret");
//! let schema = registry.schema(42).await?;
//! println!("{:?}: {}", schema.schema_type, schema.schema);
//! # Ok(())
//! # }
//! ```
//!
//! The client speaks HTTP and HTTPS (rustls, trusting Mozilla's CA list): a registry whose
//! certificate a private CA signed is trusted with [`RegistryClient::with_ca_certificate`],
//! and one that asks for a client certificate (mutual TLS) gets the one given to
//! [`RegistryClient::with_client_certificate`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::CONTENT_TYPE;
/// The kind of a registered schema (`schemaType`; absent means Avro).
pub use crate::SchemaType;

pub mod blocking;
mod keys;

pub use keys::{Dek, DekAlgorithm, Kek};

/// Confluent's error code for a subject that does not exist.
const SUBJECT_NOT_FOUND: i64 = 40401;

/// Why a request to the registry failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry's address is not an `http://` or `https://` URL.
    #[error("`{0}` is not a registry URL (expected http://host:port)")]
    InvalidUrl(String),
    /// A CA certificate given to trust is not a PEM certificate.
    #[error("not a PEM CA certificate: {}", chain(source))]
    InvalidCertificate {
        /// What the TLS client said.
        source: reqwest::Error,
    },
    /// A client certificate or its key is not PEM, or they do not go together.
    #[error("not a PEM client certificate and private key: {}", chain(source))]
    InvalidClientCertificate {
        /// What the TLS client said.
        source: reqwest::Error,
    },
    /// No HTTP answer (connection refused, timeout, ...).
    #[error("registry {url} is unreachable: {}", chain(source))]
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
    /// Any other unsuccessful answer; a registration the registry refuses is a 409
    /// (incompatible) or a 422 (invalid).
    #[error("registry {url} answered {status}: {body}")]
    Status {
        /// The request URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The registry's `message` when the answer is a Confluent error, else its body.
        body: String,
        /// The registry's `error_code`, when the answer is a Confluent error.
        error_code: Option<i64>,
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

/// An error and its sources, on one line (reqwest's own message leaves out the cause).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A reference from a schema to another registered schema.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SchemaReference {
    /// The name the schema uses for it (a Protobuf import path, an Avro or JSON name).
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
    /// Its data-contract `metadata` (`properties`, `tags`), as the registry returns it.
    pub metadata: Option<Value>,
    /// Its data-contract `ruleSet` (`domainRules`, `migrationRules`, ...), as the registry
    /// returns it.
    pub rule_set: Option<Value>,
}

/// Where a subject holds a schema: its id and the subject's version number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubjectVersion {
    /// The schema's id.
    pub id: u32,
    /// The version of the subject that holds it.
    pub version: u32,
}

/// A version of a subject (`GET /subjects/{subject}/versions/{version}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionSchema {
    /// The version number.
    pub version: u32,
    /// The schema it holds.
    pub schema: RegisteredSchema,
}

/// Whether the registry would accept a schema under a subject now, and why not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compatibility {
    /// Whether it would.
    pub is_compatible: bool,
    /// The registry's messages (the incompatibilities found).
    pub messages: Vec<String>,
}

/// The part of a subject's config Herald manages (`/config/{subject}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectConfig {
    /// The compatibility level, as the registry names it.
    pub level: Option<String>,
    /// The `compatibilityGroup` (a `metadata.properties` key).
    pub group: Option<String>,
}

/// The body of a lookup, registration or compatibility test: a schema with its
/// `metadata.properties` (such as the major under [`crate::annotations::MAJOR_PROPERTY`]).
fn schema_body(schema_type: SchemaType, schema: &str, properties: &[(&str, &str)]) -> Value {
    let mut body = json!({ "schemaType": schema_type.as_str(), "schema": schema });
    if !properties.is_empty() {
        let properties: serde_json::Map<String, Value> = properties
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).into()))
            .collect();
        body["metadata"] = json!({ "properties": properties });
    }
    body
}

/// A schema answer: `GET /schemas/ids/{id}` and `GET /subjects/{s}/versions/{v}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaAnswer {
    #[serde(default)]
    id: Option<u32>,
    #[serde(default)]
    version: Option<u32>,
    schema: String,
    #[serde(default)]
    schema_type: Option<String>,
    #[serde(default)]
    references: Vec<SchemaReference>,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    rule_set: Option<Value>,
}

/// A lookup's or registration's answer.
#[derive(Deserialize)]
struct IdAnswer {
    id: u32,
    #[serde(default)]
    version: Option<u32>,
}

/// A compatibility test's answer.
#[derive(Deserialize)]
struct CompatibilityAnswer {
    is_compatible: bool,
    #[serde(default)]
    messages: Vec<Value>,
}

/// A subject config's answer (`compatibility` in older registries).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigAnswer {
    #[serde(default, alias = "compatibility")]
    compatibility_level: Option<String>,
    #[serde(default)]
    compatibility_group: Option<String>,
}

/// One HTTP answer: status and body (JSON when it parses, else a string).
struct Answer {
    url: String,
    status: u16,
    body: Value,
}

impl Answer {
    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn error_code(&self) -> Option<i64> {
        self.body.get("error_code").and_then(Value::as_i64)
    }

    /// The answer as a [`RegistryError::Status`].
    fn into_error(self) -> RegistryError {
        let error_code = self.error_code();
        let body = match self.body {
            Value::String(text) => text,
            other => match other.get("message").and_then(Value::as_str) {
                Some(message) => message.to_owned(),
                None => other.to_string(),
            },
        };
        RegistryError::Status {
            url: self.url,
            status: self.status,
            body,
            error_code,
        }
    }

    /// A successful answer's body as `T`; any other answer as an error.
    fn parse<T: DeserializeOwned>(self) -> Result<T, RegistryError> {
        if !self.is_success() {
            return Err(self.into_error());
        }
        serde_json::from_value(self.body).map_err(|error| RegistryError::InvalidAnswer {
            url: self.url,
            message: error.to_string(),
        })
    }
}

/// Percent-encodes a path segment (a subject name, a version).
fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
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
    timeout: Duration,
    tls: Tls,
    http: reqwest::Client,
    credentials: Option<(String, String)>,
    cache: Mutex<HashMap<u32, Slot>>,
}

/// What a client's TLS trusts and presents, besides Mozilla's CA list.
#[derive(Debug, Clone, Default)]
struct Tls {
    /// CA certificates trusted for the registry's certificate.
    roots: Vec<reqwest::Certificate>,
    /// The client certificate and key presented to a registry that asks for one.
    identity: Option<reqwest::Identity>,
}

/// The HTTP client of a registry client: `timeout` per request, TLS (rustls) trusting
/// Mozilla's CA list (webpki-roots) and the roots of `tls`, presenting its identity.
fn http_client(base: &str, timeout: Duration, tls: &Tls) -> Result<reqwest::Client, RegistryError> {
    let mut builder = reqwest::Client::builder().timeout(timeout);
    for root in &tls.roots {
        builder = builder.add_root_certificate(root.clone());
    }
    if let Some(identity) = &tls.identity {
        builder = builder.identity(identity.clone());
    }
    builder
        .build()
        .map_err(|source| RegistryError::Unreachable {
            url: base.to_owned(),
            source,
        })
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
        let tls = Tls::default();
        let http = http_client(&base, timeout, &tls)?;
        Ok(RegistryClient {
            inner: Arc::new(Inner {
                base,
                timeout,
                tls,
                http,
                credentials: None,
                cache: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Trusts the CA certificates in `pem` (PEM, one or more) for an `https://` registry,
    /// besides the public ones; for a registry whose certificate a private CA signed. Call
    /// before the first request: the client is rebuilt with an empty cache.
    pub fn with_ca_certificate(self, pem: &[u8]) -> Result<Self, RegistryError> {
        let roots = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|source| RegistryError::InvalidCertificate { source })?;
        let mut tls = self.inner.tls.clone();
        tls.roots.extend(roots);
        self.with_tls(tls)
    }

    /// Presents the client certificate chain `cert` (PEM, leaf first) with its private key
    /// `key` (PEM) to a registry that asks for one (mutual TLS). Call before the first
    /// request: the client is rebuilt with an empty cache.
    pub fn with_client_certificate(self, cert: &[u8], key: &[u8]) -> Result<Self, RegistryError> {
        let pem = [cert, b"\n", key].concat();
        let identity = reqwest::Identity::from_pem(&pem)
            .map_err(|source| RegistryError::InvalidClientCertificate { source })?;
        let mut tls = self.inner.tls.clone();
        tls.identity = Some(identity);
        self.with_tls(tls)
    }

    /// This client with another TLS setup.
    fn with_tls(self, tls: Tls) -> Result<Self, RegistryError> {
        let http = http_client(&self.inner.base, self.inner.timeout, &tls)?;
        Ok(RegistryClient {
            inner: Arc::new(Inner {
                base: self.inner.base.clone(),
                timeout: self.inner.timeout,
                tls,
                http,
                credentials: self.inner.credentials.clone(),
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
                timeout: self.inner.timeout,
                tls: self.inner.tls.clone(),
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

    /// Where `subject` holds `schema` with these `metadata.properties` (`POST
    /// /subjects/{subject}`); `None` when the subject does not hold it, or does not exist.
    pub async fn lookup(
        &self,
        subject: &str,
        schema_type: SchemaType,
        schema: &str,
        properties: &[(&str, &str)],
    ) -> Result<Option<SubjectVersion>, RegistryError> {
        let path = format!("/subjects/{}", segment(subject));
        let body = schema_body(schema_type, schema, properties);
        let answer = self.send(reqwest::Method::POST, &path, Some(&body)).await?;
        if answer.status == 404 {
            return Ok(None);
        }
        let url = answer.url.clone();
        let IdAnswer { id, version } = answer.parse()?;
        let version = version.ok_or_else(|| RegistryError::InvalidAnswer {
            url,
            message: "no version in the lookup's answer".to_owned(),
        })?;
        Ok(Some(SubjectVersion { id, version }))
    }

    /// Registers `schema` under `subject` with `properties` as its `metadata.properties`
    /// (`POST /subjects/{subject}/versions`) and returns its id; a schema the subject holds
    /// already keeps its id. A version the registry refuses is a [`RegistryError::Status`]
    /// 409 (incompatible) or 422 (invalid).
    pub async fn register(
        &self,
        subject: &str,
        schema_type: SchemaType,
        schema: &str,
        properties: &[(&str, &str)],
    ) -> Result<u32, RegistryError> {
        let path = format!("/subjects/{}/versions", segment(subject));
        let body = schema_body(schema_type, schema, properties);
        let answer = self.send(reqwest::Method::POST, &path, Some(&body)).await?;
        answer.parse::<IdAnswer>().map(|answer| answer.id)
    }

    /// Whether the registry would accept `schema` under `subject` now
    /// (`POST /compatibility/subjects/{subject}/versions?verbose=true`), under the subject's
    /// own level and compatibility group. A subject that does not exist accepts anything; an
    /// invalid schema is refused with the registry's message.
    pub async fn test_compatibility(
        &self,
        subject: &str,
        schema_type: SchemaType,
        schema: &str,
        properties: &[(&str, &str)],
    ) -> Result<Compatibility, RegistryError> {
        let path = format!(
            "/compatibility/subjects/{}/versions?verbose=true",
            segment(subject)
        );
        let body = schema_body(schema_type, schema, properties);
        let answer = self.send(reqwest::Method::POST, &path, Some(&body)).await?;
        match answer.status {
            404 if answer.error_code() == Some(SUBJECT_NOT_FOUND) => Ok(Compatibility {
                is_compatible: true,
                messages: Vec::new(),
            }),
            409 | 422 => match answer.into_error() {
                RegistryError::Status { body, .. } => Ok(Compatibility {
                    is_compatible: false,
                    messages: vec![body],
                }),
                other => Err(other),
            },
            _ => {
                let answer: CompatibilityAnswer = answer.parse()?;
                Ok(Compatibility {
                    is_compatible: answer.is_compatible,
                    messages: answer
                        .messages
                        .into_iter()
                        .map(|message| match message {
                            Value::String(text) => text,
                            other => other.to_string(),
                        })
                        .collect(),
                })
            }
        }
    }

    /// The config set on `subject` itself (`GET /config/{subject}`): its level and
    /// compatibility group where set, nothing for a subject without a config of its own.
    pub async fn subject_config(&self, subject: &str) -> Result<SubjectConfig, RegistryError> {
        let path = format!("/config/{}", segment(subject));
        let answer = self.send(reqwest::Method::GET, &path, None).await?;
        if answer.status == 404 {
            return Ok(SubjectConfig::default());
        }
        let answer: ConfigAnswer = answer.parse()?;
        Ok(SubjectConfig {
            level: answer.compatibility_level,
            group: answer.compatibility_group,
        })
    }

    /// Updates `subject`'s config (`PUT /config/{subject}`), a partial update: what `update`
    /// leaves out keeps its value.
    pub async fn update_subject_config(
        &self,
        subject: &str,
        update: &SubjectConfig,
    ) -> Result<(), RegistryError> {
        let path = format!("/config/{}", segment(subject));
        let mut body = json!({});
        if let Some(level) = &update.level {
            body["compatibility"] = json!(level);
        }
        if let Some(group) = &update.group {
            body["compatibilityGroup"] = json!(group);
        }
        let answer = self.send(reqwest::Method::PUT, &path, Some(&body)).await?;
        answer.parse::<Value>().map(drop)
    }

    /// A version of `subject` (`GET /subjects/{subject}/versions/{version}`); `version` is a
    /// number or `latest`.
    pub async fn version(
        &self,
        subject: &str,
        version: &str,
    ) -> Result<VersionSchema, RegistryError> {
        let path = format!(
            "/subjects/{}/versions/{}",
            segment(subject),
            segment(version)
        );
        let answer = self.send(reqwest::Method::GET, &path, None).await?;
        let url = answer.url.clone();
        let answer: SchemaAnswer = answer.parse()?;
        let invalid = |message: &str| RegistryError::InvalidAnswer {
            url: url.clone(),
            message: message.to_owned(),
        };
        let version = answer.version.ok_or_else(|| invalid("no version"))?;
        let id = answer.id.ok_or_else(|| invalid("no schema id"))?;
        Ok(VersionSchema {
            version,
            schema: registered(&url, id, answer)?,
        })
    }

    async fn fetch(&self, id: u32) -> Result<Arc<RegisteredSchema>, RegistryError> {
        let path = format!("/schemas/ids/{id}");
        let answer = self.send(reqwest::Method::GET, &path, None).await?;
        let url = answer.url.clone();
        if answer.status == 404 {
            return Err(RegistryError::NotFound { url, id });
        }
        let answer: SchemaAnswer = answer.parse()?;
        registered(&url, id, answer).map(Arc::new)
    }

    /// One request, with the credentials; refused credentials are an error, any other
    /// answer is returned.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, RegistryError> {
        let url = format!("{}{path}", self.inner.base);
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
        let text = response.text().await.map_err(unreachable)?;
        if matches!(status, 401 | 403) {
            return Err(RegistryError::Unauthorized { url, status });
        }
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer { url, status, body })
    }
}

/// A schema answer as a [`RegisteredSchema`] with `id`.
fn registered(url: &str, id: u32, answer: SchemaAnswer) -> Result<RegisteredSchema, RegistryError> {
    let schema_type = match answer.schema_type.as_deref() {
        None => SchemaType::Avro,
        Some(name) => name.parse().map_err(|error: crate::UnknownSchemaType| {
            RegistryError::InvalidAnswer {
                url: url.to_owned(),
                message: error.to_string(),
            }
        })?,
    };
    Ok(RegisteredSchema {
        id,
        schema_type,
        schema: answer.schema,
        references: answer.references,
        metadata: answer.metadata,
        rule_set: answer.rule_set,
    })
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

    #[test]
    fn a_client_certificate_must_be_pem_with_its_key() {
        let client = RegistryClient::new("https://127.0.0.1:8081").unwrap();
        let refused = client.with_client_certificate(b"not a certificate", b"not a key");
        assert!(
            matches!(refused, Err(RegistryError::InvalidClientCertificate { .. })),
            "{refused:?}"
        );
    }
}
