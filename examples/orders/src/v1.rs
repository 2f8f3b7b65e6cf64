//! Version 1 of the order event, as first released.

use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An order line of version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ItemV1 {
    /// The product.
    pub sku: String,
    /// How many.
    pub quantity: u32,
}

/// Order events, version 1.
#[derive(Debug, Clone, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 1)]
pub enum OrderEventV1 {
    /// An order was placed.
    Placed {
        /// The order.
        order_id: String,
        /// What was ordered.
        items: Vec<ItemV1>,
    },
    /// An order was cancelled.
    Cancelled {
        /// The order.
        order_id: String,
    },
    /// An order left the warehouse.
    Shipped {
        /// The order.
        order_id: String,
    },
}
