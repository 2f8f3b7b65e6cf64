//! The [`Event`] trait that `#[derive(Event)]` implements, and the values it hands out.

use serde::de::DeserializeOwned;
use serde::{Deserializer, Serialize, Serializer};

use crate::codec::{Codec, Json, variant};
use crate::error::{DecodeError, EncodeError, SchemaError, UpcastError};
use crate::schema::{self, AvroSchemas};

/// The data-contract tags of one field of an event ([`Event::FIELD_TAGS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldTags {
    /// The Rust name of the field's variant (or of the struct event): its Avro record.
    pub record: &'static str,
    /// The field's name in the payload.
    pub field: &'static str,
    /// Its tags (`PII`).
    pub tags: &'static [&'static str],
}

/// A versioned event: one version of a named event, with its event types, schemas, codecs and
/// the upcast chain that reads every older version.
///
/// Implement it with `#[derive(Event)]` (see the [crate documentation](crate) for the
/// attributes); the hidden items are the derive's business and not a stable API.
///
/// **Payload mapping.** The event type identifies the variant, so the stored payload is that
/// variant's fields only: a JSON object, or one Avro record. A unit variant's payload is an
/// empty object (an Avro record without fields); a newtype variant's payload is its inner
/// value. A struct event has a single event type, and its payload is the struct.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Herald event",
    label = "`{Self}` does not derive `herald::Event`",
    note = "`upcast_from`/`try_upcast_from` name the previous version of this event: a type with `#[derive(Event)]` and `#[event(name = \"...\", version = N - 1)]`"
)]
pub trait Event: Serialize + DeserializeOwned + schemars::JsonSchema + Sized {
    /// The event's name, shared by all its versions (`order`).
    const NAME: &'static str;
    /// This version, counted from 1.
    const VERSION: u32;
    /// This version's compatibility group ("major"), counted from 1. Version 1 is in major 1,
    /// and each version declared [`breaking`](Event::BREAKING) opens the next one; the others
    /// stay in the major of the version before them. Computed when compiling, from the chain
    /// (`upcast_from`/`try_upcast_from`: the previous type's `MAJOR`, plus one if breaking);
    /// with `upcast_json` the older types are gone, so it is the version's `major = N`
    /// (required with `breaking`; 1 when omitted).
    ///
    /// ```
    /// use herald::Event;
    /// # use schemars::JsonSchema;
    /// # use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Event, Serialize, Deserialize, JsonSchema)]
    /// #[event(name = "order", version = 1)]
    /// pub struct OrderPlacedV1 { pub order_id: String }
    ///
    /// #[derive(Event, Serialize, Deserialize, JsonSchema)]
    /// #[event(name = "order", version = 2, try_upcast_from = OrderPlacedV1,
    ///         breaking = "currency is required")]
    /// pub struct OrderPlaced { pub order_id: String, pub currency: String }
    ///
    /// impl TryFrom<OrderPlacedV1> for OrderPlaced {
    ///     type Error = String;
    ///     fn try_from(_: OrderPlacedV1) -> Result<Self, String> {
    ///         Err("version 1 orders have no currency".to_owned())
    ///     }
    /// }
    ///
    /// assert_eq!((OrderPlacedV1::MAJOR, OrderPlacedV1::BREAKING), (1, None));
    /// assert_eq!((OrderPlaced::MAJOR, OrderPlaced::BREAKING), (2, Some("currency is required")));
    /// // The chain lists the major of every version.
    /// let majors: Vec<u32> = OrderPlaced::history().iter().map(|v| v.major).collect();
    /// assert_eq!(majors, [1, 2]);
    /// ```
    const MAJOR: u32;
    /// `Some(reason)` when this version is declared `breaking` (`#[event(..., breaking)]`
    /// gives `Some("")`, `breaking = "currency is required"` gives the reason), `None`
    /// otherwise. See [`Event::MAJOR`].
    const BREAKING: Option<&'static str>;
    /// The event types of this version, one per variant in declaration order
    /// (`order.placed`, ...). A struct event has one, equal to [`Event::NAME`].
    const EVENT_TYPES: &'static [&'static str];
    /// The fields with data-contract tags (`#[event(tags("PII"))]` on a field), in
    /// declaration order; the exported schemas carry them as `"confluent:tags"`.
    ///
    /// ```
    /// use herald::Event;
    /// # use schemars::JsonSchema;
    /// # use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Event, Serialize, Deserialize, JsonSchema)]
    /// #[event(name = "customer", version = 1)]
    /// pub struct CustomerRegistered {
    ///     pub customer_id: String,
    ///     #[event(tags("PII"))]
    ///     pub email: String,
    /// }
    ///
    /// assert_eq!(CustomerRegistered::FIELD_TAGS[0].field, "email");
    /// let avro = CustomerRegistered::export_avro_schema()?;
    /// assert_eq!(avro["fields"][1]["confluent:tags"], serde_json::json!(["PII"]));
    /// let json = CustomerRegistered::export_json_schema()?;
    /// assert_eq!(json["properties"]["email"]["confluent:tags"], serde_json::json!(["PII"]));
    /// # Ok::<(), herald::SchemaError>(())
    /// ```
    const FIELD_TAGS: &'static [FieldTags] = &[];
    /// Rust names of the variants (or of the struct), used as Avro record names.
    #[doc(hidden)]
    const __RECORDS: &'static [&'static str];
    /// Whether the type is an enum (one payload per variant) or a struct.
    #[doc(hidden)]
    const __IS_ENUM: bool;

    /// The event type of this value.
    fn event_type(&self) -> &'static str;

    /// Every version of this event from the oldest with a Rust type up to this one,
    /// oldest first.
    fn history() -> Vec<EventVersion>;

    /// Reads a stored event of an older version and upcasts it to this one.
    #[doc(hidden)]
    fn __upcast<C: Codec>(
        event_type: &str,
        version: u32,
        payload: &[u8],
    ) -> Result<Self, DecodeError>;

    /// The cached Avro schemas of this version.
    #[doc(hidden)]
    fn __avro_schemas() -> Result<&'static AvroSchemas, SchemaError>;

    /// This version's JSON Schema: an `anyOf` with one branch per event type, titled with the
    /// event type, whose schema is that event type's payload (for a struct, the struct's
    /// schema). Shared definitions are under `$defs`.
    fn export_json_schema() -> Result<serde_json::Value, SchemaError> {
        schema::json::version_schema::<Self>()
    }

    /// This version's Avro schema: a union of one record per variant, named after the variant
    /// (for a struct, one record named after the struct), in namespace [`Event::NAME`].
    /// See [`crate::schema`] for how JSON Schema types map to Avro.
    fn export_avro_schema() -> Result<serde_json::Value, SchemaError> {
        Self::__avro_schemas().map(|schemas| schemas.document.clone())
    }

    /// Encodes this value as JSON, with its event type and the current version.
    fn encode(&self) -> Result<Encoded, EncodeError> {
        self.encode_with::<Json>()
    }

    /// Encodes this value with codec `C`, with its event type and the current version.
    fn encode_with<C: Codec>(&self) -> Result<Encoded, EncodeError> {
        Ok(Encoded {
            event_type: self.event_type(),
            version: Self::VERSION,
            payload: C::encode(self)?,
        })
    }

    /// Decodes a JSON payload written by any version of the chain into the current version.
    fn decode(event_type: &str, version: u32, payload: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_with::<Json>(event_type, version, payload)
    }

    /// Decodes a payload written with codec `C` by any version of the chain: the current
    /// version is decoded straight into `Self`, an older one by its own type and then
    /// upcast step by step (`From`/`TryFrom` impls or JSON-level upcasters).
    fn decode_with<C: Codec>(
        event_type: &str,
        version: u32,
        payload: &[u8],
    ) -> Result<Self, DecodeError> {
        if version == Self::VERSION {
            let variant = Self::variant_of(event_type)?;
            C::decode::<Self>(event_type, variant, payload)
        } else if version >= 1 && version < Self::VERSION {
            Self::__upcast::<C>(event_type, version, payload)
        } else {
            Err(DecodeError::UnknownVersion {
                name: Self::NAME,
                version,
                current: Self::VERSION,
            })
        }
    }

    /// The position of `event_type` in [`Event::EVENT_TYPES`].
    fn variant_of(event_type: &str) -> Result<usize, DecodeError> {
        Self::EVENT_TYPES
            .iter()
            .position(|known| *known == event_type)
            .ok_or_else(|| DecodeError::UnknownEventType {
                name: Self::NAME,
                event_type: event_type.to_owned(),
                version: Self::VERSION,
                expected: Self::EVENT_TYPES.join(", "),
            })
    }

    /// Serializes only the payload: the variant's fields for an enum, the value for a struct.
    #[doc(hidden)]
    fn __serialize_payload<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if Self::__IS_ENUM {
            self.serialize(variant::VariantSerializer::new(serializer))
        } else {
            self.serialize(serializer)
        }
    }

    /// Deserializes a payload as the variant at `variant` (or as the struct).
    #[doc(hidden)]
    fn __deserialize_payload<'de, D: Deserializer<'de>>(
        variant: usize,
        deserializer: D,
    ) -> Result<Self, D::Error> {
        if Self::__IS_ENUM {
            Self::deserialize(variant::VariantDeserializer::new(variant, deserializer))
        } else {
            Self::deserialize(deserializer)
        }
    }
}

