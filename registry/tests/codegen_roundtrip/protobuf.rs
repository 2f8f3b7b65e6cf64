//! The Protobuf cases of the round trip: Rust generated from `.proto` files (the fixtures
//! under `tests/codegen/proto/` and the interop schema under `tests/interop/proto/`), into
//! which the scratch crate decodes
//!
//! - a sample of every message, encoded by prost-reflect from the descriptors: the generated
//!   type decodes it and re-encodes it to bytes that decode to the same dynamic message, so
//!   no field is lost or changed;
//! - the messages Confluent's Python `ProtobufSerializer` framed in the interop test
//!   (`tests/interop/protobuf_messages.json`): unframed with `herald::wire`, the message
//!   indexes name the type through the generated `MESSAGE_INDEXES`, and every field holds
//!   the value the Python script set.

use std::collections::HashMap;
use std::fmt::Write as _;

use herald_registry::codegen::generate_protobuf;
use herald_registry::schema::{Limits, Schema};
use prost::Message as _;
use prost_reflect::{DynamicMessage, FileDescriptor, Kind, MapKey, MessageDescriptor, Value};
use serde_json::{Value as Json, json};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/codegen/proto");
const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop");

/// A `.proto` file, its generated code and its samples.
pub struct Case {
    pub module: String,
    pub code: String,
    /// The descriptors (a serialized `FileDescriptorSet`), for the runner's prost-reflect.
    descriptors: Vec<u8>,
    /// Message full name and Rust path (below the case's module) of each message.
    types: Vec<(String, String)>,
    /// Message full name and encoded sample.
    samples: Vec<(String, Vec<u8>)>,
    /// Confluent-framed messages, by name (the interop case only).
    framed: Json,
}

pub fn cases() -> Vec<Case> {
    let mut cases = vec![case(
        "proto_interop",
        &format!("{INTEROP}/proto"),
        "acme/orders/order.proto",
    )];
    let interop: Json = serde_json::from_str(
        &std::fs::read_to_string(format!("{INTEROP}/protobuf_messages.json")).unwrap(),
    )
    .unwrap();
    cases[0].framed = interop;
    let mut names: Vec<String> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_str().unwrap().to_owned())
        .filter(|name| name.ends_with(".proto"))
        .collect();
    names.sort();
    for name in names {
        let module = format!("proto_{}", name.trim_end_matches(".proto"));
        cases.push(case(&module, FIXTURES, &name));
    }
    cases
}

fn case(module: &str, include: &str, root: &str) -> Case {
    let mut compiler = protox::Compiler::new([include]).unwrap();
    compiler.include_imports(true);
    compiler
        .open_file(root)
        .unwrap_or_else(|err| panic!("{root}: {err}"));
    let pool = compiler.descriptor_pool();
    let file = pool.get_file_by_name(root).unwrap();
    let code =
        generate_protobuf(&schema(&file, include)).unwrap_or_else(|err| panic!("{root}: {err}"));
    let mut types = Vec::new();
    let mut samples = Vec::new();
    let mut messages: Vec<MessageDescriptor> = file.messages().collect();
    while let Some(message) = messages.pop() {
        messages.extend(message.child_messages());
        if message.is_map_entry() {
            continue;
        }
        types.push((message.full_name().to_owned(), rust_path(&message)));
        samples.push((
            message.full_name().to_owned(),
            sample(&message, 0).encode_to_vec(),
        ));
    }
    assert!(!samples.is_empty(), "{root} has no messages");
    Case {
        module: module.to_owned(),
        code,
        descriptors: compiler.encode_file_descriptor_set(),
        types,
        samples,
        framed: Json::Null,
    }
}

/// The file as Herald parses it: its text, with its imports (but the well-known ones) as
/// references.
fn schema(file: &FileDescriptor, include: &str) -> Schema {
    let imports: Vec<(String, Schema)> = file
        .dependencies()
        .filter(|dependency| !dependency.name().starts_with("google/"))
        .map(|dependency| (dependency.name().to_owned(), schema(&dependency, include)))
        .collect();
    let imports: Vec<(&str, &Schema)> = imports.iter().map(|(n, s)| (n.as_str(), s)).collect();
    let text = std::fs::read_to_string(format!("{include}/{}", file.name())).unwrap();
    Schema::parse_protobuf(&text, &imports, &Limits::default())
        .unwrap_or_else(|err| panic!("{}: {err}", file.name()))
}

