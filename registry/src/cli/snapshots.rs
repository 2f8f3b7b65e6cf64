//! The committed snapshot directory: `<dir>/<event>/v<N>.json` (JSON Schema), `v<N>.avsc`
//! (Avro), `v<N>.proto` (Protobuf) and the optional `<dir>/herald.toml` that sets per-event
//! compatibility levels.
//!
//! Beside them, `<event>/versions.json` records each version's major (written by
//! `herald::history::assert_history`), and `v<N>.examples.json` holds golden events (read
//! only for their event types); both formats are [`herald_protocol::snapshot`]'s. Without
//! `versions.json` every version is in major 1.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use herald_protocol::snapshot::{self, EXTENSIONS, SnapshotError, VersionEntry};
use herald_registry::schema::{CompatibilityLevel, SchemaType};
use serde::Deserialize;

/// The name of the configuration file inside the snapshot directory.
pub(crate) const CONFIG_FILE: &str = "herald.toml";

/// Why the snapshot directory could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoadError {
    /// A file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// What was read.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// `herald.toml`, a `versions.json` or a golden events file is not valid.
    #[error("{path}: {message}")]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl From<SnapshotError> for LoadError {
    fn from(error: SnapshotError) -> Self {
        match error {
            SnapshotError::Io { path, source } => LoadError::Io { path, source },
            SnapshotError::Invalid { path, message } => LoadError::Config { path, message },
        }
    }
}

/// `herald.toml`: a default level and per-event settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// The level of events that do not set one (BACKWARD when absent).
    #[serde(default)]
    pub level: Option<String>,
    /// Per-event settings, by event name.
    #[serde(default)]
    pub events: BTreeMap<String, EventConfig>,
}

/// The settings of one event in `herald.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventConfig {
    /// The event's compatibility level.
    #[serde(default)]
    pub level: Option<String>,
    /// The first version that has a snapshot (1 when absent), for events whose earliest
    /// versions were deleted before snapshots existed.
    #[serde(default)]
    pub first_version: Option<u32>,
}

/// One snapshot file.
#[derive(Debug, Clone)]
pub(crate) struct SnapshotFile {
    /// The version number from the file name.
    pub version: u32,
    /// Its schema type (from the extension).
    pub schema_type: SchemaType,
    /// The path as the user would write it (`<dir>/<event>/v<N>.<ext>`).
    pub path: PathBuf,
    /// The path relative to the snapshot directory (`<event>/v<N>.<ext>`).
    pub relative: String,
    /// The file's text.
    pub text: String,
}

/// One event's snapshots and settings.
#[derive(Debug, Clone)]
pub(crate) struct EventSnapshots {
    /// The event name (the directory name).
    pub name: String,
    /// The compatibility level that applies to it.
    pub level: CompatibilityLevel,
    /// Whether `herald.toml` set the level explicitly (directly or as the default).
    pub level_configured: bool,
    /// The first version that must exist.
    pub first_version: u32,
    /// Its snapshot files, by version then type (Avro, JSON Schema, Protobuf).
    pub files: Vec<SnapshotFile>,
    /// The entries of its `versions.json`, by version (empty without one).
    pub versions: BTreeMap<u32, VersionEntry>,
    /// The event types of each version's golden events (`v<N>.examples.json`).
    pub golden: BTreeMap<u32, Vec<String>>,
}

impl EventSnapshots {
    /// The major of `version`: its `versions.json` entry's, else the major of the closest
    /// earlier version that has one, else 1.
    pub(crate) fn major(&self, version: u32) -> u32 {
        snapshot::major_of(&self.versions, version)
    }

    /// The path of this event's `versions.json` or `v<N>.examples.json` under `root`.
    pub(crate) fn path(&self, root: &Path, file_name: &str) -> PathBuf {
        root.join(&self.name).join(file_name)
    }

