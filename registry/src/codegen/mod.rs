//! Rust source from a schema: structs and enums that derive `Serialize`, `Deserialize`,
//! `JsonSchema` and Herald's `Event`, formatted with prettyplease. Pure: no I/O.
//!
//! ```
//! use herald_registry::codegen::{Options, generate};
//! use herald_registry::schema::SchemaType;
//!
//! let code = generate(
//!     SchemaType::Avro,
//!     r#"{"type":"record","name":"Placed","fields":[{"name":"orderId","type":"string"}]}"#,
//!     &Options::new("order", 1),
//! )?;
//! assert!(code.contains("pub struct Placed"));
//! assert!(code.contains("#[serde(rename = \"orderId\")]"));
//! assert!(code.contains("pub order_id: ::std::string::String"));
//! # Ok::<(), herald_registry::codegen::CodegenError>(())
//! ```
//!
//! Names become idiomatic Rust: CamelCase types and variants, snake_case fields, with
//! `#[serde(rename = "...")]` wherever the wire name differs. Logical types keep their
//! underlying Rust type (a `timestamp-millis` is an `i64`), with a doc line naming them, so
//! the bytes on the wire are unchanged; a `decimal` is a `herald::Decimal<P, S>` (on
//! `bytes`) or a newtype around `herald::Fixed<N>` that keeps the logical type. Avro `bytes`
//! is `herald::Bytes`, a `fixed` a newtype around `herald::Fixed<N>` named like it; in a JSON
//! Schema, an array of byte values with Herald's `x-avro` keyword is the same Herald type.
//!
//! An Avro union of several non-null branches is a `#[serde(untagged)]` enum with one newtype
//! variant per branch (`Null` for a `null` branch that is not first; a union with `null` first
//! is an `Option` of the enum), which serializes each value as apache-avro reads and writes
//! that union, and which Herald exports as the same union. A union serde cannot read back
//! faithfully (two branches whose JSON values look alike: `int` and `long`, `string` and an
//! enum, two records where the earlier one would accept the later one's value) is refused.
//!
//! A construct with no faithful serde form (such a union, `allOf`, a `$ref` outside the
//! document) is a [`CodegenError`] naming its location, never silently wrong code.
//!
//! A Protobuf file becomes `prost` message structs instead (see [`generate_protobuf`]): the
//! wire format is Protobuf's own, so the types carry `prost`'s derives, not serde's and
//! Herald's `Event`.

mod avro;
mod defaults;
mod json;
mod model;
mod names;
mod protobuf;

use crate::schema::{Parsed, Schema, SchemaType};

pub use model::Options;

/// Why no code could be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodegenError {
    /// The schema text is not JSON.
    #[error("the schema is not JSON: {0}")]
    NotJson(String),
    /// The schema is not a valid schema of its type.
    #[error("invalid schema: {0}")]
    Invalid(String),
    /// A construct has no faithful Rust representation.
    #[error("{location}: {message}")]
    Unsupported {
        /// Where in the schema (an Avro path or a JSON pointer).
        location: String,
        /// What cannot be represented, and why.
        message: String,
    },
    /// The generated source did not parse (a bug in the generator).
    #[error("internal error: the generated code does not parse: {0}")]
    Internal(String),
}

impl CodegenError {
    pub(crate) fn unsupported(location: &str, message: impl Into<String>) -> Self {
        CodegenError::Unsupported {
            location: if location.is_empty() {
                "/".to_owned()
            } else {
                location.to_owned()
            },
            message: message.into(),
        }
    }
}

/// The event name an Avro schema exported by Herald records: the namespace of its variant
/// records, which carry their event types (`"herald.event_type": "order.shipped"` in namespace
/// `order`). `None` for any other schema; callers then fall back to a name of their own.
///
/// ```
/// use herald_registry::codegen::recorded_event_name;
/// use herald_registry::schema::SchemaType;
///
/// let text = r#"[{"type":"record","name":"Dispatched","namespace":"order",
///     "herald.event_type":"order.shipped","fields":[]}]"#;
/// assert_eq!(recorded_event_name(SchemaType::Avro, text).as_deref(), Some("order"));
/// assert_eq!(recorded_event_name(SchemaType::Avro, r#""string""#), None);
/// ```
pub fn recorded_event_name(schema_type: SchemaType, text: &str) -> Option<String> {
    if schema_type != SchemaType::Avro {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let first = value.as_array()?.first()?;
    let namespace = first.get("namespace")?.as_str()?;
    let event_type = first.get(avro::EVENT_TYPE_ATTRIBUTE)?.as_str()?;
    event_type
        .strip_prefix(namespace)
        .is_some_and(|rest| rest.starts_with('.'))
        .then(|| namespace.to_owned())
}

/// Generates formatted Rust source for `text`, a schema of `schema_type`; a Protobuf schema
/// may import well-known files only (see [`generate_protobuf`] for one with references).
pub fn generate(
    schema_type: SchemaType,
    text: &str,
    options: &Options,
) -> Result<String, CodegenError> {
    let value = || {
        serde_json::from_str::<serde_json::Value>(text)
            .map_err(|err| CodegenError::NotJson(err.to_string()))
    };
    let items = match schema_type {
        SchemaType::Avro => avro::items(&value()?, options)?,
        SchemaType::Json => json::items(&value()?, options)?,
        SchemaType::Protobuf => {
            let schema = Schema::parse(schema_type, text)
                .map_err(|err| CodegenError::Invalid(err.to_string()))?;
            return generate_protobuf(&schema);
        }
    };
    format(&model::render(&items, options))
}

/// Generates formatted Rust source for a Protobuf schema (parsed with its references, see
/// [`Schema::parse_protobuf`]): a `prost` message struct or enum for each of its messages and
/// enums and those of the files it imports (`google/protobuf/*` are `prost_types`), in one
/// module per package, and `MESSAGE_INDEXES`, the messages by their message indexes in the
/// Confluent wire format.
///
/// ```
/// use herald_registry::codegen::generate_protobuf;
/// use herald_registry::schema::{Schema, SchemaType};
///
/// let text = "syntax = \"proto3\"; package acme; message Placed { string order_id = 1; }";
/// let code = generate_protobuf(&Schema::parse(SchemaType::Protobuf, text)?)?;
/// assert!(code.contains("pub struct Placed"));
/// assert!(code.contains("pub order_id: ::prost::alloc::string::String"));
/// assert!(code.contains("(&[0], \"acme.Placed\")"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn generate_protobuf(schema: &Schema) -> Result<String, CodegenError> {
    match schema.parsed() {
        Parsed::Protobuf(proto) => format(&protobuf::source(proto.file())?),
        _ => Err(CodegenError::unsupported(
            "",
            format!("a {} schema is not Protobuf", schema.schema_type()),
        )),
    }
}

fn format(source: &str) -> Result<String, CodegenError> {
    let file = syn3::parse_file(source).map_err(|err| CodegenError::Internal(err.to_string()))?;
    Ok(prettyplease::unparse(&file))
}
