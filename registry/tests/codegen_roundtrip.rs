//! Generated code round trip: for every schema of `examples/orders` (the committed snapshots)
//! and every hand-written schema under `tests/codegen/`, generate Rust, compile it in a
//! scratch crate with `#![deny(warnings)]`, and run a program there that, for samples built
//! from the source schema:
//!
//! - decodes the sample JSON payload with the generated type through Herald's JSON codec and
//!   re-encodes it to the same JSON value;
//! - for a record at the top of an Avro schema, encodes the sample with apache-avro under the
//!   *source* schema, decodes those bytes with the generated type through Herald's Avro codec
//!   and re-encodes them to the same bytes;
//! - encodes and decodes with Herald's Avro codec, getting the same value and bytes back;
//! - checks that the generated type's exported schema and the source schema are FULL
//!   compatible both ways.
//!
//! The Protobuf fixtures under `tests/codegen/proto/` and the interop schema become `prost`
//! types in the same scratch crate; see `codegen_roundtrip/protobuf.rs` for what is checked.
//!
//! The scratch crate lives in `CARGO_TARGET_TMPDIR` with its own target directory, so later
//! runs only recompile the generated code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use herald_registry::codegen::{Options, generate};
use herald_registry::schema::SchemaType;
use serde_json::{Map, Value, json};

#[path = "codegen_roundtrip/protobuf.rs"]
mod protobuf;

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/codegen");

struct Case {
    module: String,
    event: String,
    schema_type: SchemaType,
    text: String,
    code: String,
    root: String,
    samples: Vec<Value>,
}

