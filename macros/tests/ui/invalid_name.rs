use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "Order Events", version = 1)]
pub enum OrderEvent {
    Placed { order_id: String },
}

fn main() {}
