//! JSON payloads as CEL values and back, the way Confluent's clients bind a decoded record:
//! objects as maps with string keys, arrays as lists, integers as `int` (`uint` above
//! `i64::MAX`), other numbers as `double`.

use std::collections::HashMap;
use std::sync::Arc;

use cel::Value as Cel;
use cel::objects::{Key, Map};
use serde_json::{Number, Value};

/// A JSON value as CEL binds it.
pub(super) fn to_cel(value: &Value) -> Cel {
    match value {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => number(n),
        Value::String(s) => Cel::String(Arc::new(s.clone())),
        Value::Array(items) => Cel::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(fields) => {
            let map: HashMap<Key, Cel> = fields
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            Cel::Map(Map { map: Arc::new(map) })
        }
    }
}

fn number(n: &Number) -> Cel {
    if let Some(i) = n.as_i64() {
        Cel::Int(i)
    } else if let Some(u) = n.as_u64() {
        Cel::UInt(u)
    } else {
        Cel::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// A JSON number as a CEL `double`, for a field the schema declares floating-point (JSON
/// text may write `2` for the double `2.0`).
pub(super) fn to_cel_double(value: &Value) -> Cel {
    match value {
        Value::Number(n) => Cel::Float(n.as_f64().unwrap_or(f64::NAN)),
        other => to_cel(other),
    }
}

/// A CEL result as JSON; `None` for what JSON cannot hold (bytes, non-finite doubles,
/// timestamps, functions, opaque values).
pub(super) fn to_json(value: &Cel) -> Option<Value> {
    Some(match value {
        Cel::Null => Value::Null,
        Cel::Bool(b) => Value::Bool(*b),
        Cel::Int(i) => Value::from(*i),
        Cel::UInt(u) => Value::from(*u),
        Cel::Float(f) => Value::Number(Number::from_f64(*f)?),
        Cel::String(s) => Value::String(s.as_str().to_owned()),
        Cel::List(items) => Value::Array(items.iter().map(to_json).collect::<Option<_>>()?),
        Cel::Map(map) => Value::Object(
            map.map
                .iter()
                .map(|(key, v)| Some((key_text(key), to_json(v)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

fn key_text(key: &Key) -> String {
    match key {
        Key::String(s) => s.as_str().to_owned(),
        Key::Int(i) => i.to_string(),
        Key::Uint(u) => u.to_string(),
        Key::Bool(b) => b.to_string(),
    }
}

/// Whether a guard's result lets the rule's body run: Python's truthiness, which Confluent's
/// Python client applies (`false`, `null`, zero and empty values stop it).
pub(super) fn truthy(value: &Cel) -> bool {
    match value {
        Cel::Bool(b) => *b,
        Cel::Null => false,
        Cel::Int(i) => *i != 0,
        Cel::UInt(u) => *u != 0,
        Cel::Float(f) => *f != 0.0,
        Cel::String(s) => !s.is_empty(),
        Cel::Bytes(b) => !b.is_empty(),
        Cel::List(l) => !l.is_empty(),
        Cel::Map(m) => !m.map.is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_goes_to_cel_and_back() {
        let value = json!({"a": [1, 2.5, "x", null, true], "b": {"c": 18446744073709551615u64}});
        assert_eq!(to_json(&to_cel(&value)), Some(value));
        assert_eq!(to_cel_double(&json!(2)), Cel::Float(2.0));
        assert_eq!(to_json(&Cel::Float(f64::NAN)), None);
    }

    #[test]
    fn guards_follow_truthiness() {
        assert!(truthy(&Cel::Bool(true)));
        assert!(!truthy(&Cel::Null));
        assert!(!truthy(&Cel::Int(0)));
        assert!(truthy(&to_cel(&json!("x"))));
        assert!(!truthy(&to_cel(&json!([]))));
    }
}
