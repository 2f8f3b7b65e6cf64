//! Avro schemas to Rust items.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::CodegenError;
use super::model::{Branch, Field, FieldDefault, Item, Kind, Options, Variant};
use super::names::{camel, snake};

/// The items of an Avro schema; the root (a record or an enum) comes first.
pub(crate) fn items(schema: &Value, options: &Options) -> Result<Vec<Item>, CodegenError> {
    let mut generator = Generator::default();
    reserve_names(schema, &mut generator.reserved);
    match schema {
        Value::Object(object)
            if matches!(
                object.get("type").and_then(Value::as_str),
                Some("record" | "error" | "enum")
            ) =>
        {
            generator.ty(schema, "", "", options.root_name.as_deref(), "")?;
            Ok(generator.items)
        }
        Value::Array(branches) => {
            generator.event_union(branches, options)?;
            Ok(generator.items)
        }
        _ => Err(CodegenError::unsupported(
            "",
            "the top-level schema must be a record or an enum to become an event type",
        )),
    }
}

#[derive(Default)]
struct Generator {
    items: Vec<Item>,
    /// Full Avro name → Rust type name.
    named: BTreeMap<String, String>,
    /// What each named type's default expression needs: enum symbols by full name.
    enums: BTreeMap<String, Vec<(String, String)>>,
    /// The schema of each named type, by full name.
    definitions: BTreeMap<String, Value>,
    /// Each union enum's branches (Rust variant, branch schema, Rust type), by Rust name.
    unions: BTreeMap<String, Vec<(String, Value, String)>>,
    /// The simple names of every named type in the schema, which union enums avoid.
    reserved: BTreeSet<String>,
    /// Records whose fields are being generated: a reference to one is recursive.
    open_records: BTreeSet<String>,
}

/// Collects the names of the schema's records, enums and fixed types.
fn reserve_names(schema: &Value, names: &mut BTreeSet<String>) {
    match schema {
        Value::Object(object) => {
            let named = matches!(
                object.get("type").and_then(Value::as_str),
                Some("record" | "error" | "enum" | "fixed")
            );
            if let (true, Some(name)) = (named, object.get("name").and_then(Value::as_str)) {
                names.insert(name.rsplit('.').next().unwrap_or(name).to_owned());
            }
            object
                .values()
                .for_each(|value| reserve_names(value, names));
        }
        Value::Array(items) => items.iter().for_each(|value| reserve_names(value, names)),
        _ => {}
    }
}

/// What a value of a union branch looks like to serde's untagged enum (after
/// `serde_json::Value`, the form Herald's Avro codec reads), in the order serde tries them.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Null,
    Boolean,
    /// `int` and `long`: a JSON integer.
    Integer,
    /// `float` and `double`: a JSON number, integer or not (serde reads `7` as `7.0`).
    Number,
    /// `string` and enums.
    Text,
    /// `array`, `bytes` and `fixed`: a JSON array.
    Sequence,
    /// A map: any JSON object.
    Map,
    /// A record: a JSON object with these fields (name, whether it has a default).
    Record(Vec<(String, bool)>),
}

fn full_name(object: &Map<String, Value>, namespace: &str) -> Option<(String, String)> {
    let name = object.get("name")?.as_str()?;
    if let Some((ns, _)) = name.rsplit_once('.') {
        return Some((name.to_owned(), ns.to_owned()));
    }
    let ns = object
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or(namespace);
    if ns.is_empty() {
        Some((name.to_owned(), String::new()))
    } else {
        Some((format!("{ns}.{name}"), ns.to_owned()))
    }
}

fn doc(object: &Map<String, Value>) -> Option<String> {
    object.get("doc").and_then(Value::as_str).map(str::to_owned)
}

