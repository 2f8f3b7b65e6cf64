//! The schema core: parsing, validation, normalization, fingerprints and compatibility.
//!
//! A [`Schema`] is parsed once and then only read: its canonical form and fingerprint are
//! computed at parse time, so two spellings of the same schema compare equal by
//! [`Schema::fingerprint`].

mod avro;
mod compat;
pub mod documented;
mod error;
mod json;
mod limits;
mod protobuf;

use std::fmt;

use sha2::{Digest, Sha256};

pub use compat::{
    CompatibilityLevel, Difference, Direction, Report, UnknownLevel, Violation, check,
    json_differences, protobuf_differences,
};
pub use error::SchemaError;
pub use herald_protocol::SchemaType;
pub use json::Draft;
pub use limits::Limits;

pub(crate) use avro::AvroSchema;
pub(crate) use json::{JsonSchema, validator as json_validator};
pub(crate) use protobuf::ProtobufSchema;

/// A SHA-256 digest of a schema's canonical form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    fn of(schema_type: SchemaType, canonical: &str) -> Self {
        Self::with_imports(schema_type, canonical, &[])
    }

    /// The digest of a canonical form and of the schemas it imports (by import path).
    fn with_imports(schema_type: SchemaType, canonical: &str, imports: &[(&str, &Schema)]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(schema_type.as_str().as_bytes());
        hasher.update([0u8]);
        hasher.update(canonical.as_bytes());
        for (name, schema) in imports {
            hasher.update([0u8]);
            hasher.update(name.as_bytes());
            hasher.update([0u8]);
            hasher.update(schema.fingerprint.0);
        }
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
    Protobuf(ProtobufSchema),
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
        if schema_type == SchemaType::Protobuf {
            return Self::parse_protobuf(text, &[], limits);
        }
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
            SchemaType::Protobuf => return Self::parse_protobuf(text, &[], limits),
        };
        Ok(Schema {
            fingerprint: Fingerprint::of(schema_type, &canonical),
            canonical,
            parsed,
        })
    }

    /// Parses a Protobuf schema (`.proto` text or a base64 `FileDescriptorProto`) whose
    /// `import`s name the given schemas (import path and parsed schema) besides the
    /// well-known files (`google/protobuf/*`, `google/type/*`, `confluent/meta.proto`,
    /// `confluent/type/*`), which resolve without references.
    ///
    /// ```
    /// use herald_registry::schema::{Limits, Schema, SchemaType};
    ///
    /// let money = Schema::parse(SchemaType::Protobuf, "syntax = \"proto3\";\npackage shop;\n\
    ///     message Money { string currency = 1; int64 units = 2; }")?;
    /// let order = Schema::parse_protobuf(
    ///     "syntax = \"proto3\";\npackage shop;\nimport \"shop/money.proto\";\n\
    ///      // the total\nmessage Order { Money total = 1; }",
    ///     &[("shop/money.proto", &money)],
    ///     &Limits::default(),
    /// )?;
    /// assert_eq!(
    ///     order.protobuf_text(),
    ///     Some("syntax = \"proto3\";\npackage shop;\n\nimport \"shop/money.proto\";\n\nmessage Order {\n  Money total = 1;\n}\n")
    /// );
    /// assert!(order.canonical().contains(".shop.Money total = 1;"));
    /// # Ok::<(), herald_registry::schema::SchemaError>(())
    /// ```
    pub fn parse_protobuf(
        text: &str,
        imports: &[(&str, &Schema)],
        limits: &Limits,
    ) -> Result<Self, SchemaError> {
        limits.check_proto(text)?;
        let mut compiled = Vec::with_capacity(imports.len());
        for (name, schema) in imports {
            match &schema.parsed {
                Parsed::Protobuf(proto) => compiled.push((*name, proto)),
                _ => {
                    return Err(SchemaError::Protobuf {
                        file: (*name).to_owned(),
                        line: None,
                        column: None,
                        message: format!(
                            "the reference `{name}` is a {} schema, not PROTOBUF",
                            schema.schema_type()
                        ),
                    });
                }
            }
        }
        let (schema, canonical) = protobuf::parse(text, &compiled)?;
        Ok(Schema {
            fingerprint: Fingerprint::with_imports(SchemaType::Protobuf, &canonical, imports),
            canonical,
            parsed: Parsed::Protobuf(schema),
        })
    }

    /// The schema's type.
    pub fn schema_type(&self) -> SchemaType {
        match self.parsed {
            Parsed::Avro(_) => SchemaType::Avro,
            Parsed::Json(_) => SchemaType::Json,
            Parsed::Protobuf(_) => SchemaType::Protobuf,
        }
    }

    /// For a Protobuf schema, Confluent's re-print of the parsed file (comments dropped,
    /// 2-space indent, type names as written): the form Confluent stores and answers.
    pub fn protobuf_text(&self) -> Option<&str> {
        match &self.parsed {
            Parsed::Protobuf(proto) => Some(proto.printed()),
            _ => None,
        }
    }

    /// For a Protobuf schema, the full names of its top-level messages in file order (the
    /// first is the one Confluent's serializers and record-name strategies default to);
    /// empty for other types.
    pub fn protobuf_messages(&self) -> Vec<String> {
        match &self.parsed {
            Parsed::Protobuf(proto) => proto
                .file()
                .messages()
                .map(|m| m.full_name().to_owned())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// For a Protobuf schema, its `FileDescriptorProto` base64-encoded (Confluent's
    /// `format=serialized`).
    pub fn protobuf_serialized(&self) -> Option<String> {
        match &self.parsed {
            Parsed::Protobuf(proto) => Some(proto.serialized()),
            _ => None,
        }
    }

    /// The canonical form: Avro's Parsing Canonical Form extended with the attributes that
    /// matter for schema resolution (defaults, aliases, logical types), for JSON Schema the
    /// document with sorted keys and no insignificant whitespace, for Protobuf Confluent's
    /// normalized print of the file.
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
            Parsed::Avro(_) | Parsed::Protobuf(_) => None,
        }
    }

    pub(crate) fn parsed(&self) -> &Parsed {
        &self.parsed
    }
}
