//! Herald: versioned events, codecs, upcast-on-read and an event store.
//!
//! Annotate an enum (or a struct) with `#[derive(Event)]` and `#[event(...)]` to make it one
//! version of a named event. Older versions stay in the code as their own types (or as a
//! JSON-level function), and every stored payload, whatever version wrote it, decodes into
//! the current type by walking the chain of upcasters.
//!
//! ```
//! use herald::Event;
//! use schemars::JsonSchema;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Event, Serialize, Deserialize, JsonSchema, Debug, PartialEq)]
//! #[event(name = "order", version = 1)]
//! pub enum OrderEventV1 {
//!     Placed { order_id: String },
//!     Cancelled { order_id: String },
//! }
//!
//! #[derive(Event, Serialize, Deserialize, JsonSchema, Debug, PartialEq)]
//! #[event(name = "order", version = 2, upcast_from = OrderEventV1)]
//! pub enum OrderEvent {
//!     Placed { order_id: String, currency: String },
//!     Cancelled { order_id: String, reason: String },
//!     #[event(rename = "shipped")]
//!     Dispatched { order_id: String },
//! }
//!
//! impl From<OrderEventV1> for OrderEvent {
//!     fn from(old: OrderEventV1) -> Self {
//!         match old {
//!             OrderEventV1::Placed { order_id } => {
//!                 OrderEvent::Placed { order_id, currency: "EUR".into() }
//!             }
//!             OrderEventV1::Cancelled { order_id } => {
//!                 OrderEvent::Cancelled { order_id, reason: String::new() }
//!             }
//!         }
//!     }
//! }
//!
//! assert_eq!(OrderEvent::EVENT_TYPES, ["order.placed", "order.cancelled", "order.shipped"]);
//!
//! // A payload written by version 1 reads as the current version.
//! let old = OrderEvent::decode("order.placed", 1, br#"{"order_id":"o-1"}"#)?;
//! assert_eq!(old, OrderEvent::Placed { order_id: "o-1".into(), currency: "EUR".into() });
//!
//! // Encoding always writes the current version: the event type, the version, the payload.
//! let encoded = OrderEvent::Dispatched { order_id: "o-1".into() }.encode()?;
//! assert_eq!((encoded.event_type, encoded.version), ("order.shipped", 2));
//! assert_eq!(encoded.payload, br#"{"order_id":"o-1"}"#);
//!
//! // A version outside the chain is an error, not a panic.
//! assert!(OrderEvent::decode("order.placed", 7, b"{}").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Attributes
//!
//! On the enum or struct, `#[event(...)]` takes:
//!
//! - `name = "order"` (required): the event's name, shared by every version; lowercase ASCII
//!   letters, digits and `_`, in segments separated by `.` (it is also the Avro namespace).
//! - `version = 3` (required): this version, from 1.
//! - `upcast_from = OrderEventV2`: the previous version's type; the type must implement
//!   `From<OrderEventV2>`. Required from version 2 on, unless one of the next two is used.
//! - `try_upcast_from = OrderEventV2`: the same with `TryFrom<OrderEventV2>`, whose error
//!   (anything convertible to [`UpcastError`]) surfaces as [`DecodeError::Upcast`].
//! - `upcast_json = path::to::function`: for when the older types no longer exist; a
//!   [`JsonUpcaster`] that turns a stored event of any older version into this version.
//!   Works with JSON payloads only.
//! - `breaking`, or `breaking = "currency is required"`: this version breaks compatibility
//!   with the one before it and opens a new compatibility group ("major"): version 1 is in
//!   major 1, each breaking version starts the next major, and the other versions stay in the
//!   major of the version before them. Not allowed on version 1; a breaking version still
//!   needs an upcaster. Read back as [`Event::MAJOR`] and [`Event::BREAKING`], and per version
//!   in [`EventVersion`] (`major`, `breaking`).
//! - `major = 2`: with `upcast_json` only, this version's major. The older types are gone, so
//!   Herald cannot count the breaking versions before it: required together with `breaking`,
//!   and 1 when omitted. With `upcast_from`/`try_upcast_from` the major is computed from the
//!   chain when compiling, and `major` is an error.
//!
//! On a variant, `#[event(rename = "shipped")]` sets the part of the event type after the
//! name (default: the variant's name in snake case), giving `order.shipped`.
//!
//! On a named field, `#[event(tags("PII", "GDPR"))]` gives the field data-contract tags
//! (letters, digits, `_` and `-`, starting with a letter): the exported Avro field and JSON
//! Schema property carry them as `"confluent:tags"`, where Confluent's clients read them
//! (their `ENCRYPT` rules, for example, select fields by tag), and [`Event::FIELD_TAGS`] lists
//! them. The field's payload name is its `#[serde(rename)]` or its Rust name. Tags are part of
//! the snapshot: adding or removing one on a published version is an edit like any other.
//!
//! The chain is checked when compiling: the previous type must itself be an [`Event`] with
//! the same name and a version exactly one lower, and the `From`/`TryFrom` impl must exist.
//! Supported shapes: enums whose variants have named fields, one unnamed field or none, and
//! structs with named fields (a struct is a single event type named like the event).
//! Variants are told apart by the event type, so the serde representation must stay
//! externally tagged (no `#[serde(tag)]`, `untagged`, `skip` or `alias` on variants).
//!
//! # Payloads, codecs and schemas
//!
//! A payload is the variant's fields only (see [`Event`]); [`Json`] and [`Avro`] are the
//! codecs, and [`schema`] describes the exported JSON Schema and Avro schema of each version.
//! [`history`] keeps those schemas, and sample payloads of every version, under version
//! control and checks them from a test.
//!
//! # Where things are
//!
//! The crate root holds what describes an event and its envelope, the vocabulary every
//! other module speaks: the [`Event`] trait and derive, [`Codec`]s, the binary wrappers, the
//! decode and encode errors, and [`Envelope`] / [`NewEvent`] / [`RecordedEvent`]. Each
//! subsystem is one module and the only path to its items: [`store`] (the [`store::EventStore`]
//! trait, everything its methods return, and one module per backend), [`aggregate`],
//! [`projection`], [`saga`], [`relay`] and [`transport`] (the broker seam, with `transport::nats`
//! behind feature `nats` and `transport::kafka` behind feature `kafka`), `registry_client`
//! and `push` (feature `registry-client`, from `herald-protocol`: the client and the push
//! `herald push` uses), `consumer` (feature `consumer`), `contract` (feature `contract`:
//! data-contract rules, field encryption; `contract::cel`, CEL rules, behind feature
//! `rules`), [`schema`], [`history`] and [`wire`] (the Confluent wire format), and for
//! running several replicas of a service, `lease` (one runner per projection and relay,
//! fenced checkpoints) and `status` (leases, checkpoints and lag, as Prometheus text).

