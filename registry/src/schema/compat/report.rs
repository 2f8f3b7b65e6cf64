use std::fmt;

use serde::{Deserialize, Serialize};

/// Which way a compatibility check reads data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    /// The new schema reads data written with the old one.
    Backward,
    /// The old schema reads data written with the new one.
    Forward,
}

/// One reason a schema change is incompatible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The kind of change, with the names Confluent and Apache Avro use
    /// (`READER_FIELD_MISSING_DEFAULT_VALUE`, `PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL`, ...).
    pub kind: String,
    /// Where in the reading schema: an Avro path (`/fields/3/type`), a JSON pointer
    /// (`#/properties/id`) or a Protobuf message path with a field number (`#/Order/3`).
    pub location: String,
    /// The previous version this violation was found against.
    pub version: Option<u32>,
    /// Which way the check was reading.
    pub direction: Option<Direction>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to make the change compatible, in one sentence.
    pub hint: String,
}

impl Violation {
    /// A violation not yet tied to a version.
    pub fn new(
        kind: impl Into<String>,
        location: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Violation {
            kind: kind.into(),
            location: location.into(),
            version: None,
            direction: None,
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub(crate) fn at(mut self, direction: Direction, version: u32) -> Self {
        self.direction = Some(direction);
        self.version = Some(version);
        self
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.location)?;
        if let Some(version) = self.version {
            write!(f, " (against version {version}")?;
            match self.direction {
                Some(Direction::Backward) => write!(f, ", backward)")?,
                Some(Direction::Forward) => write!(f, ", forward)")?,
                None => write!(f, ")")?,
            }
        }
        write!(f, ": {}", self.message)?;
        if !self.hint.is_empty() {
            write!(f, "; hint: {}", self.hint)?;
        }
        Ok(())
    }
}

/// The outcome of a compatibility check: every violation found, in a deterministic order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// True when there are no violations.
    pub is_compatible: bool,
    /// One line per violation, in the style of Confluent's `verbose=true` messages.
    pub messages: Vec<String>,
    /// The violations themselves.
    pub violations: Vec<Violation>,
}

impl Report {
    pub(crate) fn new(violations: Vec<Violation>) -> Self {
        Report {
            is_compatible: violations.is_empty(),
            messages: violations.iter().map(ToString::to_string).collect(),
            violations,
        }
    }
}

/// One difference between two JSON Schemas or two Protobuf files, as Confluent's diff for
/// the format reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Difference {
    /// Confluent's name for the change, e.g. `MAX_LENGTH_DECREASED` or `FIELD_ADDED`.
    pub kind: String,
    /// Where: a JSON pointer into the schemas (`#/properties/foo`) or a Protobuf message
    /// path with a field number (`#/Order/3`).
    pub location: String,
    /// Whether Confluent counts this change as backward compatible.
    pub compatible: bool,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.location)
    }
}
