//! Apache Kafka (and brokers speaking its protocol) behind the [transport seam](super), with
//! `rdkafka` (librdkafka).
//!
//! # Publishing without transactions
//!
//! [`KafkaPublisher`] sends each event to its topic with the event's stream id as the key, to
//! a partition chosen as Kafka's Java client chooses for a keyed record (murmur2 of the key,
//! modulo the topic's partitions), so one aggregate's events stay in order on one partition
//! and other Kafka clients agree where a key lives. The producer is idempotent with
//! librdkafka's *gapless guarantee*: within one producer, what a partition holds of what it
//! sent is always a prefix, in order, and any failure that could leave a gap is fatal to
//! that producer (the publisher then starts a new one).
//!
//! The protocol a relay runs over it (see [`crate::relay`]) needs no Kafka transactions:
//!
//! 1. A leader takes the relay's lease. Everything up to its checkpoint is known to be in
//!    Kafka: a checkpoint is written (fenced by the lease) only after every event up to it
//!    was acknowledged.
//! 2. For each event after the checkpoint, [`Publisher::holds`](super::Publisher::holds) reads the last `Herald-Position`
//!    header at the tail of the event's partition (once per partition, then kept up to date
//!    from the acknowledgements): the partition holds the event if and only if its position
//!    is not above that tail, because each partition is an in-order prefix of the log's
//!    events for its keys. Those events are skipped; the rest are sent. So a new leader
//!    resumes from what the broker acknowledged, not from what the database believed.
//! 3. Before each batch is sent (also when earlier batches are still in flight) the relay checks that its lease has at least
//!    [`Publisher::max_in_flight`](super::Publisher::max_in_flight) (the producer's `message.timeout.ms`, plus a margin) left.
//!    A message librdkafka has not delivered within that time fails instead of being sent,
//!    so nothing a leader sends can land after another replica took over.
//!
//! The failure cases this covers:
//!
//! - **Crash before the send**: nothing landed; the next leader sends it.
//! - **Crash after the send, before the checkpoint**: the next leader finds the events at the
//!   tails of their partitions and skips them.
//! - **Stall across the lease expiry** (a `SIGSTOP`, a long pause): the stalled leader's
//!   unsent messages time out before they can be sent, its checkpoint write is refused by
//!   the fence, and the new leader reads the tails only after the lease expired.
//! - **Broker timeout with an unknown outcome**: the publisher drops its producer (and what
//!   it queued) and forgets the tails; the relay backs off for at least the in-flight bound
//!   and reads the tails again, which now show whether the events landed.
//!
//! The case it cannot close without transactions: a broker that itself stalls holding a
//! produce request it already received, longer than the in-flight bound, and appends it
//! after the relay re-read the tails and sent the events again. The copies are then
//! duplicates with the same `Herald-Event-Id` (a consumer's inbox drops them); the replica
//! and outage tests count them.
//!
//! # Consuming
//!
//! [`KafkaSubscriber`] is a consumer-group member (cooperative-sticky rebalancing) that never
//! lets Kafka commit an offset for a message before it was handled: offsets are stored for
//! commit only when [`Subscriber::settle`](super::Subscriber::settle) is called, after the consumer's transaction
//! committed. A partition is a log, so a failed message is retried in place; one that fails
//! its last attempt is also published to `<topic>.dlq`.

mod publisher;
mod subscriber;
mod topics;

use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::producer::FutureProducer;

pub use publisher::KafkaPublisher;
pub use subscriber::{KafkaReceipt, KafkaSubscriber};

use super::TransportError;

/// The header a dead-lettered message carries its last error in.
pub const ERROR_HEADER: &str = "Herald-Error";

fn broker_error(error: impl std::fmt::Display) -> TransportError {
    TransportError::Broker {
        broker: "Kafka",
        message: error.to_string(),
    }
}

