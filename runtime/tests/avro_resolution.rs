//! Schema resolution of the direct Avro codec ([`DatumPlan::resolved`]) against apache-avro's
//! reader, on the cases of the Avro specification: promotions, string and bytes, fields added
//! with a default, removed fields, union reordering, a union on one side only, and an enum's
//! default. Field aliases, which apache-avro 0.22's reader ignores, are checked on their own.

#![allow(clippy::unwrap_used, clippy::panic)] // Tests may unwrap and panic.
#![allow(missing_docs)] // Test types.

use std::collections::HashMap;
use std::fmt::Debug;

use apache_avro::Schema;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::types::Value;
use apache_avro::writer::datum::GenericDatumWriter;
use herald::{Bytes, DatumPlan};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Writes `value` with `writer` (apache-avro), reads it as `T` of `reader` both with
/// apache-avro (`Value`, resolved, then `from_value`) and with the direct codec, and checks
/// that both give `expected`.
fn read_alike<T: DeserializeOwned + PartialEq + Debug>(
    writer: &str,
    reader: &str,
    value: Value,
    expected: T,
) {
    let writer = Schema::parse_str(writer).unwrap();
    let reader = Schema::parse_str(reader).unwrap();
    let datum = GenericDatumWriter::builder(&writer)
        .build()
        .unwrap()
        .write_value_to_vec(value)
        .unwrap();
    let resolved = GenericDatumReader::builder(&writer)
        .reader_schema(&reader)
        .build()
        .unwrap()
        .read_value(&mut &datum[..])
        .unwrap();
    let apache: T = apache_avro::from_value(&resolved).unwrap();
    let direct: T = DatumPlan::resolved(&writer, &reader)
        .unwrap()
        .decode(&datum)
        .unwrap();
    assert_eq!(apache, expected);
    assert_eq!(direct, expected);
}

/// Both readers refuse the datum.
fn both_refuse(writer: &str, reader: &str, value: Value) {
    let writer = Schema::parse_str(writer).unwrap();
    let reader = Schema::parse_str(reader).unwrap();
    let datum = GenericDatumWriter::builder(&writer)
        .build()
        .unwrap()
        .write_value_to_vec(value)
        .unwrap();
    let apache = GenericDatumReader::builder(&writer)
        .reader_schema(&reader)
        .build()
        .unwrap()
        .read_value(&mut &datum[..]);
    assert!(apache.is_err(), "apache-avro read {apache:?}");
    let direct = DatumPlan::resolved(&writer, &reader)
        .unwrap()
        .decode::<serde::de::IgnoredAny>(&datum);
    assert!(direct.is_err(), "the direct codec read the datum");
}

#[test]
fn int_promotes_to_long_float_and_double() {
    read_alike(r#""int""#, r#""long""#, Value::Int(-70_000), -70_000i64);
    read_alike(
        r#""int""#,
        r#""float""#,
        Value::Int(1 << 20),
        (1 << 20) as f32,
    );
    read_alike(r#""int""#, r#""double""#, Value::Int(-3), -3.0f64);
}

#[test]
fn long_promotes_to_float_and_double_and_float_to_double() {
    read_alike(
        r#""long""#,
        r#""float""#,
        Value::Long(1 << 40),
        (1u64 << 40) as f32,
    );
    read_alike(
        r#""long""#,
        r#""double""#,
        Value::Long(-(1 << 50)),
        -((1u64 << 50) as f64),
    );
    read_alike(
        r#""float""#,
        r#""double""#,
        Value::Float(0.1),
        f64::from(0.1f32),
    );
}

#[test]
fn promotions_apply_inside_arrays_and_maps() {
    read_alike(
        r#"{"type": "array", "items": "int"}"#,
        r#"{"type": "array", "items": "double"}"#,
        Value::Array(vec![Value::Int(1), Value::Int(-2)]),
        vec![1.0f64, -2.0],
    );
    read_alike(
        r#"{"type": "map", "values": "int"}"#,
        r#"{"type": "map", "values": "long"}"#,
        Value::Map(HashMap::from([("a".to_owned(), Value::Int(5))])),
        HashMap::from([("a".to_owned(), 5i64)]),
    );
}

#[test]
fn string_and_bytes_read_as_each_other() {
    read_alike(
        r#""string""#,
        r#""bytes""#,
        Value::String("héllo".to_owned()),
        Bytes("héllo".as_bytes().to_vec()),
    );
    read_alike(
        r#""bytes""#,
        r#""string""#,
        Value::Bytes(b"plain".to_vec()),
        "plain".to_owned(),
    );
}

const WRITER_RECORD: &str = r#"{
    "type": "record", "name": "Order", "fields": [
        {"name": "id", "type": "string"},
        {"name": "gone", "type": {"type": "record", "name": "Old", "fields": [
            {"name": "items", "type": {"type": "array", "items": "long"}},
            {"name": "tag", "type": ["null", "string"]}
        ]}},
        {"name": "old_name", "type": "int"},
        {"name": "count", "type": "int"}
    ]
}"#;

const READER_RECORD: &str = r#"{
    "type": "record", "name": "Order", "fields": [
        {"name": "count", "type": "long"},
        {"name": "id", "type": "string"},
        {"name": "old_name", "type": "int"},
        {"name": "currency", "type": "string", "default": "EUR"},
        {"name": "note", "type": ["null", "string"], "default": null},
        {"name": "retries", "type": ["int", "null"], "default": 3},
        {"name": "flags", "type": {"type": "array", "items": "boolean"}, "default": [true]}
    ]
}"#;

