//! Checks a JSON payload against a registered schema: a JSON document against a JSON Schema,
//! an Avro datum in Avro's JSON encoding against an Avro schema, or a message in the proto3
//! JSON mapping against a PROTOBUF schema, with every error's location in the payload.

use std::collections::HashMap;

use serde_json::Value;

use crate::schema::{Draft, Parsed, SchemaType, json_validator};

use super::CachedSchema;

const MAX_DEPTH: usize = 256;

/// One reason a payload does not conform.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PayloadError {
    /// A JSON pointer into the payload.
    pub location: String,
    /// What is wrong there.
    pub message: String,
}

/// Why a payload could not be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum PayloadCheckError {
    /// The stored schema is not what its type says (a server-side fault).
    #[error("{0}")]
    Corrupt(String),
    /// The request names something the schema does not have (a PROTOBUF message).
    #[error("{0}")]
    Request(String),
    /// No validator can be built from the schema.
    #[error("{0}")]
    Schema(String),
}

/// Every reason `payload` does not conform to `schema` (none: it conforms).
pub fn validate_payload(
    schema: &CachedSchema,
    message: Option<&str>,
    payload: &Value,
) -> Result<Vec<PayloadError>, PayloadCheckError> {
    match schema.schema_type {
        SchemaType::Json => validate_json(schema, payload),
        SchemaType::Avro => {
            let root: Value = serde_json::from_str(&schema.resolved).map_err(|err| {
                PayloadCheckError::Corrupt(format!("stored schema is not JSON: {err}"))
            })?;
            let mut errors = Vec::new();
            let mut names = HashMap::new();
            avro(&root, payload, "#", None, &mut names, &mut errors, 0);
            Ok(errors)
        }
        SchemaType::Protobuf => {
            let Parsed::Protobuf(proto) = schema.schema.parsed() else {
                return Err(PayloadCheckError::Corrupt(
                    "a PROTOBUF schema did not parse as one".to_owned(),
                ));
            };
            Ok(proto
                .validate_json(message, payload)
                .map_err(PayloadCheckError::Request)?
                .into_iter()
                .map(|m| PayloadError {
                    location: m.location,
                    message: m.message,
                })
                .collect())
        }
    }
}

fn validate_json(
    schema: &CachedSchema,
    payload: &Value,
) -> Result<Vec<PayloadError>, PayloadCheckError> {
    // References are embedded in the resolved text, so nothing is fetched.
    let root: Value = serde_json::from_str(&schema.resolved)
        .map_err(|err| PayloadCheckError::Corrupt(format!("stored schema is not JSON: {err}")))?;
    let draft = schema.schema.draft().unwrap_or(Draft::Draft7);
    let validator = json_validator(&root, draft)
        .map_err(|err| PayloadCheckError::Schema(format!("cannot build a validator: {err}")))?;
    Ok(validator
        .iter_errors(payload)
        .map(|err| PayloadError {
            location: format!("#{}", err.instance_path()),
            message: err.to_string(),
        })
        .collect())
}

const PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

fn qualify(name: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) if !name.contains('.') && !ns.is_empty() => format!("{ns}.{name}"),
        _ => name.to_owned(),
    }
}

/// The full name and namespace of a named type definition.
fn definition_name(
    map: &serde_json::Map<String, Value>,
    enclosing: Option<&str>,
) -> (String, Option<String>) {
    let name = map.get("name").and_then(Value::as_str).unwrap_or("");
    if let Some((ns, _)) = name.rsplit_once('.') {
        return (name.to_owned(), Some(ns.to_owned()));
    }
    let ns = match map.get("namespace").and_then(Value::as_str) {
        Some(ns) => Some(ns.to_owned()),
        None => enclosing.map(str::to_owned),
    };
    (qualify(name, ns.as_deref()), ns)
}

/// The name a union branch is selected by in Avro's JSON encoding.
fn branch_name(schema: &Value, namespace: Option<&str>) -> String {
    match schema {
        Value::String(name) if PRIMITIVES.contains(&name.as_str()) => name.clone(),
        Value::String(name) => qualify(name, namespace),
        Value::Object(map) => match map.get("type").and_then(Value::as_str) {
            Some("record" | "error" | "enum" | "fixed") => definition_name(map, namespace).0,
            Some(other) => other.to_owned(),
            None => String::new(),
        },
        _ => String::new(),
    }
}

fn fail(errors: &mut Vec<PayloadError>, location: &str, message: impl Into<String>) {
    errors.push(PayloadError {
        location: location.to_owned(),
        message: message.into(),
    });
}

