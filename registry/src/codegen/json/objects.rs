//! JSON Schema objects: structs and maps, and the fields of an object schema.

use serde_json::{Map, Value};

use super::{Generator, doc, escape};
use crate::codegen::CodegenError;
use crate::codegen::defaults::scalar;
use crate::codegen::model::{Field, FieldDefault, Kind, fill, open};
use crate::codegen::names::{camel, snake};

impl Generator {
    pub(super) fn object(
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
        let slot = open(&mut self.items, &name, doc(object));
        let (fields, deny_unknown) = self.fields(object, &name, location)?;
        fill(
            &mut self.items,
            slot,
            Kind::Struct {
                fields,
                deny_unknown,
            },
        );
        Ok(name)
    }

    /// The fields of an object schema, and whether unknown properties are refused.
    pub(super) fn fields(
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
                    let default = scalar(value, &ty, &format!("{at}/default"))?;
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
}
