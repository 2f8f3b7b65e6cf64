//! The JSON codec.

use super::Codec;
use crate::error::{DecodeError, EncodeError};
use crate::event::{Event, Payload};

/// JSON payloads: the variant's fields as one JSON object, decoded straight from the bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl Codec for Json {
    const NAME: &'static str = "json";

    fn encode<E: Event>(event: &E) -> Result<Vec<u8>, EncodeError> {
        serde_json::to_vec(&Payload(event)).map_err(|err| EncodeError::Payload {
            codec: Self::NAME,
            event_type: event.event_type(),
            version: E::VERSION,
            source: Box::new(err),
        })
    }

    fn decode<E: Event>(
        event_type: &str,
        variant: usize,
        payload: &[u8],
    ) -> Result<E, DecodeError> {
        let fail = |err: serde_json::Error| DecodeError::Payload {
            codec: Self::NAME,
            event_type: event_type.to_owned(),
            version: E::VERSION,
            source: Box::new(err),
        };
        let mut deserializer = serde_json::Deserializer::from_slice(payload);
        let event = E::__deserialize_payload(variant, &mut deserializer).map_err(fail)?;
        deserializer.end().map_err(fail)?;
        Ok(event)
    }

    fn to_json(
        event_type: &str,
        version: u32,
        payload: &[u8],
    ) -> Result<serde_json::Value, DecodeError> {
        serde_json::from_slice(payload).map_err(|err| DecodeError::Payload {
            codec: Self::NAME,
            event_type: event_type.to_owned(),
            version,
            source: Box::new(err),
        })
    }
}
