use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub fn from_v1(payload: serde_json::Value) -> serde_json::Value {
    payload
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "customer", version = 2, upcast_json = from_v1)]
pub struct CustomerRegistered {
    pub customer_id: String,
}

fn main() {}
