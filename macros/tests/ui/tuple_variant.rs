use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 1)]
pub enum OrderEvent {
    Placed(String, u32),
}

fn main() {}
