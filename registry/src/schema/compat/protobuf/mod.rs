//! Protobuf compatibility with Confluent Schema Registry's difference model.
//!
//! Two files are walked side by side as Confluent's `SchemaDiff` walks them ([`differ`]):
//! the package, then messages and enums matched by simple name per scope, the fields of a
//! message matched by number whatever oneof they sit in ([`message`]), and each pair of
//! fields by name, type shape and label ([`field`]). Message-typed fields are compared by
//! name below the package, and a type from an imported file is followed into that file.
//! Every difference is reported with Confluent's name for it ([`kinds`]); the incompatible
//! ones become [`Violation`]s ([`explain`]).

mod differ;
mod explain;
mod field;
mod kinds;
mod message;

use prost_reflect::FileDescriptor;

use super::{Difference, Violation};
use differ::differences;

/// What stops `reader` from reading data written with `writer`: the incompatible
/// differences of the diff from `writer` (original) to `reader` (update).
pub(super) fn can_read(reader: &FileDescriptor, writer: &FileDescriptor) -> Vec<Violation> {
    differences(writer, reader)
        .into_iter()
        .filter(|found| !found.kind.is_compatible())
        .map(|found| {
            let (message, hint) = explain::explain(&found);
            Violation::new(found.kind.as_str(), found.location(), message, hint)
        })
        .collect()
}

