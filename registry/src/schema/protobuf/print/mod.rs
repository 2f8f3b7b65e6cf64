//! Prints a compiled file back to `.proto` text in Confluent Schema Registry's layout:
//! syntax, package, imports, options, messages then enums, extends, services; 2-space
//! indent; comments dropped. Normalized, type names are fully qualified, imports, options and
//! reserved ranges sorted, fields by number, oneofs by their first field, enum constants by
//! number and maps written `map<K, V>`; messages, enums and services keep their order
//! (message indexes depend on it).
//!
//! Without normalizing, type names are printed as written when the `.proto` text is at hand
//! (`raw`: the file as parsed, before names were resolved), fully qualified otherwise.

mod enumeration;
mod extend;
mod field;
mod literal;
mod message;
mod options;
mod service;

use prost_reflect::prost_types::field_descriptor_proto::Type;
use prost_reflect::prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorProto};
use prost_reflect::{DescriptorPool, FileDescriptor};

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
