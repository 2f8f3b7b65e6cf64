use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 1)]
pub enum OrderEvent<T> {
    Placed { order_id: String, extra: T },
}

fn main() {}