/// prost-build's path of a message's type: a module per package part and per enclosing
/// message (snake case), then the name (already UpperCamelCase in the fixtures).
fn rust_path(message: &MessageDescriptor) -> String {
    let mut parts: Vec<String> = message
        .package_name()
        .split('.')
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect();
    let mut parents = Vec::new();
    let mut parent = message.parent_message();
    while let Some(p) = parent {
        parents.push(super::snake(p.name()));
        parent = p.parent_message();
    }
    parts.extend(parents.into_iter().rev());
    parts.push(message.name().to_owned());
    parts.join("::")
}

/// A message with every field set (one field per oneof), two elements in lists and maps;
/// past three levels of nesting (a recursive message), empty.
fn sample(message: &MessageDescriptor, depth: usize) -> DynamicMessage {
    let mut out = DynamicMessage::new(message.clone());
    if depth > 3 {
        return out;
    }
    let mut oneofs = Vec::new();
    for field in message.fields() {
        if let Some(oneof) = field.containing_oneof() {
            if oneofs.contains(&oneof.name().to_owned()) {
                continue;
            }
            oneofs.push(oneof.name().to_owned());
        }
        let value = if field.is_map() {
            let Kind::Message(entry) = field.kind() else {
                unreachable!()
            };
            let key = entry.map_entry_key_field().kind();
            let value = entry.map_entry_value_field().kind();
            let map: HashMap<MapKey, Value> = [0, 1]
                .into_iter()
                .map(|i| (map_key(&key, i), scalar(&value, depth)))
                .collect();
            Value::Map(map)
        } else if field.is_list() {
            Value::List(vec![
                scalar(&field.kind(), depth),
                scalar(&field.kind(), depth),
            ])
        } else {
            scalar(&field.kind(), depth)
        };
        out.set_field(&field, value);
    }
    out
}

fn map_key(kind: &Kind, i: i32) -> MapKey {
    match kind {
        Kind::String => MapKey::String(format!("key{i}")),
        Kind::Bool => MapKey::Bool(i == 1),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => MapKey::I32(-i),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => MapKey::I64(-i64::from(i)),
        Kind::Uint32 | Kind::Fixed32 => MapKey::U32(i.unsigned_abs()),
        Kind::Uint64 | Kind::Fixed64 => MapKey::U64(u64::from(i.unsigned_abs())),
        other => panic!("not a map key kind: {other:?}"),
    }
}

