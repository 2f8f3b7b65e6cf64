//! The outbox relay: publishes committed events, in position order, to NATS JetStream.
//!
//! Each event is published to `<subject prefix>.<event type>` with the event id as
//! `Nats-Msg-Id`, so JetStream's duplicate window drops a re-send; headers also carry the
//! event type, schema version, stream, stream version and position. Publishing is
//! sequential (each acknowledgement is awaited before the next publish), so the JetStream
//! stream holds events in position order. The relay's position is a checkpoint in the store,
//! saved after a batch is acknowledged: a relay killed in between re-sends that batch on
//! restart, and JetStream keeps one copy of each event as long as the restart happens within
//! the stream's duplicate window (two minutes by default).
//!
//! **Several replicas.** [`Relay::run_leased`] publishes only while this replica holds the
//! relay's [lease](crate::lease) (named like its checkpoint), checks the lease before each
//! publish, and writes each checkpoint fenced by the lease's token: a replica that stalled
//! and lost its lease stops at its next publish or commit, and what it published meanwhile
//! is a re-send JetStream's duplicate window drops. Publishing stays at least once, and each
//! event is stored once in the stream as long as takeovers happen within the window.
//!
//! Payloads can be framed in the Confluent wire format ([`ConfluentFraming`]): a zero byte,
//! the schema's registry id as a big-endian `u32`, then the payload, preceded by its union
//! branch when the id names an Avro union (see [`crate::wire`], which also splits Protobuf
//! messages with their message indexes).

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::Context;
use bytes::Bytes;

use crate::codec::Codec;
use crate::envelope::RecordedEvent;
use crate::event::Event;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::lease::{Ended, Lease, LeaseError, Leases};
use crate::projection::{Lag, lag};
use crate::store::{EventStore, StoreError};

/// The header JetStream deduplicates on (`Nats-Msg-Id`).
pub const MSG_ID_HEADER: async_nats::header::HeaderName = async_nats::header::NATS_MESSAGE_ID;

/// Why the relay stopped.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// JetStream refused or did not acknowledge a publish.
    #[error("publishing position {position} to `{subject}`: {message}")]
    Publish {
        /// The event's position.
        position: u64,
        /// The subject.
        subject: String,
        /// The client's error.
        message: String,
    },
    /// Confluent framing is on and no registry id is known for the event.
    #[error("no registry schema id for `{event_type}` version {schema_version}")]
    NoSchemaId {
        /// The event type.
        event_type: String,
        /// The schema version.
        schema_version: u32,
    },
    /// The lease failed, or was lost by a relay that wanted to publish or commit.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[error(transparent)]
    Lease(#[from] LeaseError),
}

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
/// is.
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

/// Where one event type of one version is framed: the registry id, and its branch when the
/// id names a union the payload is a branch of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Target {
    id: u32,
    branch: Option<u32>,
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
        let target = Target { id, branch: None };
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
                let branch = union.then_some(position);
                self.ids.insert(
                    ((*event_type).to_owned(), schema_version),
                    Target { id, branch },
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
        Some(match target.branch {
            Some(branch) => crate::wire::frame_avro_union(target.id, branch, payload),
            None => crate::wire::frame(target.id, payload),
        })
    }

    fn target(&self, event_type: &str, schema_version: u32) -> Option<Target> {
        self.ids
            .get(&(event_type.to_owned(), schema_version))
            .copied()
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

/// Counts of one or more published batches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Events published (including duplicates).
    pub published: u64,
    /// Publishes JetStream recognised as duplicates (re-sends after a crash).
    pub duplicates: u64,
    /// The last position published, 0 if none.
    pub last_position: u64,
}

/// Publishes a store's events to JetStream; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Relay<S> {
    store: S,
    jetstream: Context,
    name: String,
    subject_prefix: String,
    batch_size: usize,
    framing: Option<ConfluentFraming>,
}

