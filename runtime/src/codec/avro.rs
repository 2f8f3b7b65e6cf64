//! The Avro binary codec.

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;

use super::Codec;
use crate::error::{DecodeError, EncodeError};
use crate::event::{Event, Payload};

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
