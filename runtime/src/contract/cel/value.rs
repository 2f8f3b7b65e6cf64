//! JSON payloads as CEL values and back, the way Confluent's clients bind a decoded record:
//! objects as maps with string keys, arrays as lists, integers as `int` (`uint` above
//! `i64::MAX`), other numbers as `double`.

use std::collections::HashMap;

use cel::Value as Cel;
use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt,
};
use cel::common::value::Val;
use cel::objects::Key;
use serde_json::{Number, Value};

/// A JSON value as CEL binds it, borrowing its strings.
pub(super) fn to_val(value: &Value) -> Box<dyn Val + '_> {
    match value {
        Value::Null => Box::new(CelNull),
        Value::Bool(b) => Box::new(CelBool::from(*b)),
        Value::Number(n) => number(n),
        Value::String(s) => Box::new(CelString::from(s.as_str())),
        Value::Array(items) => {
            Box::new(CelList::from(items.iter().map(to_val).collect::<Vec<_>>()))
        }
        Value::Object(fields) => Box::new(CelMap::from(
            fields
                .iter()
                .map(|(k, v)| (CelMapKey::String(CelString::from(k.as_str())), to_val(v)))
                .collect::<HashMap<_, _>>(),
        )),
    }
}

fn number(n: &Number) -> Box<dyn Val + 'static> {
    if let Some(i) = n.as_i64() {
        Box::new(CelInt::from(i))
    } else if let Some(u) = n.as_u64() {
        Box::new(CelUInt::from(u))
    } else {
        Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN)))
    }
}

/// A JSON number as a CEL `double`, for a field the schema declares floating-point (JSON
/// text may write `2` for the double `2.0`).
pub(super) fn to_val_double(value: &Value) -> Box<dyn Val + '_> {
    match value {
        Value::Number(n) => Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN))),
        other => to_val(other),
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

    fn through_cel(value: &Value, bind: fn(&Value) -> Box<dyn Val + '_>) -> Cel {
        let env = std::sync::Arc::new(cel::Env::stdlib());
        let mut context = cel::Context::with_env(env.clone());
        context.add_variable_as_val("x", bind(value));
        env.compile("x").unwrap().execute(&context).unwrap()
    }

    #[test]
    fn json_goes_to_cel_and_back() {
        let value = json!({"a": [1, 2.5, "x", null, true], "b": {"c": 18446744073709551615u64}});
        assert_eq!(to_json(&through_cel(&value, to_val)), Some(value));
        assert_eq!(through_cel(&json!(2), to_val_double), Cel::Float(2.0));
        assert_eq!(to_json(&Cel::Float(f64::NAN)), None);
    }

    #[test]
    fn guards_follow_truthiness() {
        assert!(truthy(&Cel::Bool(true)));
        assert!(!truthy(&Cel::Null));
        assert!(!truthy(&Cel::Int(0)));
        assert!(truthy(&through_cel(&json!("x"), to_val)));
        assert!(!truthy(&through_cel(&json!([]), to_val)));
    }
}
