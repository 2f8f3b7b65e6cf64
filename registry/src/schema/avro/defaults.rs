//! Validation and normalization of field defaults, driven by the field's type.
//!
//! Normalizing makes equal defaults spell the same: numbers for `float` and `double` become
//! floating-point JSON (`0` and `0.0` are one default), record defaults keep only the record's
//! fields (a field left out must have a default of its own, as Java and apache-avro require),
//! and object keys are later written sorted. A union default is read with the first
//! branch whose kind fits the JSON value (null, boolean, number, string, array or object);
//! this accepts every default the specification's "first branch" rule accepts and does not
//! search branch combinations, so a hostile schema cannot make validation exponential.

use serde_json::{Map, Number, Value};

use super::{Node, NodeId, Primitive};

/// Why a default does not fit its type, and where inside the default.
#[derive(Debug)]
pub(super) struct DefaultError {
    /// Path inside the default value, e.g. `/items/0`; empty for the value itself.
    pub(super) at: String,
    pub(super) message: String,
}

impl DefaultError {
    fn new(message: impl Into<String>) -> Self {
        DefaultError {
            at: String::new(),
            message: message.into(),
        }
    }

    fn within(mut self, step: &str) -> Self {
        self.at = format!("/{step}{}", self.at);
        self
    }
}

