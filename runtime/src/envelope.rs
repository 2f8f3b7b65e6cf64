//! Envelopes: a stored event with everything the store knows about it, and the events an
//! application hands to [`EventStore::append`](crate::store::EventStore::append).

use std::time::SystemTime;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;
use uuid::Uuid;

use crate::codec::{Codec, Json};
use crate::error::{DecodeError, EncodeError};
use crate::event::Event;

/// A stored event: identity, place in its stream and in the global log, schema version,
/// causality, metadata and payload.
///
/// `P` is the payload: raw bytes as stored ([`RecordedEvent`]) or a decoded event
/// (`Envelope<OrderEvent>`, from [`RecordedEvent::decode`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<P> {
    /// The event's id (UUID v7 unless the caller chose one); also the idempotency key.
    pub event_id: Uuid,
    /// The stream the event belongs to.
    pub stream_id: String,
    /// The event's version in its stream, from 1, without gaps.
    pub stream_version: u64,
    /// The event's position in the global log, from 1, in commit order.
    pub position: u64,
    /// The event type as stored (`order.placed`), of the stored schema version.
    pub event_type: String,
    /// The schema version that wrote the stored payload.
    pub schema_version: u32,
    /// When the store recorded the event.
    pub recorded_at: SystemTime,
    /// The id shared by every event of one business transaction (the first event's own id
    /// when nothing caused it).
    pub correlation_id: Uuid,
    /// The id of the event that caused this one, if any.
    pub causation_id: Option<Uuid>,
    /// Free-form metadata (a JSON object unless the caller stored something else).
    pub metadata: Value,
    /// The payload.
    pub payload: P,
}

/// An event as stored: the payload is still bytes of its stored schema version.
pub type RecordedEvent = Envelope<Vec<u8>>;

impl RecordedEvent {
    /// Decodes the JSON payload into the current version of `E`, upcasting older versions.
    /// The envelope keeps the stored event type and schema version.
    pub fn decode<E: Event>(&self) -> Result<Envelope<E>, DecodeError> {
        self.decode_with::<E, Json>()
    }

    /// [`RecordedEvent::decode`] with codec `C`.
    pub fn decode_with<E: Event, C: Codec>(&self) -> Result<Envelope<E>, DecodeError> {
        let event = E::decode_with::<C>(&self.event_type, self.schema_version, &self.payload)?;
        Ok(self.with_payload(event))
    }
}

impl<P> Envelope<P> {
    /// The same envelope around another payload.
    pub fn with_payload<Q>(&self, payload: Q) -> Envelope<Q> {
        Envelope {
            event_id: self.event_id,
            stream_id: self.stream_id.clone(),
            stream_version: self.stream_version,
            position: self.position,
            event_type: self.event_type.clone(),
            schema_version: self.schema_version,
            recorded_at: self.recorded_at,
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            metadata: self.metadata.clone(),
            payload,
        }
    }

    /// The causality an event caused by this one carries: this event's correlation id, and
    /// this event's id as causation id. See [`NewEvent::caused_by`].
    pub fn cause(&self) -> Cause {
        Cause {
            correlation_id: self.correlation_id,
            causation_id: self.event_id,
        }
    }
}

/// Correlation and causation carried from a triggering event to the events it causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cause {
    /// The correlation id to keep.
    pub correlation_id: Uuid,
    /// The id of the triggering event.
    pub causation_id: Uuid,
}

/// An event to append: its encoded payload and envelope fields the caller may choose.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The event id; a fresh UUID v7 by default. Re-appending the same ids is idempotent.
    pub event_id: Uuid,
    /// The event type.
    pub event_type: String,
    /// The schema version of the payload.
    pub schema_version: u32,
    /// The encoded payload.
    pub payload: Vec<u8>,
    /// The correlation id; the event's own id when `None`.
    pub correlation_id: Option<Uuid>,
    /// The id of the event that caused this one.
    pub causation_id: Option<Uuid>,
    /// Free-form metadata; an empty object by default.
    pub metadata: Value,
}

impl NewEvent {
    /// Encodes `event` as JSON, at its current version, with a fresh UUID v7.
    pub fn new<E: Event>(event: &E) -> Result<Self, EncodeError> {
        Self::with_codec::<E, Json>(event)
    }

    /// Encodes `event` with codec `C`.
    pub fn with_codec<E: Event, C: Codec>(event: &E) -> Result<Self, EncodeError> {
        let encoded = event.encode_with::<C>()?;
        Ok(Self::raw(
            encoded.event_type,
            encoded.version,
            encoded.payload,
        ))
    }

    /// An event from an already encoded payload (for example written by an older version).
    pub fn raw(event_type: impl Into<String>, schema_version: u32, payload: Vec<u8>) -> Self {
        NewEvent {
            event_id: Uuid::now_v7(),
            event_type: event_type.into(),
            schema_version,
            payload,
            correlation_id: None,
            causation_id: None,
            metadata: Value::Object(Default::default()),
        }
    }

    /// Sets the event id (for a retried request, reuse the ids of the first attempt).
    pub fn with_id(mut self, event_id: Uuid) -> Self {
        self.event_id = event_id;
        self
    }

    /// Sets the metadata.
    pub fn with_metadata(mut self, metadata: Value) -> Self {
        self.metadata = metadata;
        self
    }

    /// Carries correlation and causation from the event that caused this one.
    pub fn caused_by(mut self, cause: Cause) -> Self {
        self.correlation_id = Some(cause.correlation_id);
        self.causation_id = Some(cause.causation_id);
        self
    }

    /// The correlation id this event will be stored with.
    pub fn effective_correlation_id(&self) -> Uuid {
        self.correlation_id.unwrap_or(self.event_id)
    }
}

/// A timestamp as the SQL backends store it (microseconds since the Unix epoch) read back.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn from_micros(micros: i64) -> SystemTime {
    if micros >= 0 {
        UNIX_EPOCH + Duration::from_micros(micros.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_micros(micros.unsigned_abs())
    }
}
