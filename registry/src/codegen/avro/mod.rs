//! Avro schemas to Rust items.

mod defaults;
mod enums;
mod fixed;
mod records;
mod unions;

use std::collections::{BTreeMap, BTreeSet};

pub(crate) use herald_protocol::annotations::EVENT_TYPE_ATTRIBUTE;
use serde_json::{Map, Value};

use super::CodegenError;
use super::model::{Item, Options};
use super::names::{camel, snake, unique};

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

/// The full name of the type `name` refers to in `namespace`.
fn qualify(name: &str, namespace: &str) -> String {
    if name.contains('.') || namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}.{name}")
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

    /// Defines the named type (`what`: "a record", "an enum", "a fixed") that `object` declares
    /// in `namespace`: its full Avro name, its namespace and its Rust name, registered so that
    /// references to it resolve.
    fn define(
        &mut self,
        object: &Map<String, Value>,
        namespace: &str,
        location: &str,
        what: &str,
        wanted_name: Option<&str>,
    ) -> Result<(String, String, String), CodegenError> {
        let Some((full, ns)) = full_name(object, namespace) else {
            return Err(CodegenError::unsupported(
                location,
                format!("{what} without `name`"),
            ));
        };
        let name = self.rust_name(&full, wanted_name);
        self.named.insert(full.clone(), name.clone());
        self.definitions
            .insert(full.clone(), Value::Object(object.clone()));
        Ok((full, ns, name))
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
        let full = qualify(name, namespace);
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

    /// A Rust type name no other generated item has.
    fn fresh_name(&self, wanted: &str) -> String {
        let taken = |name: &str| {
            self.reserved.contains(name)
                || self.items.iter().any(|item| item.name == name)
                || self.named.values().any(|n| n == name)
        };
        unique(wanted, taken)
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
}

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
