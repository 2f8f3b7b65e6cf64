use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "customer", version = 1)]
pub enum CustomerEvent {
    Registered {
        customer_id: String,
        #[event(tags("PII", "GDPR"))]
        #[serde(rename = "mail")]
        email: String,
    },
    Forgotten {
        customer_id: String,
    },
}

fn main() {
    let tags = <CustomerEvent as Event>::FIELD_TAGS;
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0].record, "Registered");
    assert_eq!(tags[0].field, "mail");
    assert_eq!(tags[0].tags, ["PII", "GDPR"]);
}
