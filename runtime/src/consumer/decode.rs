//! From a message's bytes to the consumer's current event type.
//!
//! A Confluent-framed payload names its writer's schema by registry id. The schema is
//! fetched once per id and compared with the schemas of every version of the consumer's
//! event (its [`Event::history`]): an Avro schema by its Parsing Canonical Form, a JSON Schema
//! as a JSON value. The match gives the version that wrote the payload; the payload is
//! decoded with that version's codec and upcast through the derive chain, exactly as the
//! store reads an older stored event.
//!
//! An enum's Avro version schema is a union of one record per event type, so a payload
//! framed with its id is a union datum (the branch index, then the record), as Confluent's
//! serializers and Herald's relay both write it; the branch names the event type, whatever
//! the headers say. A struct's Avro schema is its record, and the payload is that record.
//!
//! A framed payload whose writer's schema has data-contract rules (`ruleSet.domainRules`,
//! such as Confluent's `ENCRYPT`) runs them in read mode with the consumer's
//! [`Contract`](crate::contract::Contract) before it is decoded; the subject the rules see
//! (the DEK's subject for `ENCRYPT`) is `<topic>-value`, Confluent's default subject name.
//! Without a contract, such a message is refused ([`MessageError::NoContract`]) rather than
//! decoded with its fields still encrypted.
//!
//! A payload without the framing is read as Herald's relay publishes it by default: JSON,
//! its event type and schema version in the `Herald-Event-Type` and `Herald-Schema-Version`
//! headers.

use std::borrow::Cow;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};

use crate::codec::{Avro, Json};
use crate::contract::{Contract, Mode, RuleError, RuleSet};
use crate::error::{DecodeError, SchemaError};
use crate::event::Event;
use crate::registry_client::{RegisteredSchema, RegistryClient, RegistryError, SchemaType};
use crate::relay::ConfluentFraming;
use crate::transport::{EVENT_TYPE_HEADER, Headers, SCHEMA_VERSION_HEADER};
use serde::Deserialize;

/// Why a message could not be read as the consumer's event.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// The registry could not give the writer's schema.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The message is framed, but the consumer has no registry client.
    #[error("the message is framed with schema id {0}, and the consumer has no registry")]
    NoRegistry(u32),
    /// The writer's schema is no version of the consumer's event.
    #[error(
        "schema id {id} ({schema_type:?}) is no version of `{name}` this consumer knows, and the message carries no Herald headers naming one"
    )]
    UnknownSchema {
        /// The registry id.
        id: u32,
        /// Its kind.
        schema_type: SchemaType,
        /// The consumer's event.
        name: &'static str,
    },
    /// The writer's schema is not one Herald decodes.
    #[error("schema id {id} is a {schema_type:?} schema, which the consumer does not decode")]
    UnsupportedSchema {
        /// The registry id.
        id: u32,
        /// Its kind.
        schema_type: SchemaType,
    },
    /// The writer's schema does not parse.
    #[error("schema id {id} does not parse: {message}")]
    InvalidSchema {
        /// The registry id.
        id: u32,
        /// The parser's message.
        message: String,
    },
    /// A header the message needs is missing.
    #[error("the message has no `{0}` header, and its payload is not framed with a schema id")]
    MissingHeader(&'static str),
    /// A header does not hold what it should.
    #[error("header `{header}` holds `{value}`: {message}")]
    InvalidHeader {
        /// The header.
        header: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        message: &'static str,
    },
    /// An Avro union datum names a branch the writer's schema does not have.
    #[error("the Avro union datum starts with branch {branch}, which schema id {id} lacks")]
    UnionBranch {
        /// The branch read.
        branch: i64,
        /// The registry id.
        id: u32,
    },
    /// The writer's schema has rules that run on read, and the consumer has no contract to
    /// run them ([`Consumer::with_contract`](crate::consumer::Consumer::with_contract)).
    #[error("schema id {0} has data-contract rules, and the consumer has no contract to run them")]
    NoContract(u32),
    /// A data-contract rule failed (a field that does not decrypt, a missing key, ...).
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The consumer's own schemas could not be built.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The payload does not decode, or an upcaster refused it.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// A decoded message: what wrote it and the event in the consumer's current version.
#[derive(Debug)]
pub(crate) struct Decoded<E> {
    pub(crate) event_type: String,
    pub(crate) schema_version: u32,
    pub(crate) schema_id: Option<u32>,
    pub(crate) event: E,
}

/// How payloads written with one registry schema read.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// A version's Avro union (or a struct event's record when `union` is false).
    Avro {
        version: u32,
        event_types: &'static [&'static str],
        union: bool,
    },
    /// A version's JSON Schema.
    Json {
        version: u32,
        event_types: &'static [&'static str],
    },
    /// No version of the consumer's event: only Herald headers can tell what wrote it.
    Foreign(SchemaType),
}

