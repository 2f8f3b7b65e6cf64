//! Avro enums: Rust enums of unit variants.

use serde_json::{Map, Value};

use super::{Generator, doc};
use crate::codegen::CodegenError;
use crate::codegen::model::{Item, Kind, Variant};
use crate::codegen::names::camel;

impl Generator {
    pub(super) fn enumeration(
        &mut self,
        object: &Map<String, Value>,
        namespace: &str,
        location: &str,
        wanted_name: Option<&str>,
    ) -> Result<String, CodegenError> {
        let (full, _, name) = self.define(object, namespace, location, "an enum", wanted_name)?;
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
            full,
            variants
                .iter()
                .map(|v| (v.wire.clone(), v.rust.clone()))
                .collect(),
        );
        self.items.push(Item {
            name: name.clone(),
            doc: doc(object),
            kind: Kind::Enum {
                variants,
                tag: None,
            },
        });
        Ok(name)
    }
}
