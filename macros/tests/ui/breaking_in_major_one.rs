use herald::{Event, JsonEvent, UpcastError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

fn from_v2(event: JsonEvent) -> Result<JsonEvent, UpcastError> {
    Ok(JsonEvent { version: 3, ..event })
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 3, upcast_json = from_v2, breaking, major = 1)]
pub struct OrderPlaced {
    pub order_id: String,
}

fn main() {}
