//! A version's Avro schema, mapped from its JSON Schema.
//!
//! [`AvroSchemas`] assembles the exported document and the per-variant records;
//! `mapper` walks a JSON Schema and writes its Avro equivalent, listing record fields in the
//! order `field_order` finds them declared; `union` and `names` hold the Avro rules the
//! mapping follows for unions and defaults, and for names.

mod field_order;
mod mapper;
mod names;
mod union;

use herald_protocol::annotations::EVENT_TYPE_ATTRIBUTE;
use serde_json::{Map, Value};

use crate::codec::DatumPlan;
use crate::error::SchemaError;
use crate::event::Event;
use field_order::FieldOrder;
use mapper::Mapper;

/// The Avro schemas of one event version: the exported document and, per event type, a
/// self-contained record schema used as the writer and reader schema of its payloads.
#[doc(hidden)]
#[derive(Debug)]
pub struct AvroSchemas {
    /// The exported schema (a union of records, or one record for a struct event).
    pub document: Value,
    records: Vec<apache_avro::Schema>,
    /// Each record compiled for the direct Avro codec, beside it.
    plans: Vec<DatumPlan>,
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
        let order = FieldOrder::of::<E>();
        let mut shared = Mapper::new::<E>(defs, &order);
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
        for (variant, (((branch, pointer), record), event_type)) in variants.enumerate() {
            let mut record_json = shared.top_record(branch, record, pointer, variant)?;
            label(&mut record_json, event_type);
            document.push(record_json);
            let mut alone = Mapper::new::<E>(defs, &order);
            let mut alone_json = alone.top_record(branch, record, pointer, variant)?;
            label(&mut alone_json, event_type);
            records.push(parse::<E>(&alone_json)?);
        }
        let document = if E::__IS_ENUM {
            Value::Array(document)
        } else {
            document.pop().unwrap_or(Value::Null)
        };
        parse::<E>(&document)?;
        let plans = records
            .iter()
            .map(|record| {
                DatumPlan::new(record).map_err(|err| SchemaError::InvalidAvro {
                    name: E::NAME,
                    version: E::VERSION,
                    message: err.to_string(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(AvroSchemas {
            document,
            records,
            plans,
        })
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

impl AvroSchemas {
    /// The compiled record of the variant at `variant`, for the direct Avro codec.
    pub(crate) fn plan<E: Event>(&self, variant: usize) -> Result<&DatumPlan, SchemaError> {
        self.plans
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
