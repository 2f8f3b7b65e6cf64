use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 1, breaking)]
pub enum OrderEvent {
    Placed { order_id: String },
}

fn main() {}
