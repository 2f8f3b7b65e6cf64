use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "customer", version = 1)]
pub enum CustomerEvent {
    Registered {
        #[event(tags("PII", "has space"))]
        email: String,
        #[event(tags())]
        name: String,
    },
    Renamed(#[event(tags("PII"))] String),
}

fn main() {}
