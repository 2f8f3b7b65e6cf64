//! Protobuf schemas: `.proto` text (proto2 and proto3) or a base64 `FileDescriptorProto`,
//! compiled with protox against the schemas its references name and the well-known imports,
//! and printed back the way Confluent Schema Registry stores and normalizes them.

/// Payload validation serves `POST /subjects/{s}/versions/{v}/validate`.
#[cfg(feature = "server")]
mod payload;
mod print;
mod resolver;
mod wellknown;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use miette::Diagnostic;
use prost::Message;
use prost_reflect::FileDescriptor;
use prost_reflect::prost_types::FileDescriptorProto;
use protox::Compiler;

use super::SchemaError;
use resolver::{MemoryResolver, Root};

pub(crate) use print::print;

/// The name the schema's own file has among its imports (Confluent's default name).
pub(crate) const ROOT: &str = "default";

/// A compiled Protobuf schema: its file, whose pool holds every file it imports.
#[derive(Debug, Clone)]
pub(crate) struct ProtobufSchema {
    file: FileDescriptor,
    /// Confluent's re-print of the file: the form stored when not normalizing.
    printed: String,
}

impl ProtobufSchema {
    /// The compiled file; its parent pool holds its imports.
    pub(crate) fn file(&self) -> &FileDescriptor {
        &self.file
    }

    /// Confluent's re-print of the file (comments dropped, 2-space indent).
    pub(crate) fn printed(&self) -> &str {
        &self.printed
    }

    /// The file as a `FileDescriptorProto`, base64-encoded: Confluent's `format=serialized`.
    pub(crate) fn serialized(&self) -> String {
        STANDARD.encode(self.file.encode_to_vec())
    }
}

/// Compiles `text` (`.proto` source or a base64 `FileDescriptorProto`) with `imports`
/// (import path and compiled schema) available; returns the schema and its normalized form.
pub(crate) fn parse(
    text: &str,
    imports: &[(&str, &ProtobufSchema)],
) -> Result<(ProtobufSchema, String), SchemaError> {
    let (root, raw) = match decode_base64(text) {
        Some(encoded) => (Root::Encoded(resolver::renamed(encoded, ROOT)), None),
        None => {
            let mut raw = protox_parse::parse(ROOT, text).map_err(|err| {
                // An error without a span is one at the end of the text.
                let offset = err.span().map_or(text.len(), |span| span.start);
                located(ROOT, Some(text), Some(offset), err.to_string())
            })?;
            // A `syntax = "proto2";` statement leaves no value, only its source location
            // (field 12 of the file), which Confluent's re-print keeps.
            let declared = raw
                .source_code_info
                .as_ref()
                .is_some_and(|info| info.location.iter().any(|l| l.path == [12]));
            if declared && raw.syntax.is_none() {
                raw.syntax = Some("proto2".to_owned());
            }
            (Root::Text(text.to_owned()), Some(raw))
        }
    };
    let mut resolver = MemoryResolver::new(root);
    for (name, schema) in imports {
        resolver.add(name, schema.file.encode_to_vec());
        for file in schema.file.parent_pool().files() {
            if file.name() != schema.file.name() {
                resolver.add(file.name(), file.encode_to_vec());
            }
        }
    }
    let mut compiler = Compiler::with_file_resolver(resolver);
    compiler.include_imports(true);
    compiler
        .open_file(ROOT)
        .map_err(|err| compile_error(&err, text))?;
    let pool = compiler.descriptor_pool();
    let file = pool
        .get_file_by_name(ROOT)
        .ok_or_else(|| located(ROOT, None, None, "the schema did not compile".to_owned()))?;
    let printed = print(&file, raw.as_ref(), false);
    let normalized = print(&file, raw.as_ref(), true);
    Ok((ProtobufSchema { file, printed }, normalized))
}

/// The bytes of a base64 `FileDescriptorProto`, if `text` is one (it never parses as `.proto`
/// text).
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim();
    let plausible = !trimmed.is_empty()
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if !plausible {
        return None;
    }
    let bytes = STANDARD.decode(trimmed).ok()?;
    FileDescriptorProto::decode(bytes.as_slice()).ok()?;
    Some(bytes)
}

/// A protox error as a [`SchemaError`] with the position it points at, when it has one.
fn compile_error(err: &protox::Error, text: &str) -> SchemaError {
    let file = err.file().unwrap_or(ROOT).to_owned();
    let offset = err
        .labels()
        .and_then(|mut labels| labels.next())
        .map(|label| label.offset());
    let source = if file == ROOT {
        Some(text)
    } else {
        wellknown::source(&file)
    };
    let mut message = err.to_string();
    if let Some(cause) = std::error::Error::source(err) {
        message = format!("{message}: {cause}");
    }
    located(&file, source, offset, message)
}

