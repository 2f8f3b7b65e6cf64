//! The event a user of Herald writes: two versions of `parcel`, bridged by an upcaster.
//!
//! `tests/user_flow.rs` takes it through everything a user does with it: snapshots, a real
//! `herald serve`, `herald push`, `herald check` and the generated Rust code.

use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version 1 of the `parcel` event.
#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "parcel", version = 1)]
pub enum ParcelEventV1 {
    /// A parcel was handed in.
    Received {
        /// The parcel.
        parcel_id: String,
        /// Its weight in grams.
        grams: u32,
    },
    /// A parcel left the depot.
    Dispatched {
        /// The parcel.
        parcel_id: String,
    },
}

/// Version 2 adds an event type, `parcel.returned`: a change both formats accept under
/// BACKWARD (the new reader still reads every old event).
#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "parcel", version = 2, upcast_from = ParcelEventV1)]
pub enum ParcelEvent {
    /// A parcel was handed in.
    Received {
        /// The parcel.
        parcel_id: String,
        /// Its weight in grams.
        grams: u32,
    },
    /// A parcel left the depot.
    Dispatched {
        /// The parcel.
        parcel_id: String,
    },
    /// A parcel came back to the depot.
    Returned {
        /// The parcel.
        parcel_id: String,
        /// Why it came back.
        reason: String,
    },
}

impl From<ParcelEventV1> for ParcelEvent {
    fn from(old: ParcelEventV1) -> Self {
        match old {
            ParcelEventV1::Received { parcel_id, grams } => {
                ParcelEvent::Received { parcel_id, grams }
            }
            ParcelEventV1::Dispatched { parcel_id } => ParcelEvent::Dispatched { parcel_id },
        }
    }
}