/// Checks `datum` (Avro JSON encoding) against `schema`, appending every error.
fn avro<'s>(
    schema: &'s Value,
    datum: &Value,
    location: &str,
    namespace: Option<&str>,
    names: &mut HashMap<String, &'s Value>,
    errors: &mut Vec<PayloadError>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        fail(errors, location, "the payload is nested too deeply");
        return;
    }
    match schema {
        Value::String(name) if PRIMITIVES.contains(&name.as_str()) => {
            primitive(name, datum, location, errors);
        }
        Value::String(name) => match names.get(&qualify(name, namespace)).or(names.get(name)) {
            Some(definition) => {
                let definition: &'s Value = definition;
                avro(
                    definition,
                    datum,
                    location,
                    namespace,
                    names,
                    errors,
                    depth + 1,
                );
            }
            None => fail(errors, location, format!("unknown Avro type {name}")),
        },
        Value::Array(branches) => union(branches, datum, location, namespace, names, errors, depth),
        Value::Object(map) => {
            let kind = map.get("type");
            match kind.and_then(Value::as_str) {
                Some("record" | "error") => {
                    let (full, own) = definition_name(map, namespace);
                    names.insert(full, schema);
                    let Some(object) = datum.as_object() else {
                        fail(errors, location, "expected an object for a record");
                        return;
                    };
                    let fields = map.get("fields").and_then(Value::as_array);
                    let mut known = Vec::new();
                    for field in fields.into_iter().flatten() {
                        let Some(name) = field.get("name").and_then(Value::as_str) else {
                            continue;
                        };
                        known.push(name);
                        let at = format!("{location}/{name}");
                        match (object.get(name), field.get("type")) {
                            (Some(value), Some(field_type)) => avro(
                                field_type,
                                value,
                                &at,
                                own.as_deref(),
                                names,
                                errors,
                                depth + 1,
                            ),
                            (None, _) if field.get("default").is_some() => {}
                            (None, _) => {
                                fail(errors, &at, format!("missing required field {name}"))
                            }
                            (Some(_), None) => {}
                        }
                    }
                    for key in object.keys() {
                        if !known.contains(&key.as_str()) {
                            fail(
                                errors,
                                &format!("{location}/{key}"),
                                format!("unknown field {key}"),
                            );
                        }
                    }
                }
                Some("enum") => {
                    let (full, _) = definition_name(map, namespace);
                    names.insert(full, schema);
                    let symbols = map.get("symbols").and_then(Value::as_array);
                    let ok = datum
                        .as_str()
                        .is_some_and(|s| symbols.into_iter().flatten().any(|sym| sym == s));
                    if !ok {
                        fail(
                            errors,
                            location,
                            format!("{datum} is not a symbol of the enum"),
                        );
                    }
                }
                Some("fixed") => {
                    let (full, _) = definition_name(map, namespace);
                    names.insert(full, schema);
                    let size = map.get("size").and_then(Value::as_u64).unwrap_or(0);
                    let ok = datum
                        .as_str()
                        .is_some_and(|s| u64::try_from(s.chars().count()).ok() == Some(size));
                    if !ok {
                        fail(
                            errors,
                            location,
                            format!("expected a string of {size} bytes for a fixed"),
                        );
                    }
                }
                Some("array") => match (datum.as_array(), map.get("items")) {
                    (Some(items), Some(item_type)) => {
                        for (i, item) in items.iter().enumerate() {
                            let at = format!("{location}/{i}");
                            avro(item_type, item, &at, namespace, names, errors, depth + 1);
                        }
                    }
                    _ => fail(errors, location, "expected an array"),
                },
                Some("map") => match (datum.as_object(), map.get("values")) {
                    (Some(entries), Some(value_type)) => {
                        for (key, value) in entries {
                            let at = format!("{location}/{key}");
                            avro(value_type, value, &at, namespace, names, errors, depth + 1);
                        }
                    }
                    _ => fail(errors, location, "expected an object for a map"),
                },
                Some(_) | None => match kind {
                    Some(inner) => {
                        avro(inner, datum, location, namespace, names, errors, depth + 1)
                    }
                    None => fail(errors, location, "schema has no type"),
                },
            }
        }
        _ => fail(errors, location, "unsupported schema"),
    }
}

fn union<'s>(
    branches: &'s [Value],
    datum: &Value,
    location: &str,
    namespace: Option<&str>,
    names: &mut HashMap<String, &'s Value>,
    errors: &mut Vec<PayloadError>,
    depth: usize,
) {
    if datum.is_null() {
        if !branches.iter().any(|b| b == "null") {
            fail(errors, location, "null is not a branch of the union");
        }
        return;
    }
    let Some((name, value)) = datum
        .as_object()
        .filter(|object| object.len() == 1)
        .and_then(|object| object.iter().next())
    else {
        fail(
            errors,
            location,
            "a non-null union value must be an object with one key naming the branch",
        );
        return;
    };
    match branches.iter().find(|b| branch_name(b, namespace) == *name) {
        Some(branch) => {
            let at = format!("{location}/{name}");
            avro(branch, value, &at, namespace, names, errors, depth + 1);
        }
        None => fail(
            errors,
            location,
            format!("{name} is not a branch of the union"),
        ),
    }
}

fn primitive(name: &str, datum: &Value, location: &str, errors: &mut Vec<PayloadError>) {
    let ok = match name {
        "null" => datum.is_null(),
        "boolean" => datum.is_boolean(),
        "int" => datum.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        "long" => datum.is_i64(),
        "float" | "double" => datum.is_number(),
        "bytes" | "string" => datum.is_string(),
        _ => false,
    };
    if !ok {
        fail(errors, location, format!("expected {name}, found {datum}"));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(schema: &str, datum: Value) -> Vec<PayloadError> {
        let schema: Value = serde_json::from_str(schema).unwrap();
        let mut errors = Vec::new();
        avro(
            &schema,
            &datum,
            "#",
            None,
            &mut HashMap::new(),
            &mut errors,
            0,
        );
        errors
    }

    #[test]
    fn avro_record_errors_have_locations() {
        let schema = r#"{"type":"record","name":"Order","fields":[
            {"name":"id","type":"string"},
            {"name":"qty","type":"int"},
            {"name":"note","type":["null","string"],"default":null}]}"#;
        assert!(check(schema, json!({"id":"a","qty":1,"note":{"string":"x"}})).is_empty());
        let errors = check(schema, json!({"qty":"many","note":"x"}));
        let locations: Vec<&str> = errors.iter().map(|e| e.location.as_str()).collect();
        assert_eq!(locations, ["#/id", "#/qty", "#/note"]);
    }
}
