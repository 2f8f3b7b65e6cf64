//! Version 2: `items` renamed `lines`, prices and currency added, a cancel reason added, and
//! `shipped` merged into a general `status_changed`.
//!
//! Version 1 readers cannot read it and it cannot read version 1 payloads as they are, so it is
//! declared `breaking` (major 2): `herald check` does not ask it to be schema-compatible with
//! version 1, only that golden events of every version 1 event type prove the upcaster.

use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::v1::OrderEventV1;

/// The currency of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Currency {
    /// Euro.
    EUR,
    /// US dollar.
    USD,
    /// Pound sterling.
    GBP,
}

/// An order line (versions 2 and 3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Line {
    /// The product.
    pub sku: String,
    /// How many.
    pub quantity: u32,
    /// Price of one unit, in cents of the order's currency.
    pub unit_price_cents: i64,
}

/// A shipping status of version 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ShippingStatus {
    /// Left the warehouse.
    Shipped,
    /// Arrived.
    Delivered,
}

/// Order events, version 2.
#[derive(Debug, Clone, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(
    name = "order",
    version = 2,
    upcast_from = OrderEventV1,
    breaking = "`items` renamed `lines`, `shipped` merged into `status_changed`"
)]
pub enum OrderEventV2 {
    /// An order was placed.
    Placed {
        /// The order.
        order_id: String,
        /// What was ordered (`items` in version 1).
        lines: Vec<Line>,
        /// The currency of all prices.
        currency: Currency,
    },
    /// An order was cancelled.
    Cancelled {
        /// The order.
        order_id: String,
        /// Why.
        reason: String,
    },
    /// The shipping status changed.
    StatusChanged {
        /// The order.
        order_id: String,
        /// The new status.
        status: ShippingStatus,
    },
}

/// Version 1 had no prices or currency: old orders were all in euros, priced later.
impl From<OrderEventV1> for OrderEventV2 {
    fn from(old: OrderEventV1) -> Self {
        match old {
            OrderEventV1::Placed { order_id, items } => OrderEventV2::Placed {
                order_id,
                lines: items
                    .into_iter()
                    .map(|item| Line {
                        sku: item.sku,
                        quantity: item.quantity,
                        unit_price_cents: 0,
                    })
                    .collect(),
                currency: Currency::EUR,
            },
            OrderEventV1::Cancelled { order_id } => OrderEventV2::Cancelled {
                order_id,
                reason: "unknown (cancelled before reasons were recorded)".to_owned(),
            },
            OrderEventV1::Shipped { order_id } => OrderEventV2::StatusChanged {
                order_id,
                status: ShippingStatus::Shipped,
            },
        }
    }
}
