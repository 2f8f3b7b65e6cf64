//! Compatibility between schema versions, with Confluent Schema Registry's seven levels.

mod avro;
mod json;
mod protobuf;
mod report;

pub use herald_protocol::{CompatibilityLevel, UnknownLevel};
pub use json::json_differences;
pub use protobuf::protobuf_differences;
pub use report::{Difference, Direction, Report, Violation};

use super::{Parsed, Schema};

/// Checks `new` against `previous` (oldest first, each with its version number) under `level`.
///
/// Non-transitive levels compare against the latest previous version only; transitive levels
/// against all of them. BACKWARD means `new` can read data written with a previous version;
/// FORWARD means a previous version can read data written with `new`; FULL means both.
/// The report lists every violation found, in version order, never just the first.
///
/// ```
/// use herald_registry::schema::{check, CompatibilityLevel, Schema, SchemaType};
///
/// let v1 = Schema::parse(SchemaType::Json, r#"{"type":"object","properties":{"id":{"type":"string"}}}"#)?;
/// let v2 = Schema::parse(SchemaType::Json, r#"{"type":"object","properties":{"id":{"type":"string","maxLength":8}}}"#)?;
/// assert!(!check(CompatibilityLevel::Backward, &v2, &[(1, &v1)]).is_compatible);
/// assert!(check(CompatibilityLevel::Forward, &v2, &[(1, &v1)]).is_compatible);
/// # Ok::<(), herald_registry::schema::SchemaError>(())
/// ```
pub fn check(level: CompatibilityLevel, new: &Schema, previous: &[(u32, &Schema)]) -> Report {
    let against: &[(u32, &Schema)] = if level.is_transitive() {
        previous
    } else {
        previous.last().map(std::slice::from_ref).unwrap_or(&[])
    };
    let mut violations = Vec::new();
    for &(version, old) in against {
        if level.is_backward() {
            collect(&mut violations, Direction::Backward, version, new, old);
        }
        if level.is_forward() {
            collect(&mut violations, Direction::Forward, version, old, new);
        }
    }
    Report::new(violations)
}

/// Appends what stops `reader` from reading data written with `writer`.
fn collect(
    out: &mut Vec<Violation>,
    direction: Direction,
    version: u32,
    reader: &Schema,
    writer: &Schema,
) {
    let found = match (reader.parsed(), writer.parsed()) {
        (Parsed::Avro(r), Parsed::Avro(w)) => avro::can_read(r, w),
        (Parsed::Json(r), Parsed::Json(w)) => json::can_read(r, w),
        (Parsed::Protobuf(r), Parsed::Protobuf(w)) => protobuf::can_read(r.file(), w.file()),
        _ => vec![Violation::new(
            "SCHEMA_TYPE_MISMATCH",
            "#/",
            format!(
                "the schema type changed from {} to {}",
                writer.schema_type(),
                reader.schema_type()
            ),
            "register a schema of the same type as the subject's other versions",
        )],
    };
    out.extend(found.into_iter().map(|v| v.at(direction, version)));
}
