//! Avro `fixed` types: newtypes around `herald::Fixed<N>`.

use serde_json::{Map, Value};

use super::records::logical_note;
use super::{Generator, MAX_FIXED, decimal, doc};
use crate::codegen::CodegenError;
use crate::codegen::model::{Item, Kind};

impl Generator {
    /// The size of the fixed whose Rust type is `ty`.
    pub(super) fn fixed_size(&self, ty: &str) -> Option<u64> {
        let (full, _) = self.named.iter().find(|(_, rust)| *rust == ty)?;
        let definition = self.definitions.get(full)?;
        (definition.get("type")?.as_str()? == "fixed")
            .then(|| definition.get("size")?.as_u64())
            .flatten()
    }

    /// A named `fixed`: a newtype around [`herald::Fixed`], named like the Avro type.
    pub(super) fn fixed(
        &mut self,
        object: &Map<String, Value>,
        namespace: &str,
        location: &str,
        wanted_name: Option<&str>,
    ) -> Result<String, CodegenError> {
        let (full, _, name) = self.define(object, namespace, location, "a fixed", wanted_name)?;
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
            doc: Some(text),
            kind: Kind::Newtype {
                ty: format!("::herald::Fixed<{size}>"),
                avro,
            },
        });
        Ok(name)
    }
}
