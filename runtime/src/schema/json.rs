//! A version's JSON Schema, built from the type's schemars schema.

use serde_json::{Map, Value, json};

use crate::codec::variant::serde_variant_names;
use crate::error::SchemaError;
use crate::event::{Event, FieldTags};

/// Builds the JSON Schema of `E`'s version (see [`Event::export_json_schema`]).
pub(crate) fn version_schema<E: Event>() -> Result<Value, SchemaError> {
    let root = schemars::SchemaGenerator::default().into_root_schema_for::<E>();
    let Value::Object(mut root) = root.to_value() else {
        return Err(shape::<E>("the root schema is not an object"));
    };
    if !E::__IS_ENUM {
        let mut root = Value::Object(root);
        for tagged in E::FIELD_TAGS {
            tag_property::<E>(&mut root, tagged)?;
        }
        return Ok(root);
    }
    let names = serde_variant_names::<E>()
        .ok_or_else(|| shape::<E>("the type does not deserialize as an enum"))?;
    if names.len() != E::EVENT_TYPES.len() {
        return Err(shape::<E>(
            "serde sees a different number of variants than the derive (remove `#[serde(skip)]`, `#[serde(alias)]` and `#[serde(other)]` from variants)",
        ));
    }
    let branches: Vec<Value> = match root.get("oneOf").or_else(|| root.get("anyOf")) {
        Some(Value::Array(branches)) => branches.clone(),
        _ => vec![Value::Object(root.clone())],
    };
    let mut any_of = Vec::with_capacity(names.len());
    for (name, event_type) in names.iter().zip(E::EVENT_TYPES) {
        let mut payload = variant_payload(&branches, name).ok_or_else(|| {
            shape::<E>(&format!(
                "no schema for variant `{name}`: the enum must be externally tagged (no `#[serde(tag)]`, `untagged` or `content`)"
            ))
        })?;
        if let Value::Object(payload) = &mut payload {
            payload.insert("title".to_owned(), Value::String((*event_type).to_owned()));
        }
        let record = E::__RECORDS.get(any_of.len()).copied().unwrap_or_default();
        for tagged in E::FIELD_TAGS.iter().filter(|t| t.record == record) {
            tag_property::<E>(&mut payload, tagged)?;
        }
        any_of.push(payload);
    }
    let mut out = Map::new();
    if let Some(draft) = root.remove("$schema") {
        out.insert("$schema".to_owned(), draft);
    }
    out.insert("title".to_owned(), Value::String(E::NAME.to_owned()));
    if let Some(description) = root.remove("description") {
        out.insert("description".to_owned(), description);
    }
    out.insert("anyOf".to_owned(), Value::Array(any_of));
    if let Some(defs) = root.remove("$defs") {
        out.insert("$defs".to_owned(), defs);
    }
    Ok(Value::Object(out))
}

/// Puts a field's tags on its property's schema as `"confluent:tags"`, where Confluent's
/// clients read a JSON Schema field's tags.
fn tag_property<E: Event>(payload: &mut Value, tagged: &FieldTags) -> Result<(), SchemaError> {
    let property = payload
        .get_mut("properties")
        .and_then(|properties| properties.get_mut(tagged.field))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| {
            shape::<E>(&format!(
                "the tagged field `{}` of `{}` is not in the schema's properties (a container `#[serde(rename_all)]` needs a `#[serde(rename)]` on the tagged field)",
                tagged.field, tagged.record
            ))
        })?;
    let tags = tagged
        .tags
        .iter()
        .map(|tag| Value::String((*tag).to_owned()));
    property.insert(TAGS_KEYWORD.to_owned(), Value::Array(tags.collect()));
    Ok(())
}

/// The keyword of a field's data-contract tags in Avro and JSON Schema.
pub(crate) const TAGS_KEYWORD: &str = "confluent:tags";

/// The schema of variant `name`'s content, found in schemars' externally tagged `oneOf`.
fn variant_payload(branches: &[Value], name: &str) -> Option<Value> {
    for branch in branches {
        if let Some(content) = branch.pointer(&format!("/properties/{}", escape(name))) {
            let mut content = content.clone();
            if let (Some(description), Value::Object(map)) =
                (branch.get("description"), &mut content)
            {
                map.entry("description")
                    .or_insert_with(|| description.clone());
            }
            return Some(content);
        }
        let is_unit = branch.get("const").and_then(Value::as_str) == Some(name)
            || branch
                .get("enum")
                .and_then(Value::as_array)
                .is_some_and(|symbols| symbols.iter().any(|s| s.as_str() == Some(name)));
        if is_unit {
            return Some(json!({ "type": "object", "additionalProperties": false }));
        }
    }
    None
}

/// Escapes a JSON pointer token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn shape<E: Event>(message: &str) -> SchemaError {
    SchemaError::UnexpectedShape {
        name: E::NAME,
        version: E::VERSION,
        message: message.to_owned(),
    }
}
