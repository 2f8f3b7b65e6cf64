//! The benches' event: one order-like event (8 fields, 4 nested lines), its customer id
//! tagged `PII` (the encryption bench encrypts it; tags do not change the Avro bytes).

use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(clippy::upper_case_acronyms)] // ISO 4217 codes.
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
    #[event(tags("PII"))]
    pub customer_id: String,
    pub currency: Currency,
    pub placed_at: i64,
    pub total_cents: i64,
    pub express: bool,
    pub note: Option<String>,
    pub lines: Vec<Line>,
}

/// The event every case encodes and decodes.
pub fn order() -> OrderPlaced {
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
