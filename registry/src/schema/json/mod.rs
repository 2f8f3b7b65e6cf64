//! JSON Schema documents: draft detection, meta-schema validation and the canonical form.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::SchemaError;

mod refs;

pub(crate) use refs::RefIndex;

/// A JSON Schema draft, detected from `$schema` (draft-07 when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Draft {
    /// Draft 4.
    Draft4,
    /// Draft 6.
    Draft6,
    /// Draft 7, the default.
    Draft7,
    /// Draft 2019-09.
    Draft201909,
    /// Draft 2020-12.
    Draft202012,
}

impl fmt::Display for Draft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Draft::Draft4 => "draft-04",
            Draft::Draft6 => "draft-06",
            Draft::Draft7 => "draft-07",
            Draft::Draft201909 => "2019-09",
            Draft::Draft202012 => "2020-12",
        })
    }
}

/// A parsed, meta-validated JSON Schema document.
#[derive(Debug, Clone)]
pub(crate) struct JsonSchema {
    pub(crate) value: Value,
    draft: Draft,
}

impl JsonSchema {
    pub(crate) fn draft(&self) -> Draft {
        self.draft
    }
}

fn detect_draft(value: &Value) -> Result<Draft, SchemaError> {
    let Some(uri) = value.get("$schema") else {
        return Ok(Draft::Draft7);
    };
    let uri = uri.as_str().ok_or_else(|| SchemaError::JsonSchema {
        pointer: "#/$schema".to_owned(),
        message: "`$schema` must be a string".to_owned(),
    })?;
    let uri = uri.trim_end_matches('#');
    let draft = match uri
        .trim_start_matches("https://")
        .trim_start_matches("http://")
    {
        "json-schema.org/draft-04/schema" => Draft::Draft4,
        "json-schema.org/draft-06/schema" => Draft::Draft6,
        "json-schema.org/draft-07/schema" => Draft::Draft7,
        "json-schema.org/draft/2019-09/schema" => Draft::Draft201909,
        "json-schema.org/draft/2020-12/schema" => Draft::Draft202012,
        _ => {
            return Err(SchemaError::JsonSchema {
                pointer: "#/$schema".to_owned(),
                message: format!(
                    "unsupported `$schema` `{uri}`: expected draft 4, 6, 7, 2019-09 or 2020-12"
                ),
            });
        }
    };
    Ok(draft)
}

/// A validator for `document` (its references already inlined), built the one way both
/// registration and payload validation use: nothing is fetched (a remote `$ref` does not
/// resolve) and every `pattern` must compile. The error says why it cannot be built.
pub(crate) fn validator(document: &Value, draft: Draft) -> Result<jsonschema::Validator, String> {
    let draft = match draft {
        Draft::Draft4 => jsonschema::Draft::Draft4,
        Draft::Draft6 => jsonschema::Draft::Draft6,
        Draft::Draft7 => jsonschema::Draft::Draft7,
        Draft::Draft201909 => jsonschema::Draft::Draft201909,
        Draft::Draft202012 => jsonschema::Draft::Draft202012,
    };
    jsonschema::options()
        .with_draft(draft)
        .build(document)
        .map_err(|err| err.to_string())
}

/// Parses a JSON Schema document and returns it with its canonical form.
pub(crate) fn parse(value: Value) -> Result<(JsonSchema, String), SchemaError> {
    if !value.is_object() && !value.is_boolean() {
        return Err(SchemaError::JsonSchema {
            pointer: "#".to_owned(),
            message: "a JSON Schema must be an object or a boolean".to_owned(),
        });
    }
    let draft = detect_draft(&value)?;
    let result = match draft {
        Draft::Draft4 => jsonschema::draft4::meta::validate(&value),
        Draft::Draft6 => jsonschema::draft6::meta::validate(&value),
        Draft::Draft7 => jsonschema::draft7::meta::validate(&value),
        Draft::Draft201909 => jsonschema::draft201909::meta::validate(&value),
        Draft::Draft202012 => jsonschema::draft202012::meta::validate(&value),
    };
    if let Err(err) = result {
        return Err(SchemaError::JsonSchema {
            pointer: format!("#{}", err.instance_path()),
            message: err.to_string(),
        });
    }
    reject_ref_cycles(&value, draft)?;
    let mut canonical = String::new();
    write_canonical(&value, &mut canonical);
    Ok((JsonSchema { value, draft }, canonical))
}