impl Generator {
    /// A fresh Rust name for a named type: the Avro name itself, since record and enum names
    /// are part of an Avro schema's identity (Herald exports a record under its Rust type's
    /// name); a keyword is made CamelCase instead.
    fn rust_name(&self, full: &str, wanted: Option<&str>) -> String {
        let simple = full.rsplit('.').next().unwrap_or(full);
        let wanted = wanted.unwrap_or(simple);
        let mut name = if snake(wanted) == format!("{wanted}_") {
            camel(wanted)
        } else {
            wanted.to_owned()
        };
        if self.named.values().any(|n| *n == name) || self.items.iter().any(|i| i.name == name) {
            name = camel(full);
        }
        name
    }

    /// The Rust type of `schema`, generating items for the named types it defines.
    fn ty(
        &mut self,
        schema: &Value,
        namespace: &str,
        location: &str,
        wanted_name: Option<&str>,
        hint: &str,
    ) -> Result<String, CodegenError> {
        match schema {
            Value::String(name) => self.named_or_primitive(name, namespace, location),
            Value::Array(branches) => self.union(branches, namespace, location, hint),
            Value::Object(object) => self.complex(object, namespace, location, wanted_name, hint),
            _ => Err(CodegenError::unsupported(location, "not an Avro schema")),
        }
    }

    fn named_or_primitive(
        &mut self,
        name: &str,
        namespace: &str,
        location: &str,
    ) -> Result<String, CodegenError> {
        if let Some(ty) = primitive(name) {
            return Ok(ty.to_owned());
        }
        if name == "bytes" {
            return Ok("::herald::Bytes".to_owned());
        }
        if name == "null" {
            return Err(CodegenError::unsupported(
                location,
                "`null` outside a union has no Rust field type",
            ));
        }
        let full = if name.contains('.') || namespace.is_empty() {
            name.to_owned()
        } else {
            format!("{namespace}.{name}")
        };
        let ty = self
            .named
            .get(&full)
            .or_else(|| self.named.get(name))
            .cloned()
            .ok_or_else(|| CodegenError::unsupported(location, format!("unknown type `{name}`")))?;
        // A record inside itself needs a pointer to have a size.
        Ok(if self.open_records.contains(&ty) {
            format!("::std::boxed::Box<{ty}>")
        } else {
            ty
        })
    }

