//! The Avro binary codec: serde straight to and from Avro binary, guided by the schema.
//!
//! Each event type's record schema is compiled once ([`DatumPlan`], cached beside the
//! schemas): `graph` reduces it to the binary encoding's nodes with union branches and field
//! defaults worked out, `resolve` pairs a writer's and a reader's graph into a reading plan,
//! `encode` is a serde `Serializer` over a graph and `decode` a serde `Deserializer` over a
//! plan, both reading or writing the bytes directly (no `apache_avro::Value` tree). `legacy`
//! keeps the previous codec, through apache-avro's `Value`, for comparison.

mod decode;
mod encode;
mod error;
mod graph;
mod legacy;
mod resolve;
mod varint;

use std::sync::atomic::{AtomicUsize, Ordering};

use apache_avro::Schema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Codec;
use crate::error::{DecodeError, EncodeError};
use crate::event::{Event, Payload};
pub use error::AvroError;
#[doc(hidden)]
pub use legacy::AvroViaValue;

use decode::{Decoder, Plan};
use graph::Graph;
use resolve::Steps;
use varint::Input;

/// Avro binary payloads: one datum of the event type's record (the branch of the version's
/// union named after the variant), written without header or schema id. The writer schema of
/// a stored payload is the record of its event type in its version, so an older payload is
/// decoded with the older type's schema and then upcast.
#[derive(Debug, Clone, Copy, Default)]
pub struct Avro;

impl Codec for Avro {
    const NAME: &'static str = "avro";
    const UNION_DATUM: bool = true;

    fn encode<E: Event>(event: &E) -> Result<Vec<u8>, EncodeError> {
        let event_type = event.event_type();
        let fail = |source: crate::error::UpcastError| EncodeError::Payload {
            codec: Self::NAME,
            event_type,
            version: E::VERSION,
            source,
        };
        let variant = E::variant_of(event_type).map_err(|err| fail(Box::new(err)))?;
        let plan = E::__avro_schemas()?.plan::<E>(variant)?;
        plan.encode(&Payload(event))
            .map_err(|err| fail(Box::new(err)))
    }

    fn decode<E: Event>(
        event_type: &str,
        variant: usize,
        payload: &[u8],
    ) -> Result<E, DecodeError> {
        let plan = E::__avro_schemas()?.plan::<E>(variant)?;
        plan.read(payload, |decoder| {
            E::__deserialize_payload(variant, decoder)
        })
        .map_err(|err| DecodeError::Payload {
            codec: Self::NAME,
            event_type: event_type.to_owned(),
            version: E::VERSION,
            source: Box::new(err),
        })
    }

    fn to_json(
        event_type: &str,
        version: u32,
        _payload: &[u8],
    ) -> Result<serde_json::Value, DecodeError> {
        Err(DecodeError::NeedsJson {
            codec: Self::NAME,
            event_type: event_type.to_owned(),
            version,
        })
    }
}

/// A schema compiled for writing serde values as its datums and reading them back; with
/// [`DatumPlan::resolved`], reading another (writer's) schema's datums as this one's.
#[derive(Debug)]
pub struct DatumPlan {
    graph: Graph,
    /// The writer's graph when it is not `graph`.
    writer: Option<Graph>,
    steps: Steps,
    /// The length of the last datum written, to size the next one's buffer.
    last_len: AtomicUsize,
}

impl DatumPlan {
    /// Compiles `schema`, which must define every name it references.
    pub fn new(schema: &Schema) -> Result<Self, AvroError> {
        let graph = Graph::compile(schema)?;
        let steps = Steps::resolve(&graph, &graph);
        Ok(DatumPlan {
            graph,
            writer: None,
            steps,
            last_len: AtomicUsize::new(64),
        })
    }

    /// A plan reading datums written with `writer` as values of `reader`, resolved as the
    /// Avro specification says. Encoding with it writes `reader`'s datums.
    pub fn resolved(writer: &Schema, reader: &Schema) -> Result<Self, AvroError> {
        let graph = Graph::compile(reader)?;
        let writer = Graph::compile(writer)?;
        let steps = Steps::resolve(&writer, &graph);
        Ok(DatumPlan {
            graph,
            writer: Some(writer),
            steps,
            last_len: AtomicUsize::new(64),
        })
    }

    /// Writes `value` as a datum of the schema.
    pub fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, AvroError> {
        let mut out = Vec::with_capacity(self.last_len.load(Ordering::Relaxed));
        encode::write(&self.graph, value, &mut out)?;
        self.last_len.store(out.len(), Ordering::Relaxed);
        Ok(out)
    }

    /// Reads one datum, all of `datum`, as a `T`.
    pub fn decode<T: DeserializeOwned>(&self, datum: &[u8]) -> Result<T, AvroError> {
        self.read(datum, |decoder| T::deserialize(decoder))
    }

    /// Runs `read` on a deserializer of `datum` and checks that it read all of it.
    fn read<T>(
        &self,
        datum: &[u8],
        read: impl FnOnce(Decoder<'_, '_, '_>) -> Result<T, AvroError>,
    ) -> Result<T, AvroError> {
        let plan = Plan {
            steps: &self.steps,
            writer: self.writer.as_ref().unwrap_or(&self.graph),
            reader: &self.graph,
        };
        let mut input = Input::new(datum);
        let value = read(Decoder::new(plan, &mut input))?;
        match input.rest() {
            0 => Ok(value),
            left => Err(AvroError::Trailing(left)),
        }
    }
}
