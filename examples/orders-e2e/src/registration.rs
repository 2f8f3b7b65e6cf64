//! The relay's schema ids: every version of an event pushed to a schema registry
//! (Confluent's REST API) as `herald push` pushes it, for
//! [Confluent framing](herald::relay::ConfluentFraming).
//!
//! The store holds JSON payloads, so each version's JSON Schema is what its messages are
//! framed with, under the subject `herald push` names by default (`<event>-value`).
//! [`herald::push::push`] sets the subject's compatibility group, looks up the versions the
//! subject holds already (pushed by `herald push`, or by an earlier run) and registers the
//! others, oldest first, with their majors.

use herald::push::{self, PushError, Subject, Version};
use herald::registry_client::{RegistryClient, RegistryError, SchemaType};
use herald::relay::ConfluentFraming;
use herald::{Event, Json, SchemaError};

/// Why the schema ids could not be had.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// A version's JSON Schema could not be exported.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The registry could not be asked.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The registry refused a version (an incompatible version, bad credentials, ...).
    #[error(transparent)]
    Push(#[from] PushError),
}

/// Pushes every version of `E` to the registry at `base_url`; returns the framing of the
/// relay's JSON payloads with their ids.
pub async fn framing<E: Event>(base_url: &str) -> Result<ConfluentFraming, RegistrationError> {
    let registry = RegistryClient::new(base_url)?;
    let history = E::history();
    let schemas = history
        .iter()
        .map(|version| Ok(version.json_schema()?.to_string()))
        .collect::<Result<Vec<_>, SchemaError>>()?;
    let versions: Vec<Version<'_>> = history
        .iter()
        .zip(&schemas)
        .map(|(version, schema)| Version {
            version: version.version,
            major: version.major,
            schema,
        })
        .collect();
    let subject = push::topic_subject(E::NAME);
    let subject = Subject {
        name: &subject,
        schema_type: SchemaType::Json,
        level: None,
        versions: &versions,
    };
    let ids = push::push(&registry, &subject, |_| {}).await?;
    let framing = versions
        .iter()
        .zip(ids)
        .fold(ConfluentFraming::new(), |framing, (version, id)| {
            framing.with_event::<E, Json>(version.version, id)
        });
    Ok(framing)
}
