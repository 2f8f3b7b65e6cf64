//! The direct Avro codec against the previous one (apache-avro's `Value` tree, kept as
//! `AvroViaValue`): the same bytes for generated values of every type Herald's mapping
//! supports, the same events when reading every older version of the example events through
//! their upcasters, and the same golden events.

#![allow(clippy::unwrap_used, clippy::panic)] // Tests may unwrap and panic.
#![allow(missing_docs)] // Test types.
#![allow(clippy::large_enum_variant)] // One variant holds every type of the mapping.

use std::collections::HashMap;

use herald::{Avro, AvroViaValue, Bytes, Decimal, Event, Fixed};
use herald_example_orders::OrderEvent;
use herald_example_orders::v1::{ItemV1, OrderEventV1};
use herald_example_orders::v2::{Currency, Line, OrderEventV2, ShippingStatus};
use proptest::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A `long` with a logical type, through `x-avro`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("x-avro" = {"type": "long", "logicalType": "timestamp-micros"}))]
pub struct Micros(pub i64);

/// A decimal on a fixed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("x-avro" = {"type": "fixed", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 4}))]
pub struct Money(pub Fixed<8>);

/// A union of a named fixed and a string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Amount {
    Exact(Money),
    Text(String),
}

/// An Avro enum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum Colour {
    Red,
    Green,
    Blue,
}

/// A nested record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Part {
    pub name: String,
    pub weight: f32,
    pub tags: Vec<String>,
}

/// A recursive record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Tree {
    pub label: String,
    pub children: Vec<Tree>,
    pub annotation: Option<Box<Tree>>,
}

/// Every type of Herald's Avro mapping, in one event with a struct, a unit and a newtype
/// variant.
#[derive(Debug, Clone, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "kitchen", version = 1)]
pub enum Kitchen {
    Everything {
        flag: bool,
        small: i32,
        tiny: u16,
        medium: u32,
        big: i64,
        ratio: f64,
        single: f32,
        text: String,
        note: Option<String>,
        colour: Colour,
        maybe_colour: Option<Colour>,
        parts: Vec<Part>,
        first: Option<Part>,
        counts: HashMap<String, i64>,
        raw: Bytes,
        id: Fixed<4>,
        price: Decimal<10, 2>,
        at: Micros,
        total: Amount,
        discount: Option<Amount>,
        tree: Tree,
    },
    Empty,
    Wrapped(Part),
}

fn colour() -> impl Strategy<Value = Colour> {
    prop_oneof![Just(Colour::Red), Just(Colour::Green), Just(Colour::Blue)]
}

fn part() -> impl Strategy<Value = Part> {
    (
        "[a-z]{0,8}",
        -1.0e6f32..1.0e6,
        prop::collection::vec("\\PC{0,5}", 0..3),
    )
        .prop_map(|(name, weight, tags)| Part { name, weight, tags })
}

