//! A version's Avro schema, mapped from its JSON Schema.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::binary::AVRO_KEYWORD;
use crate::error::SchemaError;
use crate::event::Event;

/// The custom attribute of an event enum's variant records that holds the event type.
pub const EVENT_TYPE_ATTRIBUTE: &str = "herald.event_type";

/// The Avro schemas of one event version: the exported document and, per event type, a
/// self-contained record schema used as the writer and reader schema of its payloads.
#[doc(hidden)]
#[derive(Debug)]
pub struct AvroSchemas {
    /// The exported schema (a union of records, or one record for a struct event).
    pub document: Value,
    records: Vec<apache_avro::Schema>,
}

impl AvroSchemas {
    /// Maps `E`'s JSON Schema to Avro and parses the result.
    pub fn build<E: Event>() -> Result<Self, SchemaError> {
        let json = E::export_json_schema()?;
        let empty = Map::new();
        let defs = json
            .get("$defs")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let branches: Vec<(&Value, String)> = if E::__IS_ENUM {
            let any_of = json
                .get("anyOf")
                .and_then(Value::as_array)
                .ok_or_else(|| mapping::<E>("#", "the version schema has no `anyOf`"))?;
            any_of
                .iter()
                .enumerate()
                .map(|(i, branch)| (branch, format!("#/anyOf/{i}")))
                .collect()
        } else {
            vec![(&json, "#".to_owned())]
        };
        if branches.len() != E::__RECORDS.len() {
            return Err(mapping::<E>("#", "one schema per variant expected"));
        }
        // The document defines each named type once; each record schema defines its own.
        let mut shared = Mapper::new::<E>(defs);
        let mut document = Vec::with_capacity(branches.len());
        let mut records = Vec::with_capacity(branches.len());
        // An enum's variant records carry their event type, which their names (the Rust
        // variants) do not always tell (`#[event(rename)]`).
        let label = |json: &mut Value, event_type: &str| {
            if let Value::Object(map) = json {
                map.insert("namespace".to_owned(), Value::String(E::NAME.to_owned()));
                if E::__IS_ENUM && map.get("type").and_then(Value::as_str) == Some("record") {
                    map.insert(
                        EVENT_TYPE_ATTRIBUTE.to_owned(),
                        Value::String(event_type.to_owned()),
                    );
                }
            }
        };
        let variants = branches.iter().zip(E::__RECORDS).zip(E::EVENT_TYPES);
        for (((branch, pointer), record), event_type) in variants {
            let mut record_json = shared.top_record(branch, record, pointer)?;
            label(&mut record_json, event_type);
            document.push(record_json);
            let mut alone = Mapper::new::<E>(defs);
            let mut alone_json = alone.top_record(branch, record, pointer)?;
            label(&mut alone_json, event_type);
            records.push(parse::<E>(&alone_json)?);
        }
        let document = if E::__IS_ENUM {
            Value::Array(document)
        } else {
            document.pop().unwrap_or(Value::Null)
        };
        parse::<E>(&document)?;
        Ok(AvroSchemas { document, records })
    }

    /// The record schema of the variant at `variant`.
    pub(crate) fn record<E: Event>(
        &self,
        variant: usize,
    ) -> Result<&apache_avro::Schema, SchemaError> {
        self.records
            .get(variant)
            .ok_or_else(|| SchemaError::UnexpectedShape {
                name: E::NAME,
                version: E::VERSION,
                message: format!("no Avro record for variant {variant}"),
            })
    }
}

fn parse<E: Event>(value: &Value) -> Result<apache_avro::Schema, SchemaError> {
    apache_avro::Schema::parse(value).map_err(|err| SchemaError::InvalidAvro {
        name: E::NAME,
        version: E::VERSION,
        message: err.to_string(),
    })
}

fn mapping<E: Event>(pointer: &str, message: &str) -> SchemaError {
    SchemaError::NoAvroMapping {
        name: E::NAME,
        version: E::VERSION,
        pointer: pointer.to_owned(),
        message: message.to_owned(),
    }
}

/// Walks a JSON Schema and writes the Avro equivalent, defining each named type once.
struct Mapper<'a> {
    name: &'static str,
    version: u32,
    defs: &'a Map<String, Value>,
    defined: BTreeSet<String>,
    /// The record of a struct event, which `{"$ref": "#"}` names.
    root: Option<String>,
}

