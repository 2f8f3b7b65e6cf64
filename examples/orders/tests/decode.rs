//! Stored payloads of versions 1 and 2 decode into version 3 values.

#![allow(clippy::unwrap_used, clippy::panic)] // Tests and benches may unwrap and panic.

use herald::{Avro, DecodeError, Event};
use herald_example_orders::v1::{ItemV1, OrderEventV1};
use herald_example_orders::v2::{Currency, Line, OrderEventV2, ShippingStatus};
use herald_example_orders::v3::UNKNOWN_CARRIER;
use herald_example_orders::{CustomerRegistered, OrderEvent};

#[test]
fn version_1_placed_gets_lines_and_a_currency() {
    let payload = br#"{"order_id":"o-1","items":[{"sku":"mug","quantity":3}]}"#;
    let event = OrderEvent::decode("order.placed", 1, payload).unwrap();
    assert_eq!(
        event,
        OrderEvent::Placed {
            order_id: "o-1".into(),
            lines: vec![Line {
                sku: "mug".into(),
                quantity: 3,
                unit_price_cents: 0
            }],
            currency: Currency::EUR,
            note: None,
        }
    );
}

#[test]
fn version_1_shipped_walks_the_merge_and_the_split() {
    // v1 `shipped` -> v2 `status_changed { Shipped }` -> v3 `shipped` (Dispatched).
    let event = OrderEvent::decode("order.shipped", 1, br#"{"order_id":"o-1"}"#).unwrap();
    assert_eq!(
        event,
        OrderEvent::Dispatched {
            order_id: "o-1".into(),
            carrier: UNKNOWN_CARRIER.into()
        }
    );
    assert_eq!(event.event_type(), "order.shipped");
}

#[test]
fn version_2_status_changes_split_into_two_event_types() {
    let delivered = OrderEvent::decode(
        "order.status_changed",
        2,
        br#"{"order_id":"o-2","status":"Delivered"}"#,
    )
    .unwrap();
    assert_eq!(
        delivered,
        OrderEvent::Delivered {
            order_id: "o-2".into()
        }
    );
    let cancelled = OrderEvent::decode(
        "order.cancelled",
        2,
        br#"{"order_id":"o-2","reason":"too slow"}"#,
    )
    .unwrap();
    assert_eq!(
        cancelled,
        OrderEvent::Cancelled {
            order_id: "o-2".into(),
            reason: "too slow".into()
        }
    );
}

#[test]
fn avro_payloads_of_older_versions_decode_too() {
    let v1 = OrderEventV1::Placed {
        order_id: "o-9".into(),
        items: vec![ItemV1 {
            sku: "pot".into(),
            quantity: 1,
        }],
    }
    .encode_with::<Avro>()
    .unwrap();
    assert_eq!((v1.event_type, v1.version), ("order.placed", 1));
    let event = OrderEvent::decode_with::<Avro>(v1.event_type, v1.version, &v1.payload).unwrap();
    assert_eq!(
        event,
        OrderEvent::Placed {
            order_id: "o-9".into(),
            lines: vec![Line {
                sku: "pot".into(),
                quantity: 1,
                unit_price_cents: 0
            }],
            currency: Currency::EUR,
            note: None,
        }
    );

    let v2 = OrderEventV2::StatusChanged {
        order_id: "o-9".into(),
        status: ShippingStatus::Shipped,
    }
    .encode_with::<Avro>()
    .unwrap();
    let event = OrderEvent::decode_with::<Avro>(v2.event_type, 2, &v2.payload).unwrap();
    assert_eq!(event.event_type(), "order.shipped");
}

#[test]
fn encoding_writes_the_current_version_and_event_type() {
    let encoded = OrderEvent::Delivered {
        order_id: "o-3".into(),
    }
    .encode()
    .unwrap();
    assert_eq!(encoded.event_type, "order.delivered");
    assert_eq!(encoded.version, 3);
    assert_eq!(encoded.payload, br#"{"order_id":"o-3"}"#);
}

#[test]
fn a_failing_try_from_surfaces_its_error_with_the_step() {
    let err = OrderEvent::decode(
        "order.placed",
        2,
        br#"{"order_id":"o-4","lines":[],"currency":"EUR"}"#,
    )
    .unwrap_err();
    match &err {
        DecodeError::Upcast {
            event_type,
            from,
            to,
            source,
        } => {
            assert_eq!((event_type.as_str(), *from, *to), ("order.placed", 2, 3));
            assert!(source.to_string().contains("o-4"), "{source}");
        }
        other => panic!("expected an upcast error, got {other:?}"),
    }
}

#[test]
fn versions_outside_the_chain_are_typed_errors() {
    for version in [0, 4, 99] {
        match OrderEvent::decode("order.placed", version, b"{}") {
            Err(DecodeError::UnknownVersion {
                name,
                version: v,
                current,
            }) => assert_eq!((name, v, current), ("order", version, 3)),
            other => panic!("version {version}: expected UnknownVersion, got {other:?}"),
        }
    }
}

#[test]
fn unknown_event_types_and_bad_payloads_are_typed_errors() {
    // `order.status_changed` exists in version 2 only.
    let err = OrderEvent::decode("order.status_changed", 3, b"{}").unwrap_err();
    assert!(
        matches!(&err, DecodeError::UnknownEventType { version: 3, .. }),
        "{err:?}"
    );
    // The v1 chain reports the v1 event types.
    let err = OrderEvent::decode("order.delivered", 1, b"{}").unwrap_err();
    assert!(
        matches!(&err, DecodeError::UnknownEventType { version: 1, .. }),
        "{err:?}"
    );
    let err = OrderEvent::decode("order.delivered", 3, br#"{"order_id": 5}"#).unwrap_err();
    assert!(
        matches!(
            &err,
            DecodeError::Payload {
                codec: "json",
                version: 3,
                ..
            }
        ),
        "{err:?}"
    );
    let err =
        OrderEvent::decode("order.delivered", 3, br#"{"order_id":"x"} trailing"#).unwrap_err();
    assert!(matches!(&err, DecodeError::Payload { .. }), "{err:?}");
}

#[test]
fn json_level_upcaster_reads_a_version_without_a_rust_type() {
    let event = CustomerRegistered::decode(
        "customer",
        1,
        br#"{"customer_id":"c","full_name":"Ada Lovelace"}"#,
    )
    .unwrap();
    assert_eq!(
        event,
        CustomerRegistered {
            customer_id: "c".into(),
            given_name: "Ada".into(),
            family_name: "Lovelace".into()
        }
    );
    let err = CustomerRegistered::decode("customer", 1, br#"{"customer_id":"c"}"#).unwrap_err();
    assert!(
        matches!(&err, DecodeError::Upcast { from: 1, to: 2, .. }),
        "{err:?}"
    );
    // A JSON-level step cannot read Avro payloads, and says so.
    let err = CustomerRegistered::decode_with::<Avro>("customer", 1, b"").unwrap_err();
    assert!(matches!(&err, DecodeError::NeedsJson { .. }), "{err:?}");
}
