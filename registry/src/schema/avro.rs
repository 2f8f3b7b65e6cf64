//! Avro schemas: parsing with `apache-avro` and the canonical form.

use serde_json::Value;

use super::SchemaError;

/// A parsed Avro schema.
#[derive(Debug, Clone)]
pub(crate) struct AvroSchema {
    pub(crate) root: apache_avro::Schema,
}

/// Parses an Avro schema and returns it with its canonical form.
pub(crate) fn parse(value: &Value) -> Result<(AvroSchema, String), SchemaError> {
    let root = apache_avro::Schema::parse(value).map_err(|err| SchemaError::Avro {
        path: "/".to_owned(),
        message: err.to_string(),
    })?;
    let canonical = root.canonical_form();
    Ok((AvroSchema { root }, canonical))
}