/// How to reach Kafka and how topics the relay creates look.
#[derive(Debug, Clone)]
pub struct KafkaOptions {
    /// `bootstrap.servers`: `host:port[,host:port…]`.
    pub brokers: String,
    /// Partitions of a topic the publisher creates because it is missing.
    pub partitions: i32,
    /// Replication factor of a topic the publisher creates.
    pub replication: i32,
    /// How long librdkafka may try to deliver a message (`message.timeout.ms`); the relay's
    /// lease must have this long left, plus a margin, before each batch.
    pub message_timeout: Duration,
    /// Any other librdkafka settings, applied last.
    pub settings: Vec<(String, String)>,
}

impl KafkaOptions {
    /// Defaults for the brokers at `brokers`: 3 partitions, replication 1, a 1 s delivery
    /// bound.
    pub fn new(brokers: impl Into<String>) -> Self {
        KafkaOptions {
            brokers: brokers.into(),
            partitions: 3,
            replication: 1,
            message_timeout: Duration::from_millis(1000),
            settings: Vec::new(),
        }
    }

    /// Options from `host:port[,host:port…][?setting=value&…]`, the part of a `kafka://`
    /// URL after the scheme: the bootstrap servers, then librdkafka settings.
    ///
    /// ```
    /// use herald::transport::kafka::KafkaOptions;
    ///
    /// let options = KafkaOptions::parse("k1:9092,k2:9092?batch.num.messages=1&linger.ms=0")?;
    /// assert_eq!(options.brokers, "k1:9092,k2:9092");
    /// assert_eq!(options.settings[0], ("batch.num.messages".into(), "1".into()));
    /// assert!(KafkaOptions::parse("k1:9092?linger.ms").is_err());
    /// # Ok::<(), herald::transport::TransportError>(())
    /// ```
    pub fn parse(spec: &str) -> Result<Self, TransportError> {
        let (brokers, query) = spec.split_once('?').unwrap_or((spec, ""));
        if brokers.is_empty() {
            return Err(broker_error(format!("`{spec}` names no bootstrap servers")));
        }
        let mut options = KafkaOptions::new(brokers);
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(broker_error(format!(
                    "`{pair}` in `{spec}` is not `setting=value`"
                )));
            };
            options = options.set(key, value);
        }
        Ok(options)
    }

    /// Adds a librdkafka setting.
    pub fn set(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.push((key.into(), value.into()));
        self
    }

    fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        for (key, value) in &self.settings {
            config.set(key, value);
        }
        config
    }

    fn producer(&self) -> Result<FutureProducer, TransportError> {
        let timeout = self.message_timeout.as_millis().max(1).to_string();
        let mut config = self.client_config();
        config
            .set("enable.idempotence", "true")
            .set("enable.gapless.guarantee", "true")
            .set("acks", "all")
            .set("message.timeout.ms", &timeout)
            .set("request.timeout.ms", &timeout)
            .set("linger.ms", "2");
        for (key, value) in &self.settings {
            config.set(key, value);
        }
        config.create().map_err(broker_error)
    }
}

/// Kafka's default partition for a keyed record: murmur2 of the key, made positive, modulo
/// the partition count (as Kafka's Java client computes it).
pub fn partition_for(key: &[u8], partitions: i32) -> i32 {
    let partitions = partitions.max(1);
    ((murmur2(key) & 0x7fff_ffff) % partitions.unsigned_abs()) as i32
}

/// Kafka's murmur2 (seed `0x9747b28c`), as in its Java client's `Utils.murmur2`.
fn murmur2(data: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let length = data.len() as u32;
    let mut h: u32 = 0x9747_b28c ^ length;
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, TransportError> + Send + 'static,
) -> Result<T, TransportError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| broker_error(format!("a blocking Kafka call failed: {error}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_like_kafkas_java_client() {
        // Values from Kafka's own murmur2 tests (`UtilsTest.testMurmur2`).
        let cases: [(&[u8], i32); 3] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
        ];
        for (key, expected) in cases {
            assert_eq!(murmur2(key) as i32, expected, "{key:?}");
        }
        assert_eq!(partition_for(b"", 1), 0);
        for key in [&b"order-1"[..], b"o-00081", b"x"] {
            assert!((0..7).contains(&partition_for(key, 7)));
        }
    }
}
