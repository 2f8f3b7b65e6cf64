//! A small blocking client for the Confluent-compatible REST API, used by `herald check
//! --registry`, `herald push` and `herald codegen --registry`.

use std::time::Duration;

use herald_registry::schema::SchemaType;
use serde_json::{Value, json};

/// The `metadata.properties` key under which `herald push` records each version's major, and
/// the `compatibilityGroup` it sets on every subject: the registry then checks a new version
/// only against the earlier versions of the same major, as `herald check` does.
pub(crate) const MAJOR_PROPERTY: &str = "herald.major";

/// The media type of the Schema Registry API.
const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// Why a registry request failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientError {
    /// No HTTP answer at all.
    #[error("registry {url} is unreachable: {message}")]
    Unreachable {
        /// The request URL.
        url: String,
        /// The transport error.
        message: String,
    },
    /// An answer that is neither success nor an expected error.
    #[error("registry {url} answered {status}: {body}")]
    Status {
        /// The request URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The answer body.
        body: String,
    },
    /// The runtime for the HTTP client could not start.
    #[error("cannot start the HTTP client: {0}")]
    Runtime(std::io::Error),
}

/// A rejected registration: the registry's error code and message.
#[derive(Debug, Clone)]
pub(crate) struct Rejection {
    /// The HTTP status.
    pub status: u16,
    /// The registry's message(s).
    pub message: String,
}

/// A registered version, as `GET /subjects/{subject}/versions/{version}` answers it.
#[derive(Debug, Clone)]
pub(crate) struct RegisteredVersion {
    /// The version number.
    pub version: u32,
    /// The schema type.
    pub schema_type: SchemaType,
    /// The schema text.
    pub text: String,
    /// Its references: import name (or Avro/JSON name), subject and version.
    pub references: Vec<(String, String, u32)>,
}

/// The part of a subject's config Herald manages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SubjectConfig {
    /// The compatibility level.
    pub level: Option<String>,
    /// The `compatibilityGroup` (a `metadata.properties` key).
    pub group: Option<String>,
}

/// A blocking client for one registry.
pub(crate) struct RegistryClient {
    base: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

/// One answer: status and body (JSON when it parses, else a string).
struct Answer {
    url: String,
    status: u16,
    body: Value,
}

impl Answer {
    fn unexpected(self) -> ClientError {
        ClientError::Status {
            url: self.url,
            status: self.status,
            body: match self.body {
                Value::String(text) => text,
                other => other.to_string(),
            },
        }
    }

    fn error_code(&self) -> Option<i64> {
        self.body.get("error_code").and_then(Value::as_i64)
    }

