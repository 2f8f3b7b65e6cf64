//! The local history of each event's snapshots: no skipped version, and each version
//! compatible with the ones before it under the event's level.

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
    };
    let present: Vec<u32> = files.iter().map(|f| f.version).collect();
    let extension = if schema_type == SchemaType::Avro {
        "avsc"
    } else {
        "json"
    };
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
        if !previous.is_empty() {
            let numbered: Vec<(u32, &Schema)> = previous.iter().map(|(v, s)| (*v, s)).collect();
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
                findings.push(finding(
                    file,
                    &violation.kind,
                    &violation.location,
                    format!(
                        "{} under {}{against}{direction}",
                        violation.message, event.level
                    ),
                    &violation.hint,
                ));
            }
        }
        previous.push((file.version, schema));
    }
}
