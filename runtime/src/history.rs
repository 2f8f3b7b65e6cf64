//! The committed history of an event's schemas, and its golden events, checked from a
//! user's ordinary test.
//!
//! ```no_run
//! # use herald::Event;
//! # #[derive(Event, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
//! # #[event(name = "order", version = 1)]
//! # enum OrderEvent { Placed { id: String } }
//! #[test]
//! fn schemas_are_unchanged() {
//!     herald::history::assert_history::<OrderEvent>(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas"));
//! }
//! ```
//!
//! For every version in [`Event::history`], [`check_history`] compares the generated
//! schemas with `<dir>/<name>/v<N>.json` (JSON Schema) and `v<N>.avsc` (Avro). A missing
//! snapshot is written. A committed one is a published version and immutable: if the code now
//! generates something else, the check fails, naming the file and the JSON pointers that
//! differ; change the schema by adding a version instead. Herald's own annotations (Avro
//! attributes named `herald.*`, such as `herald.event_type`) are not part of the published
//! schema: a snapshot written before Herald added one still matches. Set
//! `HERALD_SNAPSHOTS=overwrite` to rewrite snapshots deliberately (for a version that was
//! never released).
//!
//! **Golden events**: `<dir>/<name>/v<N>.examples.json` holds sample payloads written by
//! version N, as a JSON array of objects:
//!
//! ```json
//! [
//!   { "event_type": "order.placed", "payload": { "order_id": "o-1" },
//!     "expect": { "event_type": "order.placed", "payload": { "order_id": "o-1", "lines": [] } } }
//! ]
//! ```
//!
//! Each sample is decoded as version N through the current type's upcast chain; the check
//! fails with the file, the sample's index and the error when one no longer decodes. The
//! optional `expect` is the current-version event the sample must become (compared as JSON).
//!
//! **Majors**: `<dir>/<name>/versions.json` records, for every version, its major (its
//! compatibility group, [`Event::MAJOR`]), whether it was declared `breaking` and why, and its
//! event types ([`VersionEntry`]), so that `herald check`, which reads only files, knows them:
//!
//! ```json
//! {
//!   "1": { "major": 1, "event_types": ["order.placed", "order.shipped"] },
//!   "2": { "major": 2, "breaking": "`items` renamed `lines`", "event_types": ["order.placed"] }
//! }
//! ```
//!
//! (The Avro snapshot of an enum is a top-level union, a JSON array, which has no room for an
//! attribute, hence one small file per event.) A missing entry is written; a committed entry
//! belongs to a published version and is checked like its snapshots: when the code now declares
//! another major, breaking reason or set of event types, the check fails unless
//! `HERALD_SNAPSHOTS=overwrite`. `herald check` compares versions within a major under the
//! configured level and requires, at each major boundary, a golden event of every event type
//! of every older version (they prove the upcasters); `herald push` registers each version with
//! its major in `metadata.properties[`[`MAJOR_PROPERTY`](herald_protocol::annotations::MAJOR_PROPERTY)`]`. The folder's format is
//! [`herald_protocol::snapshot`]'s, which the registry's tools read.

use std::fmt;
use std::path::{Path, PathBuf};

use herald_protocol::SchemaType;
use herald_protocol::annotations::{differences, without_annotations};
use herald_protocol::snapshot::{self, SnapshotError};
pub use herald_protocol::snapshot::{
    ExpectedEvent, GoldenEvent, VERSIONS_FILE, VersionEntry, read_versions,
};
use serde_json::Value;

use crate::error::SchemaError;
use crate::event::Event;

/// The environment variable that switches [`check_history`] to rewriting.
pub const ON_MISMATCH_VARIABLE: &str = "HERALD_SNAPSHOTS";

/// How many differing JSON pointers a [`Problem::Changed`] names at most.
const MAX_DIFFERENCES: usize = 10;

/// What a successful check did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// Schema files written because they were missing (or rewritten on request).
    pub written: Vec<PathBuf>,
    /// Schema files that matched the generated schemas.
    pub unchanged: Vec<PathBuf>,
    /// Golden events decoded.
    pub golden_events: usize,
    /// Versions whose entry was added to (or rewritten in) [`VERSIONS_FILE`].
    pub recorded: Vec<u32>,
}

