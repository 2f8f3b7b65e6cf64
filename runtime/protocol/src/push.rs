//! Pushing an event's versions to a registry with their majors: what `herald push` does for
//! the snapshot folder, and what a service does at start-up for the versions it was built
//! with.
//!
//! Before a subject's versions, its config is updated where it differs from what the
//! registry holds (a partial update; other settings keep their value): the compatibility
//! level, when one is given, and `compatibilityGroup =` [`MAJOR_PROPERTY`], so the registry
//! checks a version only against earlier versions of the same major, the rule `herald check`
//! applies. Then each version, oldest first, is looked up with its major in
//! `metadata.properties[`[`MAJOR_PROPERTY`]`]` and registered when the subject does not hold
//! it yet, so a second push changes nothing. The first version the registry refuses stops
//! the push: it and everything after it stay unpushed.

use crate::annotations::MAJOR_PROPERTY;
use crate::registry_client::{RegistryClient, RegistryError, SubjectConfig, SubjectVersion};
use crate::{CompatibilityLevel, SchemaType};

/// The subject of an event's schemas under Confluent's `TopicNameStrategy` with the event's
/// name as the topic: `<event>-value` (the subjects `herald push` uses by default).
pub fn topic_subject(event: &str) -> String {
    format!("{event}-value")
}

/// One version to push.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a> {
    /// Its version number (the event's, not the subject's).
    pub version: u32,
    /// Its major, registered in `metadata.properties[`[`MAJOR_PROPERTY`]`]`.
    pub major: u32,
    /// Its schema's text.
    pub schema: &'a str,
}

/// A subject and the versions to push to it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The subject's name.
    pub name: &'a str,
    /// The kind of its schemas.
    pub schema_type: SchemaType,
    /// The compatibility level to set on it, if any (else the registry's stays).
    pub level: Option<CompatibilityLevel>,
    /// The versions, oldest first.
    pub versions: &'a [Version<'a>],
}

/// One thing a push did, reported as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The subject's level was set.
    LevelSet(CompatibilityLevel),
    /// The subject's compatibility group was set to [`MAJOR_PROPERTY`].
    GroupSet,
    /// The subject held the version already.
    AlreadyRegistered {
        /// The event's version number.
        version: u32,
        /// Where the subject holds it.
        registered: SubjectVersion,
    },
    /// The version was registered.
    Registered {
        /// The event's version number.
        version: u32,
        /// Its major.
        major: u32,
        /// Its schema id.
        id: u32,
    },
}

/// Why a push stopped.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The registry refused a version (409: incompatible, 422: invalid): it and the ones
    /// after it were not pushed.
    #[error("the registry refused version {version} ({status}): {message}")]
    Rejected {
        /// The event's version number.
        version: u32,
        /// The HTTP status.
        status: u16,
        /// The registry's message.
        message: String,
    },
    /// The registry could not be asked, or failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Pushes `subject`'s versions (see the [module documentation](self)), reporting each
/// [`Step`] to `report` as it is done; returns the schema id of every version, in order.
pub async fn push(
    client: &RegistryClient,
    subject: &Subject<'_>,
    mut report: impl FnMut(&Step),
) -> Result<Vec<u32>, PushError> {
    configure(client, subject, &mut report).await?;
    let mut ids = Vec::with_capacity(subject.versions.len());
    for version in subject.versions {
        let major = version.major.to_string();
        let properties = [(MAJOR_PROPERTY, major.as_str())];
        let (name, schema_type, schema) = (subject.name, subject.schema_type, version.schema);
        if let Some(registered) = client
            .lookup(name, schema_type, schema, &properties)
            .await?
        {
            ids.push(registered.id);
            report(&Step::AlreadyRegistered {
                version: version.version,
                registered,
            });
            continue;
        }
        let id = match client
            .register(name, schema_type, schema, &properties)
            .await
        {
            Ok(id) => id,
            Err(RegistryError::Status {
                status: status @ (409 | 422),
                body,
                ..
            }) => {
                return Err(PushError::Rejected {
                    version: version.version,
                    status,
                    message: body,
                });
            }
            Err(other) => return Err(other.into()),
        };
        ids.push(id);
        report(&Step::Registered {
            version: version.version,
            major: version.major,
            id,
        });
    }
    Ok(ids)
}

/// Sets the subject's level (when one is given) and compatibility group where they differ
/// from what the registry holds, in one partial update.
async fn configure(
    client: &RegistryClient,
    subject: &Subject<'_>,
    report: &mut impl FnMut(&Step),
) -> Result<(), RegistryError> {
    let current = client.subject_config(subject.name).await?;
    let mut update = SubjectConfig::default();
    if let Some(level) = subject.level
        && current.level.as_deref() != Some(level.as_str())
    {
        update.level = Some(level.as_str().to_owned());
    }
    if current.group.as_deref() != Some(MAJOR_PROPERTY) {
        update.group = Some(MAJOR_PROPERTY.to_owned());
    }
    if update == SubjectConfig::default() {
        return Ok(());
    }
    client.update_subject_config(subject.name, &update).await?;
    if let (Some(level), Some(_)) = (subject.level, &update.level) {
        report(&Step::LevelSet(level));
    }
    if update.group.is_some() {
        report(&Step::GroupSet);
    }
    Ok(())
}
