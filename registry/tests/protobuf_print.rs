//! The Protobuf printer: printing a compiled file and parsing the text again gives the same
//! descriptors, for every schema of Confluent's Protobuf diff cases and Herald's own
//! fixtures; printing is a fixed point; the normalized form is Confluent's normalization.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use herald_registry::schema::{Limits, Schema, SchemaType};
use prost::Message;
use prost_reflect::prost_types::{DescriptorProto, FileDescriptorProto};
use serde_json::Value;

const CONFORMANCE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/conformance/confluent-protobuf/diff-schema-examples.json"
));
const PROTO2: &str = include_str!("data/protobuf/proto2_everything.proto");
const PROTO3: &str = include_str!("data/protobuf/proto3_everything.proto");

fn parse(text: &str) -> Schema {
    Schema::parse(SchemaType::Protobuf, text).unwrap_or_else(|err| panic!("{err}\n{text}"))
}

/// Parses `text` with its dependencies (import path and text) as references.
fn parse_with(text: &str, dependencies: &[(String, String)]) -> Schema {
    let parsed: Vec<(String, Schema)> = dependencies
        .iter()
        .map(|(name, text)| (name.clone(), parse(text)))
        .collect();
    let imports: Vec<(&str, &Schema)> = parsed.iter().map(|(n, s)| (n.as_str(), s)).collect();
    Schema::parse_protobuf(text, &imports, &Limits::default())
        .unwrap_or_else(|err| panic!("{err}\n{text}"))
}

fn descriptor(schema: &Schema) -> FileDescriptorProto {
    let bytes = STANDARD
        .decode(schema.protobuf_serialized().unwrap())
        .unwrap();
    let mut file = FileDescriptorProto::decode(bytes.as_slice()).unwrap();
    file.source_code_info = None;
    // Normalizing sorts the imports.
    let public: Vec<String> = file
        .public_dependency
        .iter()
        .map(|&i| file.dependency[usize::try_from(i).unwrap()].clone())
        .collect();
    file.dependency.sort();
    file.public_dependency = public
        .iter()
        .map(|name| i32::try_from(file.dependency.iter().position(|d| d == name).unwrap()).unwrap())
        .collect();
    for message in &mut file.message_type {
        canonical_message(message);
    }
    file
}

/// Fields by number, and the synthetic map-entry and group messages after the declared ones
/// (by name): the only order the printer changes, as Confluent's does.
/// Oneofs are sorted by name too: normalizing orders them by their first field.
fn canonical_message(message: &mut DescriptorProto) {
    message.field.sort_by_key(|f| f.number());
    let names: Vec<String> = message
        .oneof_decl
        .iter()
        .map(|o| o.name().to_owned())
        .collect();
    message.oneof_decl.sort_by(|a, b| a.name().cmp(b.name()));
    for field in &mut message.field {
        if let Some(index) = field.oneof_index {
            let name = &names[usize::try_from(index).unwrap()];
            let position = message
                .oneof_decl
                .iter()
                .position(|o| o.name() == name)
                .unwrap();
            field.oneof_index = Some(i32::try_from(position).unwrap());
        }
    }
    let synthetic = |m: &DescriptorProto| {
        m.options.as_ref().is_some_and(|o| o.map_entry())
            || message_is_group(m.name(), &message.field)
    };
    let (mut generated, declared): (Vec<_>, Vec<_>) =
        message.nested_type.drain(..).partition(|m| synthetic(m));
    generated.sort_by(|a, b| a.name().cmp(b.name()));
    message.nested_type = declared.into_iter().chain(generated).collect();
    for nested in &mut message.nested_type {
        canonical_message(nested);
    }
}

fn message_is_group(
    name: &str,
    fields: &[prost_reflect::prost_types::FieldDescriptorProto],
) -> bool {
    fields.iter().any(|f| {
        f.r#type() == prost_reflect::prost_types::field_descriptor_proto::Type::Group
            && f.type_name().rsplit('.').next() == Some(name)
    })
}

type Dependencies = Vec<(String, String)>;