    fn message(&self) -> String {
        match self.body.get("message").and_then(Value::as_str) {
            Some(message) => message.to_owned(),
            None => self.body.to_string(),
        }
    }
}

/// Percent-encodes a path segment.
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

/// A schema request carrying the version's major in its metadata ([`MAJOR_PROPERTY`]).
fn schema_body(schema_type: SchemaType, text: &str, major: u32) -> Value {
    json!({
        "schemaType": schema_type.as_str(),
        "schema": text,
        "metadata": { "properties": { MAJOR_PROPERTY: major.to_string() } },
    })
}

impl RegistryClient {
    /// A client for the registry at `base` (`http://host:port`, no trailing slash needed).
    pub(crate) fn new(base: &str) -> Result<RegistryClient, ClientError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ClientError::Runtime)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|err| ClientError::Unreachable {
                url: base.to_owned(),
                message: err.to_string(),
            })?;
        Ok(RegistryClient {
            base: base.trim_end_matches('/').to_owned(),
            http,
            runtime,
        })
    }

    /// The registry's base URL.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Answer, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut request = self
            .http
            .request(method, &url)
            .header("accept", CONTENT_TYPE);
        if let Some(body) = body {
            request = request
                .header("content-type", CONTENT_TYPE)
                .body(body.to_string());
        }
        let result = self.runtime.block_on(async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let text = response.text().await?;
            Ok::<_, reqwest::Error>((status, text))
        });
        let (status, text) = result.map_err(|err| ClientError::Unreachable {
            url: url.clone(),
            message: error_chain(&err),
        })?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer { url, status, body })
    }

    /// The version under which `subject` holds this schema, if it does.
    pub(crate) fn lookup(
        &self,
        subject: &str,
        schema_type: SchemaType,
        text: &str,
        major: u32,
    ) -> Result<Option<u32>, ClientError> {
        let answer = self.send(
            reqwest::Method::POST,
            &format!("/subjects/{}", segment(subject)),
            Some(schema_body(schema_type, text, major)),
        )?;
        match answer.status {
            200 => match answer.body.get("version").and_then(Value::as_u64) {
                Some(version) => Ok(u32::try_from(version).ok()),
                None => Err(answer.unexpected()),
            },
            404 => Ok(None),
            _ => Err(answer.unexpected()),
        }
    }

    /// Whether the registry would accept this schema under `subject` now, with its messages.
    /// A subject that does not exist accepts anything.
    pub(crate) fn test_compatibility(
        &self,
        subject: &str,
        schema_type: SchemaType,
        text: &str,
        major: u32,
    ) -> Result<(bool, Vec<String>), ClientError> {
        let answer = self.send(
            reqwest::Method::POST,
            &format!(
                "/compatibility/subjects/{}/versions?verbose=true",
                segment(subject)
            ),
            Some(schema_body(schema_type, text, major)),
        )?;
        match answer.status {
            200 => {
                let compatible = answer
                    .body
                    .get("is_compatible")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let messages = answer
                    .body
                    .get("messages")
                    .and_then(Value::as_array)
                    .map(|m| {
                        m.iter()
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                Ok((compatible, messages))
            }
            404 if matches!(answer.error_code(), Some(40401)) => Ok((true, Vec::new())),
            422 | 409 => Ok((false, vec![answer.message()])),
            _ => Err(answer.unexpected()),
        }
    }

    /// Registers a schema; `Err(Rejection)` inside `Ok` when the registry refuses it.
    pub(crate) fn register(
        &self,
        subject: &str,
        schema_type: SchemaType,
        text: &str,
        major: u32,
    ) -> Result<Result<u64, Rejection>, ClientError> {
        let answer = self.send(
            reqwest::Method::POST,
            &format!("/subjects/{}/versions", segment(subject)),
            Some(schema_body(schema_type, text, major)),
        )?;
        match answer.status {
            200 => match answer.body.get("id").and_then(Value::as_u64) {
                Some(id) => Ok(Ok(id)),
                None => Err(answer.unexpected()),
            },
            409 | 422 => Ok(Err(Rejection {
                status: answer.status,
                message: answer.message(),
            })),
            _ => Err(answer.unexpected()),
        }
    }

    /// The config set on `subject` itself: its level and compatibility group, if set.
    pub(crate) fn subject_config(&self, subject: &str) -> Result<SubjectConfig, ClientError> {
        let answer = self.send(
            reqwest::Method::GET,
            &format!("/config/{}", segment(subject)),
            None,
        )?;
        let text = |keys: &[&str]| {
            keys.iter()
                .find_map(|key| answer.body.get(key).and_then(Value::as_str))
                .map(str::to_owned)
        };
        match answer.status {
            200 => Ok(SubjectConfig {
                level: text(&["compatibilityLevel", "compatibility"]),
                group: text(&["compatibilityGroup"]),
            }),
            404 => Ok(SubjectConfig::default()),
            _ => Err(answer.unexpected()),
        }
    }

    /// Updates the config of `subject` (a partial update: fields not given keep their value).
    pub(crate) fn update_subject_config(
        &self,
        subject: &str,
        update: &SubjectConfig,
    ) -> Result<(), ClientError> {
        let mut body = json!({});
        if let Some(level) = &update.level {
            body["compatibility"] = json!(level);
        }
        if let Some(group) = &update.group {
            body["compatibilityGroup"] = json!(group);
        }
        let answer = self.send(
            reqwest::Method::PUT,
            &format!("/config/{}", segment(subject)),
            Some(body),
        )?;
        match answer.status {
            200 => Ok(()),
            _ => Err(answer.unexpected()),
        }
    }

    /// A registered version (`version` is a number or `latest`).
    pub(crate) fn version_schema(
        &self,
        subject: &str,
        version: &str,
    ) -> Result<RegisteredVersion, ClientError> {
        let answer = self.send(
            reqwest::Method::GET,
            &format!(
                "/subjects/{}/versions/{}",
                segment(subject),
                segment(version)
            ),
            None,
        )?;
        if answer.status != 200 {
            return Err(answer.unexpected());
        }
        let schema_type = match answer.body.get("schemaType").and_then(Value::as_str) {
            None => SchemaType::Avro,
            Some(name) => match name.parse() {
                Ok(t) => t,
                Err(_) => return Err(answer.unexpected()),
            },
        };
        let number = answer
            .body
            .get("version")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok());
        let mut references = Vec::new();
        for reference in answer
            .body
            .get("references")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = reference.get("name").and_then(Value::as_str);
            let subject = reference.get("subject").and_then(Value::as_str);
            let version = reference
                .get("version")
                .and_then(Value::as_u64)
                .and_then(|v| u32::try_from(v).ok());
            match (name, subject, version) {
                (Some(name), Some(subject), Some(version)) => {
                    references.push((name.to_owned(), subject.to_owned(), version));
                }
                _ => return Err(answer.unexpected()),
            }
        }
        match (number, answer.body.get("schema").and_then(Value::as_str)) {
            (Some(version), Some(text)) => Ok(RegisteredVersion {
                version,
                schema_type,
                text: text.to_owned(),
                references,
            }),
            _ => Err(answer.unexpected()),
        }
    }
}

/// An error and its sources, on one line.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