/// Rejects a chain of `$ref`s that leads back to itself without passing through any other
/// keyword (`{"$ref": "#"}`, or `a` → `b` → `a`): such a schema has no meaning and sends a
/// validator into endless recursion. Recursion through `properties`, `items` and the like is
/// fine and is not touched.
fn reject_ref_cycles(document: &Value, draft: Draft) -> Result<(), SchemaError> {
    let index = RefIndex::new(document, draft);
    let mut referring = Vec::new();
    refs::for_each_object(document, |map, pointer| {
        if map.get("$ref").is_some_and(Value::is_string) {
            referring.push(pointer.to_owned());
        }
    });
    referring
        .iter()
        .try_for_each(|pointer| follow_ref_chain(document, &index, pointer))
}

fn follow_ref_chain(document: &Value, index: &RefIndex, start: &str) -> Result<(), SchemaError> {
    let mut chain = vec![start.to_owned()];
    let mut current = start.to_owned();
    while let Some(reference) = document
        .pointer(&current)
        .and_then(|node| node.get("$ref"))
        .and_then(Value::as_str)
    {
        let Some(target) = index.resolve(reference) else {
            return Ok(());
        };
        if chain.contains(&target) {
            chain.push(target);
            let shown: Vec<String> = chain.iter().map(|p| format!("#{p}")).collect();
            return Err(SchemaError::JsonSchema {
                pointer: format!("#{start}/$ref"),
                message: format!(
                    "$ref cycle with no schema in between: {}",
                    shown.join(" -> ")
                ),
            });
        }
        chain.push(target.clone());
        current = target;
    }
    Ok(())
}

/// Writes `value` with object keys sorted and no insignificant whitespace.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn pure_ref_cycles_are_rejected_but_recursive_schemas_are_not() {
        use serde_json::json;
        let cycle = json!({"definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}}});
        let err = super::parse(cycle).unwrap_err();
        assert!(err.to_string().contains("$ref cycle"), "{err}");
        assert!(super::parse(json!({"$ref": "#"})).is_err());
        let tree = json!({"definitions": {"node": {"type": "object", "properties": {
            "children": {"type": "array", "items": {"$ref": "#/definitions/node"}}}}},
            "$ref": "#/definitions/node"});
        assert!(super::parse(tree).is_ok());
    }

    use super::*;
    use serde_json::json;

    fn parse_value(value: Value) -> Result<(JsonSchema, String), SchemaError> {
        parse(value)
    }

    #[test]
    fn detects_every_supported_draft() {
        let cases = [
            ("http://json-schema.org/draft-04/schema#", Draft::Draft4),
            ("http://json-schema.org/draft-06/schema#", Draft::Draft6),
            ("http://json-schema.org/draft-07/schema", Draft::Draft7),
            (
                "https://json-schema.org/draft/2019-09/schema",
                Draft::Draft201909,
            ),
            (
                "https://json-schema.org/draft/2020-12/schema",
                Draft::Draft202012,
            ),
        ];
        for (uri, draft) in cases {
            let (schema, _) = parse_value(json!({"$schema": uri})).unwrap();
            assert_eq!(schema.draft(), draft, "{uri}");
        }
        let (schema, _) = parse_value(json!({"type": "string"})).unwrap();
        assert_eq!(schema.draft(), Draft::Draft7);
    }

    #[test]
    fn errors_point_at_the_offending_keyword() {
        let err = parse_value(json!({"$schema": "http://example.com/mine"})).unwrap_err();
        assert!(
            matches!(err, SchemaError::JsonSchema { ref pointer, .. } if pointer == "#/$schema")
        );
        let err = parse_value(json!({"properties": {"id": {"type": 5}}})).unwrap_err();
        assert!(
            matches!(err, SchemaError::JsonSchema { ref pointer, .. } if pointer == "#/properties/id/type"),
            "{err:?}"
        );
        let err = parse_value(json!([1, 2])).unwrap_err();
        assert!(matches!(err, SchemaError::JsonSchema { ref pointer, .. } if pointer == "#"));
    }

    #[test]
    fn remote_references_are_accepted_without_fetching() {
        // No resolver is configured: meta-validation never follows `$ref`, and the
        // comparison treats a reference outside the document as opaque text.
        let (schema, _) =
            parse_value(json!({"$ref": "https://example.invalid/never-fetched.json"})).unwrap();
        assert_eq!(schema.draft(), Draft::Draft7);
    }

    #[test]
    fn canonical_form_sorts_keys_at_every_level() {
        let (_, canonical) = parse_value(
            json!({"type": "object", "properties": {"b": {}, "a": {"type": "string"}}}),
        )
        .unwrap();
        assert_eq!(
            canonical,
            r#"{"properties":{"a":{"type":"string"},"b":{}},"type":"object"}"#
        );
    }
}