/// The default `value` of a field of type `ty`, validated and normalized.
pub(super) fn normalize(nodes: &[Node], ty: NodeId, value: &Value) -> Result<Value, DefaultError> {
    match &nodes[ty as usize] {
        Node::Primitive { kind, .. } => primitive(*kind, value),
        Node::Array(items) => {
            let Value::Array(elements) = value else {
                return Err(expected("an array", value));
            };
            elements
                .iter()
                .enumerate()
                .map(|(i, element)| {
                    normalize(nodes, *items, element).map_err(|err| err.within(&i.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Node::Map(values) => {
            let Value::Object(entries) = value else {
                return Err(expected("an object", value));
            };
            let mut out = Map::new();
            for (key, entry) in entries {
                let entry = normalize(nodes, *values, entry).map_err(|err| err.within(key))?;
                out.insert(key.clone(), entry);
            }
            Ok(Value::Object(out))
        }
        Node::Union(branches) => {
            let branch = branches
                .iter()
                .copied()
                .find(|&branch| fits(nodes, branch, value))
                .ok_or_else(|| {
                    DefaultError::new(format!("{value} does not match any branch of the union"))
                })?;
            normalize(nodes, branch, value)
        }
        Node::Record(record) => {
            let Value::Object(given) = value else {
                return Err(expected("an object", value));
            };
            let mut out = Map::new();
            for field in &record.fields {
                match given.get(&field.name) {
                    Some(entry) => {
                        let entry = normalize(nodes, field.ty, entry)
                            .map_err(|err| err.within(&field.name))?;
                        out.insert(field.name.clone(), entry);
                    }
                    None if field.default.is_some() => {}
                    None => {
                        return Err(DefaultError::new(format!(
                            "it lacks field `{}` of record `{}`, which has no default",
                            field.name,
                            record.named.name.full()
                        )));
                    }
                }
            }
            Ok(Value::Object(out))
        }
        Node::Enum(enumeration) => match value {
            Value::String(symbol) if enumeration.has_symbol(symbol) => Ok(value.clone()),
            _ => Err(DefaultError::new(format!(
                "{value} is not a symbol of enum `{}`",
                enumeration.named.name.full()
            ))),
        },
        Node::Fixed(_) => match value {
            Value::String(_) => Ok(value.clone()),
            _ => Err(expected("a string", value)),
        },
    }
}

fn expected(what: &str, found: &Value) -> DefaultError {
    DefaultError::new(format!("expected {what}, found {found}"))
}

fn primitive(kind: Primitive, value: &Value) -> Result<Value, DefaultError> {
    match kind {
        Primitive::Null if value.is_null() => Ok(Value::Null),
        Primitive::Boolean if value.is_boolean() => Ok(value.clone()),
        Primitive::Int => match value.as_i64() {
            Some(n) if i32::try_from(n).is_ok() => Ok(Value::from(n)),
            _ => Err(expected("a 32-bit integer", value)),
        },
        Primitive::Long => match value.as_i64() {
            Some(n) => Ok(Value::from(n)),
            None => Err(expected("a 64-bit integer", value)),
        },
        Primitive::Float | Primitive::Double => value
            .as_f64()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| expected("a number", value)),
        Primitive::Bytes | Primitive::String if value.is_string() => Ok(value.clone()),
        _ => Err(expected(kind.name(), value)),
    }
}

/// Whether `value` has the JSON kind that type `ty` reads (without looking inside).
fn fits(nodes: &[Node], ty: NodeId, value: &Value) -> bool {
    match (&nodes[ty as usize], value) {
        (Node::Primitive { kind, .. }, _) => match kind {
            Primitive::Null => value.is_null(),
            Primitive::Boolean => value.is_boolean(),
            Primitive::Int => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            Primitive::Long => value.as_i64().is_some(),
            Primitive::Float | Primitive::Double => value.is_number(),
            Primitive::Bytes | Primitive::String => value.is_string(),
        },
        (Node::Enum(enumeration), Value::String(symbol)) => enumeration.has_symbol(symbol),
        (Node::Fixed(_), Value::String(_))
        | (Node::Array(_), Value::Array(_))
        | (Node::Map(_) | Node::Record(_), Value::Object(_)) => true,
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::super::parser;
    use super::*;

    /// Parses a record with one field `f` of type `ty` and normalizes `default` for it.
    fn normalized(ty: Value, default: Value) -> Result<Value, DefaultError> {
        let schema = parser::parse(&json!({
            "type": "record", "name": "R", "fields": [{"name": "f", "type": ty}]
        }))
        .unwrap();
        let Node::Record(record) = schema.node(schema.root()) else {
            panic!("not a record")
        };
        normalize(&schema.nodes, record.fields[0].ty, &default)
    }

    #[test]
    fn numbers_are_normalized_by_type() {
        assert_eq!(normalized(json!("double"), json!(0)).unwrap(), json!(0.0));
        assert_eq!(normalized(json!("long"), json!(7)).unwrap(), json!(7));
        assert!(normalized(json!("int"), json!(1.5)).is_err());
        assert!(normalized(json!("int"), json!(3_000_000_000_i64)).is_err());
        assert!(normalized(json!("long"), json!("7")).is_err());
    }

    #[test]
    fn union_defaults_use_the_first_fitting_branch() {
        assert_eq!(
            normalized(json!(["null", "double"]), json!(1)).unwrap(),
            json!(1.0)
        );
        assert_eq!(
            normalized(json!(["null", "int"]), json!(null)).unwrap(),
            json!(null)
        );
        assert!(normalized(json!(["null", "int"]), json!("x")).is_err());
    }

    #[test]
    fn record_defaults_keep_known_fields_and_need_the_others() {
        let ty = json!({"type": "record", "name": "In", "fields": [
            {"name": "a", "type": "int"},
            {"name": "b", "type": "string", "default": "x"}
        ]});
        assert_eq!(
            normalized(ty.clone(), json!({"a": 1, "junk": true})).unwrap(),
            json!({"a": 1})
        );
        let err = normalized(ty.clone(), json!({"a": "one"})).unwrap_err();
        assert_eq!(err.at, "/a");
        // Leaving out a field that has no default of its own is an error (as in Java and
        // apache-avro): data read with this default would have no value for it.
        let err = normalized(ty, json!({"b": "y"})).unwrap_err();
        assert!(err.message.contains("`a`"), "{}", err.message);
    }

    #[test]
    fn errors_inside_defaults_have_paths() {
        let err = normalized(
            json!({"type": "array", "items": {"type": "map", "values": "int"}}),
            json!([{"k": 1}, {"k": "no"}]),
        )
        .unwrap_err();
        assert_eq!(err.at, "/1/k");
    }

    #[test]
    fn enum_defaults_must_be_symbols() {
        let ty = json!({"type": "enum", "name": "E", "symbols": ["A", "B"]});
        assert_eq!(normalized(ty.clone(), json!("B")).unwrap(), json!("B"));
        assert!(normalized(ty, json!("C")).is_err());
    }
}
