//! Option values in protobuf text format: scalars, escaped strings and bytes, enum value
//! names, and message literals `{ key: value, ... }` spread over lines.

use prost_reflect::{DynamicMessage, Kind, MapKey, Value};

use super::indented;

/// Adds `label = value` to `entries`, once per element for a list.
pub(super) fn push_entries(
    entries: &mut Vec<(String, String)>,
    key: String,
    label: String,
    kind: &Kind,
    value: &Value,
) {
    match value {
        Value::List(items) => {
            for item in items {
                entries.push((key.clone(), format!("{label} = {}", literal(kind, item, 0))));
            }
        }
        _ => entries.push((key, format!("{label} = {}", literal(kind, value, 0)))),
    }
}

/// An option value in protobuf text format.
fn literal(kind: &Kind, value: &Value, depth: usize) -> String {
    match value {
        Value::Bool(b) => b.to_string(),
        Value::I32(n) => n.to_string(),
        Value::I64(n) => n.to_string(),
        Value::U32(n) => n.to_string(),
        Value::U64(n) => n.to_string(),
        Value::F32(n) => float(f64::from(*n)),
        Value::F64(n) => float(*n),
        Value::String(s) => format!("\"{}\"", escape(s)),
        Value::Bytes(bytes) => format!("\"{}\"", escape_bytes(bytes)),
        Value::EnumNumber(number) => kind
            .as_enum()
            .and_then(|e| e.get_value(*number))
            .map_or_else(|| number.to_string(), |v| v.name().to_owned()),
        Value::Message(message) => aggregate(message, depth + 1),
        Value::List(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|item| literal(kind, item, depth + 1))
                .collect();
            let mut out = String::from("[\n");
            indented(&mut out, &parts.join(",\n"));
            out.push(']');
            out
        }
        Value::Map(map) => {
            let mut pairs: Vec<(&MapKey, &Value)> = map.iter().collect();
            pairs.sort_by_key(|(key, _)| map_key(key));
            let value_kind = kind
                .as_message()
                .and_then(|entry| entry.get_field(2))
                .map(|f| f.kind());
            let parts: Vec<String> = pairs
                .into_iter()
                .map(|(key, value)| {
                    let value = value_kind
                        .as_ref()
                        .map_or_else(String::new, |k| literal(k, value, depth + 1));
                    format!("{{\n  key: {},\n  value: {value}\n}}", map_key(key))
                })
                .collect();
            let mut out = String::from("[\n");
            indented(&mut out, &parts.join(",\n"));
            out.push(']');
            out
        }
    }
}

fn map_key(key: &MapKey) -> String {
    match key {
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(n) => n.to_string(),
        MapKey::I64(n) => n.to_string(),
        MapKey::U32(n) => n.to_string(),
        MapKey::U64(n) => n.to_string(),
        MapKey::String(s) => format!("\"{}\"", escape(s)),
    }
}

/// A message literal `{ key: value, ... }` spread over lines.
fn aggregate(message: &DynamicMessage, depth: usize) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (field, value) in message.fields() {
        parts.push(format!(
            "{}: {}",
            field.name(),
            literal(&field.kind(), value, depth)
        ));
    }
    for (extension, value) in message.extensions() {
        parts.push(format!(
            "[{}]: {}",
            extension.full_name(),
            literal(&extension.kind(), value, depth)
        ));
    }
    if parts.is_empty() {
        return "{}".to_owned();
    }
    let mut out = String::from("{\n");
    indented(&mut out, &parts.join(",\n"));
    out.push('}');
    out
}

fn float(n: f64) -> String {
    if n.is_nan() {
        "nan".to_owned()
    } else if n.is_infinite() {
        if n > 0.0 { "inf" } else { "-inf" }.to_owned()
    } else {
        format!("{n:?}")
    }
}

/// Escapes a string for a double-quoted literal, as Confluent does.
pub(super) fn escape(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        match c {
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push_str(&format!("\\{:03o}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// Escapes bytes for a double-quoted literal: printable ASCII as is, the rest in octal.
fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\'' => out.push_str("\\'"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out
}
