//! JSON Schema documents to Rust items.

mod enums;
mod objects;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::CodegenError;
use super::model::{Item, Kind, Options, Variant, fill, open};
use super::names::{self, camel};

/// The items of a JSON Schema; the root comes first.
pub(crate) fn items(schema: &Value, options: &Options) -> Result<Vec<Item>, CodegenError> {
    let Some(root) = schema.as_object() else {
        return Err(CodegenError::unsupported(
            "#",
            "the root schema must be an object schema to become an event type",
        ));
    };
    let mut generator = Generator {
        defs: root
            .get("$defs")
            .or_else(|| root.get("definitions"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        ..Generator::default()
    };
    let wanted = options
        .root_name
        .clone()
        .or_else(|| root.get("title").and_then(Value::as_str).map(camel))
        .unwrap_or_else(|| camel(&options.event_name));
    if let Some(branches) = event_branches(root, &options.event_name) {
        generator.event_enum(&wanted, root, &branches, &options.event_name)?;
        return Ok(generator.items);
    }
    let ty = generator.ty(schema, &wanted, "#")?;
    match generator.items.first() {
        Some(item) if item.name == ty => Ok(generator.items),
        _ => Err(CodegenError::unsupported(
            "#",
            format!("the root schema is a `{ty}`; an event type must be an object or an enum"),
        )),
    }
}

/// The branches of Herald's event-enum form: an `anyOf` of objects titled `<name>.<type>`.
fn event_branches<'a>(root: &'a Map<String, Value>, name: &str) -> Option<Vec<&'a Value>> {
    let branches = root
        .get("anyOf")
        .or_else(|| root.get("oneOf"))?
        .as_array()?;
    let prefix = format!("{name}.");
    let titled = branches.iter().all(|b| {
        b.get("title")
            .and_then(Value::as_str)
            .is_some_and(|t| t.starts_with(&prefix))
    });
    (titled && !branches.is_empty()).then(|| branches.iter().collect())
}

#[derive(Default)]
struct Generator {
    items: Vec<Item>,
    defs: Map<String, Value>,
    /// Definition name → Rust type.
    generated: BTreeMap<String, String>,
}