/// Decodes messages into `E`, resolving schema ids through a registry.
#[derive(Debug)]
pub(crate) struct Decoder<E> {
    registry: Option<RegistryClient>,
    contract: Option<Arc<Contract>>,
    /// Each schema id's layout, and whether it has rules that run on read.
    layouts: Mutex<HashMap<u32, (Layout, bool)>>,
    event: PhantomData<fn() -> E>,
}

impl<E: Event> Decoder<E> {
    pub(crate) fn new(registry: Option<RegistryClient>, contract: Option<Arc<Contract>>) -> Self {
        Decoder {
            registry,
            contract,
            layouts: Mutex::new(HashMap::new()),
            event: PhantomData,
        }
    }

    /// Decodes one message's payload, received from `topic`.
    pub(crate) async fn decode(
        &self,
        topic: &str,
        headers: &Headers,
        payload: &[u8],
    ) -> Result<Decoded<E>, MessageError> {
        let Some((id, body)) = ConfluentFraming::unframe(payload) else {
            let (event_type, version) = herald_headers(headers)?;
            let event = E::decode_with::<Json>(event_type, version, payload)?;
            return Ok(Decoded {
                event_type: event_type.to_owned(),
                schema_version: version,
                schema_id: None,
                event,
            });
        };
        let (layout, rules) = self.layout(id).await?;
        let body = match (&self.contract, rules) {
            (_, false) => Cow::Borrowed(body),
            (None, true) => return Err(MessageError::NoContract(id)),
            (Some(contract), true) => {
                let subject = format!("{topic}-value");
                Cow::Owned(
                    contract
                        .run(Mode::Read, &subject, id, body.to_vec())
                        .await?,
                )
            }
        };
        let body = body.as_ref();
        let named = headers.get(EVENT_TYPE_HEADER).map(String::as_str);
        let (event_type, version, event) = match layout {
            Layout::Avro {
                version,
                event_types,
                union,
            } => {
                let (event_type, record) = if union {
                    let (branch, record) = union_branch(body, id)?;
                    let event_type = usize::try_from(branch)
                        .ok()
                        .and_then(|i| event_types.get(i))
                        .ok_or(MessageError::UnionBranch { branch, id })?;
                    (*event_type, record)
                } else {
                    (event_types.first().copied().unwrap_or(E::NAME), body)
                };
                let event = E::decode_with::<Avro>(event_type, version, record)?;
                (event_type, version, event)
            }
            Layout::Json {
                version,
                event_types,
            } => {
                let event_type = match (named, event_types) {
                    (Some(event_type), _) => event_type,
                    (None, [only]) => only,
                    (None, _) => return Err(MessageError::MissingHeader(EVENT_TYPE_HEADER)),
                };
                let event = E::decode_with::<Json>(event_type, version, body)?;
                (event_type, version, event)
            }
            Layout::Foreign(schema_type) => {
                let unknown = MessageError::UnknownSchema {
                    id,
                    schema_type,
                    name: E::NAME,
                };
                let (event_type, version) = herald_headers(headers).map_err(|_| unknown)?;
                let event = match schema_type {
                    SchemaType::Avro => E::decode_with::<Avro>(event_type, version, body)?,
                    SchemaType::Json => E::decode_with::<Json>(event_type, version, body)?,
                    SchemaType::Protobuf => {
                        return Err(MessageError::UnsupportedSchema { id, schema_type });
                    }
                };
                (event_type, version, event)
            }
        };
        Ok(Decoded {
            event_type: event_type.to_owned(),
            schema_version: version,
            schema_id: Some(id),
            event,
        })
    }

