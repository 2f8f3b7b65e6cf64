//! The snapshot folder, written by the runtime's `herald::history` and read by `herald check`
//! and `herald push`.
//!
//! ```text
//! <dir>/<event>/v<N>.json            the JSON Schema of version N
//! <dir>/<event>/v<N>.avsc            its Avro schema
//! <dir>/<event>/v<N>.proto           its Protobuf schema (written by hand or by a tool)
//! <dir>/<event>/v<N>.examples.json   golden events written by version N (GoldenEvent)
//! <dir>/<event>/versions.json        every version's major, breaking reason and event types
//! ```
//!
//! `versions.json` maps each version to its [`VersionEntry`]:
//!
//! ```json
//! {
//!   "1": { "major": 1, "event_types": ["order.placed", "order.shipped"] },
//!   "2": { "major": 2, "breaking": "`items` renamed `lines`", "event_types": ["order.placed"] }
//! }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::SchemaType;

/// The file, in each event's folder, that records every version's [`VersionEntry`].
pub const VERSIONS_FILE: &str = "versions.json";

/// How the name of a golden events file ends (`v<N>.examples.json`).
pub const EXAMPLES_SUFFIX: &str = ".examples.json";

/// The snapshot file extension of each schema type, in the order a version's files sort.
pub const EXTENSIONS: [(SchemaType, &str); 3] = [
    (SchemaType::Avro, "avsc"),
    (SchemaType::Json, "json"),
    (SchemaType::Protobuf, "proto"),
];

/// The snapshot file extension of `schema_type` (`avsc`, `json`, `proto`).
pub fn extension(schema_type: SchemaType) -> &'static str {
    match schema_type {
        SchemaType::Avro => "avsc",
        SchemaType::Json => "json",
        SchemaType::Protobuf => "proto",
    }
}

/// The name of version `version`'s snapshot of `schema_type` (`v3.avsc`).
pub fn schema_file_name(version: u32, schema_type: SchemaType) -> String {
    format!("v{version}.{}", extension(schema_type))
}

/// The name of version `version`'s golden events file (`v3.examples.json`).
pub fn examples_file_name(version: u32) -> String {
    format!("v{version}{EXAMPLES_SUFFIX}")
}

/// Parses `v<N>.avsc` / `v<N>.json` / `v<N>.proto`; `None` for anything else (golden events
/// included).
pub fn parse_schema_file_name(file_name: &str) -> Option<(u32, SchemaType)> {
    let rest = file_name.strip_prefix('v')?;
    let (number, schema_type) = EXTENSIONS.iter().find_map(|(schema_type, extension)| {
        let number = rest.strip_suffix(extension)?.strip_suffix('.')?;
        Some((number, *schema_type))
    })?;
    Some((version_number(number)?, schema_type))
}

/// Parses `v<N>.examples.json` into `N`; `None` for anything else.
pub fn parse_examples_file_name(file_name: &str) -> Option<u32> {
    version_number(file_name.strip_prefix('v')?.strip_suffix(EXAMPLES_SUFFIX)?)
}

/// A version number written with digits only.
fn version_number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// One version's entry in [`VERSIONS_FILE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionEntry {
    /// Its major, its compatibility group: versions are compared with the earlier versions
    /// of the same major only.
    pub major: u32,
    /// Why it was declared breaking; absent when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaking: Option<String>,
    /// Its event types (empty in a file written before they were recorded).
    #[serde(default)]
    pub event_types: Vec<String>,
}

impl fmt::Display for VersionEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "major {}", self.major)?;
        match &self.breaking {
            Some(reason) if !reason.is_empty() => write!(f, ", breaking (\"{reason}\")")?,
            Some(_) => write!(f, ", breaking")?,
            None => {}
        }
        write!(f, ", event types [{}]", self.event_types.join(", "))
    }
}

/// The major of `version` in `entries`: its own entry's, else the major of the closest earlier
/// version that has one, else 1 (a folder without [`VERSIONS_FILE`] is all major 1).
pub fn major_of(entries: &BTreeMap<u32, VersionEntry>, version: u32) -> u32 {
    entries
        .range(..=version)
        .next_back()
        .map_or(1, |(_, entry)| entry.major)
}

/// One sample of a golden events file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoldenEvent {
    /// The event type it was written with.
    pub event_type: String,
    /// The payload as version N wrote it.
    pub payload: Value,
    /// The current-version event it must decode to, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<ExpectedEvent>,
}

/// The expected result of decoding a golden event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedEvent {
    /// The current event type.
    pub event_type: String,
    /// The current-version payload.
    pub payload: Value,
}

