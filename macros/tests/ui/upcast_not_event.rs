use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JsonSchema)]
pub enum PlainEnum {
    Placed { order_id: String },
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 2, upcast_from = PlainEnum)]
pub enum OrderEvent {
    Placed { order_id: String },
}

impl From<PlainEnum> for OrderEvent {
    fn from(old: PlainEnum) -> Self {
        match old {
            PlainEnum::Placed { order_id } => OrderEvent::Placed { order_id },
        }
    }
}

fn main() {}
