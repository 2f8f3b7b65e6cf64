//! The local history of each event's snapshots: no skipped version, each version compatible
//! with the earlier versions of its major under the event's level, and, at each major
//! boundary, a golden event of every event type of every older version.

use std::path::Path;

use herald_registry::schema::{Direction, Schema, SchemaType, check};

use super::Finding;
use crate::cli::snapshots::{self, EventSnapshots};

/// Skipped versions and compatibility of one event's snapshots of one type.
pub(super) fn check_event(
    event: &EventSnapshots,
    schema_type: SchemaType,
    findings: &mut Vec<Finding>,
) {
    let files = event.of_type(schema_type);
    let Some(last) = files.last() else {
        return;
    };
    let finding = |file: &snapshots::SnapshotFile,
                   kind: &str,
                   location: &str,
                   message: String,
                   hint: &str| Finding {
        event: event.name.clone(),
        version: file.version,
        file: file.path.display().to_string(),
        schema_type: schema_type.as_str(),
        kind: kind.to_owned(),
        location: location.to_owned(),
        message,
        hint: hint.to_owned(),
        line: None,
    };
    let present: Vec<u32> = files.iter().map(|f| f.version).collect();
    let extension = herald_protocol::snapshot::extension(schema_type);
    for expected in event.first_version..last.version {
        if present.contains(&expected) {
            continue;
        }
        let next = files.iter().find(|f| f.version > expected).unwrap_or(last);
        findings.push(finding(
            next,
            "VERSION_SKIPPED",
            "",
            format!(
                "version {expected} of `{}` has no snapshot ({}/v{expected}.{extension} is missing)",
                event.name, event.name
            ),
            "versions are numbered without gaps: renumber this version, or restore the missing \
             snapshot (set `first_version` under [events.<name>] in herald.toml when the first \
             versions were never snapshotted)",
        ));
    }
    let mut previous: Vec<(u32, Schema)> = Vec::new();
    for file in files {
        let schema = match Schema::parse(schema_type, &file.text) {
            Ok(schema) => schema,
            Err(err) => {
                findings.push(finding(
                    file,
                    "INVALID_SCHEMA",
                    "",
                    err.to_string(),
                    "a snapshot must be a valid schema; regenerate it from the event type",
                ));
                continue;
            }
        };
        let major = event.major(file.version);
        let numbered: Vec<(u32, &Schema)> = previous
            .iter()
            .filter(|(v, _)| event.major(*v) == major)
            .map(|(v, s)| (*v, s))
            .collect();
        if !numbered.is_empty() {
            let report = check(event.level, &schema, &numbered);
            for violation in report.violations {
                let against = violation
                    .version
                    .map(|v| format!(" (against version {v}"))
                    .unwrap_or_default();
                let direction = match violation.direction {
                    Some(Direction::Forward) => ", forward)",
                    Some(Direction::Backward) => ", backward)",
                    None if against.is_empty() => "",
                    None => ")",
                };
                let hint = format!(
                    "make the change compatible under {} ({}), or declare version {} breaking \
                     (`#[event(..., breaking = \"why\")]`, recorded as a new major in {}/{}) \
                     and keep an upcaster from the version before it",
                    event.level,
                    violation.hint.trim_end_matches('.'),
                    file.version,
                    event.name,
                    herald_protocol::snapshot::VERSIONS_FILE,
                );
                findings.push(finding(
                    file,
                    &violation.kind,
                    &violation.location,
                    format!(
                        "{} under {}{against}{direction}",
                        violation.message, event.level
                    ),
                    &hint,
                ));
            }
        }
        previous.push((file.version, schema));
    }
}

/// At each major boundary, every event type of every older version must have a golden event
/// in that version's `v<N>.examples.json`: the samples prove the upcasters that bridge it.
pub(super) fn check_samples(event: &EventSnapshots, root: &Path, findings: &mut Vec<Finding>) {
    let boundaries: Vec<u32> = event
        .versions
        .iter()
        .filter(|(version, entry)| {
            event
                .versions
                .range(..**version)
                .next_back()
                .is_some_and(|(_, before)| before.major < entry.major)
        })
        .map(|(version, _)| *version)
        .collect();
    for (version, entry) in &event.versions {
        let Some(boundary) = boundaries.iter().find(|b| *b > version) else {
            continue;
        };
        let sampled = event.golden.get(version);
        let file_name = format!("v{version}.examples.json");
        let path = event.path(root, &file_name);
        for event_type in &entry.event_types {
            if sampled.is_some_and(|types| types.contains(event_type)) {
                continue;
            }
            findings.push(Finding {
                event: event.name.clone(),
                version: *version,
                file: path.display().to_string(),
                schema_type: "",
                kind: "GOLDEN_EVENT_MISSING".to_owned(),
                location: String::new(),
                message: format!(
                    "`{event_type}` of version {version} has no golden event, and version \
                     {boundary} is breaking (major {}): nothing proves that the upcasters read it",
                    event.major(*boundary)
                ),
                hint: format!(
                    "add a sample `{{\"event_type\": \"{event_type}\", \"payload\": ...}}` as \
                     version {version} wrote it to {} (with `expect`, the current event it must \
                     become), and run the snapshot test",
                    path.display()
                ),
                line: None,
            });
        }
    }
}
