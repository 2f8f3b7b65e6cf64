//! The Rust types `herald codegen` writes for a registered version, as the API and the web UI
//! serve them.

use crate::codegen::{Options, generate, generate_protobuf, recorded_event_name};
use crate::schema::SchemaType;
use crate::storage::VersionRow;

use super::{CachedSchema, ServiceError, version_number};

/// The event name a subject stands for: without Confluent's `-value` / `-key` suffix.
fn event_name(subject: &str) -> &str {
    subject
        .strip_suffix("-value")
        .or_else(|| subject.strip_suffix("-key"))
        .unwrap_or(subject)
}

/// The Rust types `herald codegen` writes for a version of `subject`.
pub fn rust_code(
    subject: &str,
    row: VersionRow,
    schema: &CachedSchema,
) -> Result<String, ServiceError> {
    let number = version_number(row.version)?;
    // A schema Herald exported names its event; otherwise the subject stands for it.
    let name = recorded_event_name(schema.schema_type, &schema.text)
        .unwrap_or_else(|| event_name(subject).to_owned());
    let options = Options::new(name, number);
    // A Protobuf schema's imports are its references, already resolved in the parsed schema.
    match schema.schema_type {
        SchemaType::Protobuf => generate_protobuf(&schema.schema),
        other => generate(other, &schema.text, &options),
    }
    .map_err(|err| ServiceError::InvalidSchema(format!("cannot generate Rust: {err}")))
}
