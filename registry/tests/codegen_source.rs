//! What `herald codegen` writes: names, attributes and the errors for constructs that have no
//! faithful Rust form.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use herald_registry::codegen::{CodegenError, Options, generate};
use herald_registry::schema::SchemaType;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/codegen");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
}

fn avro(text: &str) -> Result<String, CodegenError> {
    generate(SchemaType::Avro, text, &Options::new("thing", 1))
}

fn json(text: &str) -> Result<String, CodegenError> {
    generate(SchemaType::Json, text, &Options::new("thing", 1))
}

fn unsupported(result: Result<String, CodegenError>) -> (String, String) {
    match result {
        Err(CodegenError::Unsupported { location, message }) => (location, message),
        other => panic!("expected an unsupported construct, got {other:?}"),
    }
}

#[test]
fn names_become_idiomatic_with_renames() {
    let code = avro(&fixture("avro_names.avsc")).unwrap();
    // Avro names are part of the schema's identity: kept as written.
    assert!(
        code.contains("#[allow(non_camel_case_types)]\npub struct user_signed_up {"),
        "{code}"
    );
    assert!(
        code.contains("#[serde(rename = \"userId\")]\n    pub user_id:"),
        "{code}"
    );
    assert!(
        code.contains("#[serde(rename = \"EmailAddress\")]\n    pub email_address:"),
        "{code}"
    );
    assert!(
        code.contains("#[serde(rename = \"type\")]\n    pub type_:"),
        "{code}"
    );
    assert!(
        code.contains("#[serde(rename = \"HTTPStatus\")]\n    pub http_status: i32"),
        "{code}"
    );
    let code = json(&fixture("json_names.json")).unwrap();
    assert!(code.contains("pub struct UserProfile {"), "{code}");
    assert!(
        code.contains("#[serde(rename = \"Display-Name\")]\n    pub display_name:"),
        "{code}"
    );
    assert!(code.contains("pub ref_: i64"), "{code}");
}

#[test]
fn the_root_derives_event_with_its_attributes() {
    let code = avro(&fixture("avro_primitives.avsc")).unwrap();
    assert!(code.contains("::herald::Event"), "{code}");
    assert!(
        code.contains("#[event(name = \"thing\", version = 1)]\npub struct Primitives"),
        "{code}"
    );
    assert!(code.contains("/// Every primitive."), "{code}");
    let later = generate(
        SchemaType::Avro,
        &fixture("avro_primitives.avsc"),
        &Options::new("thing", 4),
    )
    .unwrap();
    assert!(
        later.contains(
            "#[event(name = \"thing\", version = 4, upcast_json = refuse_older_versions)]"
        ),
        "{later}"
    );
    assert!(later.contains("fn refuse_older_versions("), "{later}");
}

#[test]
fn avro_constructs_map_to_rust_types() {
    let code = avro(&fixture("avro_map.avsc")).unwrap();
    assert!(
        code.contains("pub stock: ::std::collections::BTreeMap<::std::string::String, i64>"),
        "{code}"
    );
    let code = avro(&fixture("avro_timestamps.avsc")).unwrap();
    assert!(
        code.contains("/// Avro logical type `timestamp-millis`.\n    pub at: i64"),
        "{code}"
    );
    assert!(
        code.contains("/// Avro logical type `date`.\n    pub day: i32"),
        "{code}"
    );
    let code = avro(&fixture("avro_nullable.avsc")).unwrap();
    assert!(
        code.contains(
            "#[serde(default)]\n    pub nickname: ::core::option::Option<::std::string::String>"
        ),
        "{code}"
    );
    let code = avro(&fixture("avro_defaults.avsc")).unwrap();
    assert!(
        code.contains("#[serde(default = \"default_settings_retries\")]"),
        "{code}"
    );
    assert!(
        code.contains("fn default_settings_level() -> Level {\n    Level::Info\n}"),
        "{code}"
    );
    assert!(
        code.contains("#[serde(default)]\n    pub verbose: bool"),
        "{code}"
    );
    let code = avro(&fixture("avro_enum.avsc")).unwrap();
    assert!(
        code.contains("#[serde(rename = \"in_progress\")]\n    InProgress,"),
        "{code}"
    );
}