/// Why a file of the snapshot folder could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON of the expected form.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The entries of [`VERSIONS_FILE`] in an event's `folder` (empty when there is none).
pub fn read_versions(folder: &Path) -> Result<BTreeMap<u32, VersionEntry>, SnapshotError> {
    let path = folder.join(VERSIONS_FILE);
    match read_optional(&path)? {
        None => Ok(BTreeMap::new()),
        Some(text) => serde_json::from_str(&text).map_err(|err| SnapshotError::Invalid {
            path,
            message: format!(
                "expected {{\"<version>\": {{\"major\", \"breaking\"?, \"event_types\"}}}}: {err}"
            ),
        }),
    }
}

/// Writes `entries` as an event's [`VERSIONS_FILE`] in `folder`, versions in numeric order.
pub fn write_versions(
    folder: &Path,
    entries: &BTreeMap<u32, VersionEntry>,
) -> Result<(), SnapshotError> {
    // Serialized from the map itself, so versions stay in numeric order.
    write_pretty(&folder.join(VERSIONS_FILE), entries)
}

/// The schema snapshot (`v<N>.json`, `v<N>.avsc`) at `path` as JSON; `None` when there is
/// none.
pub fn read_schema(path: &Path) -> Result<Option<Value>, SnapshotError> {
    let Some(text) = read_optional(path)? else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|err| SnapshotError::Invalid {
            path: path.to_owned(),
            message: err.to_string(),
        })
}

/// Writes a schema snapshot at `path`, pretty-printed with a final newline.
pub fn write_schema(path: &Path, schema: &Value) -> Result<(), SnapshotError> {
    write_pretty(path, schema)
}

/// Writes `value` at `path` as pretty-printed JSON with a final newline.
fn write_pretty(path: &Path, value: &impl Serialize) -> Result<(), SnapshotError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|err| SnapshotError::Invalid {
        path: path.to_owned(),
        message: err.to_string(),
    })?;
    text.push('\n');
    std::fs::write(path, text).map_err(|source| SnapshotError::Io {
        path: path.to_owned(),
        source,
    })
}

/// The samples of the golden events file at `path`.
pub fn read_golden_events(path: &Path) -> Result<Vec<GoldenEvent>, SnapshotError> {
    let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|err| SnapshotError::Invalid {
        path: path.to_owned(),
        message: format!(
            "expected a JSON array of {{\"event_type\", \"payload\", \"expect\"?}} objects: {err}"
        ),
    })
}

/// The text of `path`; `None` when it does not exist.
fn read_optional(path: &Path) -> Result<Option<String>, SnapshotError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SnapshotError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip() {
        for (schema_type, _) in EXTENSIONS {
            let name = schema_file_name(12, schema_type);
            assert_eq!(parse_schema_file_name(&name), Some((12, schema_type)));
        }
        assert_eq!(parse_examples_file_name(&examples_file_name(3)), Some(3));
        for other in [
            "v1.examples.json",
            "v.json",
            "v1x.avsc",
            "version.json",
            "v+1.avsc",
        ] {
            assert_eq!(parse_schema_file_name(other), None, "{other}");
        }
        assert_eq!(parse_examples_file_name("v1.json"), None);
    }

    #[test]
    fn versions_round_trip_and_reject_unknown_fields() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_versions(dir.path()).unwrap().is_empty());
        let entries = BTreeMap::from([
            (
                1,
                VersionEntry {
                    major: 1,
                    breaking: None,
                    event_types: vec!["order.placed".into()],
                },
            ),
            (
                10,
                VersionEntry {
                    major: 2,
                    breaking: Some("renamed".into()),
                    event_types: vec![],
                },
            ),
        ]);
        write_versions(dir.path(), &entries).unwrap();
        assert_eq!(read_versions(dir.path()).unwrap(), entries);
        assert_eq!(major_of(&entries, 5), 1);
        assert_eq!(major_of(&entries, 11), 2);
        assert_eq!(major_of(&BTreeMap::new(), 3), 1);

        // Written before event types were recorded: still read.
        std::fs::write(dir.path().join(VERSIONS_FILE), r#"{"1": {"major": 1}}"#).unwrap();
        assert_eq!(read_versions(dir.path()).unwrap()[&1].event_types.len(), 0);
        // A misspelt field is an error, not a silently absent one.
        std::fs::write(
            dir.path().join(VERSIONS_FILE),
            r#"{"1": {"major": 1, "breakng": "x"}}"#,
        )
        .unwrap();
        assert!(matches!(
            read_versions(dir.path()),
            Err(SnapshotError::Invalid { .. })
        ));
    }
}
