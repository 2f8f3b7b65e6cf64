use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 1)]
pub enum OrderEventV1 {
    Placed { order_id: String },
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 2, breaking = "currency is required")]
pub enum OrderEvent {
    Placed { order_id: String },
}

fn main() {}