/// Every difference Confluent's Protobuf diff reports from `original` to `update`,
/// compatible ones included, in the order they were found. Locations are message paths
/// with oneof names and field or constant numbers, e.g. `#/Order/3`; types of imported files
/// are found through each file's descriptor pool.
///
/// ```
/// use herald_registry::schema::protobuf_differences;
/// use protox::file::{File, FileResolver};
///
/// /// Serves one file, `order.proto`.
/// struct Source(&'static str);
///
/// impl FileResolver for Source {
///     fn open_file(&self, name: &str) -> Result<File, protox::Error> {
///         match name {
///             "order.proto" => File::from_source(name, self.0),
///             _ => Err(protox::Error::file_not_found(name)),
///         }
///     }
/// }
///
/// let compile = |text| -> Result<_, protox::Error> {
///     let mut compiler = protox::Compiler::with_file_resolver(Source(text));
///     compiler.open_file("order.proto")?;
///     Ok(compiler.descriptor_pool().get_file_by_name("order.proto"))
/// };
/// let v1 = compile("syntax = \"proto3\"; message Order { int32 id = 1; }")?.unwrap();
/// let v2 = compile("syntax = \"proto3\"; message Order { string id = 1; }")?.unwrap();
/// let found = protobuf_differences(&v1, &v2);
/// assert_eq!(found[0].to_string(), "FIELD_SCALAR_KIND_CHANGED #/Order/1");
/// assert!(!found[0].compatible);
/// # Ok::<(), protox::Error>(())
/// ```
pub fn protobuf_differences(original: &FileDescriptor, update: &FileDescriptor) -> Vec<Difference> {
    differences(original, update)
        .into_iter()
        .map(|found| Difference {
            kind: found.kind.as_str().to_owned(),
            location: found.location(),
            compatible: found.kind.is_compatible(),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::HashMap;

    use protox::file::{File, FileResolver, GoogleFileResolver};

    use super::*;

    /// In-memory files, then the well-known ones.
    struct Sources(HashMap<String, String>);

    impl FileResolver for Sources {
        fn open_file(&self, name: &str) -> Result<File, protox::Error> {
            match self.0.get(name) {
                Some(text) => File::from_source(name, text),
                None => GoogleFileResolver::new().open_file(name),
            }
        }
    }

    fn compile_with(text: &str, imports: &[(&str, &str)]) -> FileDescriptor {
        let mut files: HashMap<String, String> = imports
            .iter()
            .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
            .collect();
        files.insert("root.proto".to_owned(), text.to_owned());
        let mut compiler = protox::Compiler::with_file_resolver(Sources(files));
        compiler.open_file("root.proto").unwrap();
        compiler
            .descriptor_pool()
            .get_file_by_name("root.proto")
            .unwrap()
    }

    fn compile(text: &str) -> FileDescriptor {
        compile_with(text, &[])
    }

    /// The differences from `original` to `update`, rendered `KIND #/path`, sorted.
    fn diff(original: &str, update: &str) -> Vec<String> {
        let mut found: Vec<String> = protobuf_differences(&compile(original), &compile(update))
            .iter()
            .map(ToString::to_string)
            .collect();
        found.sort();
        found
    }

    #[test]
    fn can_read_diffs_from_the_writer_to_the_reader() {
        let two = compile("syntax = \"proto3\"; message A { int32 x = 1; } message B {}");
        let one = compile("syntax = \"proto3\"; message A { int32 x = 1; }");
        // Reading old data (two messages) with the new schema (one): a message type is gone.
        let violations = can_read(&one, &two);
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(violations[0].kind, "MESSAGE_REMOVED");
        assert_eq!(violations[0].location, "#/B");
        assert!(!violations[0].hint.is_empty());
        // The other way round a message was only added.
        assert!(can_read(&two, &one).is_empty());
    }

    #[test]
    fn violations_name_the_types_and_a_way_out() {
        let v1 = compile("syntax = \"proto3\"; message Order { int32 id = 1; }");
        let v2 = compile("syntax = \"proto3\"; message Order { string id = 1; }");
        let violations = can_read(&v2, &v1);
        assert_eq!(violations.len(), 1, "{violations:?}");
        let violation = &violations[0];
        assert_eq!(violation.kind, "FIELD_SCALAR_KIND_CHANGED");
        assert_eq!(violation.location, "#/Order/1");
        assert!(
            violation.message.contains("`int32` → `string`"),
            "{}",
            violation.message
        );
        assert!(
            violation.hint.contains("sint32/sint64"),
            "{}",
            violation.hint
        );
    }

    #[test]
    fn only_labels_written_on_both_sides_are_compared() {
        let plain = "syntax = \"proto3\"; message M { int32 a = 1; }";
        let optional = "syntax = \"proto3\"; message M { optional int32 a = 1; }";
        let repeated = "syntax = \"proto3\"; message M { repeated int32 a = 1; }";
        assert!(diff(plain, repeated).is_empty());
        // proto3 `optional` is a synthetic oneof in the descriptor, not a oneof in the text.
        assert!(diff(plain, optional).is_empty());
        assert_eq!(
            diff(optional, repeated),
            ["FIELD_NUMERIC_LABEL_CHANGED #/M/1"]
        );
        let enum_field = |label: &str| {
            format!("syntax = \"proto2\"; enum E {{ X = 0; }} message M {{ {label} E e = 1; }}")
        };
        assert_eq!(
            diff(&enum_field("optional"), &enum_field("repeated")),
            ["FIELD_NUMERIC_LABEL_CHANGED #/M/1"]
        );
    }

    #[test]
    fn scalars_change_within_their_wire_group_only() {
        let field = |ty: &str| format!("syntax = \"proto3\"; message M {{ {ty} a = 1; }}");
        for (from, to) in [("int32", "uint64"), ("int64", "bool"), ("sint32", "sint64")] {
            assert!(diff(&field(from), &field(to)).is_empty(), "{from} → {to}");
        }
        for (from, to) in [
            ("fixed32", "sfixed32"),
            ("fixed64", "sfixed64"),
            ("string", "bytes"),
        ] {
            assert!(diff(&field(from), &field(to)).is_empty(), "{from} → {to}");
        }
        for (from, to) in [
            ("int32", "sint32"),
            ("float", "double"),
            ("fixed32", "fixed64"),
        ] {
            assert_eq!(
                diff(&field(from), &field(to)),
                ["FIELD_SCALAR_KIND_CHANGED #/M/1"],
                "{from} → {to}"
            );
        }
        assert_eq!(
            diff(&field("string"), &field("M")),
            ["FIELD_KIND_CHANGED #/M/1"]
        );
    }

    #[test]
    fn maps_are_fields_not_types() {
        let without = "syntax = \"proto3\"; message M { message A {} }";
        let with = "syntax = \"proto3\"; message M { map<string, int32> m = 1; message A {} }";
        assert_eq!(diff(without, with), ["FIELD_ADDED #/M/1"]);
        let string_values =
            "syntax = \"proto3\"; message M { map<string, string> m = 1; message A {} }";
        assert_eq!(
            diff(with, string_values),
            ["FIELD_SCALAR_KIND_CHANGED #/M/1"]
        );
        let entries = "syntax = \"proto3\"; message M { repeated A m = 1; message A {} }";
        assert_eq!(diff(with, entries), ["FIELD_KIND_CHANGED #/M/1"]);
    }

    #[test]
    fn referenced_types_are_followed_once_even_when_recursive() {
        let node = |ty: &str| {
            format!(
                "syntax = \"proto3\"; package lib; message Node {{ Node next = 1; {ty} v = 2; }}"
            )
        };
        let root = "syntax = \"proto3\"; import \"lib.proto\"; \
                    message Root { lib.Node a = 1; lib.Node b = 2; }";
        let original = compile_with(root, &[("lib.proto", &node("int32"))]);
        let update = compile_with(root, &[("lib.proto", &node("string"))]);
        let mut found: Vec<String> = protobuf_differences(&original, &update)
            .iter()
            .map(ToString::to_string)
            .collect();
        found.sort();
        // `Node.next` refers back to the message being compared, which is not followed again
        // (Confluent's guard), so only the uses in `Root` carry the change.
        assert_eq!(
            found,
            [
                "FIELD_NAMED_TYPE_CHANGED #/Root/1",
                "FIELD_NAMED_TYPE_CHANGED #/Root/2",
                "FIELD_SCALAR_KIND_CHANGED #/Node/2",
            ]
        );
        let same = compile_with(root, &[("lib.proto", &node("int32"))]);
        assert!(protobuf_differences(&original, &same).is_empty());
    }

    #[test]
    fn well_known_types_compare_equal() {
        let text = "syntax = \"proto3\"; import \"google/protobuf/timestamp.proto\"; \
                    message M { google.protobuf.Timestamp at = 1; }";
        assert!(protobuf_differences(&compile(text), &compile(text)).is_empty());
    }

    #[test]
    fn enum_constants_are_matched_by_number() {
        let v1 = "syntax = \"proto3\"; enum E { A = 0; B = 1; C = 2; }";
        let v2 = "syntax = \"proto3\"; enum E { A = 0; BEE = 1; D = 3; }";
        assert_eq!(
            diff(v1, v2),
            [
                "ENUM_CONST_ADDED #/E/3",
                "ENUM_CONST_CHANGED #/E/1",
                "ENUM_CONST_REMOVED #/E/2",
            ]
        );
    }

    #[test]
    fn groups_are_not_fields_or_types() {
        let v1 = "syntax = \"proto2\"; message M { optional int32 a = 1; }";
        let v2 = "syntax = \"proto2\"; message M { optional int32 a = 1; \
                  optional group G = 2 { optional int32 x = 3; } }";
        assert!(diff(v1, v2).is_empty());
    }
}
