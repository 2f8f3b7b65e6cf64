use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "invoice", version = 1)]
pub enum InvoiceEvent {
    Issued { invoice_id: String },
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 2, upcast_from = InvoiceEvent)]
pub enum OrderEvent {
    Placed { order_id: String },
}

impl From<InvoiceEvent> for OrderEvent {
    fn from(old: InvoiceEvent) -> Self {
        match old {
            InvoiceEvent::Issued { invoice_id } => OrderEvent::Placed { order_id: invoice_id },
        }
    }
}

fn main() {}
