//! Support for the code `#[derive(Event)]` generates. Not a public API.

pub use crate::schema::AvroSchemas;
pub use std::sync::OnceLock;

use crate::codec::Codec;
use crate::error::{DecodeError, SchemaError, UpcastError};
use crate::event::{Event, JsonEvent, JsonUpcaster};

/// Byte-wise string equality usable in `const` items (the chain's name check).
pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The cache behind [`Event::__avro_schemas`].
pub fn avro_schemas<E: Event>(
    cache: &'static OnceLock<Result<AvroSchemas, SchemaError>>,
) -> Result<&'static AvroSchemas, SchemaError> {
    cache
        .get_or_init(AvroSchemas::build::<E>)
        .as_ref()
        .map_err(Clone::clone)
}

/// One `TryFrom` step: surfaces the impl's error with the step's versions.
pub fn try_upcast<P: Event, E: Event, Err>(
    event_type: &str,
    result: Result<E, Err>,
) -> Result<E, DecodeError>
where
    Err: Into<UpcastError>,
{
    result.map_err(|err| DecodeError::Upcast {
        event_type: event_type.to_owned(),
        from: P::VERSION,
        to: E::VERSION,
        source: err.into(),
    })
}

/// A JSON-level step: reads the older payload as JSON, runs `upcaster`, and decodes its
/// result as the current version.
pub fn upcast_json<E: Event, C: Codec>(
    upcaster: JsonUpcaster,
    event_type: &str,
    version: u32,
    payload: &[u8],
) -> Result<E, DecodeError> {
    let old = JsonEvent {
        event_type: event_type.to_owned(),
        version,
        payload: C::to_json(event_type, version, payload)?,
    };
    let step_error = |source: UpcastError| DecodeError::Upcast {
        event_type: event_type.to_owned(),
        from: version,
        to: E::VERSION,
        source,
    };
    let new = upcaster(old).map_err(step_error)?;
    if new.version != E::VERSION {
        return Err(step_error(
            format!(
                "the JSON upcaster returned version {}, expected {}",
                new.version,
                E::VERSION
            )
            .into(),
        ));
    }
    let variant = E::variant_of(&new.event_type)?;
    E::__deserialize_payload(variant, new.payload).map_err(|err| DecodeError::Payload {
        codec: "json (upcast)",
        event_type: new.event_type.clone(),
        version: E::VERSION,
        source: Box::new(err),
    })
}

/// The error for a version below the first one (only reachable through a JSON upcaster
/// returning nonsense or a direct call).
pub fn no_older_version<E: Event>(version: u32) -> DecodeError {
    DecodeError::UnknownVersion {
        name: E::NAME,
        version,
        current: E::VERSION,
    }
}

#[cfg(test)]
mod tests {
    use super::str_eq;

    #[test]
    fn const_string_equality() {
        const { assert!(str_eq("order", "order")) };
        assert!(!str_eq("order", "orders"));
        assert!(!str_eq("order", "ordex"));
        assert!(str_eq("", ""));
    }
}
