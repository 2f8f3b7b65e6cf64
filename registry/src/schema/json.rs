//! JSON Schema documents: draft detection, meta-schema validation and the canonical form.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::SchemaError;

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
    let mut canonical = String::new();
    write_canonical(&value, &mut canonical);
    Ok((JsonSchema { value, draft }, canonical))
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
