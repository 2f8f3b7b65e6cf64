//! The seam between Herald and a message broker: what the [relay](crate::relay) needs to
//! publish and what the [consumer](crate::consumer) needs to receive, and nothing else.
//!
//! The relay and the consumer are written once, over [`Publisher`] and [`Subscriber`]; each
//! broker is one module that knows only that broker: [`nats`] (JetStream, feature `nats`) and
//! [`kafka`] (Apache Kafka and its protocol, feature `kafka`). What one broker can do and
//! another cannot is a capability the seam names, not an `if` in the relay:
//!
//! - [`Publisher::holds`]: whether the broker can tell that it already holds a message. Kafka
//!   can (the last Herald position at the tail of each partition), so a new relay leader
//!   resumes from what the broker acknowledged; JetStream cannot, and drops a re-send inside
//!   its duplicate window instead ([`Accepted::duplicate`]).
//! - [`Subscriber::redelivers`]: whether the broker delivers a message again after a
//!   [`Settle::Retry`] (JetStream's delayed nak), or the consumer retries it in place,
//!   holding its partition back, because a partition is a log (Kafka).
//! - [`Subscriber::dead_letter`]: where a message that failed its last attempt is also
//!   published (Kafka: `<topic>.dlq`); the consumer's dead-letter table keeps it either way.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "nats")]
pub mod nats;

/// A message's headers, first value of each.
pub type Headers = BTreeMap<String, String>;

/// The header holding the event id (the consumer's inbox key).
pub const EVENT_ID_HEADER: &str = "Herald-Event-Id";
/// The header naming a Herald event's type.
pub const EVENT_TYPE_HEADER: &str = "Herald-Event-Type";
/// The header naming the schema version that wrote a Herald event's payload.
pub const SCHEMA_VERSION_HEADER: &str = "Herald-Schema-Version";
/// The header holding the event's stream (also the message key).
pub const STREAM_ID_HEADER: &str = "Herald-Stream-Id";
/// The header holding the event's version in its stream.
pub const STREAM_VERSION_HEADER: &str = "Herald-Stream-Version";
/// The header holding the event's global position in the store.
pub const POSITION_HEADER: &str = "Herald-Position";
/// The header holding the correlation id.
pub const CORRELATION_ID_HEADER: &str = "Herald-Correlation-Id";
/// The header holding the causation id, when there is one.
pub const CAUSATION_ID_HEADER: &str = "Herald-Causation-Id";
/// The W3C trace context header, copied from the event's metadata (`"traceparent"`).
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// One event as the relay publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The event id: the broker's deduplication key where it has one.
    pub id: String,
    /// Where it goes: a JetStream subject, a Kafka topic.
    pub topic: String,
    /// The ordering key: the event's stream, so one stream's events keep their order.
    pub key: String,
    /// The event's global position in the store.
    pub position: u64,
    /// The headers (event id, type, schema version, stream, positions, correlation).
    pub headers: Headers,
    /// The payload, framed or not.
    pub payload: Vec<u8>,
}

/// What the broker answered for one published message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Accepted {
    /// The broker recognised it as a re-send and kept its first copy (JetStream's duplicate
    /// window).
    pub duplicate: bool,
}

/// Why a broker operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// A publish was refused or not acknowledged in time; whether the broker kept it is not
    /// known, so the publisher forgets what it knew of the broker's state.
    #[error("publishing position {position} to `{topic}`: {message}")]
    Publish {
        /// The event's position.
        position: u64,
        /// The subject or topic.
        topic: String,
        /// The client's error.
        message: String,
    },
    /// Any other broker error (connecting, metadata, fetching, acknowledging).
    #[error("{broker}: {message}")]
    Broker {
        /// Which broker.
        broker: &'static str,
        /// The client's error.
        message: String,
    },
}

/// The relay's side of a broker: publishes batches in order.
pub trait Publisher: Send + Sync {
    /// Where an event of `event_type` is published when the relay is not told otherwise.
    fn default_topic(&self, event_type: &str) -> String;