    /// The layout of schema `id` and whether it has rules that run on read, worked out once
    /// per id.
    async fn layout(&self, id: u32) -> Result<(Layout, bool), MessageError> {
        if let Some(layout) = self.cached(id) {
            return Ok(layout);
        }
        let registry = self.registry.as_ref().ok_or(MessageError::NoRegistry(id))?;
        let schema = registry.schema(id).await?;
        let layout = layout_of::<E>(&schema)?;
        let rules = match &schema.rule_set {
            None => false,
            Some(rules) => RuleSet::deserialize(rules)
                .map_err(|error| MessageError::InvalidSchema {
                    id,
                    message: format!("ruleSet: {error}"),
                })?
                .runs_in(Mode::Read),
        };
        self.layouts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, (layout, rules));
        Ok((layout, rules))
    }

    fn cached(&self, id: u32) -> Option<(Layout, bool)> {
        self.layouts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .copied()
    }
}

/// The event type and schema version Herald's relay puts in the headers.
fn herald_headers(headers: &Headers) -> Result<(&str, u32), MessageError> {
    let event_type = headers
        .get(EVENT_TYPE_HEADER)
        .ok_or(MessageError::MissingHeader(EVENT_TYPE_HEADER))?;
    let version = headers
        .get(SCHEMA_VERSION_HEADER)
        .ok_or(MessageError::MissingHeader(SCHEMA_VERSION_HEADER))?;
    let version = version.parse().map_err(|_| MessageError::InvalidHeader {
        header: SCHEMA_VERSION_HEADER,
        value: version.clone(),
        message: "not a schema version",
    })?;
    Ok((event_type, version))
}

/// Finds the version of `E` whose schema is the registered one.
fn layout_of<E: Event>(schema: &RegisteredSchema) -> Result<Layout, MessageError> {
    let invalid = |message: String| MessageError::InvalidSchema {
        id: schema.id,
        message,
    };
    match schema.schema_type {
        SchemaType::Avro => {
            let writer = apache_avro::Schema::parse_str(&schema.schema)
                .map_err(|error| invalid(error.to_string()))?;
            let canonical = writer.canonical_form();
            for version in E::history() {
                let ours = apache_avro::Schema::parse(&version.avro_schema()?)
                    .map_err(|error| invalid(format!("version {}: {error}", version.version)))?;
                if ours.canonical_form() == canonical {
                    return Ok(Layout::Avro {
                        version: version.version,
                        event_types: version.event_types,
                        union: matches!(ours, apache_avro::Schema::Union(_)),
                    });
                }
            }
        }
        SchemaType::Json => {
            let writer: serde_json::Value =
                serde_json::from_str(&schema.schema).map_err(|error| invalid(error.to_string()))?;
            for version in E::history() {
                if version.json_schema()? == writer {
                    return Ok(Layout::Json {
                        version: version.version,
                        event_types: version.event_types,
                    });
                }
            }
        }
        SchemaType::Protobuf => {}
    }
    Ok(Layout::Foreign(schema.schema_type))
}

/// Reads an Avro union datum's branch index (a zig-zag varint `long`); returns it and the
/// rest of the datum.
fn union_branch(datum: &[u8], id: u32) -> Result<(i64, &[u8]), MessageError> {
    let mut value: u64 = 0;
    for (i, byte) in datum.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let branch = (value >> 1) as i64 ^ -((value & 1) as i64);
            return Ok((branch, &datum[i + 1..]));
        }
    }
    Err(MessageError::UnionBranch { branch: -1, id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_branch_reads_zigzag_varints() {
        assert_eq!(union_branch(&[0x00, 9], 1).unwrap(), (0, &[9u8][..]));
        assert_eq!(union_branch(&[0x06], 1).unwrap().0, 3);
        assert_eq!(union_branch(&[0x01], 1).unwrap().0, -1);
        assert_eq!(union_branch(&[0x80, 0x01], 1).unwrap().0, 64);
        assert!(union_branch(&[0x80], 1).is_err());
        assert!(union_branch(&[], 1).is_err());
    }
}