/// Every schema text to check, with a label and its dependencies.
fn corpus() -> Vec<(String, String, Dependencies)> {
    let cases: Vec<Value> = serde_json::from_str(CONFORMANCE).unwrap();
    let mut texts = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        for side in ["original", "update"] {
            let dependencies = case[format!("{side}_dependencies")]
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|d| {
                            let name = d["name"].as_str().unwrap().to_owned();
                            (name, d["dependency"].as_str().unwrap().to_owned())
                        })
                        .collect()
                })
                .unwrap_or_default();
            texts.push((
                format!("case {index} {side}"),
                case[format!("{side}_schema")].as_str().unwrap().to_owned(),
                dependencies,
            ));
        }
    }
    texts.push(("proto2 fixture".to_owned(), PROTO2.to_owned(), Vec::new()));
    texts.push(("proto3 fixture".to_owned(), PROTO3.to_owned(), Vec::new()));
    texts
}

#[test]
fn print_then_parse_is_the_identity_on_descriptors() {
    let corpus = corpus();
    assert_eq!(corpus.len(), 54 * 2 + 2);
    for (label, text, dependencies) in corpus {
        let schema = parse_with(&text, &dependencies);
        let printed = schema.protobuf_text().unwrap();
        let again = parse_with(printed, &dependencies);
        assert_eq!(
            descriptor(&schema),
            descriptor(&again),
            "{label}: the printed text compiles differently\n{printed}"
        );
        assert_eq!(
            again.protobuf_text().unwrap(),
            printed,
            "{label}: printing is not a fixed point"
        );
        assert_eq!(schema.fingerprint(), again.fingerprint(), "{label}");
    }
}

#[test]
fn normalizing_keeps_the_descriptors_and_is_a_fixed_point() {
    for (label, text, dependencies) in corpus() {
        let schema = parse_with(&text, &dependencies);
        let normalized = parse_with(schema.canonical(), &dependencies);
        assert_eq!(
            descriptor(&schema),
            descriptor(&normalized),
            "{label}: the normalized text compiles differently\n{}",
            schema.canonical()
        );
        assert_eq!(normalized.canonical(), schema.canonical(), "{label}");
        assert_eq!(normalized.fingerprint(), schema.fingerprint(), "{label}");
    }
}

#[test]
fn the_stored_form_is_confluents_reprint() {
    let text = "syntax = \"proto3\";\npackage foo;\n\n// a comment\nmessage TestMessage {\n  string test_string = 1;\n    .foo.TestMessage.Status test_int = 2;\n  oneof kind { int32 a = 5; string b = 4; }\n  float test_float = 3;\n  map<string, Status> m = 6;\n\n  message Status {\n    string test_string = 1;\n  }\n}\n";
    let schema = parse(text);
    assert_eq!(
        schema.protobuf_text().unwrap(),
        "syntax = \"proto3\";\npackage foo;\n\nmessage TestMessage {\n  string test_string = 1;\n  .foo.TestMessage.Status test_int = 2;\n  float test_float = 3;\n  map<string, Status> m = 6;\n\n  oneof kind {\n    int32 a = 5;\n    string b = 4;\n  }\n\n  message Status {\n    string test_string = 1;\n  }\n}\n"
    );
    assert_eq!(
        schema.canonical(),
        "syntax = \"proto3\";\npackage foo;\n\nmessage TestMessage {\n  string test_string = 1;\n  .foo.TestMessage.Status test_int = 2;\n  float test_float = 3;\n  map<string, .foo.TestMessage.Status> m = 6;\n\n  oneof kind {\n    string b = 4;\n    int32 a = 5;\n  }\n\n  message Status {\n    string test_string = 1;\n  }\n}\n"
    );
}