    fn union(
        &mut self,
        branches: &[Value],
        namespace: &str,
        location: &str,
        hint: &str,
    ) -> Result<String, CodegenError> {
        let is_null = |v: &Value| v.as_str() == Some("null");
        let others: Vec<(usize, &Value)> = branches
            .iter()
            .enumerate()
            .filter(|(_, b)| !is_null(b))
            .collect();
        match (branches.len(), others.as_slice()) {
            (2, [(index, inner)]) => {
                let at = format!("{location}/{index}");
                let inner = self.ty(inner, namespace, &at, None, hint)?;
                return Ok(format!("::core::option::Option<{inner}>"));
            }
            (1, [(_, inner)]) => {
                return self.ty(inner, namespace, &format!("{location}/0"), None, hint);
            }
            (_, []) => {
                return Err(CodegenError::unsupported(
                    location,
                    "a union without a branch other than `null` has no Rust field type",
                ));
            }
            _ => {}
        }
        // Several branches: an untagged enum, one newtype variant per branch, and `Null` in
        // its place (or `Option<_>` around the enum when `null` comes first).
        let name = self.fresh_name(if hint.is_empty() { "Union" } else { hint });
        let slot = self.items.len();
        self.items.push(Item {
            name: name.clone(),
            wire: None,
            doc: None,
            kind: Kind::Union {
                branches: Vec::new(),
            },
        });
        let null_first = branches.first().is_some_and(is_null);
        let mut rust_branches = Vec::with_capacity(branches.len());
        let mut shapes: Vec<(usize, Shape)> = Vec::with_capacity(branches.len());
        let mut described = Vec::with_capacity(branches.len());
        for (index, branch) in branches.iter().enumerate() {
            let at = format!("{location}/{index}");
            let shape = self.shape(branch, namespace, &at)?;
            if let Some((other, _)) = shapes.iter().find(|(_, seen)| clashes(seen, &shape)) {
                return Err(CodegenError::unsupported(
                    &at,
                    format!(
                        "branch {index} ({}) cannot be told apart from branch {other} ({}) once \
                         written as JSON, so serde would read one as the other; only unions whose \
                         branches differ in JSON kind (null, boolean, integer, then floating \
                         number, string or enum, array/bytes/fixed, map, records each with a \
                         field without default that later records lack) have a faithful Rust form",
                        describe(branch),
                        describe(&branches[*other]),
                    ),
                ));
            }
            shapes.push((index, shape));
            if is_null(branch) {
                if !null_first {
                    rust_branches.push(Branch {
                        rust: "Null".to_owned(),
                        ty: None,
                        doc: "The `null` branch.".to_owned(),
                    });
                }
                continue;
            }
            let variant = branch_name(branch);
            let ty = self.ty(branch, namespace, &at, None, &format!("{hint}{variant}"))?;
            let mut rust = variant;
            if rust_branches.iter().any(|b: &Branch| b.rust == rust) {
                rust = format!("{rust}{index}");
            }
            described.push((rust.clone(), branch.clone(), ty.clone()));
            rust_branches.push(Branch {
                rust,
                ty: Some(ty),
                doc: format!("The `{}` branch.", describe(branch)),
            });
        }
        let listed: Vec<String> = branches.iter().map(describe).collect();
        if let Some(item) = self.items.get_mut(slot) {
            item.doc = Some(format!("The Avro union `[{}]`.", listed.join(", ")));
            item.kind = Kind::Union {
                branches: rust_branches,
            };
        }
        self.unions.insert(name.clone(), described);
        Ok(if null_first {
            format!("::core::option::Option<{name}>")
        } else {
            name
        })
    }

    /// A Rust type name no other generated item has.
    fn fresh_name(&self, wanted: &str) -> String {
        let taken = |name: &str| {
            self.reserved.contains(name)
                || self.items.iter().any(|item| item.name == name)
                || self.named.values().any(|n| n == name)
        };
        if !taken(wanted) {
            return wanted.to_owned();
        }
        (2..)
            .map(|n| format!("{wanted}{n}"))
            .find(|name| !taken(name))
            .unwrap_or_else(|| wanted.to_owned())
    }

    /// How a branch's values look to serde (see [`Shape`]).
    fn shape(
        &self,
        schema: &Value,
        namespace: &str,
        location: &str,
    ) -> Result<Shape, CodegenError> {
        let kind = match schema {
            Value::String(name) => name.as_str(),
            Value::Object(object) => match object.get("type") {
                Some(Value::String(kind)) => kind.as_str(),
                Some(inner) => return self.shape(inner, namespace, location),
                None => "",
            },
            Value::Array(_) => {
                return Err(CodegenError::unsupported(
                    location,
                    "a union directly inside a union is not valid Avro",
                ));
            }
            _ => "",
        };
        Ok(match kind {
            "null" => Shape::Null,
            "boolean" => Shape::Boolean,
            "int" | "long" => Shape::Integer,
            "float" | "double" => Shape::Number,
            "string" | "enum" => Shape::Text,
            "array" | "bytes" | "fixed" => Shape::Sequence,
            "map" => Shape::Map,
            "record" | "error" => Shape::Record(record_fields(schema)),
            name => {
                let full = if name.contains('.') || namespace.is_empty() {
                    name.to_owned()
                } else {
                    format!("{namespace}.{name}")
                };
                match self
                    .definitions
                    .get(&full)
                    .or_else(|| self.definitions.get(name))
                {
                    Some(definition) => self.shape(definition, namespace, location)?,
                    None => {
                        return Err(CodegenError::unsupported(
                            location,
                            format!("unknown type `{name}`"),
                        ));
                    }
                }
            }
        })
    }

