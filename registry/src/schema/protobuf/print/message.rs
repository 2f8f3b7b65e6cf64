//! Messages: their fields, nested types, oneofs, `extensions` and `reserved` ranges, and
//! groups with the fields of their message.

use prost_reflect::prost_types::field_descriptor_proto::{Label, Type};
use prost_reflect::prost_types::{DescriptorProto, FieldDescriptorProto};

use super::{Printer, bare, indented, qualify, range};

impl Printer<'_> {
    pub(super) fn message(
        &self,
        scope: &str,
        message: &DescriptorProto,
        raw: Option<&DescriptorProto>,
    ) -> String {
        let full = qualify(scope, message.name());
        let descriptor = self.pool.get_message_by_name(&full);
        let mut out = format!("message {} {{", message.name());
        let reserved = self.reserved(
            message
                .reserved_range
                .iter()
                .map(|r| (r.start(), r.end().saturating_sub(1)))
                .collect(),
            &message.reserved_name,
        );
        if !reserved.is_empty() {
            out.push('\n');
            for line in reserved {
                indented(&mut out, &format!("reserved {line};"));
            }
        }
        if let Some(descriptor) = &descriptor {
            let options = self.options(&descriptor.options(), &["map_entry"]);
            if !options.is_empty() {
                out.push('\n');
                for option in options {
                    indented(&mut out, &format!("option {option};"));
                }
            }
        }
        let synthetic = |field: &FieldDescriptorProto| field.proto3_optional();
        let in_oneof =
            |field: &FieldDescriptorProto| field.oneof_index.is_some() && !synthetic(field);
        let is_group = |field: &FieldDescriptorProto| field.r#type() == Type::Group;
        // Plain fields, oneofs and groups, each with its index in `message.field`.
        let mut plain: Vec<usize> = (0..message.field.len())
            .filter(|&i| !in_oneof(&message.field[i]) && !is_group(&message.field[i]))
            .collect();
        let mut groups: Vec<usize> = (0..message.field.len())
            .filter(|&i| !in_oneof(&message.field[i]) && is_group(&message.field[i]))
            .collect();
        if self.normalize {
            plain.sort_by_key(|&i| message.field[i].number());
            groups.sort_by_key(|&i| message.field[i].number());
        }
        if !plain.is_empty() {
            out.push('\n');
            for i in plain {
                indented(&mut out, &self.field(&full, message, i, raw, false));
            }
        }
        let mut oneofs: Vec<(usize, Vec<usize>)> = message
            .oneof_decl
            .iter()
            .enumerate()
            .map(|(o, _)| {
                let members = (0..message.field.len())
                    .filter(|&i| {
                        in_oneof(&message.field[i])
                            && usize::try_from(message.field[i].oneof_index()).ok() == Some(o)
                    })
                    .collect::<Vec<_>>();
                (o, members)
            })
            .filter(|(_, members)| !members.is_empty())
            .collect();
        if self.normalize {
            for (_, members) in &mut oneofs {
                members.sort_by_key(|&i| message.field[i].number());
            }
            oneofs.sort_by_key(|(_, members)| members.first().map(|&i| message.field[i].number()));
        }
        if !oneofs.is_empty() {
            out.push('\n');
            for (o, members) in oneofs {
                let mut block = format!("oneof {} {{", message.oneof_decl[o].name());
                if let Some(oneof) = descriptor.as_ref().and_then(|d| d.oneofs().nth(o)) {
                    let options = self.options(&oneof.options(), &[]);
                    if !options.is_empty() {
                        block.push('\n');
                        for option in options {
                            indented(&mut block, &format!("option {option};"));
                        }
                    }
                }
                let (fields, member_groups): (Vec<usize>, Vec<usize>) = members
                    .into_iter()
                    .partition(|&i| !is_group(&message.field[i]));
                if !fields.is_empty() {
                    block.push('\n');
                    for i in fields {
                        indented(&mut block, &self.field(&full, message, i, raw, true));
                    }
                }
                if !member_groups.is_empty() {
                    block.push('\n');
                    for i in member_groups {
                        indented(&mut block, &self.group(&full, message, i, raw, true));
                    }
                }
                block.push_str("}\n");
                indented(&mut out, &block);
            }
        }
        if !groups.is_empty() {
            out.push('\n');
            for i in groups {
                indented(&mut out, &self.group(&full, message, i, raw, false));
            }
        }
        let mut ranges: Vec<(i32, i32)> = message
            .extension_range
            .iter()
            .map(|r| (r.start(), r.end().saturating_sub(1)))
            .collect();
        if !ranges.is_empty() {
            out.push('\n');
            let lines = if self.normalize {
                ranges.sort_unstable();
                ranges.iter().map(|&r| range(r)).collect()
            } else {
                vec![
                    ranges
                        .iter()
                        .map(|&r| range(r))
                        .collect::<Vec<_>>()
                        .join(", "),
                ]
            };
            for line in lines {
                indented(&mut out, &format!("extensions {line};"));
            }
        }
        let extends = self.extends(&message.extension, raw.map(|r| r.extension.as_slice()));
        if !extends.is_empty() {
            out.push('\n');
            indented(&mut out, &extends);
        }
        let group_types: Vec<&str> = message
            .field
            .iter()
            .filter(|f| is_group(f))
            .filter_map(|f| f.type_name.as_deref())
            .filter_map(|name| bare(name).rsplit('.').next())
            .collect();
        let types = self.types(
            &full,
            &message.nested_type,
            raw.map(|r| r.nested_type.as_slice()),
            &message.enum_type,
            &group_types,
        );
        if !types.is_empty() {
            out.push('\n');
            indented(&mut out, &types);
        }
        out.push_str("}\n");
        out
    }

    /// `reserved` statements: all in one when not normalizing, one per value normalized.
    pub(super) fn reserved(&self, mut ranges: Vec<(i32, i32)>, names: &[String]) -> Vec<String> {
        let quoted = |name: &String| format!("\"{name}\"");
        if self.normalize {
            ranges.sort_unstable();
            let mut names: Vec<&String> = names.iter().collect();
            names.sort_unstable();
            ranges
                .into_iter()
                .map(range)
                .chain(names.into_iter().map(quoted))
                .collect()
        } else {
            let mut lines = Vec::new();
            if !ranges.is_empty() {
                lines.push(ranges.into_iter().map(range).collect::<Vec<_>>().join(", "));
            }
            if !names.is_empty() {
                lines.push(names.iter().map(quoted).collect::<Vec<_>>().join(", "));
            }
            lines
        }
    }

    /// A group field (`message.field[index]`) with the fields of its message.
    pub(super) fn group(
        &self,
        scope: &str,
        message: &DescriptorProto,
        index: usize,
        raw: Option<&DescriptorProto>,
        in_oneof: bool,
    ) -> String {
        let field = &message.field[index];
        let type_name = bare(field.type_name())
            .rsplit('.')
            .next()
            .unwrap_or_default();
        let mut out = String::new();
        if !in_oneof {
            match field.label() {
                Label::Repeated => out.push_str("repeated "),
                Label::Required => out.push_str("required "),
                Label::Optional => out.push_str("optional "),
            }
        }
        out.push_str(&format!("group {type_name} = {} {{", field.number()));
        let position = message
            .nested_type
            .iter()
            .position(|m| m.name() == type_name);
        if let Some(position) = position {
            let nested = &message.nested_type[position];
            let raw_nested = raw.and_then(|r| r.nested_type.get(position));
            let nested_scope = qualify(scope, type_name);
            let mut order: Vec<usize> = (0..nested.field.len()).collect();
            if self.normalize {
                order.sort_by_key(|&i| nested.field[i].number());
            }
            if !order.is_empty() {
                out.push('\n');
                for i in order {
                    indented(
                        &mut out,
                        &self.field(&nested_scope, nested, i, raw_nested, false),
                    );
                }
            }
        }
        out.push_str("}\n");
        out
    }
}