fn cases() -> Vec<Case> {
    let mut sources: Vec<(String, String, u32, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(FIXTURES).unwrap() {
        let path = entry.unwrap().path();
        // The Protobuf fixtures (in `proto/`) are `protobuf::cases`.
        if !path.is_file() {
            continue;
        }
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        sources.push((stem.clone(), stem, 1, path));
    }
    for event in ["order", "customer"] {
        for entry in std::fs::read_dir(format!("{REPO}/schemas/{event}")).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            // Only the schema snapshots `v<N>.json` / `v<N>.avsc`: not golden events, not
            // `versions.json`.
            let is_snapshot = name.starts_with('v')
                && name[1..].starts_with(|c: char| c.is_ascii_digit())
                && !name.contains("examples");
            if !is_snapshot {
                continue;
            }
            let version: u32 = name[1..name.find('.').unwrap()].parse().unwrap();
            let module = format!("orders_{event}_{}", name.replace('.', "_"));
            sources.push((module, event.to_owned(), version, path));
        }
    }
    sources.sort();
    sources
        .into_iter()
        .map(|(module, event, version, path)| {
            let schema_type = if path.extension().unwrap() == "avsc" {
                SchemaType::Avro
            } else {
                SchemaType::Json
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let code = generate(schema_type, &text, &Options::new(event.clone(), version))
                .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            let root = root_name(&code);
            let value: Value = serde_json::from_str(&text).unwrap();
            let samples = match schema_type {
                SchemaType::Avro => avro_samples(&value, &event),
                SchemaType::Json => json_samples(&value, &event),
                SchemaType::Protobuf => unreachable!("only .avsc and .json snapshots"),
            };
            Case {
                module,
                event,
                schema_type,
                text,
                code,
                root,
                samples,
            }
        })
        .collect()
}

/// The type that derives `Event` (the first item after the header).
fn root_name(code: &str) -> String {
    let at = code.find("::herald::Event").unwrap();
    let rest = &code[at..];
    let start = [rest.find("pub struct "), rest.find("pub enum ")]
        .into_iter()
        .flatten()
        .min()
        .unwrap();
    let rest = &rest[start..];
    let rest = rest
        .trim_start_matches("pub struct ")
        .trim_start_matches("pub enum ");
    rest.split(|c: char| !c.is_alphanumeric() && c != '_')
        .next()
        .unwrap()
        .to_owned()
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

// ---- samples from Avro schemas (as serde writes the generated types to JSON) ----

fn avro_named(schema: &Value, named: &mut Map<String, Value>) {
    match schema {
        Value::Object(o) => {
            if let Some(name) = o.get("name").and_then(Value::as_str)
                && matches!(
                    o.get("type").and_then(Value::as_str),
                    Some("record" | "enum" | "fixed")
                )
            {
                named.insert(name.to_owned(), schema.clone());
            }
            for value in o.values() {
                avro_named(value, named);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| avro_named(v, named)),
        _ => {}
    }
}

/// Which sample to build: every field and the first non-null union branch, the least
/// (`null` where a union allows it), or every field and the last non-null branch.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Full,
    Minimal,
    Last,
}

/// A sample of `schema`; past a few nested records (a recursive schema), unions take `null`
/// and arrays are empty.
fn avro_sample(schema: &Value, named: &Map<String, Value>, mode: Mode, depth: usize) -> Value {
    let deep = depth > 3;
    match schema {
        Value::String(name) => match name.as_str() {
            "boolean" => json!(true),
            "int" => json!(7),
            "long" => json!(42),
            "float" => json!(1.5),
            "double" => json!(2.25),
            "string" => json!("text"),
            // Bytes samples are 0, 1, 2, ... so that the runner tells them from arrays.
            "bytes" => Value::Array((0..16).map(|i| json!(i)).collect()),
            other => {
                let short = other.rsplit('.').next().unwrap();
                avro_sample(&named[short], named, mode, depth)
            }
        },
        Value::Array(branches) => {
            if (mode == Mode::Minimal || deep) && branches.iter().any(|b| b == "null") {
                return Value::Null;
            }
            let mut others = branches.iter().filter(|b| *b != "null");
            let branch = if mode == Mode::Last {
                others.next_back()
            } else {
                others.next()
            };
            avro_sample(branch.unwrap(), named, mode, depth)
        }
        Value::Object(o) => match (
            o["type"].as_str(),
            o.get("logicalType").and_then(Value::as_str),
        ) {
            (Some("string"), Some("uuid")) => json!("0b7c9a52-52a4-4a59-8a31-3c4a5e8e2f10"),
            (Some("record"), _) => {
                let mut out = Map::new();
                for field in o["fields"].as_array().unwrap() {
                    out.insert(
                        field["name"].as_str().unwrap().to_owned(),
                        avro_sample(&field["type"], named, mode, depth + 1),
                    );
                }
                Value::Object(out)
            }
            (Some("enum"), _) => o["symbols"].as_array().unwrap().last().unwrap().clone(),
            (Some("array"), _) if deep => json!([]),
            (Some("array"), _) => json!([avro_sample(&o["items"], named, mode, depth)]),
            (Some("map"), _) => json!({"k": avro_sample(&o["values"], named, mode, depth)}),
            (Some("fixed"), _) => {
                Value::Array((0..o["size"].as_u64().unwrap()).map(|i| json!(i)).collect())
            }
            (Some(primitive), _) => avro_sample(&json!(primitive), named, mode, depth),
            (None, _) => avro_sample(&o["type"], named, mode, depth),
        },
        _ => panic!("not an Avro schema: {schema}"),
    }
}

fn avro_samples(schema: &Value, event: &str) -> Vec<Value> {
    let mut named = Map::new();
    avro_named(schema, &mut named);
    let mut samples = Vec::new();
    for mode in [Mode::Full, Mode::Minimal, Mode::Last] {
        match schema {
            Value::Array(branches) => {
                for (index, branch) in branches.iter().enumerate() {
                    let name = branch["name"].as_str().unwrap();
                    let event_type = match branch.get("herald.event_type") {
                        Some(event_type) => event_type.as_str().unwrap().to_owned(),
                        None => format!("{event}.{}", snake(name)),
                    };
                    samples.push(json!({
                        "event_type": event_type,
                        "payload": avro_sample(branch, &named, mode, 0),
                        "branch": index,
                    }));
                }
            }
            _ => samples.push(json!({
                "event_type": event,
                "payload": avro_sample(schema, &named, mode, 0),
            })),
        }
    }
    samples
}

// ---- samples from JSON Schemas ----

fn json_sample(schema: &Value, root: &Value, full: bool) -> Value {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let pointer = reference.trim_start_matches('#');
        return json_sample(root.pointer(pointer).unwrap(), root, full);
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values[0].clone();
    }
    if let Some(constant) = schema.get("const") {
        return constant.clone();
    }
    if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
        return json_sample(&branches[branches.len() - 1], root, full);
    }
    let kind = match &schema["type"] {
        Value::String(kind) => kind.clone(),
        Value::Array(kinds) => {
            if !full {
                return Value::Null;
            }
            kinds
                .iter()
                .find(|k| *k != "null")
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        }
        other => panic!("no type in {schema}: {other}"),
    };
    match kind.as_str() {
        "string" => json!("text"),
        "integer" => json!(7),
        "number" => json!(1.5),
        "boolean" => json!(true),
        "array" => {
            let count = schema.get("minItems").and_then(Value::as_u64).unwrap_or(1);
            Value::Array(
                (0..count)
                    .map(|_| json_sample(&schema["items"], root, full))
                    .collect(),
            )
        }
        "object" => match schema.get("properties").and_then(Value::as_object) {
            Some(properties) => {
                let required: Vec<&Value> = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().collect())
                    .unwrap_or_default();
                let mut out = Map::new();
                for (key, property) in properties {
                    let nullable = property["type"].as_array().is_some();
                    let is_required = required.contains(&&json!(key));
                    if full || is_required || nullable {
                        out.insert(key.clone(), json_sample(property, root, full));
                    } else if property.get("default").is_some() {
                        // Absent, the generated type fills in the default and writes it.
                        out.insert(key.clone(), property["default"].clone());
                    }
                }
                Value::Object(out)
            }
            None => json!({"k": json_sample(&schema["additionalProperties"], root, full)}),
        },
        other => panic!("type {other}"),
    }
}

