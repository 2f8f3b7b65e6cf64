//! Property tests: for generated events of every version, encode then decode is the identity
//! in JSON and in Avro binary, the JSON payload validates against the exported JSON Schema
//! (the whole document and its event type's branch), and the Avro datum is a valid instance
//! of its event type's branch of the exported Avro union.

#![allow(clippy::unwrap_used, clippy::panic)] // Tests and benches may unwrap and panic.

use std::fmt::Debug;

use apache_avro::reader::datum::GenericDatumReader;
use herald::{Avro, Event};
use herald_example_orders::OrderEvent;
use herald_example_orders::v1::{ItemV1, OrderEventV1};
use herald_example_orders::v2::{Currency, Line, OrderEventV2, ShippingStatus};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,16}"
}

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        Just(Currency::EUR),
        Just(Currency::USD),
        Just(Currency::GBP)
    ]
}

fn line() -> impl Strategy<Value = Line> {
    (text(), any::<u32>(), any::<i64>()).prop_map(|(sku, quantity, unit_price_cents)| Line {
        sku,
        quantity,
        unit_price_cents,
    })
}

fn v1() -> impl Strategy<Value = OrderEventV1> {
    let item = (text(), any::<u32>()).prop_map(|(sku, quantity)| ItemV1 { sku, quantity });
    prop_oneof![
        (text(), prop::collection::vec(item, 0..4))
            .prop_map(|(order_id, items)| OrderEventV1::Placed { order_id, items }),
        text().prop_map(|order_id| OrderEventV1::Cancelled { order_id }),
        text().prop_map(|order_id| OrderEventV1::Shipped { order_id }),
    ]
}

fn v2() -> impl Strategy<Value = OrderEventV2> {
    let status = prop_oneof![
        Just(ShippingStatus::Shipped),
        Just(ShippingStatus::Delivered)
    ];
    prop_oneof![
        (text(), prop::collection::vec(line(), 0..4), currency()).prop_map(
            |(order_id, lines, currency)| OrderEventV2::Placed {
                order_id,
                lines,
                currency
            }
        ),
        (text(), text())
            .prop_map(|(order_id, reason)| OrderEventV2::Cancelled { order_id, reason }),
        (text(), status)
            .prop_map(|(order_id, status)| OrderEventV2::StatusChanged { order_id, status }),
    ]
}

fn v3() -> impl Strategy<Value = OrderEvent> {
    prop_oneof![
        (
            text(),
            prop::collection::vec(line(), 1..4),
            currency(),
            prop::option::of(text())
        )
            .prop_map(|(order_id, lines, currency, note)| OrderEvent::Placed {
                order_id,
                lines,
                currency,
                note
            }),
        (text(), text()).prop_map(|(order_id, reason)| OrderEvent::Cancelled { order_id, reason }),
        (text(), text())
            .prop_map(|(order_id, carrier)| OrderEvent::Dispatched { order_id, carrier }),
        text().prop_map(|order_id| OrderEvent::Delivered { order_id }),
    ]
}

/// The exported schemas of one version, compiled once.
struct Checks {
    document: jsonschema::Validator,
    branches: Vec<jsonschema::Validator>,
    avro: apache_avro::Schema,
}

impl Checks {
    fn new<E: Event>() -> Self {
        let json = E::export_json_schema().unwrap();
        let document = jsonschema::validator_for(&json).unwrap();
        // Each branch on its own (with the shared `$defs`), so a payload must fit the schema
        // of its own event type, not just any branch.
        let branches = json["anyOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|branch| {
                let mut alone = branch.clone();
                alone["$schema"] = json["$schema"].clone();
                alone["$defs"] = json["$defs"].clone();
                jsonschema::validator_for(&alone).unwrap()
            })
            .collect();
        let avro = apache_avro::Schema::parse(&E::export_avro_schema().unwrap()).unwrap();
        Checks {
            document,
            branches,
            avro,
        }
    }

    fn run<E: Event + PartialEq + Debug>(&self, event: &E) -> Result<(), TestCaseError> {
        let variant = E::variant_of(event.event_type()).unwrap();

        let json = event.encode().unwrap();
        prop_assert_eq!(json.version, E::VERSION);
        let back = E::decode(json.event_type, json.version, &json.payload).unwrap();
        prop_assert_eq!(&back, event);
        let payload: Value = serde_json::from_slice(&json.payload).unwrap();
        prop_assert!(
            self.document.is_valid(&payload),
            "{payload} is not valid for the version's JSON Schema"
        );
        if let Err(err) = self.branches[variant].validate(&payload) {
            return Err(TestCaseError::fail(format!(
                "{payload} is not valid for `{}`: {err}",
                json.event_type
            )));
        }

        let avro = event.encode_with::<Avro>().unwrap();
        let back = E::decode_with::<Avro>(avro.event_type, avro.version, &avro.payload).unwrap();
        prop_assert_eq!(&back, event);
        // A union datum is the branch index (zig-zag varint) followed by the branch's datum,
        // so prefixing the payload with its index must read as a valid value of the union.
        let mut datum = vec![u8::try_from(variant * 2).unwrap()];
        datum.extend_from_slice(&avro.payload);
        let value = GenericDatumReader::builder(&self.avro)
            .build()
            .unwrap()
            .read_value(&mut datum.as_slice())
            .unwrap();
        prop_assert!(
            matches!(value, apache_avro::types::Value::Union(i, _) if i as usize == variant)
        );
        prop_assert!(value.validate(&self.avro));
        Ok(())
    }
}

fn check_all<E: Event + PartialEq + Debug>(strategy: impl Strategy<Value = E>) {
    let checks = Checks::new::<E>();
    let mut runner = TestRunner::new(Config::with_cases(256));
    if let Err(err) = runner.run(&strategy, |event| checks.run(&event)) {
        panic!("{err}");
    }
}

#[test]
fn version_1_round_trips_and_matches_its_schemas() {
    check_all(v1());
}

#[test]
fn version_2_round_trips_and_matches_its_schemas() {
    check_all(v2());
}

#[test]
fn version_3_round_trips_and_matches_its_schemas() {
    check_all(v3());
}

#[test]
fn a_payload_of_another_event_type_fails_the_branch_schema() {
    // The checks above could pass vacuously if the branch schemas accepted anything.
    let checks = Checks::new::<OrderEvent>();
    let delivered = serde_json::json!({ "order_id": "o" });
    let placed = OrderEvent::variant_of("order.placed").unwrap();
    assert!(!checks.branches[placed].is_valid(&delivered));
    assert!(checks.document.is_valid(&delivered));
    assert!(
        !checks
            .document
            .is_valid(&serde_json::json!({ "order_id": 5 }))
    );
}
