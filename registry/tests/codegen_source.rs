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
fn bytes_fixed_decimals_and_unions_have_herald_types() {
    let field = |ty: &str| {
        avro(&format!(
            r#"{{"type":"record","name":"R","fields":[{{"name":"f","type":{ty}}}]}}"#
        ))
        .unwrap()
    };
    assert!(field(r#""bytes""#).contains("pub f: ::herald::Bytes,"));
    let code = field(r#"{"type":"fixed","name":"Md5","size":16}"#);
    assert!(code.contains("pub f: Md5,"), "{code}");
    assert!(
        code.contains("pub struct Md5(pub ::herald::Fixed<16>);"),
        "{code}"
    );
    let code = field(r#"{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}"#);
    assert!(code.contains("pub f: ::herald::Decimal<10, 2>,"), "{code}");
    // A decimal on a fixed keeps its logical type in the exported schema.
    let code = field(
        r#"{"type":"fixed","name":"Money","size":8,"logicalType":"decimal","precision":18,"scale":4}"#,
    );
    assert!(
        code.contains("#[schemars(\n    extend(\n        \"x-avro\""),
        "{code}"
    );
    // An invalid decimal is its underlying type, as Avro reads it.
    let code = field(r#"{"type":"bytes","logicalType":"decimal","precision":0}"#);
    assert!(code.contains("pub f: ::herald::Bytes,"), "{code}");

    let code = field(r#"["null","int","string"]"#);
    assert!(
        code.contains("pub f: ::core::option::Option<RF>,"),
        "{code}"
    );
    assert!(
        code.contains(
            "#[serde(untagged)]\npub enum RF {\n    /// The `int` branch.\n    Int(i32),"
        ),
        "{code}"
    );
    let code = field(r#"["int","null","string"]"#);
    assert!(code.contains("pub f: RF,"), "{code}");
    assert!(code.contains("    Null,\n"), "{code}");
}

#[test]
fn unrepresentable_constructs_are_errors_naming_their_location() {
    // Union branches that serde's untagged enum (and apache-avro's union resolution) could
    // mistake for one another.
    for (union, at, earlier) in [
        (r#"["int","long"]"#, 1, "int"),
        (r#"["null","double","int"]"#, 2, "double"),
        (
            r#"["string",{"type":"enum","name":"E","symbols":["A"]}]"#,
            1,
            "string",
        ),
        (r#"["bytes",{"type":"array","items":"int"}]"#, 1, "bytes"),
        (
            r#"[{"type":"map","values":"int"},{"type":"record","name":"A","fields":[]}]"#,
            1,
            "map",
        ),
        (
            r#"[{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]},{"type":"record","name":"B","fields":[{"name":"x","type":"int"},{"name":"y","type":"int"}]}]"#,
            1,
            "A",
        ),
        (
            r#"[{"type":"record","name":"A","fields":[{"name":"x","type":"int","default":1}]},"string",{"type":"record","name":"B","fields":[{"name":"y","type":"int"}]}]"#,
            2,
            "A",
        ),
    ] {
        let (location, message) = unsupported(avro(&format!(
            r#"{{"type":"record","name":"R","fields":[{{"name":"v","type":{union}}}]}}"#
        )));
        assert_eq!(location, format!("/fields/0/type/{at}"), "{union}");
        assert!(message.contains("cannot be told apart"), "{message}");
        assert!(message.contains(&format!("({earlier})")), "{message}");
    }
    // The same records the other way round are told apart: `B` has a field `A` lacks.
    avro(r#"{"type":"record","name":"R","fields":[{"name":"v","type":[{"type":"record","name":"B","fields":[{"name":"x","type":"int"},{"name":"y","type":"int"}]},{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}]}]}"#).unwrap();

    let (location, message) = unsupported(avro(
        r#"{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"fixed","name":"Huge","size":1000000}}]}"#,
    ));
    assert_eq!(location, "/fields/0/type");
    assert!(message.contains("use `bytes`"), "{message}");
    let (location, message) = unsupported(avro(
        r#"{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"bytes","logicalType":"decimal","precision":40}}]}"#,
    ));
    assert_eq!(location, "/fields/0/type");
    assert!(message.contains("precision 40"), "{message}");

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

#[test]
fn event_types_come_from_the_variant_records() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schemas/order/v3.avsc"
    ))
    .unwrap();
    let code = generate(SchemaType::Avro, &text, &Options::new("order", 3)).unwrap();
    // The record `Dispatched` carries `"herald.event_type": "order.shipped"`.
    assert!(
        code.contains("#[event(rename = \"shipped\")]\n    Dispatched {"),
        "{code}"
    );
    assert!(!code.contains("rename = \"placed\""), "{code}");

    let (location, message) = unsupported(generate(
        SchemaType::Avro,
        &text,
        &Options::new("parcel", 3),
    ));
    assert_eq!(location, "/0/herald.event_type");
    assert!(message.contains("`order.placed`"), "{message}");
}

#[test]
fn the_cli_takes_the_event_name_a_herald_schema_records() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schemas/order/v3.avsc"
    ))
    .unwrap();
    assert_eq!(
        herald_registry::codegen::recorded_event_name(SchemaType::Avro, &text).as_deref(),
        Some("order")
    );
    // In a directory named otherwise, the recorded name still wins over the directory's.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.avsc");
    std::fs::write(&path, &text).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["codegen", "--type", "AVRO", "--schema"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(
            "#[event(name = \"order\", version = 3, upcast_json = refuse_older_versions)]"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("#[event(rename = \"shipped\")]"),
        "{stdout}"
    );
}
