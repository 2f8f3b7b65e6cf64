//! The `herald.*` names, Herald's own annotations in a schema document, and where two
//! documents differ.
//!
//! Herald writes annotations of its own into the schemas it exports: object members named
//! `herald.*`, such as the `herald.event_type` of an Avro record that is one event type. They
//! are not part of a published schema: a snapshot written before Herald added one is still the
//! same schema. Both `herald check --against` and the runtime's snapshot test compare
//! snapshots with these two functions.
//!
//! ```
//! use herald_protocol::annotations::{differences, without_annotations};
//! use serde_json::json;
//!
//! let published = json!({"type": "record", "name": "Placed", "fields": []});
//! let exported = json!({"type": "record", "name": "Placed", "fields": [],
//!     "herald.event_type": "order.placed"});
//! assert_eq!(without_annotations(&exported), published);
//! assert_eq!(differences(&published, &exported), vec!["/herald.event_type"]);
//! ```

use std::collections::BTreeSet;

use serde_json::Value;

/// The prefix of the object members that are Herald's annotations.
pub const ANNOTATION_PREFIX: &str = "herald.";

/// The custom attribute of an event enum's Avro variant records that holds the event type
/// (`"herald.event_type": "order.shipped"`): the runtime writes it, the registry's Avro
/// parser and code generator read it.
pub const EVENT_TYPE_ATTRIBUTE: &str = "herald.event_type";

/// The `metadata.properties` key under which a version's major is registered, and the
/// `compatibilityGroup` set on every subject Herald pushes to: the registry then checks a new
/// version only against the earlier versions of the same major, as `herald check` does.
pub const MAJOR_PROPERTY: &str = "herald.major";

/// `schema` without Herald's annotations: object members whose name starts with
/// [`ANNOTATION_PREFIX`], at any depth.
pub fn without_annotations(schema: &Value) -> Value {
    match schema {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .filter(|(key, _)| !key.starts_with(ANNOTATION_PREFIX))
                .map(|(key, value)| (key.clone(), without_annotations(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_annotations).collect()),
        other => other.clone(),
    }
}

/// The JSON pointers where `a` and `b` differ, in document order with object members sorted
/// by name: a member present on one side only, an array whose length changed, or a value
/// that changed. Empty exactly when `a == b`; `/` when the documents differ at the root.
pub fn differences(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(a, b, String::new(), &mut out);
    out
}

fn walk(a: &Value, b: &Value, pointer: String, out: &mut Vec<String>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let child = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                match (x.get(key), y.get(key)) {
                    (Some(a), Some(b)) => walk(a, b, child, out),
                    _ => out.push(child),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (a, b)) in x.iter().zip(y).enumerate() {
                walk(a, b, format!("{pointer}/{i}"), out);
            }
        }
        _ => out.push(if pointer.is_empty() {
            "/".to_owned()
        } else {
            pointer
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_name_the_changed_pointers() {
        let a = json!({"anyOf": [{"properties": {"id": {"type": "string"}}}], "title": "x"});
        let b =
            json!({"anyOf": [{"properties": {"id": {"type": "integer"}, "n": {}}}], "title": "x"});
        assert_eq!(
            differences(&a, &b),
            vec!["/anyOf/0/properties/id/type", "/anyOf/0/properties/n"]
        );
        assert_eq!(differences(&a, &a), Vec::<String>::new());
        assert_eq!(differences(&json!(1), &json!(2)), vec!["/"]);
        assert_eq!(
            differences(&json!({"a/b~": [1]}), &json!({"a/b~": [1, 2]})),
            vec!["/a~1b~0"]
        );
    }

    #[test]
    fn annotations_are_removed_at_any_depth() {
        let exported = json!([{"type": "record", "herald.event_type": "order.placed",
            "fields": [{"name": "id", "type": "string", "herald.note": 1}]}]);
        assert_eq!(
            without_annotations(&exported),
            json!([{"type": "record", "fields": [{"name": "id", "type": "string"}]}])
        );
    }
}
