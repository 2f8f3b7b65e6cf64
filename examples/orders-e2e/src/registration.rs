//! The relay's schema ids: every version of an event registered with a schema registry
//! (Confluent's REST API), for [Confluent framing](herald::relay::ConfluentFraming).
//!
//! The store holds JSON payloads, so each version's JSON Schema is what its messages are
//! framed with. The subject is `<event>-value` (Confluent's `TopicNameStrategy` with the
//! event's name as the topic, as `herald push` names it by default). A version the subject
//! already holds (pushed by `herald push`, or by an earlier run) is looked up; a missing one
//! is registered, oldest first, with its major in `metadata.properties["herald.major"]` after
//! the subject's `compatibilityGroup` is set to `herald.major`, as `herald push` does, so
//! the registry checks a version only against the earlier versions of its major.

use std::time::Duration;

use herald::relay::ConfluentFraming;
use herald::{Event, Json, SchemaError};
use serde_json::{Value, json};

/// The `metadata.properties` key holding a version's major, and the subject's
/// `compatibilityGroup`.
pub const MAJOR_PROPERTY: &str = "herald.major";

/// Why the schema ids could not be had.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// A version's JSON Schema could not be exported.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// No HTTP answer from the registry.
    #[error("registry {url} is unreachable: {source}")]
    Unreachable {
        /// The request URL.
        url: String,
        /// The transport error.
        source: reqwest::Error,
    },
    /// The registry refused a request (an incompatible version, bad credentials, ...).
    #[error("registry {url} answered {status}: {body}")]
    Refused {
        /// The request URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The answer's body.
        body: String,
    },
    /// A successful answer without a schema id.
    #[error("registry {url} answered without a schema id: {body}")]
    NoId {
        /// The request URL.
        url: String,
        /// The answer's body.
        body: String,
    },
}

/// Looks up (or registers) every version of `E` in the registry at `base_url`; returns the
/// framing of the relay's JSON payloads with their ids.
pub async fn framing<E: Event>(base_url: &str) -> Result<ConfluentFraming, RegistrationError> {
    let registry = Registry {
        base: base_url.trim_end_matches('/').to_owned(),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|source| RegistrationError::Unreachable {
                url: base_url.to_owned(),
                source,
            })?,
    };
    let subject = format!("{}-value", E::NAME);
    let mut framing = ConfluentFraming::new();
    let mut grouped = false;
    for version in E::history() {
        let schema = json!({ "schemaType": "JSON", "schema": version.json_schema()?.to_string() });
        let path = format!("/subjects/{subject}");
        let id = match registry.post(&path, &schema).await? {
            Some(found) => found,
            None => {
                if !grouped {
                    let group = json!({ "compatibilityGroup": MAJOR_PROPERTY });
                    registry.put(&format!("/config/{subject}"), &group).await?;
                    grouped = true;
                }
                let mut request = schema;
                request["metadata"] =
                    json!({ "properties": { MAJOR_PROPERTY: version.major.to_string() } });
                let path = format!("/subjects/{subject}/versions");
                let Some(id) = registry.post(&path, &request).await? else {
                    return Err(RegistrationError::Refused {
                        url: format!("{}{path}", registry.base),
                        status: 404,
                        body: "not found".to_owned(),
                    });
                };
                id
            }
        };
        framing = framing.with_event::<E, Json>(version.version, id);
    }
    Ok(framing)
}

struct Registry {
    base: String,
    http: reqwest::Client,
}

impl Registry {
    /// POSTs `body` to `path`; the answer's `id`, `None` on 404 (no such subject or schema).
    async fn post(&self, path: &str, body: &Value) -> Result<Option<u32>, RegistrationError> {
        let url = format!("{}{path}", self.base);
        let Some(answer) = self.send(self.http.post(&url).json(body), &url).await? else {
            return Ok(None);
        };
        answer
            .get("id")
            .and_then(Value::as_u64)
            .and_then(|id| u32::try_from(id).ok())
            .map(Some)
            .ok_or_else(|| RegistrationError::NoId {
                url,
                body: answer.to_string(),
            })
    }

    /// PUTs `body` to `path`.
    async fn put(&self, path: &str, body: &Value) -> Result<(), RegistrationError> {
        let url = format!("{}{path}", self.base);
        self.send(self.http.put(&url).json(body), &url).await?;
        Ok(())
    }

    /// The JSON answer of a request, `None` on 404.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<Option<Value>, RegistrationError> {
        let unreachable = |source| RegistrationError::Unreachable {
            url: url.to_owned(),
            source,
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let body = response.text().await.map_err(unreachable)?;
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let refused = |body: String| RegistrationError::Refused {
            url: url.to_owned(),
            status: status.as_u16(),
            body,
        };
        if !status.is_success() {
            return Err(refused(body));
        }
        serde_json::from_str(&body)
            .map(Some)
            .map_err(|_| refused(body))
    }
}
