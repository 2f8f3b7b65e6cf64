//! Codecs: how a payload becomes bytes and back.
//!
//! [`Json`] is the default; [`Avro`] writes Avro binary datums (no container header, no
//! schema id) with the record of the event type as the writer schema.

mod avro;
mod json;
pub(crate) mod variant;

#[doc(hidden)]
pub use avro::AvroViaValue;
pub use avro::{Avro, AvroError, DatumPlan};
pub use json::Json;

use crate::error::{DecodeError, EncodeError};
use crate::event::Event;

/// A payload encoding. Implemented by [`Json`] and [`Avro`].
pub trait Codec {
    /// The codec's name in errors (`json`, `avro`).
    const NAME: &'static str;

    /// Whether a datum of an enum event's version schema in this codec's schema language
    /// is a union datum, the branch index before the payload (Avro's union of one record
    /// per event type), rather than the payload as stored (JSON Schema's `anyOf`). The
    /// relay's Confluent framing (`relay::ConfluentFraming`) writes that index.
    const UNION_DATUM: bool = false;

    /// Encodes `event`'s payload (see [`Event`]'s payload mapping).
    fn encode<E: Event>(event: &E) -> Result<Vec<u8>, EncodeError>;

    /// Decodes a payload of the current version of `E` as the variant at `variant`
    /// (its position in [`Event::EVENT_TYPES`]).
    fn decode<E: Event>(event_type: &str, variant: usize, payload: &[u8])
    -> Result<E, DecodeError>;

    /// Reads a payload of an older version as JSON, for a JSON-level upcaster.
    fn to_json(
        event_type: &str,
        version: u32,
        payload: &[u8],
    ) -> Result<serde_json::Value, DecodeError>;
}
