//! The walk from a JSON Schema to its Avro equivalent.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::field_order::{FieldOrder, sort_keys};
use super::names::{is_avro_name, pascal};
use crate::schema::json::TAGS_KEYWORD;

use super::union::{avro_default, branch_key, is_nullable, null_first};
use crate::byte_fields::AVRO_KEYWORD;
use crate::error::SchemaError;
use crate::event::Event;

/// Walks a JSON Schema and writes the Avro equivalent, defining each named type once.
pub(super) struct Mapper<'a> {
    name: &'static str,
    version: u32,
    defs: &'a Map<String, Value>,
    /// The declaration order of record fields.
    order: &'a FieldOrder,
    defined: BTreeSet<String>,
    /// The record of a struct event, which `{"$ref": "#"}` names.
    root: Option<String>,
}

impl<'a> Mapper<'a> {
    pub(super) fn new<E: Event>(defs: &'a Map<String, Value>, order: &'a FieldOrder) -> Self {
        Mapper {
            name: E::NAME,
            version: E::VERSION,
            defs,
            order,
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

    /// The payload of the variant at `variant` as a record named `record`.
    pub(super) fn top_record(
        &mut self,
        schema: &Value,
        record: &str,
        pointer: &str,
        variant: usize,
    ) -> Result<Value, SchemaError> {
        let (schema, pointer) = self.follow_ref(schema, pointer)?;
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            // A newtype variant around a non-struct: the branch is the inner type itself.
            return self.map(schema, record, &pointer);
        }
        self.define(record, &pointer)?;
        self.record(schema, record, &pointer, self.order.payload(variant))
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

    /// An object schema with `properties` as a record, its fields in `declared` order (the
    /// `properties` map is sorted by name); fields it does not list follow, sorted by name.
    fn record(
        &mut self,
        schema: &Value,
        name: &str,
        pointer: &str,
        declared: Option<&[&str]>,
    ) -> Result<Value, SchemaError> {
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
        sort_keys(&mut keys, declared);
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
            if let Some(tags) = property.get(TAGS_KEYWORD) {
                field.insert(TAGS_KEYWORD.to_owned(), tags.clone());
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
                        let declared = self.order.named(hint);
                        return self.record(schema, hint, pointer, declared);
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
