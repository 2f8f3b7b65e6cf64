//! Reading the attributes of a schema object, with errors at the attribute's path.

use serde_json::{Map, Value};

use super::{Logical, Path};
use crate::schema::SchemaError;

/// An error at `path`.
pub(super) fn error(path: &Path<'_>, message: impl Into<String>) -> SchemaError {
    SchemaError::Avro {
        path: path.to_string(),
        message: message.into(),
    }
}

/// `a string`, `an object`, ... for messages about a value of the wrong kind.
pub(super) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The array attribute `key`, which the schema object at `path` must have (`missing` is the
/// message when it does not).
pub(super) fn required_array<'v>(
    object: &'v Map<String, Value>,
    key: &'static str,
    path: &Path<'_>,
    missing: &str,
) -> Result<&'v [Value], SchemaError> {
    match object.get(key) {
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(error(
            &path.key(key),
            format!("`{key}` must be an array, found {}", kind_of(other)),
        )),
        None => Err(error(path, missing)),
    }
}

/// The `aliases` attribute: none when absent or null.
pub(super) fn aliases<'v>(
    object: &'v Map<String, Value>,
    path: &Path<'_>,
) -> Result<&'v [Value], SchemaError> {
    match object.get("aliases") {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(raw)) => Ok(raw),
        Some(other) => Err(error(
            &path.key("aliases"),
            format!(
                "`aliases` must be an array of names, found {}",
                kind_of(other)
            ),
        )),
    }
}

/// The string attribute `key`, if present.
pub(super) fn string<'v>(
    object: &'v Map<String, Value>,
    key: &'static str,
    path: &Path<'_>,
) -> Result<Option<&'v str>, SchemaError> {
    match object.get(key) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(error(
            &path.key(key),
            format!("`{key}` must be a string, found {}", kind_of(other)),
        )),
    }
}

/// The `logicalType` of a primitive or fixed schema object.
pub(super) fn logical(
    object: &Map<String, Value>,
    path: &Path<'_>,
) -> Result<Option<Logical>, SchemaError> {
    let Some(name) = string(object, "logicalType", path)? else {
        return Ok(None);
    };
    let mut logical = Logical {
        name: name.to_owned(),
        precision: None,
        scale: None,
    };
    if logical.name == "decimal" {
        logical.precision = decimal_attribute(object, "precision", path)?;
        logical.scale = Some(decimal_attribute(object, "scale", path)?.unwrap_or(0));
    }
    Ok(Some(logical))
}

fn decimal_attribute(
    object: &Map<String, Value>,
    key: &'static str,
    path: &Path<'_>,
) -> Result<Option<u64>, SchemaError> {
    match object.get(key) {
        None => Ok(None),
        Some(value) => value.as_u64().map(Some).ok_or_else(|| {
            error(
                &path.key(key),
                format!("decimal `{key}` must be a non-negative integer, found {value}"),
            )
        }),
    }
}
