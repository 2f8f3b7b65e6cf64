//! `MAJOR` and `BREAKING` along a chain: versions 1–2 are major 1, the breaking version 3
//! opens major 2, and version 4 stays in it.

// The event types are fixtures, public as users' events are.
#![allow(missing_docs)]

use herald::{Event, JsonEvent, Upcast, UpcastError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 1)]
pub enum OrderEventV1 {
    Placed { order_id: String },
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 2, upcast_from = OrderEventV1)]
pub enum OrderEventV2 {
    Placed {
        order_id: String,
        currency: Option<String>,
    },
}

impl From<OrderEventV1> for OrderEventV2 {
    fn from(old: OrderEventV1) -> Self {
        match old {
            OrderEventV1::Placed { order_id } => OrderEventV2::Placed {
                order_id,
                currency: None,
            },
        }
    }
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(
    name = "order",
    version = 3,
    try_upcast_from = OrderEventV2,
    breaking = "currency is required"
)]
pub enum OrderEventV3 {
    Placed { order_id: String, currency: String },
}

impl TryFrom<OrderEventV2> for OrderEventV3 {
    type Error = String;

    fn try_from(old: OrderEventV2) -> Result<Self, String> {
        match old {
            OrderEventV2::Placed {
                order_id,
                currency: Some(currency),
            } => Ok(OrderEventV3::Placed { order_id, currency }),
            OrderEventV2::Placed { currency: None, .. } => Err("no currency".to_owned()),
        }
    }
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order", version = 4, upcast_from = OrderEventV3)]
pub enum OrderEvent {
    Placed { order_id: String, currency: String },
    Cancelled { order_id: String },
}

impl From<OrderEventV3> for OrderEvent {
    fn from(old: OrderEventV3) -> Self {
        match old {
            OrderEventV3::Placed { order_id, currency } => {
                OrderEvent::Placed { order_id, currency }
            }
        }
    }
}

// The major is known when compiling.
const _: () = assert!(OrderEvent::MAJOR == 2);

#[test]
fn each_version_knows_its_major_and_whether_it_breaks() {
    assert_eq!((OrderEventV1::MAJOR, OrderEventV1::BREAKING), (1, None));
    assert_eq!((OrderEventV2::MAJOR, OrderEventV2::BREAKING), (1, None));
    assert_eq!(
        (OrderEventV3::MAJOR, OrderEventV3::BREAKING),
        (2, Some("currency is required"))
    );
    assert_eq!((OrderEvent::MAJOR, OrderEvent::BREAKING), (2, None));
}

#[test]
fn history_lists_the_major_of_every_version() {
    let history: Vec<(u32, u32, Option<&str>, Upcast)> = OrderEvent::history()
        .iter()
        .map(|v| (v.version, v.major, v.breaking, v.upcast))
        .collect();
    assert_eq!(
        history,
        [
            (1, 1, None, Upcast::None),
            (2, 1, None, Upcast::From),
            (3, 2, Some("currency is required"), Upcast::TryFrom),
            (4, 2, None, Upcast::From),
        ]
    );
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "plain", version = 2, upcast_from = PlainV1, breaking)]
pub struct Plain {
    pub id: String,
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "plain", version = 1)]
pub struct PlainV1 {
    pub id: String,
}

impl From<PlainV1> for Plain {
    fn from(old: PlainV1) -> Self {
        Plain { id: old.id }
    }
}

#[test]
fn a_bare_breaking_flag_has_an_empty_reason() {
    assert_eq!((Plain::MAJOR, Plain::BREAKING), (2, Some("")));
}

fn keep(event: JsonEvent) -> Result<JsonEvent, UpcastError> {
    Ok(event)
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "customer", version = 5, upcast_json = keep, major = 3, breaking)]
pub struct CustomerV5 {
    pub id: String,
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "customer", version = 4, upcast_json = keep, major = 2)]
pub struct CustomerV4 {
    pub id: String,
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "customer", version = 2, upcast_json = keep)]
pub struct CustomerV2 {
    pub id: String,
}

#[test]
fn json_upcast_versions_take_the_declared_major_or_major_one() {
    assert_eq!((CustomerV5::MAJOR, CustomerV5::BREAKING), (3, Some("")));
    assert_eq!((CustomerV4::MAJOR, CustomerV4::BREAKING), (2, None));
    assert_eq!((CustomerV2::MAJOR, CustomerV2::BREAKING), (1, None));
    let history = CustomerV5::history();
    assert_eq!(history.len(), 1);
    assert_eq!((history[0].major, history[0].breaking), (3, Some("")));
}