// Input-handling library code reports errors; it never unwraps or panics on them.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

// Lets this crate derive `Event` (the saga log, unit tests), whose generated code names
// `::herald`.
extern crate self as herald;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
pub mod aggregate;
mod backoff;
mod byte_fields;
mod codec;
#[cfg(all(feature = "consumer", any(feature = "sqlite", feature = "postgres")))]
pub mod consumer;
#[cfg(feature = "contract")]
pub mod contract;
mod envelope;
mod error;
mod event;
pub mod history;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod lease;
pub mod projection;
pub mod relay;
pub mod saga;
pub mod schema;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod status;
pub mod store;
pub mod transport;
pub mod wire;

pub use backoff::Backoff;
pub use byte_fields::{Bytes, Decimal, Fixed};
#[doc(hidden)]
pub use codec::AvroViaValue;
pub use codec::{Avro, AvroError, Codec, DatumPlan, Json};
pub use envelope::{Cause, Envelope, NewEvent, RecordedEvent};
pub use error::{DecodeError, EncodeError, SchemaError, UpcastError};
pub use event::{Encoded, Event, EventVersion, FieldTags, JsonEvent, JsonUpcaster, Upcast};
pub use herald_macros::Event;
#[cfg(feature = "registry-client")]
pub use herald_protocol::push;
#[cfg(feature = "registry-client")]
pub use herald_protocol::registry_client;