impl<S: EventStore> Relay<S> {
    /// A relay named `name` (its checkpoint's key) publishing under `subject_prefix`.
    pub fn new(
        store: S,
        jetstream: Context,
        name: impl Into<String>,
        subject_prefix: impl Into<String>,
    ) -> Self {
        Relay {
            store,
            jetstream,
            name: name.into(),
            subject_prefix: subject_prefix.into(),
            batch_size: 500,
            framing: None,
        }
    }

    /// Sets how many events are published between checkpoints.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Frames payloads in the Confluent wire format with these registry ids.
    pub fn with_confluent_framing(mut self, framing: ConfluentFraming) -> Self {
        self.framing = Some(framing);
        self
    }

    /// The subject an event is published to.
    pub fn subject(&self, event: &RecordedEvent) -> String {
        format!("{}.{}", self.subject_prefix, event.event_type)
    }

    /// The relay's checkpoint.
    pub async fn checkpoint(&self) -> Result<u64, StoreError> {
        self.store.load_checkpoint(&self.name).await
    }

    /// The relay's lag.
    pub async fn lag(&self) -> Result<Lag, StoreError> {
        lag(&self.store, self.checkpoint().await?).await
    }

    /// Publishes the next batch after the checkpoint without saving the checkpoint; call
    /// [`Relay::commit`] with the returned `last_position` afterwards.
    pub async fn publish_batch(&self) -> Result<RelayStats, RelayError> {
        self.publish_checked(|| Ok(())).await
    }

    /// [`Relay::publish_batch`], calling `check` before each publish.
    async fn publish_checked(
        &self,
        check: impl Fn() -> Result<(), RelayError>,
    ) -> Result<RelayStats, RelayError> {
        let checkpoint = self.checkpoint().await?;
        let events = self.store.read_all(checkpoint + 1, self.batch_size).await?;
        let mut stats = RelayStats::default();
        for event in &events {
            check()?;
            let duplicate = self.publish(event).await?;
            stats.published += 1;
            stats.duplicates += u64::from(duplicate);
            stats.last_position = event.position;
        }
        Ok(stats)
    }

    /// Saves the checkpoint after a published batch.
    pub async fn commit(&self, position: u64) -> Result<(), StoreError> {
        self.store.save_checkpoint(&self.name, position).await
    }

    /// Publishes the next batch and saves the checkpoint.
    pub async fn run_batch(&self) -> Result<RelayStats, RelayError> {
        let stats = self.publish_batch().await?;
        if stats.published > 0 {
            self.commit(stats.last_position).await?;
        }
        Ok(stats)
    }

