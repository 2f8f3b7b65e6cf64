//! Avro unions and field defaults.

use serde_json::Value;

/// What tells union branches apart: the type, or the name of a named type.
pub(super) fn branch_key(avro: &Value) -> String {
    match avro {
        Value::String(name) => name.clone(),
        Value::Object(object) => {
            let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
            match object.get("name").and_then(Value::as_str) {
                Some(name) if matches!(kind, "record" | "enum" | "fixed") => name.to_owned(),
                _ => kind.to_owned(),
            }
        }
        other => other.to_string(),
    }
}

/// A field default in Avro's JSON form: bytes (serde's array of byte values) become the
/// string of code points 0-255 Avro uses; a union's default is of its first branch.
pub(super) fn avro_default(avro: &Value, default: &Value) -> Value {
    let avro = match avro {
        Value::Array(branches) => branches.first().unwrap_or(&Value::Null),
        other => other,
    };
    let kind = match avro {
        Value::String(kind) => kind.as_str(),
        Value::Object(object) => object.get("type").and_then(Value::as_str).unwrap_or(""),
        _ => "",
    };
    match (kind, default) {
        ("bytes" | "fixed", Value::Array(items)) => {
            let text: Option<String> = items
                .iter()
                .map(|item| {
                    item.as_u64()
                        .and_then(|n| u8::try_from(n).ok())
                        .map(char::from)
                })
                .collect();
            text.map_or_else(|| default.clone(), Value::String)
        }
        _ => default.clone(),
    }
}

/// Whether a union admits `null`.
pub(super) fn is_nullable(avro: &Value) -> bool {
    avro.as_array()
        .is_some_and(|branches| branches.iter().any(|b| b.as_str() == Some("null")))
}

/// Puts `"null"` first in a union so that `null` is a valid default.
pub(super) fn null_first(avro: Value) -> Value {
    match avro {
        Value::Array(branches) => {
            let (mut nulls, others): (Vec<Value>, Vec<Value>) = branches
                .into_iter()
                .partition(|b| b.as_str() == Some("null"));
            nulls.extend(others);
            Value::Array(nulls)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_goes_first() {
        assert_eq!(
            null_first(json!(["string", "null"])),
            json!(["null", "string"])
        );
    }
}