    /// Whether the broker already holds `message`, published by an earlier leader of the
    /// relay: `Some` when the broker can tell, `None` when it cannot (the relay then re-sends
    /// from its checkpoint, and the broker's deduplication is all that stops a copy).
    fn holds(
        &self,
        message: &Outgoing,
    ) -> impl Future<Output = Result<Option<bool>, TransportError>> + Send;

    /// The broker's answers for a batch handed over by [`Publisher::send`], still to come.
    type Acks: Future<Output = Result<Vec<Accepted>, TransportError>> + Send + 'static;

    /// Hands `batch` to the broker in order, after everything sent before it, and returns
    /// once it is handed over (not yet acknowledged); the returned [`Publisher::Acks`]
    /// resolve once the broker durably accepted every message, with its answer for each.
    /// The relay sends the next batch while one is in flight and saves its checkpoint as
    /// the batches' acks arrive, in order. On an error (from either) some messages may have
    /// been kept: the publisher forgets what it knew, and [`Publisher::holds`] asks the
    /// broker again.
    fn send(
        &self,
        batch: &[Outgoing],
    ) -> impl Future<Output = Result<Self::Acks, TransportError>> + Send;

    /// How long a message may stay in flight after it was handed over: the relay publishes
    /// only while its lease has at least this long left, so that nothing it sent can land
    /// after another replica took over.
    fn max_in_flight(&self) -> Duration;

    /// Forgets what the publisher knows of the broker's state (a new lease, an error).
    fn forget(&self);
}

/// A message as a broker delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The subject or topic it was published to.
    pub topic: String,
    /// Its partition (0 where the broker has none).
    pub partition: i32,
    /// Its sequence: the JetStream stream sequence, the Kafka offset.
    pub sequence: u64,
    /// Which delivery this is, as the broker counts (from 1).
    pub attempt: u64,
    /// Its headers, first value of each.
    pub headers: Headers,
    /// Its key, if it has one.
    pub key: Option<Vec<u8>>,
    /// Its payload.
    pub payload: Vec<u8>,
}

impl Incoming {
    /// The event id: the `Herald-Event-Id` header (or JetStream's `Nats-Msg-Id`), else
    /// `<topic>:<partition>:<sequence>`.
    pub fn event_id(&self) -> String {
        self.headers
            .get(EVENT_ID_HEADER)
            .or_else(|| self.headers.get("Nats-Msg-Id"))
            .cloned()
            .unwrap_or_else(|| format!("{}:{}:{}", self.topic, self.partition, self.sequence))
    }
}

/// What to do with a delivered message once it was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// Handled (applied, skipped, a duplicate or dead-lettered): do not deliver it again.
    Done,
    /// Deliver it again after this long (only asked of a broker that
    /// [redelivers](Subscriber::redelivers)).
    Retry(Duration),
}

/// The consumer's side of a broker: fetches messages and settles them.
pub trait Subscriber: Send + Sync {
    /// What settles one delivered message.
    type Receipt: Send + Sync;

    /// Fetches up to `max` messages, waiting at most `wait` for the first.
    fn fetch(
        &self,
        max: usize,
        wait: Duration,
    ) -> impl Future<Output = Result<Vec<(Incoming, Self::Receipt)>, TransportError>> + Send;

    /// Settles a handled message.
    fn settle(
        &self,
        receipt: Self::Receipt,
        settle: Settle,
    ) -> impl Future<Output = Result<(), TransportError>> + Send;

    /// Whether the broker delivers a message again after [`Settle::Retry`]; when it does
    /// not, the consumer retries in place.
    fn redelivers(&self) -> bool;

    /// Publishes a message that failed its last attempt where the broker keeps dead letters
    /// (Kafka: `<topic>.dlq`); does nothing on a broker without such a place.
    fn dead_letter(
        &self,
        message: &Incoming,
        error: &str,
    ) -> impl Future<Output = Result<(), TransportError>> + Send;
}