fn json_samples(schema: &Value, event: &str) -> Vec<Value> {
    let mut samples = Vec::new();
    for full in [true, false] {
        match schema.get("anyOf").and_then(Value::as_array) {
            Some(branches) => {
                for branch in branches {
                    samples.push(json!({
                        "event_type": branch["title"],
                        "payload": json_sample(branch, schema, full),
                    }));
                }
            }
            None => samples.push(json!({
                "event_type": event,
                "payload": json_sample(schema, schema, full),
            })),
        }
    }
    samples
}

// ---- the scratch crate ----

const RUNNER: &str = r#"
use herald::{Avro, Event, Json};
use herald_registry::schema::{CompatibilityLevel, Schema, SchemaType, check};
use serde_json::Value;

#[derive(serde::Deserialize)]
pub struct Case {
    pub module: String,
    pub schema_type: String,
    pub schema: String,
    pub samples: Vec<Sample>,
}

#[derive(serde::Deserialize)]
pub struct Sample {
    pub event_type: String,
    pub payload: Value,
    #[serde(default)]
    pub branch: Option<usize>,
}

fn source_avro_bytes(case: &Case, sample: &Sample) -> Result<Option<Vec<u8>>, String> {
    if case.schema_type != "AVRO" || sample.branch.is_some() {
        return Ok(None);
    }
    let schema = apache_avro::Schema::parse_str(&case.schema).map_err(|e| e.to_string())?;
    let value = to_avro(&sample.payload)
        .resolve(&schema)
        .map_err(|e| format!("the sample does not fit the source schema: {e}"))?;
    apache_avro::writer::datum::GenericDatumWriter::builder(&schema)
        .build()
        .and_then(|writer| writer.write_value_to_vec(value))
        .map(Some)
        .map_err(|e| e.to_string())
}

