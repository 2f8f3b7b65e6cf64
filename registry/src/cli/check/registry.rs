//! `--registry URL`: what pushing the snapshots now would do, subject by subject.

use std::collections::BTreeMap;

use herald_protocol::annotations::MAJOR_PROPERTY;
use herald_protocol::registry_client::blocking::RegistryClient;
use herald_protocol::registry_client::{Compatibility, RegistryError};
use serde::Serialize;

use super::{Args, Finding, Outcome};
use crate::cli::snapshots::SnapshotDir;

/// What the registry would do with one local version.
#[derive(Debug, Clone, Serialize)]
pub(super) struct PlannedVersion {
    pub(super) version: u32,
    pub(super) file: String,
    /// The registry version that already holds it, if any.
    pub(super) registered_as: Option<u32>,
    /// For a new version: whether the registry would accept it.
    pub(super) accepted: Option<bool>,
    pub(super) messages: Vec<String>,
}

/// One subject's plan.
#[derive(Debug, Clone, Serialize)]
pub(super) struct SubjectPlan {
    pub(super) subject: String,
    pub(super) event: String,
    pub(super) versions: Vec<PlannedVersion>,
}

/// What pushing now would do: per subject, registered and new versions, and whether the
/// registry accepts each new one (its compatibility endpoint, under its own level). Every
/// request carries the version's major in `metadata.properties` as a push sends it, so under
/// the compatibility group a push sets the registry compares it with its own major only.
pub(super) fn compare(
    dir: &SnapshotDir,
    args: &Args,
    client: &RegistryClient,
    outcome: &mut Outcome,
) -> Result<(), RegistryError> {
    let schema_type = args.schema_type.schema_type();
    for event in &dir.events {
        let mut plans: BTreeMap<String, Vec<PlannedVersion>> = BTreeMap::new();
        for file in event.of_type(schema_type) {
            let subject = args
                .subject_strategy
                .subject(&event.name, schema_type, &file.text);
            let major = event.major(file.version).to_string();
            let properties = [(MAJOR_PROPERTY, major.as_str())];
            let registered_as = client
                .lookup(&subject, schema_type, &file.text, &properties)?
                .map(|registered| registered.version);
            let (accepted, messages) = match registered_as {
                Some(_) => (None, Vec::new()),
                None => {
                    let Compatibility {
                        is_compatible,
                        messages,
                    } = client.test_compatibility(
                        &subject,
                        schema_type,
                        &file.text,
                        &properties,
                    )?;
                    (Some(is_compatible), messages)
                }
            };
            if accepted == Some(false) {
                let message = if messages.is_empty() {
                    format!(
                        "the registry would reject version {} under subject `{subject}`",
                        file.version
                    )
                } else {
                    format!(
                        "the registry would reject version {} under subject `{subject}`: {}",
                        file.version,
                        messages.join("; ")
                    )
                };
                outcome.findings.push(Finding {
                    event: event.name.clone(),
                    version: file.version,
                    file: file.path.display().to_string(),
                    schema_type: schema_type.as_str(),
                    kind: "REGISTRY_INCOMPATIBLE".to_owned(),
                    location: String::new(),
                    message,
                    hint: format!(
                        "the registry's level for the subject decides, within the version's \
                         major: make the change compatible, or declare version {} breaking \
                         (`#[event(..., breaking = \"why\")]`) and keep an upcaster",
                        file.version
                    ),
                    line: None,
                });
            }
            plans.entry(subject).or_default().push(PlannedVersion {
                version: file.version,
                file: file.path.display().to_string(),
                registered_as,
                accepted,
                messages,
            });
        }
        for (subject, versions) in plans {
            outcome.subjects.push(SubjectPlan {
                subject,
                event: event.name.clone(),
                versions,
            });
        }
    }
    Ok(())
}
