//! Published schemas are immutable, and committed sample payloads of every version still
//! decode through the upcast chain.

#![allow(clippy::unwrap_used, clippy::panic)] // Tests and benches may unwrap and panic.

use herald::Event;
use herald_example_orders::{CustomerRegistered, OrderEvent, SCHEMAS_DIR};

#[test]
fn order_snapshots_and_golden_events_hold() {
    let done = herald::history::assert_history::<OrderEvent>(SCHEMAS_DIR);
    // Three versions, two files each, all compared (or written on a first run).
    assert_eq!(done.written.len() + done.unchanged.len(), 6);
    assert!(
        done.golden_events >= 8,
        "golden events of versions 1, 2 and 3 are committed"
    );
}

#[test]
fn customer_snapshots_and_golden_events_hold() {
    let done = herald::history::assert_history::<CustomerRegistered>(SCHEMAS_DIR);
    // Only version 2 has a Rust type; version 1 lives on as golden events.
    assert_eq!(done.written.len() + done.unchanged.len(), 2);
    assert!(done.golden_events >= 2);
}

#[test]
fn history_lists_every_version_oldest_first() {
    let history = OrderEvent::history();
    let versions: Vec<u32> = history.iter().map(|v| v.version).collect();
    assert_eq!(versions, [1, 2, 3]);
    assert_eq!(
        history[0].event_types,
        ["order.placed", "order.cancelled", "order.shipped"]
    );
    assert_eq!(
        history[2].event_types,
        [
            "order.placed",
            "order.cancelled",
            "order.shipped",
            "order.delivered"
        ]
    );
    assert_eq!(history[2].upcast, herald::Upcast::TryFrom);
    assert_eq!(history[1].upcast, herald::Upcast::From);
    assert_eq!(history[0].upcast, herald::Upcast::None);
}
