//! Checks a JSON payload against a message through the proto3 JSON mapping, reporting every
//! mismatch with its location in the payload (`#/items/0/sku`).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::Value;

use super::ProtobufSchema;

/// Deeper payloads are reported, not walked.
const MAX_DEPTH: usize = 128;

/// One reason a payload does not match: where in it, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mismatch {
    /// A JSON pointer into the payload, `#` for the whole.
    pub(crate) location: String,
    /// What is wrong.
    pub(crate) message: String,
}

impl ProtobufSchema {
    /// The message `name` names (its full name, or its name relative to the file's package),
    /// or the file's first message.
    pub(crate) fn message(&self, name: Option<&str>) -> Result<MessageDescriptor, String> {
        let pool = self.file.parent_pool();
        match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => {
                let name = name.trim_start_matches('.');
                let package = self.file.package_name();
                pool.get_message_by_name(name)
                    .or_else(|| pool.get_message_by_name(&format!("{package}.{name}")))
                    .ok_or_else(|| format!("the schema has no message `{name}`"))
            }
            None => self
                .file
                .messages()
                .next()
                .ok_or_else(|| "the schema declares no message".to_owned()),
        }
    }

    /// Every way `payload` fails to be `message` in the proto3 JSON mapping.
    pub(crate) fn validate_json(
        &self,
        message: Option<&str>,
        payload: &Value,
    ) -> Result<Vec<Mismatch>, String> {
        let descriptor = self.message(message)?;
        let mut out = Vec::new();
        check_message(&descriptor, payload, "#", &mut out, 0);
        if out.is_empty()
            && let Err(err) = DynamicMessage::deserialize(descriptor, payload)
        {
            out.push(Mismatch {
                location: "#".to_owned(),
                message: err.to_string(),
            });
        }
        Ok(out)
    }
}

fn mismatch(out: &mut Vec<Mismatch>, location: &str, message: String) {
    out.push(Mismatch {
        location: location.to_owned(),
        message,
    });
}

/// Escapes a key for a JSON pointer.
fn child(location: &str, key: &str) -> String {
    format!("{location}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn check_message(
    descriptor: &MessageDescriptor,
    value: &Value,
    location: &str,
    out: &mut Vec<Mismatch>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return mismatch(
            out,
            location,
            format!("nested deeper than {MAX_DEPTH} levels"),
        );
    }
    if descriptor.full_name().starts_with("google.protobuf.") {
        // Well-known types have their own JSON forms (timestamps as strings, Struct as
        // any object, wrappers as bare values): prost-reflect knows them.
        if let Err(err) = DynamicMessage::deserialize(descriptor.clone(), value) {
            mismatch(out, location, err.to_string());
        }
        return;
    }
    let Value::Object(map) = value else {
        return mismatch(
            out,
            location,
            format!(
                "expected an object for message `{}`",
                descriptor.full_name()
            ),
        );
    };
    let mut oneofs_set: Vec<(String, String)> = Vec::new();
    for (key, item) in map {
        let here = child(location, key);
        let field = descriptor
            .get_field_by_json_name(key)
            .or_else(|| descriptor.get_field_by_name(key));
        let Some(field) = field else {
            mismatch(
                out,
                &here,
                format!("message `{}` has no field `{key}`", descriptor.full_name()),
            );
            continue;
        };
        if item.is_null() && !is_value_type(&field) {
            continue;
        }
        if let Some(oneof) = field.containing_oneof().filter(|o| !o.is_synthetic()) {
            if let Some((_, other)) = oneofs_set.iter().find(|(name, _)| name == oneof.name()) {
                mismatch(
                    out,
                    &here,
                    format!(
                        "`{key}` and `{other}` are both set, but oneof `{}` holds one",
                        oneof.name()
                    ),
                );
            } else {
                oneofs_set.push((oneof.name().to_owned(), key.clone()));
            }
        }
        check_field(&field, item, &here, out, depth);
    }
}

/// Whether `null` is a value of the field rather than its absence (`google.protobuf.Value`).
fn is_value_type(field: &FieldDescriptor) -> bool {
    field
        .kind()
        .as_message()
        .is_some_and(|m| m.full_name() == "google.protobuf.Value")
}

fn check_field(
    field: &FieldDescriptor,
    value: &Value,
    location: &str,
    out: &mut Vec<Mismatch>,
    depth: usize,
) {
    if field.is_map() {
        let Value::Object(map) = value else {
            return mismatch(
                out,
                location,
                "expected an object for a map field".to_owned(),
            );
        };
        let Some(entry) = field.kind().as_message().cloned() else {
            return;
        };
        let (Some(key_field), Some(value_field)) = (entry.get_field(1), entry.get_field(2)) else {
            return;
        };
        for (key, item) in map {
            let here = child(location, key);
            if let Err(message) = check_map_key(&key_field.kind(), key) {
                mismatch(out, &here, message);
            }
            check_single(&value_field.kind(), item, &here, out, depth + 1);
        }
    } else if field.is_list() {
        let Value::Array(items) = value else {
            return mismatch(
                out,
                location,
                "expected an array for a repeated field".to_owned(),
            );
        };
        for (index, item) in items.iter().enumerate() {
            check_single(
                &field.kind(),
                item,
                &format!("{location}/{index}"),
                out,
                depth + 1,
            );
        }
    } else {
        check_single(&field.kind(), value, location, out, depth + 1);
    }
}

