//! The documented form of a schema: the text as the user wrote it, in a stable spelling that
//! keeps everything a reader sees (Avro `doc`, aliases, defaults and custom properties; JSON
//! Schema `description`, `title` and unknown keywords). It is what identifies a schema across
//! registrations and what `normalize=true` stores, while the canonical form
//! ([`Schema::canonical`](super::Schema::canonical)) only serves compatibility.
//!
//! The spelling follows Confluent's normalization: object keys sorted, no insignificant
//! whitespace, and for Avro every named type and type reference written with its full name
//! (`namespace` folded into `name`), and `{"type": "int"}` written as `"int"`.

use serde_json::{Map, Value};

use super::SchemaType;

/// Avro's primitive type names, which are never qualified with a namespace.
const PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

/// The documented form of `value`, a schema of type `schema_type` already validated.
pub fn documented_form(schema_type: SchemaType, value: &Value) -> String {
    match schema_type {
        // A Protobuf schema is not JSON: its documented form is its printed text
        // (`Schema::protobuf_text`); a JSON value here is only sorted.
        SchemaType::Json | SchemaType::Protobuf => sorted(value).to_string(),
        SchemaType::Avro => sorted(&avro(value, "")).to_string(),
    }
}

/// `value` with every object's keys inserted in order, whatever map serde_json is built with.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(key, child)| (key.clone(), sorted(child)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// `value` with Avro's names made full, relative to the enclosing namespace.
fn avro(value: &Value, namespace: &str) -> Value {
    match value {
        Value::String(name) => Value::String(full_name(name, namespace)),
        Value::Array(branches) => {
            Value::Array(branches.iter().map(|b| avro(b, namespace)).collect())
        }
        Value::Object(map) => avro_object(map, namespace),
        other => other.clone(),
    }
}

fn avro_object(map: &Map<String, Value>, namespace: &str) -> Value {
    let kind = map.get("type").and_then(Value::as_str).unwrap_or("");
    if map.len() == 1 && PRIMITIVES.contains(&kind) {
        return Value::String(kind.to_owned());
    }
    let named = matches!(kind, "record" | "error" | "enum" | "fixed");
    let mut inner = namespace.to_owned();
    let mut out = Map::new();
    if named && let Some(name) = map.get("name").and_then(Value::as_str) {
        let explicit = map.get("namespace").and_then(Value::as_str);
        let full = match explicit {
            _ if name.contains('.') => name.to_owned(),
            Some(ns) if !ns.is_empty() => format!("{ns}.{name}"),
            Some(_) => name.to_owned(),
            None => full_name(name, namespace),
        };
        inner = full
            .rsplit_once('.')
            .map(|(ns, _)| ns.to_owned())
            .unwrap_or_default();
        out.insert("name".to_owned(), Value::String(full));
    }
    for (key, child) in map {
        let rewritten = match key.as_str() {
            "name" | "namespace" if named => continue,
            "type" if !named => avro(child, namespace),
            "items" | "values" => avro(child, namespace),
            "fields" if named => fields(child, &inner),
            _ => child.clone(),
        };
        out.insert(key.clone(), rewritten);
    }
    Value::Object(out)
}

fn fields(value: &Value, namespace: &str) -> Value {
    let Value::Array(fields) = value else {
        return value.clone();
    };
    let fields = fields
        .iter()
        .map(|field| match field {
            Value::Object(map) => {
                let mut out = map.clone();
                if let Some(kind) = map.get("type") {
                    out.insert("type".to_owned(), avro(kind, namespace));
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
        .collect();
    Value::Array(fields)
}

/// Type keywords that may stand where a type name does (`{"type": "array", ...}`).
const KEYWORDS: [&str; 6] = ["array", "map", "record", "error", "enum", "fixed"];

fn full_name(name: &str, namespace: &str) -> String {
    let keyword = PRIMITIVES.contains(&name) || KEYWORDS.contains(&name);
    if keyword || name.contains('.') || namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}.{name}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn avro_keeps_docs_and_writes_full_names() {
        let schema = json!({"type": "record", "name": "Order", "namespace": "acme", "doc": "An order",
            "x-owner": "sales", "fields": [
                {"name": "id", "type": {"type": "string"}, "doc": "The id"},
                {"name": "next", "type": ["null", "Order"], "default": null}]});
        let form = documented_form(SchemaType::Avro, &schema);
        assert_eq!(
            form,
            r#"{"doc":"An order","fields":[{"doc":"The id","name":"id","type":"string"},{"default":null,"name":"next","type":["null","acme.Order"]}],"name":"acme.Order","type":"record","x-owner":"sales"}"#
        );
        let spelled = json!({"type": "record", "name": "acme.Order", "doc": "An order",
            "x-owner": "sales", "fields": [
                {"name": "id", "type": "string", "doc": "The id"},
                {"name": "next", "type": ["null", "acme.Order"], "default": null}]});
        assert_eq!(documented_form(SchemaType::Avro, &spelled), form);
    }

    #[test]
    fn avro_containers_keep_their_keyword() {
        let schema = json!({"type": "record", "name": "Cart", "namespace": "shop", "fields": [
            {"name": "items", "type": {"type": "array", "items": "Item"}},
            {"name": "tags", "type": {"type": "map", "values": {"type": "long", "logicalType": "x"}}}]});
        assert_eq!(
            documented_form(SchemaType::Avro, &schema),
            r#"{"fields":[{"name":"items","type":{"items":"shop.Item","type":"array"}},{"name":"tags","type":{"type":"map","values":{"logicalType":"x","type":"long"}}}],"name":"shop.Cart","type":"record"}"#
        );
    }

    #[test]
    fn json_keeps_descriptions() {
        let schema = json!({"type": "object", "description": "d", "title": "t", "x-a": 1});
        assert_eq!(
            documented_form(SchemaType::Json, &schema),
            r#"{"description":"d","title":"t","type":"object","x-a":1}"#
        );
    }
}
