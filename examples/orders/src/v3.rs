//! Version 3, the current one: `status_changed` split into `shipped` (with a carrier) and
//! `delivered`, and a placed order must have at least one line.
//!
//! Declared `breaking` (major 3): version 2's `status_changed` no longer exists.

use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::v2::{Currency, Line};
use crate::v2::{OrderEventV2, ShippingStatus};

/// The carrier recorded for shipments made before carriers were tracked.
pub const UNKNOWN_CARRIER: &str = "unknown";

/// Order events, version 3.
#[derive(Debug, Clone, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(
    name = "order",
    version = 3,
    try_upcast_from = OrderEventV2,
    breaking = "`status_changed` split into `shipped` and `delivered`"
)]
pub enum OrderEvent {
    /// An order was placed.
    Placed {
        /// The order.
        order_id: String,
        /// What was ordered; never empty.
        lines: Vec<Line>,
        /// The currency of all prices.
        currency: Currency,
        /// A note from the customer.
        note: Option<String>,
    },
    /// An order was cancelled.
    Cancelled {
        /// The order.
        order_id: String,
        /// Why.
        reason: String,
    },
    /// An order left the warehouse (event type `order.shipped`, as in version 1).
    #[event(rename = "shipped")]
    Dispatched {
        /// The order.
        order_id: String,
        /// Who carries it.
        carrier: String,
    },
    /// An order arrived.
    Delivered {
        /// The order.
        order_id: String,
    },
}

/// Why a version 2 event cannot become a version 3 event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmptyOrder {
    /// The order without lines.
    pub order_id: String,
}

impl std::fmt::Display for EmptyOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "order `{}` was placed without lines, which version 3 forbids",
            self.order_id
        )
    }
}

impl std::error::Error for EmptyOrder {}

impl TryFrom<OrderEventV2> for OrderEvent {
    type Error = EmptyOrder;

    fn try_from(old: OrderEventV2) -> Result<Self, Self::Error> {
        Ok(match old {
            OrderEventV2::Placed {
                order_id, lines, ..
            } if lines.is_empty() => return Err(EmptyOrder { order_id }),
            OrderEventV2::Placed {
                order_id,
                lines,
                currency,
            } => OrderEvent::Placed {
                order_id,
                lines,
                currency,
                note: None,
            },
            OrderEventV2::Cancelled { order_id, reason } => {
                OrderEvent::Cancelled { order_id, reason }
            }
            OrderEventV2::StatusChanged {
                order_id,
                status: ShippingStatus::Shipped,
            } => OrderEvent::Dispatched {
                order_id,
                carrier: UNKNOWN_CARRIER.to_owned(),
            },
            OrderEventV2::StatusChanged {
                order_id,
                status: ShippingStatus::Delivered,
            } => OrderEvent::Delivered { order_id },
        })
    }
}