    /// Relays until `shutdown` completes, polling every `poll_interval` when caught up.
    pub async fn run(
        &self,
        poll_interval: Duration,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<RelayStats, RelayError> {
        tokio::pin!(shutdown);
        let mut total = RelayStats::default();
        loop {
            let stats = self.run_batch().await?;
            total.published += stats.published;
            total.duplicates += stats.duplicates;
            total.last_position = total.last_position.max(stats.last_position);
            if stats.published == 0 {
                tokio::select! {
                    () = &mut shutdown => return Ok(total),
                    () = tokio::time::sleep(poll_interval) => {}
                }
            }
        }
    }

    /// The relay's checkpoint name, also the name of its lease.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Relays while `lease` (named [`Relay::name`]) is held, each checkpoint fenced by it;
    /// returns [`Ended::Lost`] once it is lost and [`Ended::Shutdown`] when `shutdown`
    /// completes, with what was published.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub async fn run_held(
        &self,
        lease: &Lease,
        poll_interval: Duration,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(Ended, RelayStats), RelayError> {
        tokio::pin!(shutdown);
        let mut total = RelayStats::default();
        loop {
            let published = self
                .publish_checked(|| Ok(lease.check()?))
                .await
                .and_then(|stats| Ok((stats, lease.check()?)));
            let stats = match published {
                Ok((stats, ())) => stats,
                Err(RelayError::Lease(LeaseError::Lost { .. })) => return Ok((Ended::Lost, total)),
                Err(error) => return Err(error),
            };
            if stats.published > 0 {
                match lease.fence().save_checkpoint(stats.last_position).await {
                    Ok(()) => {}
                    Err(LeaseError::Lost { .. }) => return Ok((Ended::Lost, total)),
                    Err(error) => return Err(error.into()),
                }
                total.published += stats.published;
                total.duplicates += stats.duplicates;
                total.last_position = stats.last_position;
            }
            let wait = if stats.published == 0 {
                poll_interval
            } else {
                Duration::ZERO
            };
            tokio::select! {
                biased;
                () = &mut shutdown => return Ok((Ended::Shutdown, total)),
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Relays on this replica whenever it holds the relay's lease (waiting for it, relaying
    /// with [`Relay::run_held`], waiting again once it is lost), until `shutdown` completes;
    /// then gives the lease back.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub async fn run_leased(
        &self,
        leases: &Leases,
        poll_interval: Duration,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<RelayStats, RelayError> {
        tokio::pin!(shutdown);
        let mut total = RelayStats::default();
        loop {
            let Some(lease) = leases.acquire(&self.name, &mut shutdown).await? else {
                return Ok(total);
            };
            tracing::info!(relay = %self.name, token = lease.token(), "lease taken");
            let (ended, stats) = match self.run_held(&lease, poll_interval, &mut shutdown).await {
                Ok(ended) => ended,
                Err(error) => {
                    if let Err(release) = lease.release().await {
                        tracing::warn!(relay = %self.name, error = %release, "releasing the lease failed");
                    }
                    return Err(error);
                }
            };
            total.published += stats.published;
            total.duplicates += stats.duplicates;
            total.last_position = total.last_position.max(stats.last_position);
            match ended {
                Ended::Lost | Ended::Yielded => tracing::warn!(relay = %self.name, "lease lost"),
                Ended::Shutdown => {
                    lease.release().await?;
                    return Ok(total);
                }
            }
        }
    }

    /// Publishes one event and waits for its acknowledgement; returns whether JetStream saw
    /// it as a duplicate.
    async fn publish(&self, event: &RecordedEvent) -> Result<bool, RelayError> {
        let subject = self.subject(event);
        let mut headers = HeaderMap::new();
        headers.insert(MSG_ID_HEADER, event.event_id.to_string().as_str());
        headers.insert("Herald-Event-Type", event.event_type.as_str());
        headers.insert(
            "Herald-Schema-Version",
            event.schema_version.to_string().as_str(),
        );
        headers.insert("Herald-Stream-Id", event.stream_id.as_str());
        headers.insert(
            "Herald-Stream-Version",
            event.stream_version.to_string().as_str(),
        );
        headers.insert("Herald-Position", event.position.to_string().as_str());
        headers.insert(
            "Herald-Correlation-Id",
            event.correlation_id.to_string().as_str(),
        );
        if let Some(causation) = event.causation_id {
            headers.insert("Herald-Causation-Id", causation.to_string().as_str());
        }
        let payload = match &self.framing {
            None => Bytes::from(event.payload.clone()),
            Some(framing) => framing
                .frame_event(&event.event_type, event.schema_version, &event.payload)
                .map(Bytes::from)
                .ok_or_else(|| RelayError::NoSchemaId {
                    event_type: event.event_type.clone(),
                    schema_version: event.schema_version,
                })?,
        };
        let publish_error = |message: String| RelayError::Publish {
            position: event.position,
            subject: subject.clone(),
            message,
        };
        let ack = self
            .jetstream
            .publish_with_headers(subject.clone(), headers, payload)
            .await
            .map_err(|error| publish_error(error.to_string()))?
            .await
            .map_err(|error| publish_error(error.to_string()))?;
        Ok(ack.duplicate)
    }
}
