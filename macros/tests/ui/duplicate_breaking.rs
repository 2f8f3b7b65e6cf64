use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 1)]
pub enum OrderEventV1 {
    Placed { order_id: String },
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 2, upcast_from = OrderEventV1, breaking, breaking = "currency is required")]
pub enum OrderEvent {
    Placed { order_id: String },
}

impl From<OrderEventV1> for OrderEvent {
    fn from(old: OrderEventV1) -> Self {
        match old {
            OrderEventV1::Placed { order_id } => OrderEvent::Placed { order_id },
        }
    }
}

fn main() {}