#[test]
fn json_constructs_map_to_rust_types() {
    let code = json(&fixture("json_object.json")).unwrap();
    assert!(code.contains("pub count: i32"), "{code}");
    assert!(
        code.contains("#[serde(default, skip_serializing_if = \"::core::option::Option::is_none\")]\n    #[schemars(with = \"::std::string::String\")]\n    pub note: ::core::option::Option<::std::string::String>"),
        "{code}"
    );
    let code = json(&fixture("json_tagged_union.json")).unwrap();
    assert!(
        code.contains("#[serde(tag = \"kind\")]\npub enum ShapeShape {"),
        "{code}"
    );
    assert!(
        code.contains("#[serde(rename = \"circle\")]\n    Circle { radius: f64 },"),
        "{code}"
    );
    let code = json(&fixture("json_refs.json")).unwrap();
    assert!(code.contains("pub home: Address"), "{code}");
    assert_eq!(code.matches("pub struct Address").count(), 1, "{code}");
    let code = json(&fixture("json_closed.json")).unwrap();
    assert!(
        code.contains("#[serde(deny_unknown_fields)]\npub struct Strict"),
        "{code}"
    );
    let code = json(&fixture("json_integers.json")).unwrap();
    for ty in [
        "pub a: i32",
        "pub b: u32",
        "pub c: i64",
        "pub d: u64",
        "pub e: i64",
    ] {
        assert!(code.contains(ty), "{ty} in {code}");
    }
}

#[test]
fn unrepresentable_constructs_are_errors_naming_their_location() {
    let (location, message) = unsupported(avro(
        r#"{"type":"record","name":"R","fields":[{"name":"v","type":["int","string"]}]}"#,
    ));
    assert_eq!(location, "/fields/0/type");
    assert!(message.contains("union of 2 branches"), "{message}");

    for bytes in [
        r#"{"type":"fixed","name":"Md5","size":16}"#,
        r#""bytes""#,
        r#"{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}"#,
        r#"["null","bytes"]"#,
    ] {
        let (location, message) = unsupported(avro(&format!(
            r#"{{"type":"record","name":"R","fields":[{{"name":"ok","type":"string"}},{{"name":"f","type":{bytes}}}]}}"#
        )));
        assert!(
            location.starts_with("/fields/1/type"),
            "{location} for {bytes}"
        );
        assert!(message.contains("Avro `bytes` and `fixed`"), "{message}");
    }

    let (location, message) = unsupported(avro(
        r#"{"type":"record","name":"R","fields":[{"name":"m","type":{"type":"map","values":"long"},"default":{"a":1}}]}"#,
    ));
    assert_eq!(location, "/fields/0/default");
    assert!(message.contains("{\"a\":1}"), "{message}");

    let (location, message) = unsupported(json(
        r#"{"type":"object","properties":{"a":{"allOf":[{"type":"string"}]}}}"#,
    ));
    assert_eq!(location, "#/properties/a/allOf");
    assert!(message.contains("`allOf`"), "{message}");

    let (location, message) = unsupported(json(
        r#"{"type":"object","properties":{"a":{"$ref":"https://example.com/a.json"}}}"#,
    ));
    assert_eq!(location, "#/properties/a/$ref");
    assert!(message.contains("https://example.com/a.json"), "{message}");

    let (location, _) = unsupported(json(
        r#"{"type":"object","properties":{"a":{"oneOf":[{"type":"string"},{"type":"integer"}]}}}"#,
    ));
    assert_eq!(location, "#/properties/a/oneOf");

    let (location, message) = unsupported(json(r#"{"type":"object","properties":{"a":{}}}"#));
    assert_eq!(location, "#/properties/a");
    assert!(message.contains("without `type`"), "{message}");

    let (location, _) = unsupported(json(r#"{"type":"string"}"#));
    assert_eq!(location, "#");
}