/// One thing wrong with the committed history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A committed schema differs from the schema the code generates.
    Changed {
        /// The schema file.
        path: PathBuf,
        /// The version.
        version: u32,
        /// JSON pointers where the two differ (at most ten).
        differences: Vec<String>,
    },
    /// A committed entry of [`VERSIONS_FILE`] differs from what the code declares.
    VersionChanged {
        /// The versions file.
        path: PathBuf,
        /// The version.
        version: u32,
        /// The committed entry.
        committed: VersionEntry,
        /// The entry the code declares.
        generated: VersionEntry,
    },
    /// A schema is committed for a version newer than the code's current version.
    Unknown {
        /// The schema file.
        path: PathBuf,
    },
    /// A golden event no longer decodes, or decodes to something else than expected.
    Golden {
        /// The examples file.
        path: PathBuf,
        /// The sample's index in the file.
        index: usize,
        /// The sample's event type.
        event_type: String,
        /// The decode error or the mismatch.
        error: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Changed {
                path,
                version,
                differences,
            } => write!(
                f,
                "{}: version {version} is published, but the code now generates a different schema (at {}); \
                 leave this version as it was and make the change in a new version with an upcaster, \
                 or run with {ON_MISMATCH_VARIABLE}=overwrite if version {version} was never released",
                path.display(),
                differences.join(", ")
            ),
            Problem::VersionChanged {
                path,
                version,
                committed,
                generated,
            } => write!(
                f,
                "{}: version {version} is published as {committed}, but the code now declares {generated}; \
                 a published version keeps its major: restore its `#[event(...)]` declaration \
                 (`breaking`, `major`) and event types, or run with {ON_MISMATCH_VARIABLE}=overwrite \
                 if version {version} was never released",
                path.display()
            ),
            Problem::Unknown { path } => write!(
                f,
                "{}: a committed schema of a version newer than the code's current version; was the latest version removed?",
                path.display()
            ),
            Problem::Golden {
                path,
                index,
                event_type,
                error,
            } => write!(
                f,
                "{}: sample {index} (`{event_type}`) no longer decodes through the upcast chain: {error}",
                path.display()
            ),
        }
    }
}

/// Why a history check failed.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Committed schemas or golden events do not match the code.
    #[error("{} schema history problem(s):\n{}", .0.len(), list(.0))]
    Mismatch(Vec<Problem>),
    /// A file of the snapshot folder could not be read or written, or is not valid JSON of
    /// the expected form.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// A schema could not be generated.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// `HERALD_SNAPSHOTS` has a value other than `overwrite`.
    #[error(
        "{ON_MISMATCH_VARIABLE}={0} is not understood; use {ON_MISMATCH_VARIABLE}=overwrite or unset it"
    )]
    OnMismatch(String),
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|problem| format!("  - {problem}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What to do when a committed schema differs from the one the code generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMismatch {
    /// Report it (the default).
    Check,
    /// Rewrite it (`HERALD_SNAPSHOTS=overwrite`).
    Overwrite,
}

impl OnMismatch {
    /// What `HERALD_SNAPSHOTS` asks for.
    pub fn from_env() -> Result<Self, HistoryError> {
        match std::env::var(ON_MISMATCH_VARIABLE) {
            Ok(mode) if mode == "overwrite" => Ok(OnMismatch::Overwrite),
            Ok(mode) if !mode.is_empty() => Err(HistoryError::OnMismatch(mode)),
            _ => Ok(OnMismatch::Check),
        }
    }
}

/// Checks (and writes missing) committed schemas and golden events of `E` under `dir/<name>/`, in the
/// way `HERALD_SNAPSHOTS` selects; see the [module documentation](self).
pub fn check_history<E: Event>(dir: impl AsRef<Path>) -> Result<History, HistoryError> {
    check_history_in::<E>(dir, OnMismatch::from_env()?)
}