fn check_map_key(kind: &Kind, key: &str) -> Result<(), String> {
    let ok = match kind {
        Kind::String => true,
        Kind::Bool => key == "true" || key == "false",
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => key.parse::<i32>().is_ok(),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => key.parse::<i64>().is_ok(),
        Kind::Uint32 | Kind::Fixed32 => key.parse::<u32>().is_ok(),
        Kind::Uint64 | Kind::Fixed64 => key.parse::<u64>().is_ok(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("`{key}` is not a valid {kind:?} map key"))
    }
}

fn check_single(kind: &Kind, value: &Value, location: &str, out: &mut Vec<Mismatch>, depth: usize) {
    let problem = match kind {
        Kind::Message(message) => return check_message(message, value, location, out, depth),
        Kind::Enum(enumeration) => match value {
            Value::String(name) if enumeration.get_value_by_name(name).is_some() => None,
            Value::String(name) => Some(format!(
                "`{name}` is not a value of enum `{}`",
                enumeration.full_name()
            )),
            Value::Number(n) if n.as_i64().and_then(|n| i32::try_from(n).ok()).is_some() => None,
            _ => Some(format!(
                "expected a value name of enum `{}`",
                enumeration.full_name()
            )),
        },
        Kind::Bool => (!value.is_boolean()).then(|| "expected a boolean".to_owned()),
        Kind::String => (!value.is_string()).then(|| "expected a string".to_owned()),
        Kind::Bytes => match value {
            Value::String(text)
                if STANDARD.decode(text).is_ok() || URL_SAFE.decode(text).is_ok() =>
            {
                None
            }
            _ => Some("expected a base64 string".to_owned()),
        },
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            integer(value, |n| i32::try_from(n).is_ok(), "a 32-bit integer")
        }
        Kind::Uint32 | Kind::Fixed32 => integer(
            value,
            |n| u32::try_from(n).is_ok(),
            "an unsigned 32-bit integer",
        ),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            integer(value, |n| i64::try_from(n).is_ok(), "a 64-bit integer")
        }
        Kind::Uint64 | Kind::Fixed64 => integer(
            value,
            |n| u64::try_from(n).is_ok(),
            "an unsigned 64-bit integer",
        ),
        Kind::Float | Kind::Double => {
            let ok = match value {
                Value::Number(_) => true,
                Value::String(text) => {
                    matches!(text.as_str(), "NaN" | "Infinity" | "-Infinity")
                        || text.parse::<f64>().is_ok()
                }
                _ => false,
            };
            (!ok).then(|| "expected a number".to_owned())
        }
    };
    if let Some(message) = problem {
        mismatch(out, location, message);
    }
}

/// An integer (as a JSON number without fraction, or a string) that `fits`.
fn integer(value: &Value, fits: impl Fn(i128) -> bool, what: &str) -> Option<String> {
    let parsed: Option<i128> = match value {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1e38)
                    .map(|f| f as i128)
            }),
        Value::String(text) => text.trim().parse::<i128>().ok(),
        _ => None,
    };
    match parsed {
        Some(n) if fits(n) => None,
        _ => Some(format!("expected {what}")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::super::parse;

    const ORDER: &str = "syntax = \"proto3\";\npackage shop;\nimport \"google/protobuf/timestamp.proto\";\n\
        message Order { string id = 1; repeated Line lines = 2; map<string, int32> counts = 3;\n\
          Status status = 4; google.protobuf.Timestamp at = 5; oneof pay { string card = 6; int64 cash = 7; } }\n\
        message Line { string sku = 1; uint32 quantity = 2; bytes blob = 3; }\n\
        enum Status { UNKNOWN = 0; PLACED = 1; }";

    #[test]
    fn a_conforming_payload_has_no_errors() {
        let (schema, _) = parse(ORDER, &[]).unwrap();
        let payload = json!({"id": "o1", "lines": [{"sku": "a", "quantity": 2, "blob": "AAE="}],
            "counts": {"a": 1}, "status": "PLACED", "at": "2024-01-01T00:00:00Z", "cash": "12"});
        assert_eq!(schema.validate_json(None, &payload).unwrap(), vec![]);
        let line = json!({"sku": "a", "quantity": 1});
        assert_eq!(schema.validate_json(Some("Line"), &line).unwrap(), vec![]);
    }

    #[test]
    fn every_mismatch_has_its_field_path() {
        let (schema, _) = parse(ORDER, &[]).unwrap();
        let payload = json!({"id": 5, "lines": [{"sku": "a", "quantity": -1}, {"nope": 1}],
            "counts": {"a": "x"}, "status": "GONE", "at": "yesterday", "card": "c", "cash": 1});
        let locations: Vec<String> = schema
            .validate_json(Some("shop.Order"), &payload)
            .unwrap()
            .into_iter()
            .map(|m| m.location)
            .collect();
        for expected in [
            "#/id",
            "#/lines/0/quantity",
            "#/lines/1/nope",
            "#/counts/a",
            "#/status",
            "#/at",
            "#/cash",
        ] {
            assert!(
                locations.contains(&expected.to_owned()),
                "{expected} in {locations:?}"
            );
        }
    }

    #[test]
    fn an_unknown_message_is_an_error() {
        let (schema, _) = parse(ORDER, &[]).unwrap();
        assert!(schema.validate_json(Some("Nope"), &json!({})).is_err());
    }
}
