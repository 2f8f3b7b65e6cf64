//! The Avro codec as it was before the direct one: encoding builds an `apache_avro::Value`
//! tree, resolves it and writes it; decoding reads a `Value` tree and deserializes the event
//! from its `serde_json::Value`. Kept for the side-by-side benchmark and the tests that check
//! the direct codec against it; not for use.

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;

use crate::codec::Codec;
use crate::error::{DecodeError, EncodeError};
use crate::event::{Event, Payload};

/// The previous Avro codec (through apache-avro's `Value`), writing the same bytes as
/// [`Avro`](super::Avro). For benchmarks and tests only.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct AvroViaValue;

impl Codec for AvroViaValue {
    const NAME: &'static str = "avro";
    const UNION_DATUM: bool = true;

    fn encode<E: Event>(event: &E) -> Result<Vec<u8>, EncodeError> {
        let event_type = event.event_type();
        let fail = |err: apache_avro::Error| EncodeError::Payload {
            codec: Self::NAME,
            event_type,
            version: E::VERSION,
            source: Box::new(err),
        };
        let schemas = E::__avro_schemas()?;
        let variant = E::variant_of(event_type).map_err(|err| EncodeError::Payload {
            codec: Self::NAME,
            event_type,
            version: E::VERSION,
            source: Box::new(err),
        })?;
        let schema = schemas.record::<E>(variant)?;
        let value = apache_avro::to_value(Payload(event))
            .and_then(|value| value.resolve(schema))
            .map_err(fail)?;
        GenericDatumWriter::builder(schema)
            .build()
            .and_then(|writer| writer.write_value_to_vec(value))
            .map_err(fail)
    }

    fn decode<E: Event>(
        event_type: &str,
        variant: usize,
        payload: &[u8],
    ) -> Result<E, DecodeError> {
        let fail = |source: crate::error::UpcastError| DecodeError::Payload {
            codec: Self::NAME,
            event_type: event_type.to_owned(),
            version: E::VERSION,
            source,
        };
        let schemas = E::__avro_schemas()?;
        let schema = schemas.record::<E>(variant)?;
        let mut rest = payload;
        let value = GenericDatumReader::builder(schema)
            .build()
            .and_then(|reader| reader.read_value(&mut rest))
            .map_err(|err| fail(Box::new(err)))?;
        if !rest.is_empty() {
            return Err(fail(
                format!("{} bytes left after the datum", rest.len()).into(),
            ));
        }
        let json = serde_json::Value::try_from(value).map_err(|err| fail(Box::new(err)))?;
        E::__deserialize_payload(variant, json).map_err(|err| fail(Box::new(err)))
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