/// A [`SchemaError::Protobuf`] at byte `offset` of `source`, as a 1-based line and column.
fn located(
    file: &str,
    source: Option<&str>,
    offset: Option<usize>,
    message: String,
) -> SchemaError {
    let position = source.zip(offset).map(|(source, offset)| {
        let before = source.get(..offset.min(source.len())).unwrap_or(source);
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .map_or(0, |last| last.chars().count())
            + 1;
        (line, column)
    });
    SchemaError::Protobuf {
        file: file.to_owned(),
        line: position.map(|(line, _)| line),
        column: position.map(|(_, column)| column),
        message,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_carries_its_line_and_column() {
        let err = parse("syntax = \"proto3\";\nmessage A {\n  int32 a = 1\n}\n", &[]).unwrap_err();
        let SchemaError::Protobuf {
            file, line, column, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(file, ROOT);
        assert_eq!((*line, *column), (Some(4), Some(1)), "{err}");
    }

    #[test]
    fn an_unresolved_type_carries_its_position() {
        let err = parse(
            "syntax = \"proto3\";\nmessage A {\n  Missing a = 1;\n}\n",
            &[],
        )
        .unwrap_err();
        let SchemaError::Protobuf { line, column, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!((*line, *column), (Some(3), Some(3)), "{err}");
    }

    #[test]
    fn an_unknown_import_is_an_error_at_the_import() {
        let err = parse("syntax = \"proto3\";\nimport \"nowhere.proto\";\n", &[]).unwrap_err();
        assert!(err.to_string().contains("nowhere.proto"), "{err}");
        assert!(
            matches!(err, SchemaError::Protobuf { line: Some(2), .. }),
            "{err:?}"
        );
    }

    #[test]
    fn references_are_imported_by_name() {
        let (address, _) = parse(
            "syntax = \"proto3\";\npackage acme;\nmessage Address { string city = 1; }",
            &[],
        )
        .unwrap();
        let text = "syntax = \"proto3\";\npackage acme;\nimport \"acme/address.proto\";\n\
                    message Order { Address ship = 1; }";
        let (order, _) = parse(text, &[("acme/address.proto", &address)]).unwrap();
        let field = order
            .file()
            .parent_pool()
            .get_message_by_name("acme.Order")
            .unwrap()
            .get_field(1)
            .unwrap();
        assert_eq!(
            field.kind().as_message().unwrap().full_name(),
            "acme.Address"
        );
    }

    #[test]
    fn references_of_references_are_imported_too() {
        let (unit, _) = parse(
            "syntax = \"proto3\";\npackage m;\nenum Unit { U = 0; KG = 1; }",
            &[],
        )
        .unwrap();
        let (weight, _) = parse(
            "syntax = \"proto3\";\npackage m;\nimport \"m/unit.proto\";\nmessage Weight { double v = 1; Unit unit = 2; }",
            &[("m/unit.proto", &unit)],
        )
        .unwrap();
        let (parcel, normalized) = parse(
            "syntax = \"proto3\";\npackage p;\nimport \"m/weight.proto\";\nmessage Parcel { m.Weight weight = 1; }",
            &[("m/weight.proto", &weight)],
        )
        .unwrap();
        assert!(normalized.contains(".m.Weight weight = 1;"), "{normalized}");
        let pool = parcel.file().parent_pool();
        assert!(pool.get_file_by_name("m/unit.proto").is_some());
        assert!(pool.get_enum_by_name("m.Unit").is_some());
    }

    #[test]
    fn a_serialized_descriptor_is_accepted_and_equals_the_text() {
        let text = "syntax = \"proto3\";\npackage p;\nimport \"confluent/meta.proto\";\n\
                    message A { option (confluent.message_meta).doc = \"An order\"; int32 a = 1; }";
        let (schema, normalized) = parse(text, &[]).unwrap();
        let serialized = schema.serialized();
        let bytes = STANDARD.decode(&serialized).unwrap();
        assert!(String::from_utf8_lossy(&bytes).contains("An order"));
        let (again, again_normalized) = parse(&serialized, &[]).unwrap();
        assert_eq!(normalized, again_normalized);
        assert_eq!(schema.printed(), again.printed());
    }

    #[test]
    fn importing_itself_is_a_cycle() {
        let err = parse("syntax = \"proto3\";\nimport \"default\";\n", &[]).unwrap_err();
        assert!(err.to_string().contains("cycle"), "{err}");
    }
}
