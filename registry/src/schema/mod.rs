//! The schema core: parsing, validation, normalization, fingerprints and compatibility.
//!
//! A [`Schema`] is parsed once and then only read: its canonical form and fingerprint are
//! computed at parse time, so two spellings of the same schema compare equal by
//! [`Schema::fingerprint`].

mod annotations;
mod avro;
mod compat;
pub mod documented;
mod error;
mod json;
mod limits;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use annotations::{ANNOTATION_PREFIX, differences, without_annotations};
pub use compat::{
    CompatibilityLevel, Difference, Direction, Report, UnknownLevel, Violation, check,
    json_differences, protobuf_differences,
};
pub use error::SchemaError;
pub use json::Draft;
pub use limits::Limits;

pub(crate) use avro::AvroSchema;
pub(crate) use json::JsonSchema;

/// The kinds of schema Herald understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SchemaType {
    /// An Apache Avro schema.
    Avro,
    /// A JSON Schema document (drafts 4, 6, 7, 2019-09 and 2020-12).
    Json,
}

impl SchemaType {
    /// The name Confluent Schema Registry uses for this type (`AVRO`, `JSON`).
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaType::Avro => "AVRO",
            SchemaType::Json => "JSON",
        }
    }
}

impl fmt::Display for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SchemaType {
    type Err = SchemaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "AVRO" => Ok(SchemaType::Avro),
            "JSON" => Ok(SchemaType::Json),
            _ => Err(SchemaError::UnknownType(s.to_owned())),
        }
    }
}

/// A SHA-256 digest of a schema's canonical form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    fn of(schema_type: SchemaType, canonical: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(schema_type.as_str().as_bytes());
        hasher.update([0u8]);
        hasher.update(canonical.as_bytes());
        Fingerprint(hasher.finalize().into())
    }

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// A parsed, validated and normalized schema.
///
/// ```
/// use herald_registry::schema::{Schema, SchemaType};
///
/// let a = Schema::parse(SchemaType::Json, r#"{"type": "object", "required": ["id"]}"#)?;
/// let b = Schema::parse(SchemaType::Json, r#"{"required":["id"],"type":"object"}"#)?;
/// assert_eq!(a.fingerprint(), b.fingerprint());
/// assert_eq!(a.canonical(), b.canonical());
/// # Ok::<(), herald_registry::schema::SchemaError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Schema {
    canonical: String,
    fingerprint: Fingerprint,
    parsed: Parsed,
}

#[derive(Debug, Clone)]
pub(crate) enum Parsed {
    Avro(AvroSchema),
    Json(JsonSchema),
}

impl Schema {
    /// Parses and validates `text` as a schema of the given type, with the default [`Limits`].
    pub fn parse(schema_type: SchemaType, text: &str) -> Result<Self, SchemaError> {
        Self::parse_with_limits(schema_type, text, &Limits::default())
    }

    /// Parses and validates `text`, rejecting input larger or deeper than `limits` allow
    /// before any recursive work is done.
    pub fn parse_with_limits(
        schema_type: SchemaType,
        text: &str,
        limits: &Limits,
    ) -> Result<Self, SchemaError> {
        limits.check(text)?;
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|err| SchemaError::Json {
                line: err.line(),
                column: err.column(),
                message: err.to_string(),
            })?;
        let (parsed, canonical) = match schema_type {
            SchemaType::Avro => {
                let (schema, canonical) = avro::parse(&value)?;
                (Parsed::Avro(schema), canonical)
            }
            SchemaType::Json => {
                let (schema, canonical) = json::parse(value)?;
                (Parsed::Json(schema), canonical)
            }
        };
        Ok(Schema {
            fingerprint: Fingerprint::of(schema_type, &canonical),
            canonical,
            parsed,
        })
    }

    /// The schema's type.
    pub fn schema_type(&self) -> SchemaType {
        match self.parsed {
            Parsed::Avro(_) => SchemaType::Avro,
            Parsed::Json(_) => SchemaType::Json,
        }
    }

    /// The canonical form: Avro's Parsing Canonical Form extended with the attributes that
    /// matter for schema resolution (defaults, aliases, logical types), or for JSON Schema the
    /// document with sorted keys and no insignificant whitespace.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// The SHA-256 fingerprint of the canonical form (and the type).
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// For a JSON Schema, the draft it is written in.
    pub fn draft(&self) -> Option<Draft> {
        match &self.parsed {
            Parsed::Json(json) => Some(json.draft()),
            Parsed::Avro(_) => None,
        }
    }

    pub(crate) fn parsed(&self) -> &Parsed {
        &self.parsed
    }
}