    fn complex(
        &mut self,
        object: &Map<String, Value>,
        namespace: &str,
        location: &str,
        wanted_name: Option<&str>,
        hint: &str,
    ) -> Result<String, CodegenError> {
        let Some(kind) = object.get("type") else {
            return Err(CodegenError::unsupported(
                location,
                "a schema object without `type`",
            ));
        };
        let logical = object.get("logicalType").and_then(Value::as_str);
        let kind = match kind {
            Value::String(kind) => kind.as_str(),
            other => return self.ty(other, namespace, location, wanted_name, hint),
        };
        match (kind, logical) {
            ("record" | "error", _) => self.record(object, namespace, location, wanted_name),
            ("enum", _) => self.enumeration(object, namespace, location, wanted_name),
            ("array", _) => {
                let items = object.get("items").ok_or_else(|| {
                    CodegenError::unsupported(location, "an array without `items`")
                })?;
                let at = format!("{location}/items");
                let inner = self.ty(items, namespace, &at, None, &format!("{hint}Item"))?;
                Ok(format!("::std::vec::Vec<{inner}>"))
            }
            ("map", _) => {
                let values = object
                    .get("values")
                    .ok_or_else(|| CodegenError::unsupported(location, "a map without `values`"))?;
                let at = format!("{location}/values");
                let inner = self.ty(values, namespace, &at, None, &format!("{hint}Value"))?;
                Ok(format!(
                    "::std::collections::BTreeMap<::std::string::String, {inner}>"
                ))
            }
            ("bytes", Some("decimal")) => match decimal(object, location)? {
                Some((precision, scale)) => Ok(format!("::herald::Decimal<{precision}, {scale}>")),
                None => Ok("::herald::Bytes".to_owned()),
            },
            ("fixed", _) => self.fixed(object, namespace, location, wanted_name),
            (primitive_kind, _) => match primitive(primitive_kind) {
                Some(ty) => Ok(ty.to_owned()),
                None => self.named_or_primitive(primitive_kind, namespace, location),
            },
        }
    }

    fn record(
        &mut self,
        object: &Map<String, Value>,
        namespace: &str,
        location: &str,
        wanted_name: Option<&str>,
    ) -> Result<String, CodegenError> {
        let Some((full, ns)) = full_name(object, namespace) else {
            return Err(CodegenError::unsupported(
                location,
                "a record without `name`",
            ));
        };
        let name = self.rust_name(&full, wanted_name);
        self.named.insert(full.clone(), name.clone());
        self.definitions.insert(full, Value::Object(object.clone()));
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
        self.open_records.insert(name.clone());
        let fields = self.fields(object, &ns, location, &name);
        self.open_records.remove(&name);
        let fields = fields?;
        if let Some(item) = self.items.get_mut(slot) {
            item.kind = Kind::Struct {
                fields,
                deny_unknown: false,
            };
        }
        Ok(name)
    }