fn strip_logical_types(value: &mut Value) {
    match value {
        Value::Object(o) => {
            o.remove("logicalType");
            o.values_mut().for_each(strip_logical_types);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_logical_types),
        _ => {}
    }
}

/// serde's JSON form of a value as an Avro value for `resolve`; the samples of bytes and
/// fixed are the arrays 0, 1, 2, ... (no other sample array starts with 0).
fn to_avro(json: &Value) -> apache_avro::types::Value {
    use apache_avro::types::Value as A;
    match json {
        Value::Null => A::Null,
        Value::Bool(b) => A::Boolean(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i32::try_from(i).map_or(A::Long(i), A::Int),
            (None, Some(f)) => A::Double(f),
            _ => A::Null,
        },
        Value::String(s) => A::String(s.clone()),
        Value::Array(items) if !items.is_empty() && items.iter().enumerate().all(|(i, v)| v.as_u64() == Some(i as u64)) => {
            A::Bytes(items.iter().filter_map(Value::as_u64).map(|n| n as u8).collect())
        }
        Value::Array(items) => A::Array(items.iter().map(to_avro).collect()),
        Value::Object(o) => A::Map(o.iter().map(|(k, v)| (k.clone(), to_avro(v))).collect()),
    }
}

pub fn run<T: Event + PartialEq + std::fmt::Debug + serde::de::DeserializeOwned>(case: &Case) -> Result<(usize, usize), String> {
    let mut checked = 0;
    let mut identical = 0;
    for sample in &case.samples {
        let payload = serde_json::to_vec(&sample.payload).map_err(|e| e.to_string())?;
        let value = T::decode_with::<Json>(&sample.event_type, T::VERSION, &payload)
            .map_err(|e| format!("JSON decode of {}: {e}", sample.payload))?;
        let encoded = value.encode_with::<Json>().map_err(|e| e.to_string())?;
        let back: Value = serde_json::from_slice(&encoded.payload).map_err(|e| e.to_string())?;
        if back != sample.payload || encoded.event_type != sample.event_type {
            return Err(format!("JSON re-encoding differs: {} became {} {back}", sample.payload, encoded.event_type));
        }
        checked += 1;
        if case.schema_type != "AVRO" {
            continue;
        }
        let avro = value.encode_with::<Avro>().map_err(|e| format!("Avro encode: {e}"))?;
        if let Some(source) = source_avro_bytes(case, sample)? {
            // Bytes written under the source schema, read into the generated type (Avro
            // schema resolution: writer = source, reader = the type's exported schema).
            // Logical types annotate the wire types without changing the bytes; apache-avro
            // resolves a logical writer type only into the same logical reader type, so the
            // writer is read here without its annotations.
            let mut plain: Value = serde_json::from_str(&case.schema).map_err(|e| e.to_string())?;
            strip_logical_types(&mut plain);
            let writer = apache_avro::Schema::parse_str(&plain.to_string()).map_err(|e| e.to_string())?;
            let reader_json = T::export_avro_schema().map_err(|e| e.to_string())?.to_string();
            let reader = apache_avro::Schema::parse_str(&reader_json).map_err(|e| e.to_string())?;
            let mut rest = source.as_slice();
            let read = apache_avro::reader::datum::GenericDatumReader::builder(&writer)
                .reader_schema(&reader)
                .build()
                .and_then(|r| r.read_value(&mut rest))
                .map_err(|e| format!("reading source bytes with the exported schema: {e}"))?;
            let json = Value::try_from(read).map_err(|e| e.to_string())?;
            let decoded: T = serde_json::from_value(json.clone())
                .map_err(|e| format!("source bytes as {json}: {e}"))?;
            if decoded != value {
                return Err(format!("source Avro bytes decode to {decoded:?}, not {value:?}"));
            }
            // When the exported schema is the source schema (same canonical form), the
            // generated type writes exactly the source bytes.
            let fingerprint = |text: &str| Schema::parse(SchemaType::Avro, text).ok().map(|s| s.fingerprint());
            if fingerprint(&case.schema) == fingerprint(&reader_json) {
                if avro.payload != source {
                    return Err(format!("Avro bytes differ from the source encoding: {:?} vs {source:?}", avro.payload));
                }
                identical += 1;
            }
        }
        let again = T::decode_with::<Avro>(&sample.event_type, T::VERSION, &avro.payload)
            .map_err(|e| format!("Avro decode: {e}"))?;
        if again != value {
            return Err(format!("Avro round trip changed {value:?} into {again:?}"));
        }
        let avro2 = again.encode_with::<Avro>().map_err(|e| e.to_string())?;
        if avro2.payload != avro.payload {
            return Err("Avro re-encoding differs".to_owned());
        }
    }
    let (schema_type, exported) = if case.schema_type == "AVRO" {
        (SchemaType::Avro, T::export_avro_schema())
    } else {
        (SchemaType::Json, T::export_json_schema())
    };
    let exported = exported.map_err(|e| e.to_string())?.to_string();
    let exported_schema = Schema::parse(schema_type, &exported).map_err(|e| e.to_string())?;
    let source = Schema::parse(schema_type, &case.schema).map_err(|e| e.to_string())?;
    for (new, old, what) in [
        (&exported_schema, &source, "the exported schema read by the source"),
        (&source, &exported_schema, "the source schema read by the exported"),
    ] {
        let report = check(CompatibilityLevel::Full, new, &[(1, old)]);
        if !report.is_compatible {
            return Err(format!("{what}: not FULL compatible: {}\nexported: {exported}", report.messages.join("; ")));
        }
    }
    Ok((checked, identical))
}
"#;