/// An encoded event: what an event store keeps beside the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The event type (`order.placed`).
    pub event_type: &'static str,
    /// The version that wrote the payload (always the current one).
    pub version: u32,
    /// The payload bytes.
    pub payload: Vec<u8>,
}

/// A stored event in JSON form, as a JSON-level upcaster reads and returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonEvent {
    /// The event type.
    pub event_type: String,
    /// The version the payload is written in.
    pub version: u32,
    /// The payload.
    pub payload: serde_json::Value,
}

/// A JSON-level upcaster: turns a stored event of any older version into one of the version
/// that declares it (`#[event(upcast_json = path)]`). Used where the older versions' Rust
/// types no longer exist.
pub type JsonUpcaster = fn(JsonEvent) -> Result<JsonEvent, UpcastError>;

/// How a version reads the version before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upcast {
    /// The first version: nothing to read.
    None,
    /// `From<Previous>` (`upcast_from`).
    From,
    /// `TryFrom<Previous>` (`try_upcast_from`).
    TryFrom,
    /// A function over JSON (`upcast_json`); the older versions have no Rust type.
    Json,
}

/// One version of an event, as [`Event::history`] lists it.
#[derive(Clone, Copy)]
pub struct EventVersion {
    /// The event's name.
    pub name: &'static str,
    /// The version.
    pub version: u32,
    /// Its compatibility group ([`Event::MAJOR`]).
    pub major: u32,
    /// Whether it is declared breaking, and why ([`Event::BREAKING`]).
    pub breaking: Option<&'static str>,
    /// Its event types.
    pub event_types: &'static [&'static str],
    /// How it reads the version before it.
    pub upcast: Upcast,
    is_enum: bool,
    json_schema: fn() -> Result<serde_json::Value, SchemaError>,
    avro_schema: fn() -> Result<serde_json::Value, SchemaError>,
}

