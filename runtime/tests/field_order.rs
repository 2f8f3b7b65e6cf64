//! Exported schemas list record fields in declaration order, which Avro's binary encoding
//! follows: a payload the runtime writes reads back with a schema written by hand in
//! declaration order, as apache-avro's derive would write it.

#![allow(clippy::unwrap_used, clippy::panic)] // Tests and benches may unwrap and panic.

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::types::Value as AvroValue;
use herald::{Avro, Event};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize, JsonSchema, Debug, PartialEq, Clone)]
struct Holder {
    surname: String,
    #[serde(rename = "givenName")]
    given_name: String,
    age: i32,
}

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, PartialEq, Clone)]
#[event(name = "account", version = 1)]
enum Account {
    Opened {
        account: String,
        owner: Holder,
        currency: String,
    },
    Renamed(Holder),
    Closed,
}

fn names(record: &Value) -> Vec<&str> {
    record["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field["name"].as_str().unwrap())
        .collect()
}

#[test]
fn avro_records_keep_the_declaration_order() {
    let avro = Account::export_avro_schema().unwrap();
    assert_eq!(names(&avro[0]), ["account", "owner", "currency"]);
    assert_eq!(
        names(&avro[0]["fields"][1]["type"]),
        ["surname", "givenName", "age"]
    );
    // A newtype variant's record is its struct's.
    assert_eq!(names(&avro[1]), ["surname", "givenName", "age"]);
}

#[test]
fn json_schema_requires_fields_in_declaration_order() {
    let json = Account::export_json_schema().unwrap();
    assert_eq!(
        json["anyOf"][0]["required"],
        json!(["account", "owner", "currency"])
    );
    assert_eq!(
        json["$defs"]["Holder"]["required"],
        json!(["surname", "givenName", "age"])
    );
}

#[test]
fn apache_avro_reads_the_payload_with_a_schema_in_declaration_order() {
    let event = Account::Opened {
        account: "acc-1".into(),
        owner: Holder {
            surname: "Lovelace".into(),
            given_name: "Ada".into(),
            age: 36,
        },
        currency: "EUR".into(),
    };
    let encoded = event.encode_with::<Avro>().unwrap();
    // What `#[derive(AvroSchema)]` writes for these types: fields as declared.
    let by_hand = apache_avro::Schema::parse(&json!({
        "type": "record",
        "name": "Opened",
        "fields": [
            {"name": "account", "type": "string"},
            {"name": "owner", "type": {
                "type": "record",
                "name": "Holder",
                "fields": [
                    {"name": "surname", "type": "string"},
                    {"name": "givenName", "type": "string"},
                    {"name": "age", "type": "int"}
                ]
            }},
            {"name": "currency", "type": "string"}
        ]
    }))
    .unwrap();
    let mut rest = encoded.payload.as_slice();
    let value = GenericDatumReader::builder(&by_hand)
        .build()
        .unwrap()
        .read_value(&mut rest)
        .unwrap();
    assert!(rest.is_empty());
    let string = |s: &str| AvroValue::String(s.to_owned());
    assert_eq!(
        value,
        AvroValue::Record(vec![
            ("account".to_owned(), string("acc-1")),
            (
                "owner".to_owned(),
                AvroValue::Record(vec![
                    ("surname".to_owned(), string("Lovelace")),
                    ("givenName".to_owned(), string("Ada")),
                    ("age".to_owned(), AvroValue::Int(36)),
                ])
            ),
            ("currency".to_owned(), string("EUR")),
        ])
    );
    // And the runtime reads it back.
    let back = Account::decode_with::<Avro>(encoded.event_type, 1, &encoded.payload).unwrap();
    assert_eq!(back, event);
}

#[derive(Serialize, Deserialize, JsonSchema, Debug, PartialEq, Clone)]
struct Inner {
    zulu: i64,
    alpha: i64,
}

#[derive(Serialize, Deserialize, JsonSchema, Debug, PartialEq, Clone)]
struct Node {
    label: String,
    children: Vec<Node>,
    annotation: Option<Box<Node>>,
}

/// A `Fixed` refuses the trace's placeholder bytes; the structs after it are still reached.
#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, PartialEq, Clone)]
#[event(name = "wire", version = 1)]
struct Wire {
    tag: herald::Fixed<4>,
    inner: Inner,
    tree: Node,
    count: i64,
}

#[test]
fn order_survives_refused_placeholders_and_recursion() {
    let avro = Wire::export_avro_schema().unwrap();
    assert_eq!(names(&avro), ["tag", "inner", "tree", "count"]);
    assert_eq!(names(&avro["fields"][1]["type"]), ["zulu", "alpha"]);
    assert_eq!(
        names(&avro["fields"][2]["type"]),
        ["label", "children", "annotation"]
    );
    let wire = Wire {
        tag: herald::Fixed([1, 2, 3, 4]),
        inner: Inner { zulu: 1, alpha: 2 },
        tree: Node {
            label: "root".into(),
            children: vec![Node {
                label: "leaf".into(),
                children: vec![],
                annotation: None,
            }],
            annotation: None,
        },
        count: 7,
    };
    let encoded = wire.encode_with::<Avro>().unwrap();
    let back = Wire::decode_with::<Avro>(encoded.event_type, 1, &encoded.payload).unwrap();
    assert_eq!(back, wire);
}
