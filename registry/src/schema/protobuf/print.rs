//! Prints a compiled file back to `.proto` text in Confluent Schema Registry's layout:
//! syntax, package, imports, options, messages then enums, extends, services; 2-space
//! indent; comments dropped. Normalized, type names are fully qualified, imports, options and
//! reserved ranges sorted, fields by number, oneofs by their first field, enum constants by
//! number and maps written `map<K, V>`; messages, enums and services keep their order
//! (message indexes depend on it).
//!
//! Without normalizing, type names are printed as written when the `.proto` text is at hand
//! (`raw`: the file as parsed, before names were resolved), fully qualified otherwise.

use prost_reflect::prost_types::field_descriptor_proto::{Label, Type};
use prost_reflect::prost_types::{
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto,
    ServiceDescriptorProto,
};
mod literal;

use prost_reflect::{DescriptorPool, DynamicMessage, FileDescriptor};

use literal::{escape, push_entries};

/// The highest field number; a range ending there prints as `max`.
const MAX_FIELD_NUMBER: i32 = 536_870_911;

/// Prints `file` (with `raw`, the same file as parsed from text, for type names as written).
pub(crate) fn print(
    file: &FileDescriptor,
    raw: Option<&FileDescriptorProto>,
    normalize: bool,
) -> String {
    let printer = Printer {
        pool: file.parent_pool(),
        normalize,
        proto3: file.file_descriptor_proto().syntax() == "proto3",
    };
    let mut proto = file.file_descriptor_proto().clone();
    // A declared `syntax = "proto2"` is not kept in the compiled file; the text has it.
    if let Some(declared) = raw.and_then(|r| r.syntax.clone())
        && proto.syntax.as_deref().is_none_or(str::is_empty)
    {
        proto.syntax = Some(declared);
    }
    printer.file(file, &proto, raw)
}

struct Printer<'a> {
    pool: &'a DescriptorPool,
    normalize: bool,
    proto3: bool,
}