impl EventVersion {
    /// The entry for `E`.
    pub fn of<E: Event>(upcast: Upcast) -> Self {
        EventVersion {
            name: E::NAME,
            version: E::VERSION,
            major: E::MAJOR,
            breaking: E::BREAKING,
            event_types: E::EVENT_TYPES,
            upcast,
            is_enum: E::__IS_ENUM,
            json_schema: E::export_json_schema,
            avro_schema: E::export_avro_schema,
        }
    }

    /// The version's JSON Schema ([`Event::export_json_schema`]).
    pub fn json_schema(&self) -> Result<serde_json::Value, SchemaError> {
        (self.json_schema)()
    }

    /// The version's Avro schema ([`Event::export_avro_schema`]).
    pub fn avro_schema(&self) -> Result<serde_json::Value, SchemaError> {
        (self.avro_schema)()
    }

    /// Whether the version is an enum, whose Avro schema is a union of one record per event
    /// type in the order of [`EventVersion::event_types`] (a struct's is one record).
    pub fn is_enum(&self) -> bool {
        self.is_enum
    }
}

impl std::fmt::Debug for EventVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventVersion")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("major", &self.major)
            .field("breaking", &self.breaking)
            .field("event_types", &self.event_types)
            .field("upcast", &self.upcast)
            .finish()
    }
}

/// Serializes an event's payload only (see [`Event`]'s payload mapping).
pub(crate) struct Payload<'a, E>(pub(crate) &'a E);

impl<E: Event> Serialize for Payload<'_, E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.__serialize_payload(serializer)
    }
}