fn scratch_crate(cases: &[Case], proto_cases: &[protobuf::Case]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("codegen-scratch");
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let manifest = format!(
        r#"[package]
name = "herald-codegen-scratch"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
apache-avro = "0.22"
herald = {{ path = "{REPO}/runtime", default-features = false }}
herald-registry = {{ path = "{REPO}/registry", default-features = false }}
prost = "0.14"
prost-reflect = "0.16"
prost-types = "0.14"
schemars = "1.2"
serde = {{ version = "1", features = ["derive"] }}
serde_json = "1"
"#
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest);
    // The workspace's lock file, so the scratch crate resolves the same versions offline.
    let lock = std::fs::read_to_string(format!("{REPO}/Cargo.lock")).unwrap();
    write_if_changed(&dir.join("Cargo.lock"), &lock);
    let mut lib = String::from("#![deny(warnings)]\n//! Generated code under test.\n\n");
    let mut main = String::from("use herald_codegen_scratch::*;\n\nfn main() {\n");
    main.push_str("    let path = std::env::args().nth(1).expect(\"cases file\");\n");
    main.push_str("    let cases: Vec<runner::Case> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();\n");
    main.push_str("    let mut failures = 0;\n    for case in &cases {\n        let result = match case.module.as_str() {\n");
    for case in cases {
        writeln!(lib, "#[allow(missing_docs)]\npub mod {};", case.module).unwrap();
        write_if_changed(&src.join(format!("{}.rs", case.module)), &case.code);
        writeln!(
            main,
            "            {:?} => runner::run::<{}::{}>(case),",
            case.module, case.module, case.root
        )
        .unwrap();
    }
    for case in proto_cases {
        writeln!(lib, "#[allow(missing_docs)]\npub mod {};", case.module).unwrap();
        write_if_changed(&src.join(format!("{}.rs", case.module)), &case.code);
    }
    lib.push_str(
        "#[allow(missing_docs)]\npub mod runner;\n#[allow(missing_docs)]\npub mod protobuf;\n",
    );
    main.push_str("            other => Err(format!(\"unknown module {other}\")),\n        };\n");
    main.push_str("        match result {\n            Ok((n, same)) => println!(\"ok {} {n} {same}\", case.module),\n            Err(e) => { failures += 1; println!(\"FAIL {}: {e}\", case.module); }\n        }\n    }\n");
    main.push_str("    let path = std::env::args().nth(2).expect(\"protobuf cases file\");\n");
    main.push_str("    let cases: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();\n");
    main.push_str("    for case in &cases {\n        let module = case[\"module\"].as_str().unwrap();\n        match protobuf::run(case, protobuf::dispatch) {\n            Ok(n) => println!(\"ok {module} {n} 0\"),\n            Err(e) => { failures += 1; println!(\"FAIL {module}: {e}\"); }\n        }\n    }\n");
    main.push_str("    std::process::exit(if failures == 0 { 0 } else { 1 });\n}\n");
    write_if_changed(&src.join("lib.rs"), &lib);
    write_if_changed(&src.join("runner.rs"), RUNNER);
    write_if_changed(
        &src.join("protobuf.rs"),
        &format!("{}\n{}", protobuf::RUNNER, protobuf::dispatch(proto_cases)),
    );
    write_if_changed(&src.join("main.rs"), &main);
    dir
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).unwrap();
    }
}

