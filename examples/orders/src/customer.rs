//! A struct event whose version 1 type was deleted: version 2 reads version 1 payloads with a
//! JSON-level upcaster.

use herald::{Event, JsonEvent, UpcastError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A customer registered (version 2). Version 1 had one `full_name` field.
#[derive(Debug, Clone, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "customer", version = 2, upcast_json = customer_v1_to_v2)]
pub struct CustomerRegistered {
    /// The customer.
    pub customer_id: String,
    /// Given name.
    pub given_name: String,
    /// Family name (empty when the customer gave one name only).
    pub family_name: String,
}

/// Splits version 1's `full_name` at the last space.
pub fn customer_v1_to_v2(mut event: JsonEvent) -> Result<JsonEvent, UpcastError> {
    let object = event
        .payload
        .as_object_mut()
        .ok_or("a customer payload must be a JSON object")?;
    let full_name = match object.remove("full_name") {
        Some(Value::String(name)) => name,
        _ => return Err("version 1 payload without a string `full_name`".into()),
    };
    let (given, family) = full_name
        .rsplit_once(' ')
        .unwrap_or((full_name.as_str(), ""));
    object.insert("given_name".to_owned(), Value::from(given));
    object.insert("family_name".to_owned(), Value::from(family));
    event.version = 2;
    Ok(event)
}