    /// The files of one schema type, oldest first.
    pub(crate) fn of_type(&self, schema_type: SchemaType) -> Vec<&SnapshotFile> {
        self.files
            .iter()
            .filter(|f| f.schema_type == schema_type)
            .collect()
    }
}

/// The whole snapshot directory.
#[derive(Debug, Clone)]
pub(crate) struct SnapshotDir {
    /// The directory.
    pub root: PathBuf,
    /// Events by name.
    pub events: Vec<EventSnapshots>,
}

/// Reads `root`: its configuration and every event directory.
pub(crate) fn load(root: &Path) -> Result<SnapshotDir, LoadError> {
    let config = read_config(root)?;
    let default_level = match &config.level {
        Some(text) => parse_level(&root.join(CONFIG_FILE), "level", text)?,
        None => CompatibilityLevel::Backward,
    };
    let entries = read_dir(root)?;
    let mut events = Vec::new();
    for entry in entries {
        if !entry.is_dir() {
            continue;
        }
        let Some(name) = entry
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
        else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let settings = config.events.get(&name).cloned().unwrap_or_default();
        let (level, level_configured) = match &settings.level {
            Some(text) => (
                parse_level(
                    &root.join(CONFIG_FILE),
                    &format!("events.{name}.level"),
                    text,
                )?,
                true,
            ),
            None => (default_level, config.level.is_some()),
        };
        let files = read_event(root, &name)?;
        if files.is_empty() {
            continue;
        }
        let (versions, golden) = read_versions_and_golden(root, &name)?;
        events.push(EventSnapshots {
            name,
            level,
            level_configured,
            first_version: settings.first_version.unwrap_or(1),
            files,
            versions,
            golden,
        });
    }
    events.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(SnapshotDir {
        root: root.to_path_buf(),
        events,
    })
}

/// The event's `versions.json` entries and the event types of its golden events.
#[allow(clippy::type_complexity)] // Two maps by version, named where they are used.
fn read_versions_and_golden(
    root: &Path,
    name: &str,
) -> Result<(BTreeMap<u32, VersionEntry>, BTreeMap<u32, Vec<String>>), LoadError> {
    let folder = root.join(name);
    let versions = snapshot::read_versions(&folder)?;
    let mut golden = BTreeMap::new();
    for path in read_dir(&folder)? {
        let Some(version) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(snapshot::parse_examples_file_name)
        else {
            continue;
        };
        let samples = snapshot::read_golden_events(&path)?;
        golden.insert(version, samples.into_iter().map(|s| s.event_type).collect());
    }
    Ok((versions, golden))
}

fn read_config(root: &Path) -> Result<Config, LoadError> {
    let path = root.join(CONFIG_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(source) => return Err(LoadError::Io { path, source }),
    };
    toml::from_str(&text).map_err(|err| LoadError::Config {
        path,
        message: err.to_string().trim_end().to_owned(),
    })
}

fn parse_level(path: &Path, key: &str, text: &str) -> Result<CompatibilityLevel, LoadError> {
    text.parse().map_err(|_| LoadError::Config {
        path: path.to_path_buf(),
        message: format!(
            "`{key}` is `{text}`, not a compatibility level (NONE, BACKWARD, \
             BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE)"
        ),
    })
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let io = |source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        paths.push(entry.map_err(io)?.path());
    }
    paths.sort();
    Ok(paths)
}

fn read_event(root: &Path, name: &str) -> Result<Vec<SnapshotFile>, LoadError> {
    let mut files = Vec::new();
    for path in read_dir(&root.join(name))? {
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some((version, schema_type)) = snapshot::parse_schema_file_name(file_name) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).map_err(|source| LoadError::Io {
            path: path.clone(),
            source,
        })?;
        files.push(SnapshotFile {
            version,
            schema_type,
            relative: format!("{name}/{file_name}"),
            path,
            text,
        });
    }
    let rank = |t: SchemaType| EXTENSIONS.iter().position(|(e, _)| *e == t);
    files.sort_by_key(|f| (f.version, rank(f.schema_type)));
    Ok(files)
}
