//! Framing relayed payloads in the Confluent wire format.

use std::collections::HashMap;

use crate::codec::Codec;
use crate::event::Event;

/// Registry ids by event type and schema version, for the Confluent wire format.
///
/// A message is framed so that any Confluent deserializer reads it with the registered
/// schema. The store does not record a payload's codec, so the framing is told:
/// [`ConfluentFraming::with_event`] takes the codec the events were stored with, whose
/// version schema the id names. An enum's Avro version schema is a union of one record per
/// event type, and a stored Avro payload is the record alone, so the relay writes the
/// branch index (the event type's position in the version, the order of the union's
/// records) before it: a union datum, as Confluent's `AvroSerializer` writes it. A JSON
/// payload is a datum of its version's JSON Schema (`anyOf` one schema per event type) as it
/// is. A Protobuf payload (stored with [`NewEvent::raw`](crate::NewEvent::raw) by a service
/// that encodes its events with Protobuf) is framed with its message's index path in the
/// registered `.proto` file ([`ConfluentFraming::with_protobuf`]).
///
/// ```
/// # use herald::Event;
/// # use schemars::JsonSchema;
/// # use serde::{Deserialize, Serialize};
/// use herald::Avro;
/// use herald::relay::ConfluentFraming;
///
/// #[derive(Event, Serialize, Deserialize, JsonSchema)]
/// #[event(name = "parcel", version = 1)]
/// enum Parcel { Sent { id: String }, Lost { id: String } }
///
/// // Version 1's Avro union is registered with id 42: `parcel.lost` is its branch 1.
/// let framing = ConfluentFraming::new().with_event::<Parcel, Avro>(1, 42);
/// let framed = framing.frame_event("parcel.lost", 1, b"record").unwrap();
/// assert_eq!(framed, [&[0, 0, 0, 0, 42, 2][..], b"record"].concat());
/// assert_eq!(framing.frame_event("parcel.found", 1, b"record"), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfluentFraming {
    ids: HashMap<(String, u32), Target>,
}

/// Where one event type of one version is framed: the registry id, and what goes between it
/// and the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    id: u32,
    prefix: Prefix,
}

/// What the wire format puts before a stored payload.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Prefix {
    /// Nothing: the payload is a datum of the schema the id names.
    None,
    /// The Avro union branch the payload is a datum of.
    Branch(u32),
    /// The Protobuf message-index path of the payload's message.
    MessageIndexes(Vec<i32>),
}

impl ConfluentFraming {
    /// No ids yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps one event type at one schema version to the registry id of a schema its stored
    /// payload is a datum of as it is: the event type's own Avro record (subjects named by
    /// Confluent's `RecordNameStrategy`), or a JSON Schema.
    pub fn with_id(mut self, event_type: impl Into<String>, schema_version: u32, id: u32) -> Self {
        let target = Target {
            id,
            prefix: Prefix::None,
        };
        self.ids.insert((event_type.into(), schema_version), target);
        self
    }

    /// Maps one event type at one schema version, whose stored payload is an encoded
    /// Protobuf message, to registry id `id` of a Protobuf schema and the index path of that
    /// message in it (`[0]` the file's first message, `[1, 0]` the first message nested in
    /// the second).
    ///
    /// ```
    /// use herald::relay::ConfluentFraming;
    ///
    /// let framing = ConfluentFraming::new().with_protobuf("parcel.lost", 1, 42, vec![1]);
    /// let framed = framing.frame_event("parcel.lost", 1, b"\x0a\x01x").unwrap();
    /// assert_eq!(framed, [0, 0, 0, 0, 42, 2, 2, 0x0a, 1, b'x']);
    /// ```
    pub fn with_protobuf(
        mut self,
        event_type: impl Into<String>,
        schema_version: u32,
        id: u32,
        message_indexes: Vec<i32>,
    ) -> Self {
        let target = Target {
            id,
            prefix: Prefix::MessageIndexes(message_indexes),
        };
        self.ids.insert((event_type.into(), schema_version), target);
        self
    }

    /// Maps every event type of version `schema_version` of `E`, whose events the store
    /// holds encoded with codec `C`, to registry id `id`: the id of that version's schema in
    /// `C`'s language ([`Event::export_avro_schema`] for [`Avro`](crate::Avro),
    /// [`Event::export_json_schema`] for [`Json`](crate::Json)). See the
    /// [type's documentation](ConfluentFraming) for what is framed.
    pub fn with_event<E: Event, C: Codec>(mut self, schema_version: u32, id: u32) -> Self {
        for version in E::history() {
            if version.version != schema_version {
                continue;
            }
            let union = C::UNION_DATUM && version.is_enum();
            for (position, event_type) in (0u32..).zip(version.event_types) {
                let prefix = if union {
                    Prefix::Branch(position)
                } else {
                    Prefix::None
                };
                self.ids.insert(
                    ((*event_type).to_owned(), schema_version),
                    Target { id, prefix },
                );
            }
        }
        self
    }

    /// The registry id of an event, if known.
    pub fn id_of(&self, event_type: &str, schema_version: u32) -> Option<u32> {
        self.target(event_type, schema_version)
            .map(|target| target.id)
    }

    /// Frames the stored `payload` of an event as the relay publishes it (with the union
    /// branch when its id names a union); `None` if no id is known for the event.
    pub fn frame_event(
        &self,
        event_type: &str,
        schema_version: u32,
        payload: &[u8],
    ) -> Option<Vec<u8>> {
        let target = self.target(event_type, schema_version)?;
        Some(match &target.prefix {
            Prefix::None => crate::wire::frame(target.id, payload),
            Prefix::Branch(branch) => crate::wire::frame_avro_union(target.id, *branch, payload),
            Prefix::MessageIndexes(indexes) => {
                crate::wire::frame_protobuf(target.id, indexes, payload)
            }
        })
    }

    fn target(&self, event_type: &str, schema_version: u32) -> Option<&Target> {
        self.ids.get(&(event_type.to_owned(), schema_version))
    }

    /// Frames `payload`: `0x00`, `id` as big-endian `u32`, payload.
    pub fn frame(id: u32, payload: &[u8]) -> Vec<u8> {
        crate::wire::frame(id, payload)
    }

    /// Splits a framed message into its registry id and payload; `None` if it is not in the
    /// wire format.
    pub fn unframe(message: &[u8]) -> Option<(u32, &[u8])> {
        crate::wire::unframe(message).ok()
    }
}
