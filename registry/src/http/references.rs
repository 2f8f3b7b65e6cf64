//! Schema references across subjects: Avro named types are resolved by inlining each
//! referenced definition at its first use, so the schema core parses one self-contained
//! document; JSON Schema `$ref`s keep their names and are resolved by name when validating.

use std::collections::HashMap;

use serde_json::{Map, Value};

const PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];
const NAMED: [&str; 4] = ["record", "error", "enum", "fixed"];
const MAX_DEPTH: usize = 128;

/// The full name of a named Avro type definition, if `value` is one.
fn full_name(value: &Value, enclosing: Option<&str>) -> Option<(String, Option<String>)> {
    let map = value.as_object()?;
    let kind = map.get("type")?.as_str()?;
    if !NAMED.contains(&kind) {
        return None;
    }
    let name = map.get("name")?.as_str()?;
    if let Some((namespace, _)) = name.rsplit_once('.') {
        return Some((name.to_owned(), Some(namespace.to_owned())));
    }
    let namespace = match map.get("namespace").and_then(Value::as_str) {
        Some("") => None,
        Some(ns) => Some(ns.to_owned()),
        None => enclosing.map(str::to_owned),
    };
    let full = match &namespace {
        Some(ns) => format!("{ns}.{name}"),
        None => name.to_owned(),
    };
    Some((full, namespace))
}

/// Inlines the referenced Avro definitions (`referenced`: resolved schema texts) into `text`
/// at the first place each is used by name, and returns the self-contained schema.
pub(crate) fn inline_avro(text: &str, referenced: &[&str]) -> Result<String, String> {
    let mut root: Value =
        serde_json::from_str(text).map_err(|err| format!("malformed JSON: {err}"))?;
    let mut pending: HashMap<String, Value> = HashMap::new();
    for (index, reference) in referenced.iter().enumerate() {
        let mut value: Value = serde_json::from_str(reference)
            .map_err(|err| format!("reference {index} is not JSON: {err}"))?;
        let Some((full, namespace)) = full_name(&value, None) else {
            return Err(format!("reference {index} is not a named Avro type"));
        };
        // Qualify the name so the definition keeps its identity wherever it lands.
        if let (Some(map), Some(_)) = (value.as_object_mut(), namespace) {
            map.insert("name".to_owned(), Value::String(full.clone()));
            map.remove("namespace");
        }
        pending.insert(full, value);
    }
    walk(&mut root, None, &mut pending, 0);
    serde_json::to_string(&root).map_err(|err| err.to_string())
}

fn walk(
    value: &mut Value,
    namespace: Option<&str>,
    pending: &mut HashMap<String, Value>,
    depth: usize,
) {
    if depth > MAX_DEPTH || pending.is_empty() {
        return;
    }
    match value {
        Value::String(name) => {
            if PRIMITIVES.contains(&name.as_str()) {
                return;
            }
            let qualified = match namespace {
                Some(ns) if !name.contains('.') => format!("{ns}.{name}"),
                _ => name.clone(),
            };
            if let Some(definition) = pending
                .remove(&qualified)
                .or_else(|| pending.remove(name.as_str()))
            {
                *value = definition;
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, namespace, pending, depth + 1);
            }
        }
        Value::Object(map) => walk_object(map, namespace, pending, depth),
        _ => {}
    }
}

fn walk_object(
    map: &mut Map<String, Value>,
    namespace: Option<&str>,
    pending: &mut HashMap<String, Value>,
    depth: usize,
) {
    let kind = map.get("type").and_then(Value::as_str).map(str::to_owned);
    match kind.as_deref() {
        Some("record") | Some("error") => {
            let own = full_name(&Value::Object(map.clone()), namespace).and_then(|(_, ns)| ns);
            if let Some(Value::Array(fields)) = map.get_mut("fields") {
                for field in fields {
                    if let Some(field_type) = field.get_mut("type") {
                        walk(field_type, own.as_deref(), pending, depth + 1);
                    }
                }
            }
        }
        Some("enum") | Some("fixed") => {}
        Some("array") => {
            if let Some(items) = map.get_mut("items") {
                walk(items, namespace, pending, depth + 1);
            }
        }
        Some("map") => {
            if let Some(values) = map.get_mut("values") {
                walk(values, namespace, pending, depth + 1);
            }
        }
        _ => {
            if let Some(inner) = map.get_mut("type") {
                walk(inner, namespace, pending, depth + 1);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn inlines_first_use_only() {
        let address = r#"{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"city","type":"string"}]}"#;
        let order = r#"{"type":"record","name":"Order","namespace":"com.acme","fields":[
            {"name":"ship","type":"Address"},{"name":"bill","type":["null","com.acme.Address"]}]}"#;
        let inlined: Value =
            serde_json::from_str(&inline_avro(order, &[address]).unwrap()).unwrap();
        assert_eq!(inlined["fields"][0]["type"]["name"], "com.acme.Address");
        assert_eq!(inlined["fields"][1]["type"][1], "com.acme.Address");
    }

    #[test]
    fn rejects_a_reference_that_is_not_named() {
        assert!(inline_avro(r#""string""#, &[r#""int""#]).is_err());
    }
}
