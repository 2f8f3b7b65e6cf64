//! Field declarations: label, type (scalar, message or enum name, `map<K, V>`), name,
//! number and options.

use prost_reflect::DynamicMessage;
use prost_reflect::prost_types::field_descriptor_proto::{Label, Type};
use prost_reflect::prost_types::{DescriptorProto, FieldDescriptorProto};

use super::literal::escape;
use super::options::option_name;
use super::{Printer, bare, bracketed, default_json_name, scalar};

impl Printer<'_> {
    /// One field declaration (`message.field[index]`), with its options.
    pub(super) fn field(
        &self,
        scope: &str,
        message: &DescriptorProto,
        index: usize,
        raw_message: Option<&DescriptorProto>,
        in_oneof: bool,
    ) -> String {
        let field = &message.field[index];
        let raw = raw_message.and_then(|r| r.field.get(index));
        let descriptor = self
            .pool
            .get_message_by_name(scope)
            .and_then(|m| m.get_field(u32::try_from(field.number()).unwrap_or(0)));
        let raw_value = raw_message.and_then(|r| {
            let entry = bare(field.type_name()).rsplit('.').next()?;
            let nested = r.nested_type.iter().find(|m| m.name() == entry)?;
            nested
                .field
                .iter()
                .find(|f| f.number() == 2)?
                .type_name
                .as_deref()
        });
        self.field_line(
            field,
            raw,
            raw_value,
            in_oneof,
            descriptor.map(|d| d.options()),
        )
    }

    pub(super) fn field_line(
        &self,
        field: &FieldDescriptorProto,
        raw: Option<&FieldDescriptorProto>,
        raw_value: Option<&str>,
        in_oneof: bool,
        options: Option<DynamicMessage>,
    ) -> String {
        let mut out = String::new();
        let map = self.map_type(field, raw_value);
        if map.is_none() && !in_oneof {
            match field.label() {
                Label::Repeated => out.push_str("repeated "),
                Label::Required => out.push_str("required "),
                Label::Optional if !self.proto3 || field.proto3_optional() => {
                    out.push_str("optional ")
                }
                Label::Optional => {}
            }
        }
        let type_name = map.unwrap_or_else(|| self.type_name(field, raw));
        out.push_str(&format!(
            "{type_name} {} = {}",
            field.name(),
            field.number()
        ));
        let mut entries = options
            .map(|options| self.options(&options, &[]))
            .unwrap_or_default();
        if let Some(default) = field.default_value.as_deref() {
            let value = match field.r#type() {
                Type::String => format!("\"{}\"", escape(default)),
                Type::Bytes => format!("\"{default}\""),
                _ => default.to_owned(),
            };
            entries.push(format!("default = {value}"));
        }
        let explicit_json = match raw {
            Some(raw) => raw.json_name.clone(),
            None => field
                .json_name
                .clone()
                .filter(|json| *json != default_json_name(field.name())),
        };
        if let Some(json) = explicit_json {
            entries.push(format!("json_name = \"{}\"", escape(&json)));
        }
        if self.normalize {
            // Confluent sorts `default` and `json_name` among the field's options.
            entries.sort_by_key(|entry| option_name(entry).to_owned());
        }
        if !entries.is_empty() {
            out.push(' ');
            out.push_str(&bracketed(&entries));
        }
        out.push_str(";\n");
        out
    }

    /// `map<K, V>` when `field` is a map field (`raw_value`: the value type as written).
    pub(super) fn map_type(
        &self,
        field: &FieldDescriptorProto,
        raw_value: Option<&str>,
    ) -> Option<String> {
        if field.label() != Label::Repeated || field.r#type() != Type::Message {
            return None;
        }
        let entry = self.pool.get_message_by_name(bare(field.type_name()))?;
        if !entry.is_map_entry() {
            return None;
        }
        let proto = entry.descriptor_proto();
        let key = proto.field.iter().find(|f| f.number() == 1)?;
        let value = proto.field.iter().find(|f| f.number() == 2)?;
        let value_type = match raw_value {
            Some(written) if !self.normalize && scalar(value.r#type()).is_none() => {
                written.to_owned()
            }
            _ => self.type_name(value, None),
        };
        Some(format!(
            "map<{}, {value_type}>",
            scalar(key.r#type()).unwrap_or("string")
        ))
    }

    /// The field's type as printed: a scalar keyword, or a message or enum name.
    pub(super) fn type_name(
        &self,
        field: &FieldDescriptorProto,
        raw: Option<&FieldDescriptorProto>,
    ) -> String {
        if let Some(keyword) = scalar(field.r#type()) {
            return keyword.to_owned();
        }
        if !self.normalize
            && let Some(written) = raw.and_then(|r| r.type_name.as_deref())
        {
            return written.to_owned();
        }
        let name = field.type_name();
        if name.starts_with('.') {
            name.to_owned()
        } else {
            format!(".{name}")
        }
    }
}