fn doc(object: &Map<String, Value>) -> Option<String> {
    object
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

impl Generator {
    /// A Rust type name no other generated item has.
    fn unique(&self, wanted: &str) -> String {
        names::unique(wanted, |name| {
            self.items.iter().any(|item| item.name == name)
        })
    }

    fn event_enum(
        &mut self,
        name: &str,
        root: &Map<String, Value>,
        branches: &[&Value],
        event: &str,
    ) -> Result<(), CodegenError> {
        let slot = open(&mut self.items, name, doc(root));
        let mut variants = Vec::new();
        let keyword = if root.contains_key("anyOf") {
            "anyOf"
        } else {
            "oneOf"
        };
        for (index, branch) in branches.iter().enumerate() {
            let at = format!("#/{keyword}/{index}");
            let Some(object) = branch.as_object() else {
                return Err(CodegenError::unsupported(
                    &at,
                    "a branch must be an object schema",
                ));
            };
            let title = object
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let wire = title.strip_prefix(&format!("{event}.")).unwrap_or(title);
            let rust = camel(wire);
            let (fields, _) = self.fields(object, &format!("{name}{rust}"), &at)?;
            variants.push(Variant {
                wire: wire.to_owned(),
                rust,
                doc: doc(object),
                fields: Some(fields),
            });
        }
        fill(
            &mut self.items,
            slot,
            Kind::Enum {
                variants,
                tag: None,
            },
        );
        Ok(())
    }

    fn ty(&mut self, schema: &Value, wanted: &str, location: &str) -> Result<String, CodegenError> {
        let object = match schema {
            Value::Object(object) => object,
            Value::Bool(true) => {
                return Err(CodegenError::unsupported(
                    location,
                    "`true` accepts any value; give the value a type",
                ));
            }
            _ => return Err(CodegenError::unsupported(location, "not a schema")),
        };
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            return self.reference(reference, location);
        }
        for keyword in [
            "allOf",
            "not",
            "if",
            "patternProperties",
            "dependentSchemas",
        ] {
            if object.contains_key(keyword) {
                return Err(CodegenError::unsupported(
                    &format!("{location}/{keyword}"),
                    format!("`{keyword}` has no Rust type; rewrite the schema without it"),
                ));
            }
        }
        if let Some(values) = object.get("enum").and_then(Value::as_array) {
            return self.string_enum(wanted, doc(object), values, location);
        }
        for keyword in ["oneOf", "anyOf"] {
            if let Some(branches) = object.get(keyword).and_then(Value::as_array) {
                return self.combination(
                    object,
                    wanted,
                    branches,
                    &format!("{location}/{keyword}"),
                );
            }
        }
        match object.get("type") {
            Some(Value::String(kind)) => self.typed(object, kind, wanted, location),
            Some(Value::Array(kinds)) => {
                let kinds: Vec<&str> = kinds.iter().filter_map(Value::as_str).collect();
                match kinds.as_slice() {
                    [kind, "null"] | ["null", kind] => {
                        let inner = self.typed(object, kind, wanted, location)?;
                        Ok(format!("::core::option::Option<{inner}>"))
                    }
                    [kind] => self.typed(object, kind, wanted, location),
                    _ => Err(CodegenError::unsupported(
                        &format!("{location}/type"),
                        format!("a value of types {kinds:?} has no single Rust type"),
                    )),
                }
            }
            _ => Err(CodegenError::unsupported(
                location,
                "a schema without `type` accepts any value; give it a type",
            )),
        }
    }

    fn reference(&mut self, reference: &str, location: &str) -> Result<String, CodegenError> {
        let name = reference
            .strip_prefix("#/$defs/")
            .or_else(|| reference.strip_prefix("#/definitions/"))
            .filter(|n| !n.contains('/'))
            .ok_or_else(|| {
                CodegenError::unsupported(
                    &format!("{location}/$ref"),
                    format!("`{reference}` does not name a definition of this document (`#/$defs/<name>`)"),
                )
            })?;
        let name = name.replace("~1", "/").replace("~0", "~");
        if let Some(ty) = self.generated.get(&name) {
            return Ok(ty.clone());
        }
        let Some(schema) = self.defs.get(&name).cloned() else {
            return Err(CodegenError::unsupported(
                &format!("{location}/$ref"),
                format!("`{reference}` names no definition"),
            ));
        };
        let rust = self.unique(&camel(&name));
        // Registered before generating, so recursive references resolve.
        self.generated.insert(name.clone(), rust.clone());
        let ty = self.ty(&schema, &rust, &format!("#/$defs/{}", escape(&name)))?;
        self.generated.insert(name, ty.clone());
        Ok(ty)
    }

    fn typed(
        &mut self,
        object: &Map<String, Value>,
        kind: &str,
        wanted: &str,
        location: &str,
    ) -> Result<String, CodegenError> {
        let format = object.get("format").and_then(Value::as_str);
        Ok(match kind {
            "string" => "::std::string::String".to_owned(),
            "boolean" => "bool".to_owned(),
            "number" => match format {
                Some("float") => "f32".to_owned(),
                _ => "f64".to_owned(),
            },
            "integer" => match format {
                Some("int8") => "i8",
                Some("int16") => "i16",
                Some("int32") => "i32",
                Some("uint8") => "u8",
                Some("uint16") => "u16",
                Some("uint32") => "u32",
                Some("uint64" | "uint") => "u64",
                _ => "i64",
            }
            .to_owned(),
            // Herald's `Bytes`, `Fixed<N>` and `Decimal<P, S>` (an array of byte values that
            // declares its Avro type).
            "array" if object.contains_key("x-avro") => herald_bytes(object, location)?,
            "array" => {
                let items = object.get("items").ok_or_else(|| {
                    CodegenError::unsupported(
                        location,
                        "an array without `items` has no element type",
                    )
                })?;
                let inner = self.ty(
                    items,
                    &format!("{wanted}Item"),
                    &format!("{location}/items"),
                )?;
                format!("::std::vec::Vec<{inner}>")
            }
            "object" => self.object(object, wanted, location)?,
            "null" => {
                return Err(CodegenError::unsupported(
                    location,
                    "a value that is always null has no Rust field type",
                ));
            }
            other => {
                return Err(CodegenError::unsupported(
                    &format!("{location}/type"),
                    format!("unknown type `{other}`"),
                ));
            }
        })
    }
}

/// The Herald byte type whose JSON Schema carries this `x-avro` keyword.
fn herald_bytes(object: &Map<String, Value>, location: &str) -> Result<String, CodegenError> {
    let avro = object.get("x-avro").unwrap_or(&Value::Null);
    let number = |key: &str| avro.get(key).and_then(Value::as_u64);
    let kind = avro
        .as_str()
        .or_else(|| avro.get("type").and_then(Value::as_str));
    let logical = avro.get("logicalType").and_then(Value::as_str);
    match (kind, logical, number("size")) {
        (Some("bytes"), None, _) => Ok("::herald::Bytes".to_owned()),
        (Some("bytes"), Some("decimal"), _) => match number("precision") {
            Some(precision) => Ok(format!(
                "::herald::Decimal<{precision}, {}>",
                number("scale").unwrap_or(0)
            )),
            None => Ok("::herald::Bytes".to_owned()),
        },
        (Some("fixed"), None, Some(size)) => Ok(format!("::herald::Fixed<{size}>")),
        _ => Err(CodegenError::unsupported(
            &format!("{location}/x-avro"),
            format!(
                "`x-avro` {avro} is not one of Herald's byte types (bytes, fixed, decimal on bytes)"
            ),
        )),
    }
}
