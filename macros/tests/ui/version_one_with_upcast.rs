use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 1)]
pub enum OrderEventV0 {
    Placed { order_id: String },
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 1, upcast_from = OrderEventV0)]
pub enum OrderEvent {
    Placed { order_id: String },
}

fn main() {}
