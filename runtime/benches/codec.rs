//! Encoding and decoding one order-like event (8 fields, 4 nested lines), side by side:
//! Herald's direct Avro codec, Herald's previous Avro codec (through apache-avro's `Value`,
//! kept as `AvroViaValue`), apache-avro's serde path (`to_value` + datum writer, datum reader
//! + `from_value`), apache-avro's schema-aware serializer and deserializer (`write_ser`,
//! `read_deser`), serde_avro_fast, Herald's JSON codec, and serde_json as the floor. Every Avro
//! writer's bytes are checked equal first. Compare the medians of one run.
//!
//! `cargo bench -p herald --bench codec`

#![allow(clippy::unwrap_used, clippy::panic)] // Benches may unwrap and panic.
#![allow(missing_docs)] // Bench types.

use std::hint::black_box;
use std::time::Duration;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use criterion::{Criterion, criterion_group, criterion_main};
use herald::{Avro, AvroViaValue, Codec, Event, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum Currency {
    EUR,
    USD,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Line {
    pub sku: String,
    pub quantity: u32,
    pub unit_price_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "bench_order", version = 1)]
pub struct OrderPlaced {
    pub order_id: String,
    pub customer_id: String,
    pub currency: Currency,
    pub placed_at: i64,
    pub total_cents: i64,
    pub express: bool,
    pub note: Option<String>,
    pub lines: Vec<Line>,
}

fn order() -> OrderPlaced {
    OrderPlaced {
        order_id: "order-00012345".to_owned(),
        customer_id: "customer-0042".to_owned(),
        currency: Currency::EUR,
        placed_at: 1_765_000_000_000_000,
        total_cents: 12_996,
        express: true,
        note: Some("leave at the door".to_owned()),
        lines: (0..4)
            .map(|n| Line {
                sku: format!("sku-{n}-tea-earl-grey"),
                quantity: n + 1,
                unit_price_cents: 1999 + i64::from(n),
            })
            .collect(),
    }
}

fn codecs(c: &mut Criterion) {
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
    let json = Json::encode(&event).unwrap();
    let plain_json = serde_json::to_vec(&event).unwrap();
    assert_eq!(json, plain_json);

    let mut encode = c.benchmark_group("encode");
    encode.bench_function("herald_avro", |b| {
        b.iter(|| Avro::encode(black_box(&event)).unwrap())
    });
    encode.bench_function("herald_avro_before", |b| {
        b.iter(|| AvroViaValue::encode(black_box(&event)).unwrap())
    });
    encode.bench_function("apache_avro_serde", |b| {
        b.iter(|| {
            let value = apache_avro::to_value(black_box(&event)).unwrap();
            writer.write_value_to_vec(value).unwrap()
        })
    });
    encode.bench_function("apache_avro_write_ser", |b| {
        b.iter(|| writer.write_ser_to_vec(black_box(&event)).unwrap())
    });
    encode.bench_function("serde_avro_fast", |b| {
        b.iter(|| serde_avro_fast::to_datum_vec(black_box(&event), &mut fast_config).unwrap())
    });
    encode.bench_function("herald_json", |b| {
        b.iter(|| Json::encode(black_box(&event)).unwrap())
    });
    encode.bench_function("serde_json", |b| {
        b.iter(|| serde_json::to_vec(black_box(&event)).unwrap())
    });
    encode.finish();

    let mut decode = c.benchmark_group("decode");
    decode.bench_function("herald_avro", |b| {
        b.iter(|| OrderPlaced::decode_with::<Avro>(event_type, 1, black_box(&direct)).unwrap())
    });
    decode.bench_function("herald_avro_before", |b| {
        b.iter(|| {
            OrderPlaced::decode_with::<AvroViaValue>(event_type, 1, black_box(&direct)).unwrap()
        })
    });
    decode.bench_function("apache_avro_serde", |b| {
        b.iter(|| {
            let value = reader.read_value(&mut black_box(&direct[..])).unwrap();
            apache_avro::from_value::<OrderPlaced>(&value).unwrap()
        })
    });
    decode.bench_function("apache_avro_read_deser", |b| {
        b.iter(|| {
            reader
                .read_deser::<OrderPlaced>(&mut black_box(&direct[..]))
                .unwrap()
        })
    });
    decode.bench_function("serde_avro_fast", |b| {
        b.iter(|| {
            serde_avro_fast::from_datum_slice::<OrderPlaced>(black_box(&direct), &fast_schema)
                .unwrap()
        })
    });
    decode.bench_function("herald_json", |b| {
        b.iter(|| OrderPlaced::decode_with::<Json>(event_type, 1, black_box(&json)).unwrap())
    });
    decode.bench_function("serde_json", |b| {
        b.iter(|| serde_json::from_slice::<OrderPlaced>(black_box(&json)).unwrap())
    });
    decode.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40);
    targets = codecs
}
criterion_main!(benches);
