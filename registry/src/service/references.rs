//! Schema references across subjects, resolved into one self-contained document that the
//! schema core parses and checks: Avro named types are inlined at their first use; JSON
//! Schemas referenced by name are embedded under `definitions` and each `$ref` to them is
//! rewritten to point there.

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

/// Escapes a key for use in a JSON pointer.
fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Rewrites every `$ref` string in `value` with `rewrite`.
fn rewrite_refs(value: &mut Value, rewrite: &dyn Fn(&str) -> Option<String>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(target) if key == "$ref" => {
                        if let Some(new) = rewrite(target) {
                            *target = new;
                        }
                    }
                    _ => rewrite_refs(child, rewrite, depth + 1),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                rewrite_refs(item, rewrite, depth + 1);
            }
        }
        _ => {}
    }
}

/// Embeds the referenced JSON Schemas (`referenced`: reference name and resolved text) into
/// `text` under `definitions/<name>`, rewriting `$ref`s to them (and the references'
/// own local `$ref`s) so that the result resolves without any external document.
pub(crate) fn inline_json(text: &str, referenced: &[(&str, &str)]) -> Result<String, String> {
    let mut root: Value =
        serde_json::from_str(text).map_err(|err| format!("malformed JSON: {err}"))?;
    let Value::Object(map) = &mut root else {
        return Ok(text.to_owned());
    };
    let mut embedded = Vec::with_capacity(referenced.len());
    for (name, reference) in referenced {
        let mut value: Value = serde_json::from_str(reference)
            .map_err(|err| format!("reference {name} is not JSON: {err}"))?;
        let prefix = format!("#/definitions/{}", pointer_escape(name));
        rewrite_refs(
            &mut value,
            &|target: &str| {
                target
                    .strip_prefix('#')
                    .map(|fragment| format!("{prefix}{fragment}"))
            },
            0,
        );
        if let Value::Object(inner) = &mut value {
            inner.remove("$id");
            inner.remove("id");
            inner.remove("$schema");
        }
        embedded.push((*name, prefix, value));
    }
    let rewrite = |target: &str| {
        embedded.iter().find_map(|(name, prefix, _)| {
            let fragment = target.strip_prefix(name)?;
            if fragment.is_empty() || fragment.starts_with('#') {
                Some(format!("{prefix}{}", fragment.trim_start_matches('#')))
            } else {
                None
            }
        })
    };
    for (key, child) in map.iter_mut() {
        if key != "definitions" {
            match child {
                Value::String(target) if key == "$ref" => {
                    if let Some(new) = rewrite(target) {
                        *target = new;
                    }
                }
                _ => rewrite_refs(child, &rewrite, 1),
            }
        }
    }
    if let Some(existing) = map.get_mut("definitions") {
        rewrite_refs(existing, &rewrite, 1);
    }
    let definitions = map
        .entry("definitions")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(definitions) = definitions else {
        return Err("`definitions` must be an object".to_owned());
    };
    for (name, _, value) in embedded {
        if definitions.contains_key(name) {
            return Err(format!(
                "`definitions/{name}` is taken: a reference cannot be embedded there"
            ));
        }
        definitions.insert(name.to_owned(), value);
    }
    serde_json::to_string(&root).map_err(|err| err.to_string())
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
    fn embeds_json_references_and_rewrites_refs() {
        let item = r##"{"$id":"item.json","type":"object","properties":{"tag":{"$ref":"#/definitions/tag"}},"definitions":{"tag":{"type":"string"}}}"##;
        let cart = r#"{"type":"array","items":{"$ref":"item.json"},"contains":{"$ref":"item.json#/definitions/tag"}}"#;
        let inlined: Value =
            serde_json::from_str(&inline_json(cart, &[("item.json", item)]).unwrap()).unwrap();
        assert_eq!(inlined["items"]["$ref"], "#/definitions/item.json");
        assert_eq!(
            inlined["contains"]["$ref"],
            "#/definitions/item.json/definitions/tag"
        );
        let embedded = &inlined["definitions"]["item.json"];
        assert_eq!(
            embedded["properties"]["tag"]["$ref"],
            "#/definitions/item.json/definitions/tag"
        );
        assert!(embedded.get("$id").is_none());
    }

    #[test]
    fn rejects_a_reference_that_is_not_named() {
        assert!(inline_avro(r#""string""#, &[r#""int""#]).is_err());
    }
}
