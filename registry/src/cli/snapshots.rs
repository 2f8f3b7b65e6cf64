//! The committed snapshot directory: `<dir>/<event>/v<N>.json` (JSON Schema), `v<N>.avsc`
//! (Avro) and the optional `<dir>/herald.toml` that sets per-event compatibility levels.
//!
//! `v<N>.examples.json` files are golden events, not schemas, and are skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    /// `herald.toml` is not valid.
    #[error("{path}: {message}")]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
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
    /// Its snapshot files, by version then type (Avro first).
    pub files: Vec<SnapshotFile>,
}

impl EventSnapshots {
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
        events.push(EventSnapshots {
            name,
            level,
            level_configured,
            first_version: settings.first_version.unwrap_or(1),
            files,
        });
    }
    events.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(SnapshotDir {
        root: root.to_path_buf(),
        events,
    })
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

/// Parses `v<N>.json` / `v<N>.avsc`; `None` for anything else (golden events included).
pub(crate) fn parse_file_name(file_name: &str) -> Option<(u32, SchemaType)> {
    let rest = file_name.strip_prefix('v')?;
    let (number, schema_type) = if let Some(number) = rest.strip_suffix(".avsc") {
        (number, SchemaType::Avro)
    } else if let Some(number) = rest.strip_suffix(".json") {
        (number, SchemaType::Json)
    } else {
        return None;
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse().ok().map(|n| (n, schema_type))
}

fn read_event(root: &Path, name: &str) -> Result<Vec<SnapshotFile>, LoadError> {
    let mut files = Vec::new();
    for path in read_dir(&root.join(name))? {
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some((version, schema_type)) = parse_file_name(file_name) else {
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
    files.sort_by_key(|f| (f.version, f.schema_type == SchemaType::Json));
    Ok(files)
}
