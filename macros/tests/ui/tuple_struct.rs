use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order_placed", version = 1)]
pub struct OrderPlaced(String, u32);

fn main() {}