fn scalar(kind: &Kind, depth: usize) -> Value {
    match kind {
        Kind::Double => Value::F64(-2.25),
        Kind::Float => Value::F32(1.5),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(-7),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(-1_234_567_890_123),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(7),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(1 << 40),
        Kind::Bool => Value::Bool(true),
        Kind::String => Value::String("text".to_owned()),
        Kind::Bytes => Value::Bytes(prost_reflect::bytes::Bytes::from_static(&[0, 1, 255])),
        Kind::Enum(e) => Value::EnumNumber(e.values().last().unwrap().number()),
        Kind::Message(m) => Value::Message(sample(m, depth + 1)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cases as the runner reads them.
pub fn to_json(cases: &[Case]) -> Json {
    cases
        .iter()
        .map(|case| {
            json!({
                "module": case.module,
                "descriptors": hex(&case.descriptors),
                "samples": case.samples.iter().map(|(name, bytes)| json!([name, hex(bytes)])).collect::<Vec<_>>(),
                "framed": case.framed,
            })
        })
        .collect()
}

/// The scratch crate's dispatch from (case, message name) to the generated type.
pub fn dispatch(cases: &[Case]) -> String {
    let mut out = String::from(
        "pub fn dispatch(module: &str, pool: &DescriptorPool, name: &str, payload: &[u8]) -> Result<(), String> {\n    match (module, name) {\n",
    );
    for case in cases {
        for (name, path) in &case.types {
            writeln!(
                out,
                "        ({:?}, {name:?}) => check::<crate::{}::{path}>(pool, name, payload),",
                case.module, case.module
            )
            .unwrap();
        }
    }
    out.push_str(
        "        _ => Err(format!(\"no generated type for {name} in {module}\")),\n    }\n}\n",
    );
    out
}

/// The scratch crate's Protobuf checks.
pub const RUNNER: &str = r#"
use prost::{Message, Name};
use prost_reflect::{DescriptorPool, DynamicMessage};
use serde_json::Value;

/// The generated type decodes the payload, and re-encodes it to bytes that are the same
/// message to prost-reflect (so no field was lost or changed).
pub fn check<T: Message + Name + Default + PartialEq + std::fmt::Debug>(pool: &DescriptorPool, name: &str, payload: &[u8]) -> Result<(), String> {
    if T::full_name() != name {
        return Err(format!("the type for {name} is {}", T::full_name()));
    }
    let value = T::decode(payload).map_err(|e| format!("{name}: decode: {e}"))?;
    let again = value.encode_to_vec();
    let descriptor = pool.get_message_by_name(name).ok_or_else(|| format!("no descriptor for {name}"))?;
    let source = DynamicMessage::decode(descriptor.clone(), payload).map_err(|e| e.to_string())?;
    let written = DynamicMessage::decode(descriptor, again.as_slice()).map_err(|e| e.to_string())?;
    if source != written {
        return Err(format!("{name}: re-encoded as a different message:\n{source:?}\n{written:?}"));
    }
    if T::decode(again.as_slice()).map_err(|e| e.to_string())? != value {
        return Err(format!("{name}: decoding the re-encoded bytes differs"));
    }
    Ok(())
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

/// Checks a case's samples and framed messages; returns how many.
pub fn run(case: &Value, check: impl Fn(&str, &DescriptorPool, &str, &[u8]) -> Result<(), String>) -> Result<usize, String> {
    let module = case["module"].as_str().unwrap();
    let pool = DescriptorPool::decode(unhex(case["descriptors"].as_str().unwrap()).as_slice()).map_err(|e| e.to_string())?;
    let mut checked = 0;
    for sample in case["samples"].as_array().unwrap() {
        check(module, &pool, sample[0].as_str().unwrap(), &unhex(sample[1].as_str().unwrap()))?;
        checked += 1;
    }
    if let Some(framed) = case["framed"].as_object() {
        for (what, message) in framed {
            let bytes = unhex(message["hex"].as_str().unwrap());
            let frame = herald::wire::unframe_protobuf(&bytes).map_err(|e| format!("{what}: {e}"))?;
            if u64::from(frame.schema_id) != message["schema_id"].as_u64().unwrap() {
                return Err(format!("{what}: schema id {}", frame.schema_id));
            }
            let name = crate::proto_interop::MESSAGE_INDEXES
                .iter()
                .find(|(indexes, _)| *indexes == frame.message_indexes.as_slice())
                .map(|(_, name)| *name)
                .ok_or_else(|| format!("{what}: no message at {:?}", frame.message_indexes))?;
            check(module, &pool, name, frame.payload)?;
            interop_values(name, frame.payload)?;
            checked += 1;
        }
    }
    Ok(checked)
}

/// The values `tests/interop/protobuf_client.py` set.
fn interop_values(name: &str, payload: &[u8]) -> Result<(), String> {
    use crate::proto_interop::acme::{common::Money, orders::{order, shipment::route, Order}};
    match name {
        "acme.orders.Order" => {
            let order = Order::decode(payload).map_err(|e| e.to_string())?;
            let money = |units, nanos| Some(Money { currency_code: "EUR".to_owned(), units, nanos });
            let expected = Order {
                id: "o-1".to_owned(),
                total: money(12, 500_000_000),
                placed_at: Some(prost_types::Timestamp { seconds: 1_700_000_000, nanos: 5 }),
                lines: vec![order::Line { sku: "sku-1".to_owned(), quantity: 2, price: money(6, 250_000_000) }],
                status: order::Status::Shipped as i32,
                labels: [("channel".to_owned(), "web".to_owned())].into_iter().collect(),
                discount: Some(-3),
                signature: vec![0, 1, 255],
                weight_kg: 1.5,
                contact: Some(order::Contact::Email("a@example.com".to_owned())),
            };
            if order != expected {
                return Err(format!("the interop order is {order:?}, not {expected:?}"));
            }
        }
        "acme.orders.Shipment.Route.Depot" => {
            let depot = route::Depot::decode(payload).map_err(|e| e.to_string())?;
            let stop = |place: &str| route::Stop { place: place.to_owned() };
            let expected = route::Depot {
                code: "BER-1".to_owned(),
                stops: vec![stop("Berlin"), stop("Hamburg")],
                opened_at: Some(prost_types::Timestamp { seconds: 1_600_000_000, nanos: 0 }),
            };
            if depot != expected {
                return Err(format!("the interop depot is {depot:?}, not {expected:?}"));
            }
        }
        other => return Err(format!("unexpected interop message {other}")),
    }
    Ok(())
}
"#;
