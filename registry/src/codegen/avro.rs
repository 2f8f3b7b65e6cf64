//! Avro schemas to Rust items.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::CodegenError;
use super::model::{Field, FieldDefault, Item, Kind, Options, Variant};
use super::names::{camel, snake};

/// The items of an Avro schema; the root (a record or an enum) comes first.
pub(crate) fn items(schema: &Value, options: &Options) -> Result<Vec<Item>, CodegenError> {
    let mut generator = Generator::default();
    match schema {
        Value::Object(object)
            if matches!(
                object.get("type").and_then(Value::as_str),
                Some("record" | "error" | "enum")
            ) =>
        {
            generator.ty(schema, "", "", options.root_name.as_deref())?;
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
        if self.named.values().any(|n| *n == name) {
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
    ) -> Result<String, CodegenError> {
        match schema {
            Value::String(name) => self.named_or_primitive(name, namespace, location),
            Value::Array(branches) => self.union(branches, namespace, location),
            Value::Object(object) => self.complex(object, namespace, location, wanted_name),
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
            return Err(CodegenError::unsupported(location, NO_BYTES));
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
        self.named
            .get(&full)
            .or_else(|| self.named.get(name))
            .cloned()
            .ok_or_else(|| CodegenError::unsupported(location, format!("unknown type `{name}`")))
    }

    fn union(
        &mut self,
        branches: &[Value],
        namespace: &str,
        location: &str,
    ) -> Result<String, CodegenError> {
        let is_null = |v: &Value| v.as_str() == Some("null");
        let others: Vec<(usize, &Value)> = branches
            .iter()
            .enumerate()
            .filter(|(_, b)| !is_null(b))
            .collect();
        match (branches.len(), others.as_slice()) {
            (2, [(index, inner)]) => {
                let inner = self.ty(inner, namespace, &format!("{location}/{index}"), None)?;
                Ok(format!("::core::option::Option<{inner}>"))
            }
            (1, [(_, inner)]) => self.ty(inner, namespace, &format!("{location}/0"), None),
            _ => Err(CodegenError::unsupported(
                location,
                format!(
                    "a union of {} branches other than [\"null\", T] has no faithful serde form \
                     (serde cannot tell Avro branches apart)",
                    branches.len()
                ),
            )),
        }
    }

    fn complex(
        &mut self,
        object: &Map<String, Value>,
        namespace: &str,
        location: &str,
        wanted_name: Option<&str>,
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
            other => return self.ty(other, namespace, location, wanted_name),
        };
        match (kind, logical) {
            ("record" | "error", _) => self.record(object, namespace, location, wanted_name),
            ("enum", _) => self.enumeration(object, namespace, location, wanted_name),
            ("array", _) => {
                let items = object.get("items").ok_or_else(|| {
                    CodegenError::unsupported(location, "an array without `items`")
                })?;
                let inner = self.ty(items, namespace, &format!("{location}/items"), None)?;
                Ok(format!("::std::vec::Vec<{inner}>"))
            }
            ("map", _) => {
                let values = object
                    .get("values")
                    .ok_or_else(|| CodegenError::unsupported(location, "a map without `values`"))?;
                let inner = self.ty(values, namespace, &format!("{location}/values"), None)?;
                Ok(format!(
                    "::std::collections::BTreeMap<::std::string::String, {inner}>"
                ))
            }
            ("fixed", _) => Err(CodegenError::unsupported(location, NO_BYTES)),
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
        self.named.insert(full, name.clone());
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
        let fields = self.fields(object, &ns, location)?;
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
            let fields = self.fields(record, &ns, &at)?;
            variants.push(Variant {
                wire: snake(&simple).trim_end_matches('_').to_owned(),
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

    /// The fields of a record.
    fn fields(
        &mut self,
        object: &Map<String, Value>,
        ns: &str,
        location: &str,
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
            let ty = self.ty(schema, ns, &format!("{at}/type"), None)?;
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
        self.named.insert(full, name.clone());
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

    /// A field default as serde sees it: the type's own default, or an expression.
    fn field_default(
        &self,
        value: &Value,
        schema: &Value,
        ty: &str,
        namespace: &str,
        location: &str,
    ) -> Result<FieldDefault, CodegenError> {
        let natural = match value {
            Value::Null => ty.starts_with("::core::option::Option<"),
            Value::Bool(b) => !b,
            Value::Number(n) => n.as_f64() == Some(0.0),
            Value::String(s) => {
                s.is_empty()
                    && (ty == "::std::string::String" || ty.starts_with("::std::vec::Vec<"))
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

/// Why `bytes` and `fixed` (and the decimals built on them) are refused.
const NO_BYTES: &str = "Avro `bytes` and `fixed` (and `decimal` on them) have no Rust type that \
     Herald exports as bytes: a `Vec<u8>` is exported as an array of `int`, so the generated type \
     would write different bytes";

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
