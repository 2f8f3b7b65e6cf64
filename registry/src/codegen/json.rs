//! JSON Schema documents to Rust items.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::CodegenError;
use super::model::{Field, FieldDefault, Item, Kind, Options, Variant};
use super::names::{camel, snake};

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
    fn unique(&self, wanted: &str) -> String {
        let mut name = wanted.to_owned();
        let mut n = 2;
        while self.items.iter().any(|i| i.name == name) {
            name = format!("{wanted}{n}");
            n += 1;
        }
        name
    }

    fn event_enum(
        &mut self,
        name: &str,
        root: &Map<String, Value>,
        branches: &[&Value],
        event: &str,
    ) -> Result<(), CodegenError> {
        let slot = self.items.len();
        self.items.push(Item {
            name: name.to_owned(),
            wire: None,
            doc: doc(root),
            kind: Kind::Enum {
                variants: Vec::new(),
                tag: None,
            },
        });
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
        if let Some(item) = self.items.get_mut(slot) {
            item.kind = Kind::Enum {
                variants,
                tag: None,
            };
        }
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

    fn object(
        &mut self,
        object: &Map<String, Value>,
        wanted: &str,
        location: &str,
    ) -> Result<String, CodegenError> {
        let has_properties = object
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty());
        if !has_properties {
            return match object.get("additionalProperties") {
                Some(values @ Value::Object(_)) => {
                    let inner = self.ty(
                        values,
                        &format!("{wanted}Value"),
                        &format!("{location}/additionalProperties"),
                    )?;
                    Ok(format!(
                        "::std::collections::BTreeMap<::std::string::String, {inner}>"
                    ))
                }
                _ => Err(CodegenError::unsupported(
                    location,
                    "an object without `properties` or an `additionalProperties` schema has no Rust type",
                )),
            };
        }
        let name = self.unique(wanted);
        let slot = self.items.len();
        self.items.push(Item {
            name: name.clone(),
            wire: None,
            doc: doc(object),
            kind: Kind::Struct {
                fields: Vec::new(),
                deny_unknown: false,
            },
        });
        let (fields, deny_unknown) = self.fields(object, &name, location)?;
        if let Some(item) = self.items.get_mut(slot) {
            item.kind = Kind::Struct {
                fields,
                deny_unknown,
            };
        }
        Ok(name)
    }

    /// The fields of an object schema, and whether unknown properties are refused.
    fn fields(
        &mut self,
        object: &Map<String, Value>,
        owner: &str,
        location: &str,
    ) -> Result<(Vec<Field>, bool), CodegenError> {
        let deny_unknown = match object.get("additionalProperties") {
            None | Some(Value::Bool(true)) => false,
            Some(Value::Bool(false)) => true,
            Some(_) => {
                return Err(CodegenError::unsupported(
                    &format!("{location}/additionalProperties"),
                    "an object with both `properties` and an `additionalProperties` schema has no Rust type",
                ));
            }
        };
        let required: Vec<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let empty = Map::new();
        let properties = object
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut fields = Vec::with_capacity(properties.len());
        for (wire, schema) in properties {
            let at = format!("{location}/properties/{}", escape(wire));
            let ty = self.ty(schema, &format!("{owner}{}", camel(wire)), &at)?;
            let is_required = required.contains(&wire.as_str());
            let is_option = ty.starts_with("::core::option::Option<");
            let given_default = schema.get("default");
            let (ty, default, skip_none, schema_with) = match (is_required, given_default) {
                (_, Some(value)) => {
                    let default = natural_or_expr(value, &ty, &format!("{at}/default"))?;
                    (ty, default, false, None)
                }
                (true, None) => (ty, FieldDefault::None, false, None),
                // Already nullable: `null` is a value the schema allows, so it is written.
                (false, None) if is_option => (ty, FieldDefault::Natural, false, None),
                (false, None) => (
                    format!("::core::option::Option<{ty}>"),
                    FieldDefault::Natural,
                    true,
                    Some(ty),
                ),
            };
            fields.push(Field {
                wire: wire.clone(),
                rust: snake(wire),
                ty,
                doc: schema.as_object().and_then(doc),
                default,
                skip_none,
                schema_with,
            });
        }
        Ok((fields, deny_unknown))
    }

    fn string_enum(
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

    fn push_enum(
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
            wire: None,
            doc,
            kind: Kind::Enum { variants, tag },
        });
        Ok(name)
    }

    fn combination(
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
            let slot = self.items.len();
            self.items.push(Item {
                name: name.clone(),
                wire: None,
                doc: doc(object),
                kind: Kind::Enum {
                    variants: Vec::new(),
                    tag: Some(tag.clone()),
                },
            });
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
            if let Some(item) = self.items.get_mut(slot) {
                item.kind = Kind::Enum {
                    variants,
                    tag: Some(tag),
                };
            }
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

fn natural_or_expr(value: &Value, ty: &str, location: &str) -> Result<FieldDefault, CodegenError> {
    let natural = match value {
        Value::Null => ty.starts_with("::core::option::Option<"),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty() && ty == "::std::string::String",
        Value::Array(a) => a.is_empty() && ty.starts_with("::std::vec::Vec<"),
        Value::Object(o) => o.is_empty() && ty.starts_with("::std::collections::BTreeMap<"),
    };
    if natural {
        return Ok(FieldDefault::Natural);
    }
    let expr = match (value, ty) {
        (Value::Bool(b), "bool") => b.to_string(),
        (Value::Number(n), "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64")
            if n.is_i64() || n.is_u64() =>
        {
            n.to_string()
        }
        (Value::Number(n), "f32" | "f64") => match n.as_f64() {
            Some(f) => format!("{f:?}"),
            None => String::new(),
        },
        (Value::String(s), "::std::string::String") => {
            format!("::std::string::String::from({s:?})")
        }
        _ => String::new(),
    };
    if expr.is_empty() {
        return Err(CodegenError::unsupported(
            location,
            format!("the default {value} of a `{ty}` field has no Rust expression here"),
        ));
    }
    Ok(FieldDefault::Expr(expr))
}