#[derive(Debug, PartialEq, Deserialize)]
struct Order {
    count: i64,
    id: String,
    old_name: i32,
    currency: String,
    note: Option<String>,
    retries: Option<i32>,
    flags: Vec<bool>,
}

/// A removed field (a nested record) is skipped, added ones take their defaults, and the
/// reader's order of fields does not matter.
#[test]
fn fields_removed_added_and_reordered() {
    let value = Value::Record(vec![
        ("id".to_owned(), Value::String("o-1".to_owned())),
        (
            "gone".to_owned(),
            Value::Record(vec![
                (
                    "items".to_owned(),
                    Value::Array(vec![Value::Long(1), Value::Long(2)]),
                ),
                (
                    "tag".to_owned(),
                    Value::Union(1, Box::new(Value::String("x".to_owned()))),
                ),
            ]),
        ),
        ("old_name".to_owned(), Value::Int(9)),
        ("count".to_owned(), Value::Int(4)),
    ]);
    read_alike(
        WRITER_RECORD,
        READER_RECORD,
        value,
        Order {
            count: 4,
            id: "o-1".to_owned(),
            old_name: 9,
            currency: "EUR".to_owned(),
            note: None,
            retries: Some(3),
            flags: vec![true],
        },
    );
}

#[test]
fn an_added_field_without_default_is_refused() {
    both_refuse(
        r#"{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}"#,
        r#"{"type": "record", "name": "R", "fields": [
            {"name": "a", "type": "int"}, {"name": "b", "type": "int"}]}"#,
        Value::Record(vec![("a".to_owned(), Value::Int(1))]),
    );
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(untagged)]
enum Choice {
    Number(i64),
    Text(String),
}

#[test]
fn union_branches_are_matched_by_type_not_position() {
    let writer = r#"["null", "string", "long"]"#;
    let reader = r#"["long", "string", "null"]"#;
    read_alike(
        writer,
        reader,
        Value::Union(2, Box::new(Value::Long(42))),
        Some(Choice::Number(42)),
    );
    read_alike(
        writer,
        reader,
        Value::Union(1, Box::new(Value::String("hi".to_owned()))),
        Some(Choice::Text("hi".to_owned())),
    );
    read_alike(
        writer,
        reader,
        Value::Union(0, Box::new(Value::Null)),
        None::<Choice>,
    );
}

#[test]
fn a_union_on_one_side_only() {
    read_alike(
        r#""string""#,
        r#"["null", "string"]"#,
        Value::String("a".to_owned()),
        Some("a".to_owned()),
    );
    read_alike(
        r#"["null", "int"]"#,
        r#""long""#,
        Value::Union(1, Box::new(Value::Int(7))),
        7i64,
    );
    // A writer's branch the reader cannot read fails only when written.
    both_refuse(
        r#"["null", "int"]"#,
        r#""long""#,
        Value::Union(0, Box::new(Value::Null)),
    );
}

#[derive(Debug, PartialEq, Deserialize)]
enum Size {
    Small,
    Large,
    Unknown,
}

#[test]
fn enums_are_read_by_symbol_with_the_readers_default() {
    let writer = r#"{"type": "enum", "name": "Size", "symbols": ["Tiny", "Large", "Small"]}"#;
    let reader = r#"{"type": "enum", "name": "Size", "symbols": ["Small", "Large", "Unknown"],
                     "default": "Unknown"}"#;
    read_alike(
        writer,
        reader,
        Value::Enum(2, "Small".to_owned()),
        Size::Small,
    );
    read_alike(
        writer,
        reader,
        Value::Enum(1, "Large".to_owned()),
        Size::Large,
    );
    read_alike(
        writer,
        reader,
        Value::Enum(0, "Tiny".to_owned()),
        Size::Unknown,
    );
    let no_default = r#"{"type": "enum", "name": "Size", "symbols": ["Small", "Large"]}"#;
    both_refuse(writer, no_default, Value::Enum(0, "Tiny".to_owned()));
}

#[derive(Debug, PartialEq, Deserialize)]
struct Renamed {
    new_name: i32,
}

/// The specification matches a reader's field to the writer's by its aliases too;
/// apache-avro 0.22 does not (it reports the field missing), the direct codec does.
#[test]
fn a_renamed_field_is_found_by_its_alias() {
    let writer = Schema::parse_str(
        r#"{"type": "record", "name": "R", "fields": [{"name": "old_name", "type": "int"}]}"#,
    )
    .unwrap();
    let reader = Schema::parse_str(
        r#"{"type": "record", "name": "R", "fields": [
            {"name": "new_name", "aliases": ["old_name"], "type": "int"}]}"#,
    )
    .unwrap();
    let datum = GenericDatumWriter::builder(&writer)
        .build()
        .unwrap()
        .write_value_to_vec(Value::Record(vec![("old_name".to_owned(), Value::Int(9))]))
        .unwrap();
    let apache = GenericDatumReader::builder(&writer)
        .reader_schema(&reader)
        .build()
        .unwrap()
        .read_value(&mut &datum[..]);
    assert!(apache.is_err(), "apache-avro now reads aliases: {apache:?}");
    let direct: Renamed = DatumPlan::resolved(&writer, &reader)
        .unwrap()
        .decode(&datum)
        .unwrap();
    assert_eq!(direct, Renamed { new_name: 9 });
}