    /// Herald's event-enum form: a top-level union of records, one per event type.
    fn event_union(&mut self, branches: &[Value], options: &Options) -> Result<(), CodegenError> {
        let name = options
            .root_name
            .clone()
            .unwrap_or_else(|| camel(&options.event_name));
        self.items.push(Item {
            name: name.clone(),
            wire: None,
            doc: None,
            kind: Kind::Enum {
                variants: Vec::new(),
                tag: None,
            },
        });
        let mut variants = Vec::with_capacity(branches.len());
        for (index, branch) in branches.iter().enumerate() {
            let at = format!("/{index}");
            let record = branch.as_object().filter(|o| {
                matches!(
                    o.get("type").and_then(Value::as_str),
                    Some("record" | "error")
                )
            });
            let Some(record) = record else {
                return Err(CodegenError::unsupported(
                    &at,
                    "a top-level union becomes an event enum only when every branch is a record \
                     (one per event type)",
                ));
            };
            let Some((full, ns)) = full_name(record, "") else {
                return Err(CodegenError::unsupported(&at, "a record without `name`"));
            };
            let simple = full.rsplit('.').next().unwrap_or(&full).to_owned();
            let fields = self.fields(record, &ns, &at, &camel(&simple))?;
            // Herald writes each variant's event type beside its record name; without it the
            // event type is the name in snake case, as `#[derive(Event)]` makes it.
            let wire = match record.get(EVENT_TYPE_ATTRIBUTE) {
                None => snake(&simple).trim_end_matches('_').to_owned(),
                Some(Value::String(event_type)) => event_type
                    .strip_prefix(&format!("{}.", options.event_name))
                    .filter(|rest| !rest.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        CodegenError::unsupported(
                            &format!("{at}/{EVENT_TYPE_ATTRIBUTE}"),
                            format!(
                                "event type `{event_type}` is not one of event `{}` (`{}.<type>`); \
                                 generate with the event name it was written with",
                                options.event_name, options.event_name
                            ),
                        )
                    })?,
                Some(other) => {
                    return Err(CodegenError::unsupported(
                        &format!("{at}/{EVENT_TYPE_ATTRIBUTE}"),
                        format!("`{EVENT_TYPE_ATTRIBUTE}` must be a string, found {other}"),
                    ));
                }
            };
            variants.push(Variant {
                wire,
                rust: camel(&simple),
                doc: doc(record),
                fields: Some(fields),
            });
        }
        if let Some(item) = self.items.first_mut() {
            item.kind = Kind::Enum {
                variants,
                tag: None,
            };
        }
        Ok(())
    }

    /// The fields of a record (or event type) whose Rust name is `owner`.
    fn fields(
        &mut self,
        object: &Map<String, Value>,
        ns: &str,
        location: &str,
        owner: &str,
    ) -> Result<Vec<Field>, CodegenError> {
        let empty = Vec::new();
        let wire_fields = object
            .get("fields")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        let mut fields = Vec::with_capacity(wire_fields.len());
        for (index, wire) in wire_fields.iter().enumerate() {
            let at = format!("{location}/fields/{index}");
            let Some(field) = wire.as_object() else {
                return Err(CodegenError::unsupported(&at, "a field must be an object"));
            };
            let Some(wire_name) = field.get("name").and_then(Value::as_str) else {
                return Err(CodegenError::unsupported(&at, "a field without `name`"));
            };
            let Some(schema) = field.get("type") else {
                return Err(CodegenError::unsupported(&at, "a field without `type`"));
            };
            let hint = format!("{}{}", camel(owner), camel(wire_name));
            let ty = self.ty(schema, ns, &format!("{at}/type"), None, &hint)?;
            let logical = logical_note(schema);
            let doc = match (doc(field), logical) {
                (Some(d), Some(l)) => Some(format!("{d}\n\nAvro logical type `{l}`.")),
                (None, Some(l)) => Some(format!("Avro logical type `{l}`.")),
                (d, None) => d,
            };
            let default = match field.get("default") {
                None => FieldDefault::None,
                Some(value) => {
                    self.field_default(value, schema, &ty, ns, &format!("{at}/default"))?
                }
            };
            fields.push(Field {
                wire: wire_name.to_owned(),
                rust: snake(wire_name),
                ty,
                doc,
                default,
                skip_none: false,
                schema_with: None,
            });
        }
        Ok(fields)
    }

    fn enumeration(
        &mut self,
        object: &Map<String, Value>,
        namespace: &str,
        location: &str,
        wanted_name: Option<&str>,
    ) -> Result<String, CodegenError> {
        let Some((full, _)) = full_name(object, namespace) else {
            return Err(CodegenError::unsupported(
                location,
                "an enum without `name`",
            ));
        };
        let name = self.rust_name(&full, wanted_name);
        let symbols: Vec<String> = object
            .get("symbols")
            .and_then(Value::as_array)
            .map(|s| {
                s.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if symbols.is_empty() {
            return Err(CodegenError::unsupported(
                location,
                format!("enum `{full}` has no symbols"),
            ));
        }
        let variants: Vec<Variant> = symbols
            .iter()
            .map(|s| Variant {
                wire: s.clone(),
                rust: camel(s),
                doc: None,
                fields: None,
            })
            .collect();
        self.enums.insert(
            full.clone(),
            variants
                .iter()
                .map(|v| (v.wire.clone(), v.rust.clone()))
                .collect(),
        );
        self.named.insert(full.clone(), name.clone());
        self.definitions.insert(full, Value::Object(object.clone()));
        self.items.push(Item {
            name: name.clone(),
            wire: None,
            doc: doc(object),
            kind: Kind::Enum {
                variants,
                tag: None,
            },
        });
        Ok(name)
    }

    /// The size of the fixed whose Rust type is `ty`.
    fn fixed_size(&self, ty: &str) -> Option<u64> {
        let (full, _) = self.named.iter().find(|(_, rust)| *rust == ty)?;
        let definition = self.definitions.get(full)?;
        (definition.get("type")?.as_str()? == "fixed")
            .then(|| definition.get("size")?.as_u64())
            .flatten()
    }

    /// A named `fixed`: a newtype around [`herald::Fixed`], named like the Avro type.
    fn fixed(
        &mut self,
        object: &Map<String, Value>,
        namespace: &str,
        location: &str,
        wanted_name: Option<&str>,
    ) -> Result<String, CodegenError> {
        let Some((full, _)) = full_name(object, namespace) else {
            return Err(CodegenError::unsupported(
                location,
                "a fixed without `name`",
            ));
        };
        let size = object
            .get("size")
            .and_then(Value::as_u64)
            .ok_or_else(|| CodegenError::unsupported(location, "a fixed without a `size`"))?;
        if size > MAX_FIXED {
            return Err(CodegenError::unsupported(
                location,
                format!(
                    "fixed `{full}` of {size} bytes is larger than the {MAX_FIXED}-byte array Herald generates for a fixed; use `bytes`"
                ),
            ));
        }
        let name = self.rust_name(&full, wanted_name);
        self.named.insert(full.clone(), name.clone());
        self.definitions
            .insert(full.clone(), Value::Object(object.clone()));
        let logical = object.get("logicalType").and_then(Value::as_str);
        let avro = match logical {
            Some("decimal") => decimal(object, location)?.map(|(precision, scale)| {
                serde_json::json!({
                    "type": "fixed",
                    "size": size,
                    "logicalType": "decimal",
                    "precision": precision,
                    "scale": scale,
                })
                .to_string()
            }),
            _ => None,
        };
        let mut text = doc(object).map_or_else(String::new, |d| format!("{d}\n\n"));
        text.push_str(&format!("The Avro fixed `{full}` of {size} bytes"));
        if let Some(note) = logical_note(&Value::Object(object.clone())) {
            text.push_str(&format!(", logical type `{note}`"));
        }
        text.push('.');
        self.items.push(Item {
            name: name.clone(),
            wire: None,
            doc: Some(text),
            kind: Kind::Newtype {
                ty: format!("::herald::Fixed<{size}>"),
                avro,
            },
        });
        Ok(name)
    }

    /// A field default as serde sees it: the type's own default, or an expression.
    fn field_default(
        &self,
        value: &Value,
        schema: &Value,
        ty: &str,
        namespace: &str,
        location: &str,
    ) -> Result<FieldDefault, CodegenError> {
        // A union's default is of its first branch (Avro requires it).
        if let Some((variant, branch, branch_ty)) =
            self.unions.get(ty).and_then(|branches| branches.first())
        {
            let inner = match self.field_default(value, branch, branch_ty, namespace, location)? {
                FieldDefault::Expr(expr) => expr,
                _ => "::core::default::Default::default()".to_owned(),
            };
            return Ok(FieldDefault::Expr(format!("{ty}::{variant}({inner})")));
        }
        let natural = match value {
            Value::Null => ty.starts_with("::core::option::Option<"),
            Value::Bool(b) => !b,
            Value::Number(n) => n.as_f64() == Some(0.0),
            Value::String(s) => {
                s.is_empty()
                    && (ty == "::std::string::String"
                        || ty == "::herald::Bytes"
                        || ty.starts_with("::herald::Decimal<")
                        || ty.starts_with("::std::vec::Vec<"))
            }
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty() && ty.starts_with("::std::collections::BTreeMap<"),
        };
        if natural {
            return Ok(FieldDefault::Natural);
        }
        let unsupported = || {
            CodegenError::unsupported(
                location,
                format!("the default {value} of a `{ty}` field has no Rust expression here"),
            )
        };
        let expr = match (value, ty) {
            (Value::Bool(b), "bool") => b.to_string(),
            (Value::Number(n), "i32" | "i64") if n.is_i64() => format!("{n}"),
            (Value::Number(n), "f32" | "f64") => {
                let f = n.as_f64().ok_or_else(unsupported)?;
                format!("{f:?}")
            }
            (Value::String(s), "::std::string::String") => {
                format!("::std::string::String::from({s:?})")
            }
            // Avro writes a bytes default as a string of code points 0-255.
            (Value::String(s), "::herald::Bytes") => {
                format!(
                    "::herald::Bytes(::std::vec![{}])",
                    byte_list(s).ok_or_else(unsupported)?
                )
            }
            (Value::String(s), _) if ty.starts_with("::herald::Decimal<") => format!(
                "{}(::std::vec![{}])",
                ty.replacen("Decimal<", "Decimal::<", 1),
                byte_list(s).ok_or_else(unsupported)?
            ),
            (Value::String(s), _) if self.fixed_size(ty).is_some() => {
                let list = byte_list(s).ok_or_else(unsupported)?;
                if Some(s.chars().count() as u64) != self.fixed_size(ty) {
                    return Err(unsupported());
                }
                format!("{ty}(::herald::Fixed([{list}]))")
            }
            (Value::String(symbol), _) => {
                let full = match schema {
                    Value::String(name) if name.contains('.') || namespace.is_empty() => {
                        name.clone()
                    }
                    Value::String(name) => format!("{namespace}.{name}"),
                    Value::Object(o) => full_name(o, namespace).map(|(f, _)| f).unwrap_or_default(),
                    _ => String::new(),
                };
                let variant = self
                    .enums
                    .get(&full)
                    .and_then(|symbols| symbols.iter().find(|(wire, _)| wire == symbol))
                    .map(|(_, rust)| rust.clone())
                    .ok_or_else(unsupported)?;
                format!("{ty}::{variant}")
            }
            _ => return Err(unsupported()),
        };
        Ok(FieldDefault::Expr(expr))
    }
}

/// The attribute of a variant record holding its event type (Herald's
/// `herald::schema::EVENT_TYPE_ATTRIBUTE`).
pub(crate) const EVENT_TYPE_ATTRIBUTE: &str = "herald.event_type";

/// The largest `fixed` generated as a Rust array.
const MAX_FIXED: u64 = 65_536;

/// The precision and scale of a valid `decimal`; `None` for an invalid one, which Avro
/// ignores (the value is read as the underlying `bytes` or `fixed`).
fn decimal(
    object: &Map<String, Value>,
    location: &str,
) -> Result<Option<(u32, u32)>, CodegenError> {
    let Some(precision) = object.get("precision").and_then(Value::as_u64) else {
        return Ok(None);
    };
    let scale = object.get("scale").and_then(Value::as_u64).unwrap_or(0);
    match (u32::try_from(precision), u32::try_from(scale)) {
        (Ok(precision), Ok(scale)) if precision > 0 && scale <= precision => {
            if precision > 38 {
                return Err(CodegenError::unsupported(
                    location,
                    format!(
                        "a decimal of precision {precision}: apache-avro reads at most 38 digits into the 16 bytes Herald's `Decimal` converts"
                    ),
                ));
            }
            Ok(Some((precision, scale)))
        }
        _ => Ok(None),
    }
}

/// The bytes of an Avro bytes default (code points 0-255) as a Rust list, or `None`.
fn byte_list(text: &str) -> Option<String> {
    let bytes: Option<Vec<String>> = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok().map(|b| b.to_string()))
        .collect();
    bytes.map(|b| b.join(", "))
}

