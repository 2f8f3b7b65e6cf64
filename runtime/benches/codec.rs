//! Encoding and decoding one order-like event (8 fields, 4 nested lines), side by side:
//! Herald's direct Avro codec, Herald's previous Avro codec (through apache-avro's `Value`,
//! kept as `AvroViaValue`), apache-avro's serde path (`to_value` and the datum writer; the
//! datum reader and `from_value`), apache-avro's schema-aware serializer and deserializer
//! (`write_ser`, `read_deser`), serde_avro_fast, Herald's JSON codec, and serde_json as the
//! floor; and a version 1 order read through the typed upcasts to version 3 in JSON against
//! the same payload read as version 1. Every Avro writer's bytes are checked equal first. The
//! cases run interleaved, round after round, so that the ratios of one run hold on a busy
//! machine; it prints the times and their ratios.
//!
//! `cargo bench -p herald --bench codec`

#![allow(clippy::unwrap_used, clippy::panic)] // Benches may unwrap and panic.
#![allow(missing_docs)] // Bench types.

#[path = "support/order.rs"]
mod order;
#[path = "support/report.rs"]
mod report;

use std::hint::black_box;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use herald::{Avro, AvroViaValue, Codec, Event, Json};
use herald_example_orders::OrderEvent;
use herald_example_orders::v1::{ItemV1, OrderEventV1};
use order::{OrderPlaced, order};
use report::{Case, report};

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let event = order();
    let event_type = event.event_type();
    let schema_json = OrderPlaced::export_avro_schema().unwrap();
    let schema = apache_avro::Schema::parse(&schema_json).unwrap();
    let fast_schema: serde_avro_fast::Schema = schema_json.to_string().parse().unwrap();
    let writer = GenericDatumWriter::builder(&schema).build().unwrap();
    let reader = GenericDatumReader::builder(&schema).build().unwrap();
    let mut fast_config = serde_avro_fast::ser::SerializerConfig::new(&fast_schema);

    let direct = Avro::encode(&event).unwrap();
    let via_value = AvroViaValue::encode(&event).unwrap();
    let apache = writer
        .write_value_to_vec(apache_avro::to_value(&event).unwrap())
        .unwrap();
    let apache_ser = writer.write_ser_to_vec(&event).unwrap();
    let fast = serde_avro_fast::to_datum_vec(&event, &mut fast_config).unwrap();
    for (name, bytes) in [
        ("via value", &via_value),
        ("apache-avro serde", &apache),
        ("apache-avro write_ser", &apache_ser),
        ("serde_avro_fast", &fast),
    ] {
        assert_eq!(&direct, bytes, "{name} writes other bytes");
    }
    // An order of version 1, read as version 3 through two typed upcasts (`From`, `TryFrom`),
    // against the same payload read as version 1.
    let v1 = OrderEventV1::Placed {
        order_id: "order-00012345".to_owned(),
        items: (0..4)
            .map(|n| ItemV1 {
                sku: format!("sku-{n}-tea-earl-grey"),
                quantity: n + 1,
            })
            .collect(),
    };
    let v1_json = Json::encode(&v1).unwrap();
    let json = Json::encode(&event).unwrap();
    let plain_json = serde_json::to_vec(&event).unwrap();
    assert_eq!(json, plain_json);

    let encoders: Vec<(&str, Case<'_>)> = vec![
        (
            "herald_avro",
            Box::new(|| drop(Avro::encode(black_box(&event)).unwrap())),
        ),
        (
            "herald_avro_before",
            Box::new(|| drop(AvroViaValue::encode(black_box(&event)).unwrap())),
        ),
        (
            "apache_avro_serde",
            Box::new(|| {
                let value = apache_avro::to_value(black_box(&event)).unwrap();
                drop(writer.write_value_to_vec(value).unwrap())
            }),
        ),
        (
            "apache_avro_write_ser",
            Box::new(|| drop(writer.write_ser_to_vec(black_box(&event)).unwrap())),
        ),
        (
            "serde_avro_fast",
            Box::new(|| {
                drop(serde_avro_fast::to_datum_vec(black_box(&event), &mut fast_config).unwrap())
            }),
        ),
        (
            "herald_json",
            Box::new(|| drop(Json::encode(black_box(&event)).unwrap())),
        ),
        (
            "serde_json",
            Box::new(|| drop(serde_json::to_vec(black_box(&event)).unwrap())),
        ),
    ];
    let decoders: Vec<(&str, Case<'_>)> = vec![
        (
            "herald_avro",
            Box::new(|| {
                drop(OrderPlaced::decode_with::<Avro>(event_type, 1, black_box(&direct)).unwrap())
            }),
        ),
        (
            "herald_avro_before",
            Box::new(|| {
                drop(
                    OrderPlaced::decode_with::<AvroViaValue>(event_type, 1, black_box(&direct))
                        .unwrap(),
                )
            }),
        ),
        (
            "apache_avro_serde",
            Box::new(|| {
                let value = reader.read_value(&mut black_box(&direct[..])).unwrap();
                drop(apache_avro::from_value::<OrderPlaced>(&value).unwrap())
            }),
        ),
        (
            "apache_avro_read_deser",
            Box::new(|| {
                drop(
                    reader
                        .read_deser::<OrderPlaced>(&mut black_box(&direct[..]))
                        .unwrap(),
                )
            }),
        ),
        (
            "serde_avro_fast",
            Box::new(|| {
                drop(
                    serde_avro_fast::from_datum_slice::<OrderPlaced>(
                        black_box(&direct),
                        &fast_schema,
                    )
                    .unwrap(),
                )
            }),
        ),
        (
            "herald_json",
            Box::new(|| {
                drop(OrderPlaced::decode_with::<Json>(event_type, 1, black_box(&json)).unwrap())
            }),
        ),
        (
            "serde_json",
            Box::new(|| drop(serde_json::from_slice::<OrderPlaced>(black_box(&json)).unwrap())),
        ),
        (
            "herald_json_v1_as_v1",
            Box::new(|| {
                drop(
                    OrderEventV1::decode_with::<Json>("order.placed", 1, black_box(&v1_json))
                        .unwrap(),
                )
            }),
        ),
        (
            "herald_json_v1_as_v3",
            Box::new(|| {
                drop(
                    OrderEvent::decode_with::<Json>("order.placed", 1, black_box(&v1_json))
                        .unwrap(),
                )
            }),
        ),
    ];
    let encode = report("encode", encoders);
    let decode = report("decode", decoders);
    println!("ratios (time / time):");
    for (name, times) in [("encode", &encode), ("decode", &decode)] {
        let ns = |case: &str| {
            times
                .iter()
                .find(|(c, _)| *c == case)
                .map_or(f64::NAN, |t| t.1)
        };
        println!(
            "  {name}: apache_avro_serde / herald_avro = {:.2}x, herald_avro / serde_avro_fast = {:.2}, herald_avro_before / herald_avro = {:.2}x, herald_json / serde_json = {:.2}",
            ns("apache_avro_serde") / ns("herald_avro"),
            ns("herald_avro") / ns("serde_avro_fast"),
            ns("herald_avro_before") / ns("herald_avro"),
            ns("herald_json") / ns("serde_json"),
        );
    }
    let ns = |case: &str| {
        decode
            .iter()
            .find(|(c, _)| *c == case)
            .map_or(f64::NAN, |t| t.1)
    };
    println!(
        "  json upcast: herald_json_v1_as_v3 / herald_json_v1_as_v1 = {:.2}",
        ns("herald_json_v1_as_v3") / ns("herald_json_v1_as_v1")
    );
}