#[test]
fn normalization_sorts_imports_options_fields_and_constants_but_not_types() {
    let a = "syntax = \"proto3\";\nimport \"google/protobuf/timestamp.proto\";\nimport \"google/protobuf/duration.proto\";\n\
             option java_package = \"x\";\noption go_package = \"y\";\n\
             message Z { int32 b = 2; int32 a = 1; google.protobuf.Timestamp t = 3; google.protobuf.Duration d = 4; }\n\
             message A { }\nenum E { E0 = 0; E2 = 2; E1 = 1; }";
    let b = "syntax = \"proto3\";\nimport \"google/protobuf/duration.proto\";\nimport \"google/protobuf/timestamp.proto\";\n\
             option go_package = \"y\";\noption java_package = \"x\";\n\
             message Z { int32 a = 1; int32 b = 2; .google.protobuf.Timestamp t = 3; .google.protobuf.Duration d = 4; }\n\
             message A { }\nenum E { E0 = 0; E1 = 1; E2 = 2; }";
    let (a, b) = (parse(a), parse(b));
    assert_ne!(a.protobuf_text(), b.protobuf_text());
    assert_eq!(a.canonical(), b.canonical());
    assert_eq!(a.fingerprint(), b.fingerprint());
    let canonical = a.canonical();
    assert!(canonical.find("message Z").unwrap() < canonical.find("message A").unwrap());
    assert!(canonical.contains(
        "import \"google/protobuf/duration.proto\";\nimport \"google/protobuf/timestamp.proto\";"
    ));
    assert!(canonical.contains("option go_package = \"y\";\noption java_package = \"x\";"));
    assert!(canonical.contains("E0 = 0;\n  E1 = 1;\n  E2 = 2;"));
    let swapped = parse("syntax = \"proto3\";\nmessage A { }\nmessage Z { int32 a = 1; }");
    assert!(
        swapped.canonical().find("message A").unwrap()
            < swapped.canonical().find("message Z").unwrap()
    );
}

#[test]
fn the_proto2_fixture_prints_groups_defaults_extensions_and_custom_options() {
    let schema = parse(PROTO2);
    let printed = schema.protobuf_text().unwrap();
    for expected in [
        "syntax = \"proto2\";",
        "reserved 8, 15 to 17, 5000 to max;",
        "reserved \"old_name\", \"older_name\";",
        "required string sensor = 1;",
        "optional string label = 3 [default = \"n/a \\\"quoted\\\"\"];",
        "optional Kind kind = 5 [default = GAUGE];",
        "optional group Location = 9 {\n    optional double lat = 10;",
        "extensions 1000 to 1999;",
        "extend Reading {\n  optional string note = 1000;\n  repeated int32 tags = 1001;\n}",
        "(herald.fixtures.v2.unit) = \"celsius\"",
        "json_name = \"timestamp\"",
        "option allow_alias = true;",
        "KELVIN = 2 [deprecated = true];",
        "option optimize_for = SPEED;",
    ] {
        assert!(
            printed.contains(expected),
            "missing {expected:?} in\n{printed}"
        );
    }
    assert!(!printed.contains("//"), "comments are dropped");
    // Normalized, `default` and `json_name` sort among the field's options.
    assert!(schema.canonical().contains(
        "optional double value = 2 [\n    default = -1.5,\n    (herald.fixtures.v2.unit) = \"celsius\"\n  ];"
    ), "{}", schema.canonical());
    assert!(
        !schema.canonical().contains("syntax"),
        "normalized proto2 has no syntax line"
    );
}

#[test]
fn the_proto3_fixture_prints_optional_maps_and_services() {
    let printed = parse(PROTO3).protobuf_text().unwrap().to_owned();
    for expected in [
        "optional string note = 2;",
        "map<string, Line> by_sku = 4;",
        "map<int32, string> labels = 5;",
        "oneof payment {\n    string card = 8;\n    google.type.Money cash = 9;\n  }",
        "service Orders {\n  rpc Place (Order) returns (Order);\n  rpc Watch (stream Order) returns (stream Order) {\n    option deprecated = true;\n  };\n}",
        "  option deprecated = false;\n",
        "  option (confluent.message_meta) = {\n    doc: \"An order\",\n    params: [\n      {\n        key: \"owner\",\n        value: \"shop\"\n      }\n    ],\n    tags: [\n      \"pii\",\n      \"core\"\n    ]\n  };\n",
        "  string id = 1 [(confluent.field_meta) = {\n    doc: \"the id\"\n  }];\n",
    ] {
        assert!(
            printed.contains(expected),
            "missing {expected:?} in\n{printed}"
        );
    }
    assert!(!printed.contains("ByEntry") && !printed.contains("LabelsEntry"));
}

#[test]
fn a_serialized_descriptor_parses_to_the_same_schema() {
    let schema = parse(PROTO3);
    let again = parse(&schema.protobuf_serialized().unwrap());
    assert_eq!(again.canonical(), schema.canonical());
    assert_eq!(again.fingerprint(), schema.fingerprint());
}