/// Indents every line of `text` by two spaces onto `out`.
fn indented(out: &mut String, text: &str) {
    for line in text.lines() {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
}

/// Strips the leading dot of a resolved name.
fn bare(name: &str) -> &str {
    name.strip_prefix('.').unwrap_or(name)
}

/// Joins a scope and a name.
fn qualify(scope: &str, name: &str) -> String {
    if scope.is_empty() {
        name.to_owned()
    } else {
        format!("{scope}.{name}")
    }
}

impl Printer<'_> {
    fn file(
        &self,
        file: &FileDescriptor,
        proto: &FileDescriptorProto,
        raw: Option<&FileDescriptorProto>,
    ) -> String {
        let mut out = String::new();
        if let Some(syntax) = proto.syntax.as_deref().filter(|s| !s.is_empty())
            && (!self.normalize || syntax == "proto3")
        {
            out.push_str(&format!("syntax = \"{syntax}\";\n"));
        }
        let package = proto.package();
        if !package.is_empty() {
            out.push_str(&format!("package {package};\n"));
        }
        if !proto.dependency.is_empty() {
            out.push('\n');
            let is_public = |index: usize| {
                proto
                    .public_dependency
                    .iter()
                    .any(|&i| usize::try_from(i).ok() == Some(index))
            };
            let mut plain: Vec<&str> = Vec::new();
            let mut public: Vec<&str> = Vec::new();
            for (index, dependency) in proto.dependency.iter().enumerate() {
                if is_public(index) {
                    public.push(dependency);
                } else {
                    plain.push(dependency);
                }
            }
            if self.normalize {
                for list in [&mut plain, &mut public] {
                    list.sort_unstable();
                    list.dedup();
                }
            }
            for dependency in plain {
                out.push_str(&format!("import \"{dependency}\";\n"));
            }
            for dependency in public {
                out.push_str(&format!("import public \"{dependency}\";\n"));
            }
        }
        let options = self.options(&file.options(), &[]);
        if !options.is_empty() {
            out.push('\n');
            for option in options {
                out.push_str(&format!("option {option};\n"));
            }
        }
        let types = self.types(
            package,
            &proto.message_type,
            raw.map(|r| r.message_type.as_slice()),
            &proto.enum_type,
            &[],
        );
        if !types.is_empty() {
            out.push('\n');
            out.push_str(&types);
        }
        let extends = self.extends(&proto.extension, raw.map(|r| r.extension.as_slice()));
        if !extends.is_empty() {
            out.push('\n');
            out.push_str(&extends);
        }
        if !proto.service.is_empty() {
            out.push('\n');
            for (index, service) in proto.service.iter().enumerate() {
                let raw = raw.and_then(|r| r.service.get(index));
                out.push_str(&self.service(package, service, raw));
            }
        }
        out
    }

    /// Messages (except map entries and groups, named in `hidden`) then enums.
    fn types(
        &self,
        scope: &str,
        messages: &[DescriptorProto],
        raw: Option<&[DescriptorProto]>,
        enums: &[EnumDescriptorProto],
        hidden: &[&str],
    ) -> String {
        let mut out = String::new();
        for (index, message) in messages.iter().enumerate() {
            let is_map_entry = message
                .options
                .as_ref()
                .is_some_and(|options| options.map_entry());
            if is_map_entry || hidden.contains(&message.name()) {
                continue;
            }
            let raw = raw.and_then(|r| r.get(index));
            out.push_str(&self.message(scope, message, raw));
        }
        for enumeration in enums {
            out.push_str(&self.enumeration(scope, enumeration));
        }
        out
    }

    fn message(
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
    fn reserved(&self, mut ranges: Vec<(i32, i32)>, names: &[String]) -> Vec<String> {
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

    /// One field declaration (`message.field[index]`), with its options.
    fn field(
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

    fn field_line(
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
    fn map_type(&self, field: &FieldDescriptorProto, raw_value: Option<&str>) -> Option<String> {
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
    fn type_name(
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

    /// A group field (`message.field[index]`) with the fields of its message.
    fn group(
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

    /// `extend` blocks, grouped by extendee in order of first appearance.
    fn extends(
        &self,
        fields: &[FieldDescriptorProto],
        raw: Option<&[FieldDescriptorProto]>,
    ) -> String {
        let mut blocks: Vec<(String, Vec<usize>)> = Vec::new();
        for (index, field) in fields.iter().enumerate() {
            let extendee = match raw
                .and_then(|r| r.get(index))
                .and_then(|r| r.extendee.as_deref())
            {
                Some(written) if !self.normalize => written.to_owned(),
                _ => format!(".{}", bare(field.extendee())),
            };
            match blocks.iter_mut().find(|(name, _)| *name == extendee) {
                Some((_, members)) => members.push(index),
                None => blocks.push((extendee, vec![index])),
            }
        }
        let mut out = String::new();
        for (extendee, mut members) in blocks {
            if self.normalize {
                members.sort_by_key(|&i| fields[i].number());
            }
            out.push_str(&format!("extend {extendee} {{\n"));
            for i in members {
                let field = &fields[i];
                let raw_field = raw.and_then(|r| r.get(i));
                let options = self
                    .pool
                    .get_message_by_name(bare(field.extendee()))
                    .and_then(|m| m.get_extension(u32::try_from(field.number()).unwrap_or(0)))
                    .map(|e| e.options());
                indented(
                    &mut out,
                    &self.field_line(field, raw_field, None, false, options),
                );
            }
            out.push_str("}\n");
        }
        out
    }

    fn enumeration(&self, scope: &str, enumeration: &EnumDescriptorProto) -> String {
        let full = qualify(scope, enumeration.name());
        let descriptor = self.pool.get_enum_by_name(&full);
        let mut out = format!("enum {} {{", enumeration.name());
        let reserved = self.reserved(
            enumeration
                .reserved_range
                .iter()
                .map(|r| (r.start(), r.end()))
                .collect(),
            &enumeration.reserved_name,
        );
        let options = descriptor
            .as_ref()
            .map(|d| self.options(&d.options(), &[]))
            .unwrap_or_default();
        if !reserved.is_empty() {
            out.push('\n');
            for line in reserved {
                indented(&mut out, &format!("reserved {line};"));
            }
        } else if !options.is_empty() || !enumeration.value.is_empty() {
            out.push('\n');
        }
        for option in options {
            indented(&mut out, &format!("option {option};"));
        }
        let mut values: Vec<_> = enumeration.value.iter().collect();
        if self.normalize {
            values.sort_by(|a, b| a.number().cmp(&b.number()).then(a.name().cmp(b.name())));
        }
        for value in values {
            let mut line = format!("{} = {}", value.name(), value.number());
            let options = descriptor
                .as_ref()
                .and_then(|d| d.get_value_by_name(value.name()))
                .map(|v| self.options(&v.options(), &[]))
                .unwrap_or_default();
            if !options.is_empty() {
                line.push(' ');
                line.push_str(&bracketed(&options));
            }
            line.push(';');
            indented(&mut out, &line);
        }
        out.push_str("}\n");
        out
    }

    fn service(
        &self,
        scope: &str,
        service: &ServiceDescriptorProto,
        raw: Option<&ServiceDescriptorProto>,
    ) -> String {
        let descriptor = self
            .pool
            .get_service_by_name(&qualify(scope, service.name()));
        let mut out = format!("service {} {{", service.name());
        if let Some(descriptor) = &descriptor {
            let options = self.options(&descriptor.options(), &[]);
            if !options.is_empty() {
                out.push('\n');
                for option in options {
                    indented(&mut out, &format!("option {option};"));
                }
            }
        }
        if !service.method.is_empty() {
            out.push('\n');
            for (index, method) in service.method.iter().enumerate() {
                let raw = raw.and_then(|r| r.method.get(index));
                let name = |resolved: &str, written: Option<&str>| match written {
                    Some(written) if !self.normalize => written.to_owned(),
                    _ => format!(".{}", bare(resolved)),
                };
                let input = name(
                    method.input_type(),
                    raw.and_then(|r| r.input_type.as_deref()),
                );
                let output = name(
                    method.output_type(),
                    raw.and_then(|r| r.output_type.as_deref()),
                );
                let stream = |yes: bool| if yes { "stream " } else { "" };
                let mut line = format!(
                    "rpc {} ({}{input}) returns ({}{output})",
                    method.name(),
                    stream(method.client_streaming()),
                    stream(method.server_streaming())
                );
                let options = descriptor
                    .as_ref()
                    .and_then(|d| d.methods().nth(index))
                    .map(|m| self.options(&m.options(), &[]))
                    .unwrap_or_default();
                if !options.is_empty() {
                    line.push_str(" {\n");
                    for option in options {
                        indented(&mut line, &format!("option {option};"));
                    }
                    line.push('}');
                }
                line.push(';');
                indented(&mut out, &line);
            }
        }
        out.push_str("}\n");
        out
    }

    /// The set options of an options message as `name = value` entries (repeated ones once per
    /// value), standard ones by field number then custom ones, or all sorted by name when
    /// normalizing.
    fn options(&self, options: &DynamicMessage, skip: &[&str]) -> Vec<String> {
        let mut entries: Vec<(String, String)> = Vec::new();
        for (field, value) in options.fields() {
            if skip.contains(&field.name()) {
                continue;
            }
            push_entries(
                &mut entries,
                field.name().to_owned(),
                field.name().to_owned(),
                &field.kind(),
                value,
            );
        }
        for (extension, value) in options.extensions() {
            let name = extension.full_name().to_owned();
            push_entries(
                &mut entries,
                name.clone(),
                format!("({name})"),
                &extension.kind(),
                value,
            );
        }
        if self.normalize {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
        }
        entries.into_iter().map(|(_, entry)| entry).collect()
    }
}

/// The name an option entry sets: `deprecated` for `deprecated = true`, `acme.unit` for
/// `(acme.unit) = "m"`.
fn option_name(entry: &str) -> &str {
    let name = entry.split(" = ").next().unwrap_or(entry);
    name.trim_start_matches('(').trim_end_matches(')')
}

/// `[a = 1]` or, for several, one per line.
fn bracketed(entries: &[String]) -> String {
    if let [only] = entries {
        return format!("[{only}]");
    }
    let mut out = String::from("[\n");
    indented(&mut out, &entries.join(",\n"));
    out.push(']');
    out
}

/// A range of numbers (`start` to `end` inclusive) in `reserved` or `extensions`.
fn range((start, end): (i32, i32)) -> String {
    if start == end {
        return start.to_string();
    }
    if end >= MAX_FIELD_NUMBER {
        format!("{start} to max")
    } else {
        format!("{start} to {end}")
    }
}

/// The JSON name protoc derives from a field name: underscores dropped, the next letter upper.
fn default_json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The keyword of a scalar type.
fn scalar(kind: Type) -> Option<&'static str> {
    Some(match kind {
        Type::Double => "double",
        Type::Float => "float",
        Type::Int64 => "int64",
        Type::Uint64 => "uint64",
        Type::Int32 => "int32",
        Type::Fixed64 => "fixed64",
        Type::Fixed32 => "fixed32",
        Type::Bool => "bool",
        Type::String => "string",
        Type::Bytes => "bytes",
        Type::Uint32 => "uint32",
        Type::Sfixed32 => "sfixed32",
        Type::Sfixed64 => "sfixed64",
        Type::Sint32 => "sint32",
        Type::Sint64 => "sint64",
        Type::Group | Type::Message | Type::Enum => return None,
    })
}