#[test]
fn generated_types_compile_round_trip_and_are_fully_compatible() {
    let cases = cases();
    let fixtures = cases
        .iter()
        .filter(|c| !c.module.starts_with("orders_"))
        .count();
    assert!(fixtures >= 20, "only {fixtures} hand-written schemas");
    assert_eq!(
        cases
            .iter()
            .filter(|c| c.module.starts_with("orders_"))
            .count(),
        8,
        "every snapshot of examples/orders"
    );
    let proto_cases = protobuf::cases();
    assert!(
        proto_cases.len() >= 3,
        "the interop schema and two fixtures"
    );
    let dir = scratch_crate(&cases, &proto_cases);
    let cases_file = dir.join("cases.json");
    let body: Vec<Value> = cases
        .iter()
        .map(|c| {
            json!({
                "module": c.module,
                "schema_type": c.schema_type.as_str(),
                "schema": c.text,
                "samples": c.samples,
                "event": c.event,
            })
        })
        .collect();
    std::fs::write(&cases_file, serde_json::to_string(&body).unwrap()).unwrap();
    let proto_file = dir.join("protobuf.json");
    std::fs::write(&proto_file, protobuf::to_json(&proto_cases).to_string()).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .args(["run", "--offline", "--quiet", "--"])
        .arg(&cases_file)
        .arg(&proto_file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "scratch crate failed:\n{stdout}\n{stderr}"
    );
    let ok = stdout.lines().filter(|l| l.starts_with("ok ")).count();
    assert_eq!(ok, cases.len() + proto_cases.len(), "{stdout}");
    // Every case decoded at least two samples (all fields set, and the minimal one).
    for line in stdout.lines() {
        let mut parts = line.split(' ').skip(2);
        let checked: usize = parts.next().unwrap().parse().unwrap();
        assert!(checked >= 2, "{line}");
    }
    // Where the exported Avro schema is the source schema, the bytes are the source's.
    let identical = |module: &str| -> usize {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("ok {module} ")))
            .unwrap();
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(identical("orders_customer_v2_avsc"), 3, "{stdout}");
    // The fixtures of bytes, fixed, decimals, unions and recursion list their fields in the
    // order Herald exports them: every sample's bytes are the source's.
    for module in [
        "avro_bytes",
        "avro_decimal",
        "avro_fixed",
        "avro_recursive",
        "avro_union",
        "avro_union_records",
    ] {
        assert_eq!(identical(module), 3, "{module}: {stdout}");
    }
}
