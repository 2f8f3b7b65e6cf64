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

use herald::registry_client::{RegistryClient, RegistryError, SchemaType};
use herald::relay::ConfluentFraming;
use herald::{Event, Json, SchemaError};

/// The `metadata.properties` key holding a version's major, and the subject's
/// `compatibilityGroup`.
pub const MAJOR_PROPERTY: &str = "herald.major";

/// Why the schema ids could not be had.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// A version's JSON Schema could not be exported.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The registry could not be asked, or refused (an incompatible version, bad
    /// credentials, ...).
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Looks up (or registers) every version of `E` in the registry at `base_url`; returns the
/// framing of the relay's JSON payloads with their ids.
pub async fn framing<E: Event>(base_url: &str) -> Result<ConfluentFraming, RegistrationError> {
    let registry = RegistryClient::new(base_url)?;
    let subject = format!("{}-value", E::NAME);
    let mut framing = ConfluentFraming::new();
    let mut grouped = false;
    for version in E::history() {
        let schema = version.json_schema()?.to_string();
        let id = match registry.lookup(&subject, SchemaType::Json, &schema).await? {
            Some(found) => found,
            None => {
                if !grouped {
                    registry
                        .set_compatibility_group(&subject, MAJOR_PROPERTY)
                        .await?;
                    grouped = true;
                }
                let major = version.major.to_string();
                let properties = [(MAJOR_PROPERTY, major.as_str())];
                registry
                    .register(&subject, SchemaType::Json, &schema, &properties)
                    .await?
            }
        };
        framing = framing.with_event::<E, Json>(version.version, id);
    }
    Ok(framing)
}
