//! JSON Schema enums, string constants and tagged unions: Rust enums.

use serde_json::{Map, Value};

use super::{Generator, doc};
use crate::codegen::CodegenError;
use crate::codegen::model::{Item, Kind, Variant, fill, open};
use crate::codegen::names::camel;

impl Generator {
    pub(super) fn string_enum(
        &mut self,
        wanted: &str,
        doc: Option<String>,
        values: &[Value],
        location: &str,
    ) -> Result<String, CodegenError> {
        let mut variants = Vec::with_capacity(values.len());
        for (index, value) in values.iter().enumerate() {
            let Some(text) = value.as_str() else {
                return Err(CodegenError::unsupported(
                    &format!("{location}/enum/{index}"),
                    format!(
                        "the enum value {value} is not a string; only string enums become Rust enums"
                    ),
                ));
            };
            variants.push(Variant {
                wire: text.to_owned(),
                rust: camel(text),
                doc: None,
                fields: None,
            });
        }
        self.push_enum(wanted, doc, variants, None, location)
    }

    pub(super) fn push_enum(
        &mut self,
        wanted: &str,
        doc: Option<String>,
        variants: Vec<Variant>,
        tag: Option<String>,
        location: &str,
    ) -> Result<String, CodegenError> {
        let mut seen: Vec<&str> = Vec::new();
        for v in &variants {
            if seen.contains(&v.rust.as_str()) {
                return Err(CodegenError::unsupported(
                    location,
                    format!("two values become the Rust variant `{}`", v.rust),
                ));
            }
            seen.push(&v.rust);
        }
        let name = self.unique(wanted);
        self.items.push(Item {
            name: name.clone(),
            doc,
            kind: Kind::Enum { variants, tag },
        });
        Ok(name)
    }

    pub(super) fn combination(
        &mut self,
        object: &Map<String, Value>,
        wanted: &str,
        branches: &[Value],
        location: &str,
    ) -> Result<String, CodegenError> {
        // [T, null]: an optional T.
        let is_null = |b: &Value| b.get("type").and_then(Value::as_str) == Some("null");
        if branches.len() == 2 && branches.iter().any(is_null) {
            let (index, inner) = branches
                .iter()
                .enumerate()
                .find(|(_, b)| !is_null(b))
                .ok_or_else(|| CodegenError::unsupported(location, "both branches are null"))?;
            let inner = self.ty(inner, wanted, &format!("{location}/{index}"))?;
            return Ok(format!("::core::option::Option<{inner}>"));
        }
        // Every branch one string constant: a unit enum (schemars' form for documented variants).
        let constants: Option<Vec<Variant>> = branches
            .iter()
            .map(|b| {
                let text = b.get("const")?.as_str()?;
                Some(Variant {
                    wire: text.to_owned(),
                    rust: camel(text),
                    doc: b
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    fields: None,
                })
            })
            .collect();
        if let Some(variants) = constants {
            return self.push_enum(wanted, doc(object), variants, None, location);
        }
        // Every branch an object with the same required constant property: a tagged union.
        if let Some(tag) = common_tag(branches) {
            let name = self.unique(wanted);
            let slot = open(&mut self.items, &name, doc(object));
            let mut variants = Vec::with_capacity(branches.len());
            for (index, branch) in branches.iter().enumerate() {
                let at = format!("{location}/{index}");
                let mut branch = branch.as_object().cloned().unwrap_or_default();
                let wire = branch
                    .get("properties")
                    .and_then(|p| p.get(&tag))
                    .and_then(tag_value)
                    .unwrap_or_default();
                if let Some(Value::Object(properties)) = branch.get_mut("properties") {
                    properties.remove(&tag);
                }
                let rust = camel(&wire);
                let (fields, _) = self.fields(&branch, &format!("{name}{rust}"), &at)?;
                variants.push(Variant {
                    wire,
                    rust,
                    doc: doc(&branch),
                    fields: Some(fields),
                });
            }
            fill(
                &mut self.items,
                slot,
                Kind::Enum {
                    variants,
                    tag: Some(tag),
                },
            );
            return Ok(name);
        }
        Err(CodegenError::unsupported(
            location,
            "only `[T, null]`, string constants and objects tagged by a common constant property \
             become Rust types; serde cannot tell these branches apart",
        ))
    }
}

/// The constant of a tag property: `{"const": "x"}` or `{"enum": ["x"]}`.
fn tag_value(schema: &Value) -> Option<String> {
    if let Some(text) = schema.get("const").and_then(Value::as_str) {
        return Some(text.to_owned());
    }
    match schema.get("enum").and_then(Value::as_array)?.as_slice() {
        [Value::String(text)] => Some(text.clone()),
        _ => None,
    }
}

/// The property every branch requires with a distinct string constant.
fn common_tag(branches: &[Value]) -> Option<String> {
    let first = branches.first()?.get("properties")?.as_object()?;
    let mut seen = Vec::new();
    'candidates: for key in first.keys() {
        seen.clear();
        for branch in branches {
            let required = branch
                .get("required")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|v| v.as_str() == Some(key)));
            let Some(value) = branch
                .get("properties")
                .and_then(|p| p.get(key))
                .and_then(tag_value)
            else {
                continue 'candidates;
            };
            if !required || seen.contains(&value) {
                continue 'candidates;
            }
            seen.push(value);
        }
        return Some(key.clone());
    }
    None
}
