//! Decoding 100,000 events: plain `serde_json::from_slice` of the current type vs. Herald's
//! decode of current-version payloads vs. Herald's decode of version 1 payloads through the
//! two-step upcast chain (v1 → v2 → v3). One run gives all of them; compare the medians.
//! `plain_serde_json_v1` decodes the same v1 events as `OrderEventV1` without upcasting, to
//! separate the cost of the (smaller) v1 payloads from the cost of the upcast.
//!
//! `cargo bench -p herald-example-orders --bench decode`

#![allow(clippy::unwrap_used, clippy::panic)] // Tests and benches may unwrap and panic.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use herald::Event;
use herald_example_orders::OrderEvent;
use herald_example_orders::v1::{ItemV1, OrderEventV1};
use herald_example_orders::v2::{Currency, Line};

const EVENTS: usize = 100_000;

fn current(i: usize) -> OrderEvent {
    let order_id = format!("order-{i:08}");
    match i % 4 {
        0 => OrderEvent::Placed {
            order_id,
            lines: (0..3)
                .map(|n| Line {
                    sku: format!("sku-{n}-{i}"),
                    quantity: n + 1,
                    unit_price_cents: 1999 + i64::from(n),
                })
                .collect(),
            currency: Currency::EUR,
            note: i.is_multiple_of(8).then(|| "leave at the door".to_owned()),
        },
        1 => OrderEvent::Cancelled {
            order_id,
            reason: "customer changed their mind".to_owned(),
        },
        2 => OrderEvent::Dispatched {
            order_id,
            carrier: "DHL".to_owned(),
        },
        _ => OrderEvent::Delivered { order_id },
    }
}

fn first(i: usize) -> OrderEventV1 {
    let order_id = format!("order-{i:08}");
    match i % 3 {
        0 => OrderEventV1::Placed {
            order_id,
            items: (0..3)
                .map(|n| ItemV1 {
                    sku: format!("sku-{n}-{i}"),
                    quantity: n + 1,
                })
                .collect(),
        },
        1 => OrderEventV1::Cancelled { order_id },
        _ => OrderEventV1::Shipped { order_id },
    }
}

fn decode(c: &mut Criterion) {
    let events: Vec<OrderEvent> = (0..EVENTS).map(current).collect();
    // The plain baseline: serde's own (externally tagged) JSON of the same type.
    let plain: Vec<Vec<u8>> = events
        .iter()
        .map(|event| serde_json::to_vec(event).unwrap())
        .collect();
    let stored: Vec<(&'static str, Vec<u8>)> = events
        .iter()
        .map(|event| {
            let encoded = event.encode().unwrap();
            (encoded.event_type, encoded.payload)
        })
        .collect();
    // The same v1 events in serde's own JSON, to show what the upcast itself costs.
    let plain_v1: Vec<Vec<u8>> = (0..EVENTS)
        .map(|i| serde_json::to_vec(&first(i)).unwrap())
        .collect();
    let stored_v1: Vec<(&'static str, Vec<u8>)> = (0..EVENTS)
        .map(|i| {
            let encoded = first(i).encode().unwrap();
            (encoded.event_type, encoded.payload)
        })
        .collect();

    let mut group = c.benchmark_group("decode_100k");
    group.sample_size(20);
    group.measurement_time(std::time::Duration::from_secs(8));
    group.bench_function("plain_serde_json", |b| {
        b.iter(|| {
            for bytes in &plain {
                black_box(serde_json::from_slice::<OrderEvent>(black_box(bytes)).unwrap());
            }
        })
    });
    group.bench_function("herald_current_v3", |b| {
        b.iter(|| {
            for (event_type, payload) in &stored {
                black_box(
                    OrderEvent::decode(black_box(event_type), 3, black_box(payload)).unwrap(),
                );
            }
        })
    });
    group.bench_function("plain_serde_json_v1", |b| {
        b.iter(|| {
            for bytes in &plain_v1 {
                black_box(serde_json::from_slice::<OrderEventV1>(black_box(bytes)).unwrap());
            }
        })
    });
    group.bench_function("herald_upcast_v1_to_v3", |b| {
        b.iter(|| {
            for (event_type, payload) in &stored_v1 {
                black_box(
                    OrderEvent::decode(black_box(event_type), 1, black_box(payload)).unwrap(),
                );
            }
        })
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