/// The fields of a record schema: name, and whether it has a default.
fn record_fields(schema: &Value) -> Vec<(String, bool)> {
    schema
        .get("fields")
        .and_then(Value::as_array)
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| {
                    let name = f.get("name")?.as_str()?;
                    Some((name.to_owned(), f.get("default").is_some()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a value of the later shape `later` could be read as the earlier `earlier`.
fn clashes(earlier: &Shape, later: &Shape) -> bool {
    match (earlier, later) {
        // serde reads a JSON integer as a float, not a float as an integer.
        (Shape::Number, Shape::Integer) => true,
        (Shape::Map, Shape::Map | Shape::Record(_)) | (Shape::Record(_), Shape::Map) => true,
        // serde also reads a struct from an array, field by field.
        (Shape::Record(_), Shape::Sequence) => true,
        // A record reads any object holding its fields without default (unknown fields are
        // ignored), and so does apache-avro's union resolution.
        (Shape::Record(a), Shape::Record(b)) => !a
            .iter()
            .any(|(name, has_default)| !has_default && !b.iter().any(|(n, _)| n == name)),
        (a, b) => a == b,
    }
}

/// A union branch as the source writes it, for messages and docs.
fn describe(branch: &Value) -> String {
    match branch {
        Value::String(name) => name.clone(),
        Value::Object(o) => {
            let kind = o.get("type").map_or_else(String::new, |t| match t {
                Value::String(t) => t.clone(),
                other => other.to_string(),
            });
            match (
                o.get("name").and_then(Value::as_str),
                o.get("logicalType").and_then(Value::as_str),
            ) {
                (Some(name), _) => name.to_owned(),
                (None, Some(logical)) => format!("{kind} ({logical})"),
                (None, None) => kind,
            }
        }
        other => other.to_string(),
    }
}

/// The Rust variant name of a union branch.
fn branch_name(branch: &Value) -> String {
    match branch {
        Value::String(name) => camel(name.rsplit('.').next().unwrap_or(name)),
        Value::Object(o) => {
            let logical = o.get("logicalType").and_then(Value::as_str);
            let name = o.get("name").and_then(Value::as_str);
            match (name, logical, o.get("type")) {
                (Some(name), _, _) => camel(name.rsplit('.').next().unwrap_or(name)),
                (None, Some(logical), _) => camel(logical),
                (None, None, Some(Value::String(kind))) => camel(kind),
                (None, None, Some(inner)) => branch_name(inner),
                _ => "Branch".to_owned(),
            }
        }
        _ => "Branch".to_owned(),
    }
}

fn primitive(name: &str) -> Option<&'static str> {
    Some(match name {
        "boolean" => "bool",
        "int" => "i32",
        "long" => "i64",
        "float" => "f32",
        "double" => "f64",
        "string" => "::std::string::String",
        _ => return None,
    })
}

/// The logical type of a field's schema (or of its non-null union branch), for the doc.
fn logical_note(schema: &Value) -> Option<String> {
    match schema {
        Value::Object(o) => {
            let logical = o.get("logicalType")?.as_str()?;
            match (o.get("precision"), o.get("scale")) {
                (Some(p), Some(s)) => Some(format!("{logical}({p}, {s})")),
                (Some(p), None) => Some(format!("{logical}({p})")),
                _ => Some(logical.to_owned()),
            }
        }
        Value::Array(branches) => branches.iter().find_map(logical_note),
        _ => None,
    }
}
