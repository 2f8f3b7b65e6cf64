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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A registry answering by request line: `subject` has no config, holds `v1` (text
    /// `"1"`) as version 4 with id 10, accepts `"2"` as id 11 and refuses anything else with
    /// a 409. Returns its URL and the request lines with their bodies.
    async fn registry() -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let request = read_request(&mut socket).await;
                let line = request.lines().next().unwrap_or_default().to_owned();
                let body = request.split("\r\n\r\n").nth(1).unwrap_or_default();
                log.lock().unwrap().push(format!("{line} {body}"));
                let (status, answer) = match line.split(' ').take(2).collect::<Vec<_>>()[..] {
                    ["GET", "/config/order-value"] => ("404 Not Found", r#"{"error_code":40408}"#),
                    ["PUT", "/config/order-value"] => {
                        ("200 OK", r#"{"compatibilityGroup":"herald.major"}"#)
                    }
                    ["POST", "/subjects/order-value"] if body.contains(r#""schema":"1""#) => {
                        ("200 OK", r#"{"id":10,"version":4}"#)
                    }
                    ["POST", "/subjects/order-value"] => {
                        ("404 Not Found", r#"{"error_code":40403}"#)
                    }
                    ["POST", "/subjects/order-value/versions"]
                        if body.contains(r#""schema":"2""#) =>
                    {
                        ("200 OK", r#"{"id":11}"#)
                    }
                    _ => (
                        "409 Conflict",
                        r#"{"error_code":409,"message":"incompatible"}"#,
                    ),
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                socket.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        (base, seen)
    }

    /// One request, headers and body (as long as its `content-length` says).
    async fn read_request(socket: &mut tokio::net::TcpStream) -> String {
        let mut bytes = Vec::new();
        let mut buffer = [0; 4096];
        loop {
            let read = socket.read(&mut buffer).await.unwrap();
            bytes.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if body.len() >= length || read == 0 {
                    return text;
                }
            } else if read == 0 {
                return text;
            }
        }
    }

    #[tokio::test]
    async fn sets_the_group_skips_held_versions_and_stops_at_a_refusal() {
        let (base, seen) = registry().await;
        let client = RegistryClient::new(base).unwrap();
        let versions = [
            Version {
                version: 1,
                major: 1,
                schema: "1",
            },
            Version {
                version: 2,
                major: 2,
                schema: "2",
            },
            Version {
                version: 3,
                major: 2,
                schema: "3",
            },
        ];
        let subject = topic_subject("order");
        let subject = Subject {
            name: &subject,
            schema_type: SchemaType::Json,
            level: Some(CompatibilityLevel::Full),
            versions: &versions,
        };
        let mut steps = Vec::new();
        let result = push(&client, &subject, |step| steps.push(step.clone())).await;
        assert!(
            matches!(
                &result,
                Err(PushError::Rejected { version: 3, status: 409, message }) if message == "incompatible"
            ),
            "{result:?}"
        );
        assert_eq!(
            steps,
            vec![
                Step::LevelSet(CompatibilityLevel::Full),
                Step::GroupSet,
                Step::AlreadyRegistered {
                    version: 1,
                    registered: SubjectVersion { id: 10, version: 4 },
                },
                Step::Registered {
                    version: 2,
                    major: 2,
                    id: 11,
                },
            ]
        );
        let seen = seen.lock().unwrap();
        assert!(
            seen[1].contains(r#""compatibility":"FULL""#)
                && seen[1].contains(r#""compatibilityGroup":"herald.major""#),
            "{seen:?}"
        );
        // Every lookup and registration carries the version's major.
        assert!(
            seen[2..]
                .iter()
                .all(|request| request.contains(r#""metadata":{"properties":{"herald.major":"#)),
            "{seen:?}"
        );
    }
}