/// [`check_history`] with an explicit [`OnMismatch`].
pub fn check_history_in<E: Event>(
    dir: impl AsRef<Path>,
    on_mismatch: OnMismatch,
) -> Result<History, HistoryError> {
    let overwrite = on_mismatch == OnMismatch::Overwrite;
    let folder = dir.as_ref().join(E::NAME);
    std::fs::create_dir_all(&folder).map_err(|source| SnapshotError::Io {
        path: folder.clone(),
        source,
    })?;
    let mut done = History::default();
    let mut problems = Vec::new();
    for version in E::history() {
        let schemas = [
            (SchemaType::Json, version.json_schema()?),
            (SchemaType::Avro, version.avro_schema()?),
        ];
        for (schema_type, generated) in schemas {
            let path = folder.join(snapshot::schema_file_name(version.version, schema_type));
            let published = snapshot::read_schema(&path)?.map(|committed| {
                differences(
                    &without_annotations(&committed),
                    &without_annotations(&generated),
                )
            });
            match published {
                Some(changed) if changed.is_empty() => done.unchanged.push(path),
                Some(mut changed) if !overwrite => {
                    changed.truncate(MAX_DIFFERENCES);
                    problems.push(Problem::Changed {
                        differences: changed,
                        path,
                        version: version.version,
                    })
                }
                _ => {
                    snapshot::write_schema(&path, &generated)?;
                    done.written.push(path);
                }
            }
        }
    }
    record_versions::<E>(&folder, overwrite, &mut done, &mut problems)?;
    let Scan { golden, newer } = scan::<E>(&folder)?;
    problems.extend(newer.into_iter().map(|path| Problem::Unknown { path }));
    for (version, path) in golden {
        let samples = snapshot::read_golden_events(&path)?;
        for (index, sample) in samples.into_iter().enumerate() {
            done.golden_events += 1;
            if let Err(error) = check_golden::<E>(version, &sample) {
                problems.push(Problem::Golden {
                    path: path.clone(),
                    index,
                    event_type: sample.event_type,
                    error,
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(done)
    } else {
        Err(HistoryError::Mismatch(problems))
    }
}

/// Writes the missing entries of [`VERSIONS_FILE`], and reports (or, when `overwrite`,
/// rewrites) the committed ones that differ from the code.
fn record_versions<E: Event>(
    folder: &Path,
    overwrite: bool,
    done: &mut History,
    problems: &mut Vec<Problem>,
) -> Result<(), HistoryError> {
    let path = folder.join(VERSIONS_FILE);
    let mut entries = snapshot::read_versions(folder)?;
    for version in E::history() {
        let generated = VersionEntry {
            major: version.major,
            breaking: version.breaking.map(str::to_owned),
            event_types: version
                .event_types
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
        };
        match entries.get(&version.version) {
            Some(committed) if *committed == generated => {}
            Some(committed) if !overwrite => problems.push(Problem::VersionChanged {
                path: path.clone(),
                version: version.version,
                committed: committed.clone(),
                generated,
            }),
            _ => {
                entries.insert(version.version, generated);
                done.recorded.push(version.version);
            }
        }
    }
    let newer: Vec<u32> = entries.range(E::VERSION + 1..).map(|(v, _)| *v).collect();
    if !newer.is_empty() {
        if overwrite {
            for version in newer {
                entries.remove(&version);
            }
            done.recorded.push(E::VERSION);
        } else {
            problems.push(Problem::Unknown { path: path.clone() });
        }
    }
    if !done.recorded.is_empty() {
        snapshot::write_versions(folder, &entries)?;
    }
    Ok(())
}

/// [`check_history`] for tests: panics with every problem found.
#[allow(clippy::panic)] // An assertion helper for tests: failing loudly is its job.
pub fn assert_history<E: Event>(dir: impl AsRef<Path>) -> History {
    match check_history::<E>(dir) {
        Ok(done) => done,
        Err(err) => panic!("{err}"),
    }
}

/// The golden events committed for `version` of the event named `name` (empty when there is
/// no examples file).
pub fn golden_events(
    dir: impl AsRef<Path>,
    name: &str,
    version: u32,
) -> Result<Vec<GoldenEvent>, HistoryError> {
    let path = dir
        .as_ref()
        .join(name)
        .join(snapshot::examples_file_name(version));
    if !path.exists() {
        return Ok(Vec::new());
    }
    Ok(snapshot::read_golden_events(&path)?)
}

fn check_golden<E: Event>(version: u32, sample: &GoldenEvent) -> Result<(), String> {
    let payload = serde_json::to_vec(&sample.payload).map_err(|err| err.to_string())?;
    let event = E::decode(&sample.event_type, version, &payload).map_err(|err| err.to_string())?;
    let Some(expect) = &sample.expect else {
        return Ok(());
    };
    let encoded = event.encode().map_err(|err| err.to_string())?;
    let payload: Value = serde_json::from_slice(&encoded.payload).map_err(|err| err.to_string())?;
    if encoded.event_type != expect.event_type || payload != expect.payload {
        return Err(format!(
            "it decodes to `{}` {payload}, but `expect` says `{}` {}",
            encoded.event_type, expect.event_type, expect.payload
        ));
    }
    Ok(())
}

/// Golden files with their version, and schemas of versions newer than the code.
struct Scan {
    golden: Vec<(u32, PathBuf)>,
    newer: Vec<PathBuf>,
}

/// Lists golden files (with their version) and schemas of versions newer than `E`.
fn scan<E: Event>(folder: &Path) -> Result<Scan, HistoryError> {
    let io = |source| SnapshotError::Io {
        path: folder.to_owned(),
        source,
    };
    let mut golden = Vec::new();
    let mut newer = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let Some(file) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        if let Some(version) = snapshot::parse_examples_file_name(file) {
            golden.push((version, path));
        } else if let Some((version, SchemaType::Json | SchemaType::Avro)) =
            snapshot::parse_schema_file_name(file)
            && version > E::VERSION
        {
            newer.push(path);
        }
    }
    golden.sort();
    newer.sort();
    Ok(Scan { golden, newer })
}
