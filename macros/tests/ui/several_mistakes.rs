use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 0, colour = "red")]
pub enum OrderEvent {
    Placed(String, String),
    #[event(rename = "")]
    Cancelled { order_id: String },
}

fn main() {}
