//! Messages a consumer gave up on.

use std::time::SystemTime;

use crate::transport::Headers;

/// A message that failed all its attempts, kept with its error to be listed and replayed
/// ([`Consumer::dead_letters`](crate::consumer::Consumer::dead_letters),
/// [`Consumer::replay`](crate::consumer::Consumer::replay)). Its inbox row is written with it,
/// so a redelivery of the message is not handled again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The consumer (its durable name).
    pub consumer: String,
    /// The message's event id (see [`Received::event_id`](crate::consumer::Received)).
    pub event_id: String,
    /// The subject or topic it was published to.
    pub subject: String,
    /// Its sequence: the JetStream stream sequence, the Kafka offset.
    pub stream_sequence: u64,
    /// Its headers (first value of each).
    pub headers: Headers,
    /// Its payload, as published.
    pub payload: Vec<u8>,
    /// How many times it was tried.
    pub attempts: u32,
    /// The last error.
    pub error: String,
    /// When it last failed.
    pub failed_at: SystemTime,
}

/// What replaying a dead letter did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replayed {
    /// The handler succeeded; the dead letter is gone.
    Applied,
    /// It failed again; the dead letter stays with one more attempt and this error.
    Failed(String),
    /// No such dead letter (already replayed, or never there).
    NotFound,
}