fn amount() -> impl Strategy<Value = Amount> {
    prop_oneof![
        any::<[u8; 8]>().prop_map(|bytes| Amount::Exact(Money(Fixed(bytes)))),
        "\\PC{0,6}".prop_map(Amount::Text),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = "[a-z]{0,4}".prop_map(|label| Tree {
        label,
        children: Vec::new(),
        annotation: None,
    });
    leaf.prop_recursive(4, 16, 3, |inner| {
        (
            "[a-z]{0,4}",
            prop::collection::vec(inner.clone(), 0..3),
            prop::option::of(inner),
        )
            .prop_map(|(label, children, annotation)| Tree {
                label,
                children,
                annotation: annotation.map(Box::new),
            })
    })
}

/// Maps of at most `max` entries: apache-avro's `Value::Map` is a `HashMap`, whose order (and
/// so the bytes of a map of two entries or more) changes from one run to the next.
fn kitchen(max_entries: usize) -> impl Strategy<Value = Kitchen> {
    let scalars = (
        any::<bool>(),
        any::<i32>(),
        any::<u16>(),
        any::<u32>(),
        any::<i64>(),
        -1.0e12f64..1.0e12,
        -1.0e6f32..1.0e6,
        "\\PC{0,12}",
        prop::option::of("\\PC{0,6}"),
        colour(),
        prop::option::of(colour()),
    );
    let composites = (
        prop::collection::vec(part(), 0..4),
        prop::option::of(part()),
        prop::collection::hash_map("[a-z]{1,6}", any::<i64>(), 0..=max_entries),
        prop::collection::vec(any::<u8>(), 0..10),
        any::<[u8; 4]>(),
        // apache-avro wants a `decimal` of precision 10 to take at least 5 bytes.
        prop::collection::vec(any::<u8>(), 5..9),
        any::<i64>(),
        amount(),
        prop::option::of(amount()),
        tree(),
    );
    let everything = (scalars, composites).prop_map(
        |(
            (flag, small, tiny, medium, big, ratio, single, text, note, colour, maybe_colour),
            (parts, first, counts, raw, id, price, at, total, discount, tree),
        )| Kitchen::Everything {
            flag,
            small,
            tiny,
            medium,
            big,
            ratio,
            single,
            text,
            note,
            colour,
            maybe_colour,
            parts,
            first,
            counts,
            raw: Bytes(raw),
            id: Fixed(id),
            price: Decimal(price),
            at: Micros(at),
            total,
            discount,
            tree,
        },
    );
    prop_oneof![
        8 => everything,
        1 => Just(Kitchen::Empty),
        1 => part().prop_map(Kitchen::Wrapped),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The same bytes as apache-avro's writer, and both codecs read them back.
    #[test]
    fn bytes_equal_apache_avros_and_read_back(event in kitchen(1)) {
        let direct = event.encode_with::<Avro>().unwrap();
        let via_value = event.encode_with::<AvroViaValue>().unwrap();
        prop_assert_eq!(&direct.payload, &via_value.payload);
        let back = Kitchen::decode_with::<Avro>(direct.event_type, 1, &direct.payload).unwrap();
        prop_assert_eq!(&back, &event);
        let old = Kitchen::decode_with::<AvroViaValue>(direct.event_type, 1, &direct.payload).unwrap();
        prop_assert_eq!(&old, &event);
    }

    /// Maps of several entries: each codec reads what the other wrote.
    #[test]
    fn larger_maps_cross_read(event in kitchen(5)) {
        let direct = event.encode_with::<Avro>().unwrap();
        let via_value = event.encode_with::<AvroViaValue>().unwrap();
        prop_assert_eq!(direct.payload.len(), via_value.payload.len());
        let new_reads_old = Kitchen::decode_with::<Avro>(direct.event_type, 1, &via_value.payload).unwrap();
        let old_reads_new = Kitchen::decode_with::<AvroViaValue>(direct.event_type, 1, &direct.payload).unwrap();
        prop_assert_eq!(&new_reads_old, &event);
        prop_assert_eq!(&old_reads_new, &event);
    }

    /// Version 1 payloads read as the current version (two upcast steps) alike in both
    /// codecs, and are written alike.
    #[test]
    fn version_1_reads_alike(event in v1()) {
        assert_older_reads_alike(&event)?;
    }

    /// Version 2 payloads (one `TryFrom` step, which can refuse) read alike.
    #[test]
    fn version_2_reads_alike(event in v2()) {
        assert_older_reads_alike(&event)?;
    }

    /// The current version reads alike.
    #[test]
    fn version_3_reads_alike(event in v2().prop_filter_map("v3 refuses empty orders", |old| OrderEvent::try_from(old).ok())) {
        assert_older_reads_alike(&event)?;
    }
}

fn v1() -> impl Strategy<Value = OrderEventV1> {
    let item = ("[a-z-]{1,10}", any::<u32>()).prop_map(|(sku, quantity)| ItemV1 { sku, quantity });
    prop_oneof![
        ("[a-z0-9-]{1,10}", prop::collection::vec(item, 0..4))
            .prop_map(|(order_id, items)| OrderEventV1::Placed { order_id, items }),
        "[a-z0-9-]{1,10}".prop_map(|order_id| OrderEventV1::Cancelled { order_id }),
        "[a-z0-9-]{1,10}".prop_map(|order_id| OrderEventV1::Shipped { order_id }),
    ]
}

fn v2() -> impl Strategy<Value = OrderEventV2> {
    let line = ("[a-z-]{1,10}", any::<u32>(), any::<i64>()).prop_map(
        |(sku, quantity, unit_price_cents)| Line {
            sku,
            quantity,
            unit_price_cents,
        },
    );
    let currency = prop_oneof![
        Just(Currency::EUR),
        Just(Currency::USD),
        Just(Currency::GBP)
    ];
    let status = prop_oneof![
        Just(ShippingStatus::Shipped),
        Just(ShippingStatus::Delivered)
    ];
    prop_oneof![
        (
            "[a-z0-9-]{1,10}",
            prop::collection::vec(line, 0..4),
            currency
        )
            .prop_map(|(order_id, lines, currency)| OrderEventV2::Placed {
                order_id,
                lines,
                currency
            }),
        ("[a-z0-9-]{1,10}", "\\PC{0,10}")
            .prop_map(|(order_id, reason)| OrderEventV2::Cancelled { order_id, reason }),
        ("[a-z0-9-]{1,10}", status)
            .prop_map(|(order_id, status)| OrderEventV2::StatusChanged { order_id, status }),
    ]
}

/// Writes `event` (of any version) with both codecs, then reads it as the current version
/// with both: the same bytes, and the same event or both a refusal.
fn assert_older_reads_alike<E: Event>(event: &E) -> Result<(), TestCaseError> {
    let direct = event.encode_with::<Avro>().unwrap();
    let via_value = event.encode_with::<AvroViaValue>().unwrap();
    prop_assert_eq!(&direct.payload, &via_value.payload);
    let new = OrderEvent::decode_with::<Avro>(direct.event_type, E::VERSION, &direct.payload);
    let old =
        OrderEvent::decode_with::<AvroViaValue>(direct.event_type, E::VERSION, &direct.payload);
    match (new, old) {
        (Ok(new), Ok(old)) => prop_assert_eq!(new, old),
        (Err(new), Err(old)) => prop_assert_eq!(new.to_string(), old.to_string()),
        (new, old) => prop_assert!(false, "direct {new:?}, via value {old:?}"),
    }
    Ok(())
}

/// The golden events of every version, written as Avro by their own version's type, read as
/// the current version give what the snapshots expect, in both codecs.
#[test]
fn golden_events_read_alike_in_avro() {
    let dir = std::path::Path::new(herald_example_orders::SCHEMAS_DIR).join("order");
    let mut checked = 0;
    for version in 1..=OrderEvent::VERSION {
        let text = std::fs::read_to_string(dir.join(format!("v{version}.examples.json"))).unwrap();
        let examples: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        for example in examples {
            let event_type = example["event_type"].as_str().unwrap();
            let json = serde_json::to_vec(&example["payload"]).unwrap();
            let avro = match version {
                1 => OrderEventV1::decode(event_type, 1, &json)
                    .unwrap()
                    .encode_with::<Avro>(),
                2 => OrderEventV2::decode(event_type, 2, &json)
                    .unwrap()
                    .encode_with::<Avro>(),
                _ => OrderEvent::decode(event_type, 3, &json)
                    .unwrap()
                    .encode_with::<Avro>(),
            }
            .unwrap();
            let new = OrderEvent::decode_with::<Avro>(event_type, version, &avro.payload);
            let old = OrderEvent::decode_with::<AvroViaValue>(event_type, version, &avro.payload);
            let from_json = OrderEvent::decode(event_type, version, &json);
            match (new, old, from_json) {
                (Ok(new), Ok(old), Ok(from_json)) => {
                    assert_eq!(new, old);
                    assert_eq!(new, from_json);
                    if let Some(expect) = example.get("expect").filter(|e| !e.is_null()) {
                        let payload = serde_json::to_vec(&expect["payload"]).unwrap();
                        let expected = OrderEvent::decode(
                            expect["event_type"].as_str().unwrap(),
                            OrderEvent::VERSION,
                            &payload,
                        )
                        .unwrap();
                        assert_eq!(new, expected);
                    }
                }
                (Err(_), Err(_), Err(_)) => {}
                other => panic!("{event_type} v{version}: {other:?}"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} golden events");
}