impl<'a> Mapper<'a> {
    fn new<E: Event>(defs: &'a Map<String, Value>) -> Self {
        Mapper {
            name: E::NAME,
            version: E::VERSION,
            defs,
            defined: BTreeSet::new(),
            root: (!E::__IS_ENUM)
                .then(|| E::__RECORDS.first().map(|r| (*r).to_owned()))
                .flatten(),
        }
    }

    fn fail(&self, pointer: &str, message: impl Into<String>) -> SchemaError {
        SchemaError::NoAvroMapping {
            name: self.name,
            version: self.version,
            pointer: pointer.to_owned(),
            message: message.into(),
        }
    }

    /// A variant's payload as a record named `record`.
    fn top_record(
        &mut self,
        schema: &Value,
        record: &str,
        pointer: &str,
    ) -> Result<Value, SchemaError> {
        let (schema, pointer) = self.follow_ref(schema, pointer)?;
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            // A newtype variant around a non-struct: the branch is the inner type itself.
            return self.map(schema, record, &pointer);
        }
        self.define(record, &pointer)?;
        self.record(schema, record, &pointer)
    }

    /// Resolves a `$ref` to `#/$defs/...` (once), returning the target and its pointer.
    fn follow_ref<'s>(
        &self,
        schema: &'s Value,
        pointer: &str,
    ) -> Result<(&'s Value, String), SchemaError>
    where
        'a: 's,
    {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let name = def_name(reference).ok_or_else(|| {
                    self.fail(pointer, format!("unsupported `$ref` `{reference}`"))
                })?;
                let target = self
                    .defs
                    .get(name)
                    .ok_or_else(|| self.fail(pointer, format!("`{reference}` is not defined")))?;
                Ok((target, format!("#/$defs/{name}")))
            }
            None => Ok((schema, pointer.to_owned())),
        }
    }

    fn define(&mut self, name: &str, pointer: &str) -> Result<(), SchemaError> {
        if !is_avro_name(name) {
            return Err(self.fail(
                pointer,
                format!("`{name}` is not a valid Avro name ([A-Za-z_][A-Za-z0-9_]*)"),
            ));
        }
        if !self.defined.insert(name.to_owned()) {
            return Err(self.fail(
                pointer,
                format!("two different Avro types would be named `{name}`; rename one"),
            ));
        }
        Ok(())
    }

    /// An object schema with `properties` as a record. Fields are sorted by name so the
    /// schema does not depend on whether serde_json preserves key order.
    fn record(&mut self, schema: &Value, name: &str, pointer: &str) -> Result<Value, SchemaError> {
        let empty = Map::new();
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let required: BTreeSet<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut keys: Vec<&String> = properties.keys().collect();
        keys.sort();
        let mut fields = Vec::with_capacity(keys.len());
        for key in keys {
            let field_pointer = format!("{pointer}/properties/{key}");
            if !is_avro_name(key) {
                return Err(self.fail(
                    &field_pointer,
                    format!("field `{key}` is not a valid Avro name ([A-Za-z_][A-Za-z0-9_]*)"),
                ));
            }
            let property = &properties[key.as_str()];
            let hint = format!("{name}{}", pascal(key));
            let mut avro = self.map(property, &hint, &field_pointer)?;
            let mut field = Map::new();
            field.insert("name".to_owned(), Value::String(key.clone()));
            if !required.contains(key.as_str()) {
                match property.get("default").filter(|d| !d.is_null()) {
                    // A union's default is of its first branch: an untagged enum's keeps its
                    // place; an `Option` whose default is `Some` puts the value's type first.
                    Some(default) => {
                        if let Value::Array(branches) = &mut avro
                            && branches.len() == 2
                            && branches[0] == "null"
                        {
                            branches.swap(0, 1);
                        }
                        field.insert("default".to_owned(), avro_default(&avro, default));
                    }
                    None if is_nullable(&avro) => {
                        avro = null_first(avro);
                        field.insert("default".to_owned(), Value::Null);
                    }
                    None => {}
                }
            }
            if let Some(doc) = property.get("description") {
                field.insert("doc".to_owned(), doc.clone());
            }
            field.insert("type".to_owned(), avro);
            fields.push(Value::Object(field));
        }
        let mut record = Map::new();
        record.insert("type".to_owned(), json!("record"));
        record.insert("name".to_owned(), Value::String(name.to_owned()));
        if let Some(doc) = schema.get("description") {
            record.insert("doc".to_owned(), doc.clone());
        }
        record.insert("fields".to_owned(), Value::Array(fields));
        Ok(Value::Object(record))
    }

    /// Maps one JSON Schema to an Avro type. `hint` names an anonymous record or enum.
    fn map(&mut self, schema: &Value, hint: &str, pointer: &str) -> Result<Value, SchemaError> {
        // schemars refers to a recursive struct event from inside itself as `#`.
        if schema.get("$ref").and_then(Value::as_str) == Some("#")
            && let Some(root) = &self.root
        {
            return Ok(Value::String(root.clone()));
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = def_name(reference)
                .ok_or_else(|| self.fail(pointer, format!("unsupported `$ref` `{reference}`")))?;
            if self.defined.contains(name) {
                return Ok(Value::String(name.to_owned()));
            }
            let (target, target_pointer) = self.follow_ref(schema, pointer)?;
            return self.map(target, name, &target_pointer);
        }
        if let Some(avro) = schema.get(AVRO_KEYWORD) {
            let avro = self.declared(avro, hint, &format!("{pointer}/{AVRO_KEYWORD}"))?;
            // `Option<Bytes>` and the like: schemars adds `null` to the declared type.
            let nullable = schema
                .get("type")
                .and_then(Value::as_array)
                .is_some_and(|kinds| kinds.iter().any(|k| k == "null"));
            return Ok(if nullable {
                json!(["null", avro])
            } else {
                avro
            });
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = schema.get(keyword) {
                let pointer = format!("{pointer}/{keyword}");
                return self.nullable(branches, keyword == "anyOf", hint, &pointer);
            }
        }
        if let Some(Value::Array(parts)) = schema.get("allOf")
            && let [single] = parts.as_slice()
        {
            return self.map(single, hint, &format!("{pointer}/allOf/0"));
        }
        match schema.get("type") {
            Some(Value::String(kind)) => self.typed(schema, kind, hint, pointer),
            Some(Value::Array(kinds)) => {
                let others: Vec<&str> = kinds
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|kind| *kind != "null")
                    .collect();
                match others.as_slice() {
                    [kind] if kinds.len() == 2 => {
                        Ok(json!(["null", self.typed(schema, kind, hint, pointer)?]))
                    }
                    _ => Err(self.fail(
                        pointer,
                        "a value of several JSON types has no Avro mapping; use one type (or an Option)",
                    )),
                }
            }
            _ => match schema.get("enum") {
                Some(Value::Array(symbols)) => self.enumeration(symbols, hint, pointer),
                _ => Err(self.fail(
                    pointer,
                    "an unconstrained value (e.g. `serde_json::Value`) or an enum with data has no Avro mapping; use structs, unit-only enums, Option, Vec and maps",
                )),
            },
        }
    }

    /// The Avro type a schema declares with the `x-avro` keyword ([`crate::Bytes`] and
    /// friends, or a user's `#[schemars(extend("x-avro" = ...))]`); a `fixed` without a
    /// name is named `hint`, like an anonymous record.
    fn declared(&mut self, avro: &Value, hint: &str, pointer: &str) -> Result<Value, SchemaError> {
        match avro {
            Value::String(_) => Ok(avro.clone()),
            Value::Object(object) => {
                let named = matches!(
                    object.get("type").and_then(Value::as_str),
                    Some("fixed" | "enum" | "record")
                );
                if !named {
                    return Ok(avro.clone());
                }
                let mut object = object.clone();
                let name = match object.get("name").and_then(Value::as_str) {
                    Some(name) => name.to_owned(),
                    None => hint.to_owned(),
                };
                if self.defined.contains(&name) && object.get("name").is_some() {
                    return Ok(Value::String(name));
                }
                self.define(&name, pointer)?;
                object.insert("name".to_owned(), Value::String(name));
                Ok(Value::Object(object))
            }
            _ => Err(self.fail(
                pointer,
                format!("`{AVRO_KEYWORD}` must be an Avro type (a string or an object)"),
            )),
        }
    }

    /// `anyOf`/`oneOf` of one schema and `null` (an `Option`) as `["null", T]`; an `anyOf` of
    /// several schemas (an untagged enum, one branch per variant) as the union of their
    /// Avro types, in variant order.
    fn nullable(
        &mut self,
        branches: &[Value],
        any_of: bool,
        hint: &str,
        pointer: &str,
    ) -> Result<Value, SchemaError> {
        let is_null = |branch: &Value| branch.get("type").and_then(Value::as_str) == Some("null");
        // A unit-only enum with documented variants: one `const` (or `enum`) per branch.
        let symbols: Option<Vec<Value>> = branches
            .iter()
            .filter(|branch| !is_null(branch))
            .map(|branch| match (branch.get("const"), branch.get("enum")) {
                (Some(symbol @ Value::String(_)), _) => Some(vec![symbol.clone()]),
                (_, Some(Value::Array(symbols))) => Some(symbols.clone()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(|groups| groups.into_iter().flatten().collect());
        if let Some(symbols) = symbols.filter(|symbols| !symbols.is_empty()) {
            let enumeration = self.enumeration(&symbols, hint, pointer)?;
            return Ok(if branches.iter().any(is_null) {
                json!(["null", enumeration])
            } else {
                enumeration
            });
        }
        match branches {
            [a, b] if is_null(b) => {
                let inner = self.map(a, hint, &format!("{pointer}/0"))?;
                self.union(vec![json!("null"), inner], pointer)
            }
            [a, b] if is_null(a) => {
                let inner = self.map(b, hint, &format!("{pointer}/1"))?;
                self.union(vec![json!("null"), inner], pointer)
            }
            _ if any_of => {
                let mut avro = Vec::with_capacity(branches.len());
                for (index, branch) in branches.iter().enumerate() {
                    let at = format!("{pointer}/{index}");
                    if branch.get("properties").is_some() && branch.get("$ref").is_none() {
                        return Err(self.fail(
                            &at,
                            "a struct variant of an untagged enum has no name for its Avro record; make it a newtype variant around a struct",
                        ));
                    }
                    avro.push(self.map(branch, hint, &at)?);
                }
                self.union(avro, pointer)
            }
            _ => Err(self.fail(
                pointer,
                "a choice between several schemas (an enum with data, an untagged enum) has no Avro mapping; use a unit-only enum or a struct with optional fields",
            )),
        }
    }

    /// A union of `branches`, flattening nested unions (an `Option` of an untagged enum);
    /// two branches of the same type are an error, since Avro forbids them.
    fn union(&self, branches: Vec<Value>, pointer: &str) -> Result<Value, SchemaError> {
        let mut flat: Vec<Value> = Vec::with_capacity(branches.len());
        for branch in branches {
            let parts = match branch {
                Value::Array(parts) => parts,
                other => vec![other],
            };
            for part in parts {
                let key = branch_key(&part);
                if flat.iter().any(|seen| branch_key(seen) == key) {
                    return Err(self.fail(
                        pointer,
                        format!("the Avro union would hold `{key}` twice; a union holds each type once (give each variant a different type)"),
                    ));
                }
                flat.push(part);
            }
        }
        Ok(Value::Array(flat))
    }

    fn typed(
        &mut self,
        schema: &Value,
        kind: &str,
        hint: &str,
        pointer: &str,
    ) -> Result<Value, SchemaError> {
        let format = schema.get("format").and_then(Value::as_str);
        Ok(match kind {
            "null" => json!("null"),
            "boolean" => json!("boolean"),
            "string" => match schema.get("enum") {
                Some(Value::Array(symbols)) => return self.enumeration(symbols, hint, pointer),
                _ => json!("string"),
            },
            "integer" => match format {
                Some("int8" | "int16" | "int32" | "uint8" | "uint16") => json!("int"),
                Some("uint64" | "uint128" | "int128" | "uint") => {
                    return Err(self.fail(
                        pointer,
                        "u64, u128, i128 and usize have no Avro type that apache-avro round-trips; use i64 (or u32)",
                    ));
                }
                _ => json!("long"),
            },
            "number" => match format {
                Some("float") => json!("float"),
                _ => json!("double"),
            },
            "array" => {
                let items = schema.get("items").ok_or_else(|| {
                    self.fail(pointer, "a tuple has no Avro mapping; use a struct")
                })?;
                json!({ "type": "array", "items": self.map(items, hint, &format!("{pointer}/items"))? })
            }
            "object" => {
                let has_properties = schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|properties| !properties.is_empty());
                match schema.get("additionalProperties") {
                    Some(values @ Value::Object(_)) if !has_properties => {
                        let values =
                            self.map(values, hint, &format!("{pointer}/additionalProperties"))?;
                        json!({ "type": "map", "values": values })
                    }
                    _ => {
                        self.define(hint, pointer)?;
                        return self.record(schema, hint, pointer);
                    }
                }
            }
            other => {
                return Err(self.fail(pointer, format!("JSON type `{other}` has no Avro mapping")));
            }
        })
    }

    fn enumeration(
        &mut self,
        symbols: &[Value],
        hint: &str,
        pointer: &str,
    ) -> Result<Value, SchemaError> {
        let symbols: Option<Vec<&str>> = symbols.iter().map(Value::as_str).collect();
        let symbols = symbols.ok_or_else(|| {
            self.fail(
                pointer,
                "only enums of strings (unit-only Rust enums) map to Avro enums",
            )
        })?;
        if let Some(bad) = symbols.iter().find(|symbol| !is_avro_name(symbol)) {
            return Err(self.fail(
                pointer,
                format!("enum symbol `{bad}` is not a valid Avro name ([A-Za-z_][A-Za-z0-9_]*)"),
            ));
        }
        self.define(hint, pointer)?;
        Ok(json!({ "type": "enum", "name": hint, "symbols": symbols }))
    }
}

fn def_name(reference: &str) -> Option<&str> {
    reference
        .strip_prefix("#/$defs/")
        .or_else(|| reference.strip_prefix("#/definitions/"))
}

/// What tells union branches apart: the type, or the name of a named type.
fn branch_key(avro: &Value) -> String {
    match avro {
        Value::String(name) => name.clone(),
        Value::Object(object) => {
            let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
            match object.get("name").and_then(Value::as_str) {
                Some(name) if matches!(kind, "record" | "enum" | "fixed") => name.to_owned(),
                _ => kind.to_owned(),
            }
        }
        other => other.to_string(),
    }
}

/// A field default in Avro's JSON form: bytes (serde's array of byte values) become the
/// string of code points 0-255 Avro uses; a union's default is of its first branch.
fn avro_default(avro: &Value, default: &Value) -> Value {
    let avro = match avro {
        Value::Array(branches) => branches.first().unwrap_or(&Value::Null),
        other => other,
    };
    let kind = match avro {
        Value::String(kind) => kind.as_str(),
        Value::Object(object) => object.get("type").and_then(Value::as_str).unwrap_or(""),
        _ => "",
    };
    match (kind, default) {
        ("bytes" | "fixed", Value::Array(items)) => {
            let text: Option<String> = items
                .iter()
                .map(|item| {
                    item.as_u64()
                        .and_then(|n| u8::try_from(n).ok())
                        .map(char::from)
                })
                .collect();
            text.map_or_else(|| default.clone(), Value::String)
        }
        _ => default.clone(),
    }
}

fn is_nullable(avro: &Value) -> bool {
    avro.as_array()
        .is_some_and(|branches| branches.iter().any(|b| b.as_str() == Some("null")))
}

/// Puts `"null"` first in a union so that `null` is a valid default.
fn null_first(avro: Value) -> Value {
    match avro {
        Value::Array(branches) => {
            let (mut nulls, others): (Vec<Value>, Vec<Value>) = branches
                .into_iter()
                .partition(|b| b.as_str() == Some("null"));
            nulls.extend(others);
            Value::Array(nulls)
        }
        other => other,
    }
}

pub(crate) fn is_avro_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `line_items` → `LineItems`, for names of anonymous records.
fn pascal(key: &str) -> String {
    key.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_avro_rules() {
        assert!(is_avro_name("Placed"));
        assert!(is_avro_name("_x1"));
        assert!(!is_avro_name("1x"));
        assert!(!is_avro_name("order-id"));
        assert!(!is_avro_name(""));
    }

    #[test]
    fn pascal_joins_snake_case() {
        assert_eq!(pascal("line_items"), "LineItems");
        assert_eq!(pascal("x"), "X");
    }

    #[test]
    fn null_goes_first() {
        assert_eq!(
            null_first(json!(["string", "null"])),
            json!(["null", "string"])
        );
    }
}
