use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 1)]
pub enum OrderEvent {
    Shipped { order_id: String },
    #[event(rename = "shipped")]
    Dispatched { order_id: String },
}

fn main() {}
