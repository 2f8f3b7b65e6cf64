//! Avro records: structs, and Herald's event enum (a top-level union of records).

use serde_json::{Map, Value};

use super::{EVENT_TYPE_ATTRIBUTE, Generator, doc, full_name};
use crate::codegen::CodegenError;
use crate::codegen::model::{Field, FieldDefault, Kind, Options, Variant, fill, open};
use crate::codegen::names::{camel, snake};

impl Generator {
    pub(super) fn record(
        &mut self,
        object: &Map<String, Value>,
        namespace: &str,
        location: &str,
        wanted_name: Option<&str>,
    ) -> Result<String, CodegenError> {
        let (_, ns, name) = self.define(object, namespace, location, "a record", wanted_name)?;
        let slot = open(&mut self.items, &name, doc(object));
        self.open_records.insert(name.clone());
        let fields = self.fields(object, &ns, location, &name);
        self.open_records.remove(&name);
        let fields = fields?;
        fill(
            &mut self.items,
            slot,
            Kind::Struct {
                fields,
                deny_unknown: false,
            },
        );
        Ok(name)
    }

    /// Herald's event-enum form: a top-level union of records, one per event type.
    pub(super) fn event_union(
        &mut self,
        branches: &[Value],
        options: &Options,
    ) -> Result<(), CodegenError> {
        let name = options
            .root_name
            .clone()
            .unwrap_or_else(|| camel(&options.event_name));
        let slot = open(&mut self.items, &name, None);
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

    /// The fields of a record (or event type) whose Rust name is `owner`.
    pub(super) fn fields(
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
}

/// The logical type of a field's schema (or of its non-null union branch), for the doc.
pub(super) fn logical_note(schema: &Value) -> Option<String> {
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
