//! A valid chain using every attribute: From, TryFrom, a JSON-level upcaster, renames, a
//! struct event, unit and newtype variants.

use herald::{Event, JsonEvent, UpcastError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "shop.order", version = 1)]
pub enum OrderEventV1 {
    Placed { order_id: String },
    Closed,
}

#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Refund {
    pub cents: i64,
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "shop.order", version = 2, upcast_from = OrderEventV1)]
pub enum OrderEventV2 {
    Placed { order_id: String },
    Closed,
    Refunded(Refund),
}

impl From<OrderEventV1> for OrderEventV2 {
    fn from(old: OrderEventV1) -> Self {
        match old {
            OrderEventV1::Placed { order_id } => OrderEventV2::Placed { order_id },
            OrderEventV1::Closed => OrderEventV2::Closed,
        }
    }
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "shop.order", version = 3, try_upcast_from = OrderEventV2)]
#[serde(rename_all = "snake_case")]
pub enum OrderEvent {
    #[event(rename = "created")]
    Placed { order_id: String },
    Refunded(Refund),
}

impl TryFrom<OrderEventV2> for OrderEvent {
    type Error = String;

    fn try_from(old: OrderEventV2) -> Result<Self, String> {
        match old {
            OrderEventV2::Placed { order_id } => Ok(OrderEvent::Placed { order_id }),
            OrderEventV2::Refunded(refund) => Ok(OrderEvent::Refunded(refund)),
            OrderEventV2::Closed => Err("closed orders are no longer events".to_owned()),
        }
    }
}

fn from_v1(event: JsonEvent) -> Result<JsonEvent, UpcastError> {
    Ok(JsonEvent { version: 2, ..event })
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "customer", version = 2, upcast_json = from_v1)]
pub struct CustomerRegistered {
    pub customer_id: String,
}

fn main() {
    assert_eq!(
        OrderEvent::EVENT_TYPES,
        ["shop.order.created", "shop.order.refunded"]
    );
    assert_eq!(OrderEventV1::EVENT_TYPES, ["shop.order.placed", "shop.order.closed"]);
    assert_eq!(CustomerRegistered::EVENT_TYPES, ["customer"]);
    let event = OrderEvent::decode("shop.order.placed", 1, br#"{"order_id":"o"}"#).unwrap();
    assert_eq!(event.event_type(), "shop.order.created");
    assert!(OrderEvent::decode("shop.order.closed", 1, b"{}").is_err());
    let refund = OrderEvent::decode("shop.order.refunded", 3, br#"{"cents":5}"#).unwrap();
    assert!(matches!(refund, OrderEvent::Refunded(Refund { cents: 5 })));
    let customer = CustomerRegistered::decode("customer", 1, br#"{"customer_id":"c"}"#).unwrap();
    assert_eq!(customer.customer_id, "c");
    assert!(OrderEvent::export_avro_schema().is_ok());
}
