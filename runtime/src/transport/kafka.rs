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
//! 2. For each event after the checkpoint, [`Publisher::holds`] reads the last `Herald-Position`
//!    header at the tail of the event's partition (once per partition, then kept up to date
//!    from the acknowledgements): the partition holds the event if and only if its position
//!    is not above that tail, because each partition is an in-order prefix of the log's
//!    events for its keys. Those events are skipped; the rest are sent. So a new leader
//!    resumes from what the broker acknowledged, not from what the database believed.
//! 3. Before each batch the relay checks that its lease has at least
//!    [`Publisher::max_in_flight`] (the producer's `message.timeout.ms`, plus a margin) left.
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
//! commit only when [`Subscriber::settle`] is called, after the consumer's transaction
//! committed. A partition is a log, so a failed message is retried in place; one that fails
//! its last attempt is also published to `<topic>.dlq`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers as _, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer, PurgeConfig};
use rdkafka::{Offset, TopicPartitionList};

use super::{
    Accepted, Headers, Incoming, Outgoing, POSITION_HEADER, Publisher, Settle, Subscriber,
    TransportError,
};

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

/// Topics: their partition counts, created when missing.
#[derive(Clone)]
struct Topics {
    options: KafkaOptions,
    admin: Arc<AdminClient<DefaultClientContext>>,
    /// A consumer outside any group, for metadata and reading partition tails.
    reader: Arc<Mutex<BaseConsumer>>,
    partitions: Arc<Mutex<HashMap<String, i32>>>,
}

impl Topics {
    fn new(options: &KafkaOptions) -> Result<Self, TransportError> {
        let admin = options.client_config().create().map_err(broker_error)?;
        let mut reader = options.client_config();
        reader
            .set("group.id", "herald-tail-reader")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true");
        Ok(Topics {
            options: options.clone(),
            admin: Arc::new(admin),
            reader: Arc::new(Mutex::new(reader.create().map_err(broker_error)?)),
            partitions: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// The partition count of `topic`, creating the topic when it is missing.
    async fn partitions(&self, topic: &str) -> Result<i32, TransportError> {
        if let Some(count) = self.cached(topic) {
            return Ok(count);
        }
        let mut count = self.metadata_partitions(topic).await?;
        if count == 0 {
            let new = NewTopic::new(
                topic,
                self.options.partitions,
                TopicReplication::Fixed(self.options.replication),
            );
            let created = self
                .admin
                .create_topics(&[new], &AdminOptions::new())
                .await
                .map_err(broker_error)?;
            for result in created {
                match result {
                    Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                    Err((name, code)) => {
                        return Err(broker_error(format!("creating topic `{name}`: {code}")));
                    }
                }
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while count == 0 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(100)).await;
                count = self.metadata_partitions(topic).await?;
            }
            if count == 0 {
                return Err(broker_error(format!("topic `{topic}` has no partitions")));
            }
        }
        self.partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(topic.to_owned(), count);
        Ok(count)
    }

    fn cached(&self, topic: &str) -> Option<i32> {
        self.partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(topic)
            .copied()
    }

    async fn metadata_partitions(&self, topic: &str) -> Result<i32, TransportError> {
        let reader = self.reader.clone();
        let topic = topic.to_owned();
        blocking(move || {
            let reader = reader.lock().unwrap_or_else(PoisonError::into_inner);
            let metadata = reader
                .fetch_metadata(Some(&topic), Duration::from_secs(5))
                .map_err(broker_error)?;
            Ok(metadata
                .topics()
                .iter()
                .find(|t| t.name() == topic && t.error().is_none())
                .map_or(0, |t| t.partitions().len() as i32))
        })
        .await
    }

    /// The highest `Herald-Position` among the last messages of a partition (0 when it holds
    /// none).
    ///
    /// The listed high watermark only says where to start reading: the read goes on to the
    /// end of the partition as the fetch reports it (librdkafka's partition EOF). Tansu
    /// 0.6.0 lists the base offset of the partition's last record batch plus one as the high
    /// watermark, short of the batch's other records, while its fetch responses carry the
    /// right end; on Kafka the two agree.
    async fn tail_position(&self, topic: &str, partition: i32) -> Result<u64, TransportError> {
        let reader = self.reader.clone();
        let topic = topic.to_owned();
        blocking(move || {
            let reader = reader.lock().unwrap_or_else(PoisonError::into_inner);
            let (low, high) = reader
                .fetch_watermarks(&topic, partition, Duration::from_secs(5))
                .map_err(broker_error)?;
            // Read from before the end, widening the window, until a Herald message shows.
            let mut window = 16;
            loop {
                if high <= low {
                    return Ok(0);
                }
                let start = (high - window).max(low);
                if let Some(position) = last_position(&reader, &topic, partition, start)? {
                    return Ok(position);
                }
                if start == low {
                    return Ok(0);
                }
                window *= 4;
            }
        })
        .await
    }
}

/// The highest `Herald-Position` header from offset `start` to the end of a partition.
fn last_position(
    reader: &BaseConsumer,
    topic: &str,
    partition: i32,
    start: i64,
) -> Result<Option<u64>, TransportError> {
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(topic, partition, Offset::Offset(start))
        .map_err(broker_error)?;
    reader.assign(&assignment).map_err(broker_error)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut highest = None;
    loop {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return Err(broker_error(format!(
                "reading the tail of {topic}/{partition} from offset {start}: no end of the \
                 partition within 10 s"
            )));
        };
        let message = match reader.poll(left.min(Duration::from_millis(500))) {
            None => continue,
            Some(Err(KafkaError::PartitionEOF(_))) => break,
            Some(message) => message.map_err(broker_error)?,
        };
        let position = message
            .headers()
            .and_then(|headers| {
                headers
                    .iter()
                    .find(|header| header.key == POSITION_HEADER)
                    .and_then(|header| header.value)
            })
            .and_then(|value| std::str::from_utf8(value).ok())
            .and_then(|value| value.parse::<u64>().ok());
        if position.is_some() {
            highest = highest.max(position);
        }
    }
    reader
        .assign(&TopicPartitionList::new())
        .map_err(broker_error)?;
    Ok(highest)
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, TransportError> + Send + 'static,
) -> Result<T, TransportError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| broker_error(format!("a blocking Kafka call failed: {error}")))?
}

/// Publishes to Kafka: key = stream id, Java-compatible partitions, an idempotent producer,
/// tails read back for [`Publisher::holds`]; see the [module documentation](self).
#[derive(Clone)]
pub struct KafkaPublisher {
    options: KafkaOptions,
    topics: Topics,
    producer: Arc<Mutex<FutureProducer>>,
    /// The last position each (topic, partition) is known to hold.
    tails: Arc<Mutex<HashMap<(String, i32), u64>>>,
}

impl std::fmt::Debug for KafkaPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaPublisher")
            .field("brokers", &self.options.brokers)
            .finish_non_exhaustive()
    }
}

impl KafkaPublisher {
    /// A publisher to the brokers of `options`.
    pub fn new(options: KafkaOptions) -> Result<Self, TransportError> {
        Ok(KafkaPublisher {
            topics: Topics::new(&options)?,
            producer: Arc::new(Mutex::new(options.producer()?)),
            tails: Arc::new(Mutex::new(HashMap::new())),
            options,
        })
    }

    fn producer(&self) -> FutureProducer {
        self.producer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Drops the producer (and what it still queues) for a new one, and forgets the tails.
    fn restart(&self) {
        self.forget();
        match self.options.producer() {
            Ok(producer) => {
                let old = std::mem::replace(
                    &mut *self.producer.lock().unwrap_or_else(PoisonError::into_inner),
                    producer,
                );
                // Nothing queued by the old producer may be sent any more.
                old.purge(PurgeConfig::default().queue());
            }
            Err(error) => tracing::warn!(%error, "a new Kafka producer could not be made"),
        }
    }
}

fn owned_headers(headers: &Headers) -> OwnedHeaders {
    headers.iter().fold(
        OwnedHeaders::new_with_capacity(headers.len()),
        |all, (key, value)| {
            all.insert(Header {
                key,
                value: Some(value.as_str()),
            })
        },
    )
}

impl Publisher for KafkaPublisher {
    /// The event's name: its type without the last segment (`order.placed` → `order`).
    fn default_topic(&self, event_type: &str) -> String {
        match event_type.rsplit_once('.') {
            Some((name, _)) => name.to_owned(),
            None => event_type.to_owned(),
        }
    }

    async fn holds(&self, message: &Outgoing) -> Result<Option<bool>, TransportError> {
        let partitions = self.topics.partitions(&message.topic).await?;
        let partition = partition_for(message.key.as_bytes(), partitions);
        let key = (message.topic.clone(), partition);
        let known = self
            .tails
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .copied();
        let tail = match known {
            Some(tail) => tail,
            None => {
                let tail = self.topics.tail_position(&message.topic, partition).await?;
                self.tails
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(key, tail);
                tail
            }
        };
        Ok(Some(message.position <= tail))
    }

    async fn publish(&self, batch: &[Outgoing]) -> Result<Vec<Accepted>, TransportError> {
        let producer = self.producer();
        let mut pending = Vec::with_capacity(batch.len());
        for message in batch {
            let partitions = self.topics.partitions(&message.topic).await?;
            let partition = partition_for(message.key.as_bytes(), partitions);
            let failed = |error: String| TransportError::Publish {
                position: message.position,
                topic: message.topic.clone(),
                message: error,
            };
            let mut record = FutureRecord::to(&message.topic)
                .partition(partition)
                .key(message.key.as_bytes())
                .payload(message.payload.as_slice())
                .headers(owned_headers(&message.headers));
            let delivery = loop {
                match producer.send_result(record) {
                    Ok(delivery) => break delivery,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        record = back;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err((error, _)) => {
                        self.restart();
                        return Err(failed(error.to_string()));
                    }
                }
            };
            pending.push((message, partition, delivery));
        }
        let mut accepted = Vec::with_capacity(batch.len());
        let mut error = None;
        for (message, partition, delivery) in pending {
            let result = match delivery.await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err((failure, _))) => Err(failure.to_string()),
                Err(_) => Err("the producer was dropped".to_owned()),
            };
            match result {
                Ok(()) if error.is_none() => {
                    let mut tails = self.tails.lock().unwrap_or_else(PoisonError::into_inner);
                    let tail = tails.entry((message.topic.clone(), partition)).or_default();
                    *tail = (*tail).max(message.position);
                    accepted.push(Accepted::default());
                }
                Ok(()) => {}
                Err(failure) => {
                    error.get_or_insert(TransportError::Publish {
                        position: message.position,
                        topic: message.topic.clone(),
                        message: failure,
                    });
                }
            }
        }
        match error {
            None => Ok(accepted),
            Some(error) => {
                self.restart();
                Err(error)
            }
        }
    }

    fn max_in_flight(&self) -> Duration {
        self.options.message_timeout + Duration::from_millis(250)
    }

    fn forget(&self) {
        self.tails
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// A Kafka consumer-group member; see the [module documentation](self).
pub struct KafkaSubscriber {
    consumer: StreamConsumer,
    topics: Topics,
    dead_letters: FutureProducer,
}

impl std::fmt::Debug for KafkaSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSubscriber").finish_non_exhaustive()
    }
}

/// Where a fetched Kafka message is settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaReceipt {
    topic: String,
    partition: i32,
    offset: i64,
}

impl KafkaSubscriber {
    /// Joins consumer group `group` on `topics` (created when missing), with cooperative-sticky
    /// rebalancing; a new group starts at the earliest offsets.
    pub async fn join(
        options: KafkaOptions,
        group: &str,
        topics: &[&str],
    ) -> Result<Self, TransportError> {
        let known = Topics::new(&options)?;
        for topic in topics {
            known.partitions(topic).await?;
        }
        let mut config = options.client_config();
        config
            .set("group.id", group)
            .set("partition.assignment.strategy", "cooperative-sticky")
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "500")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "500");
        for (key, value) in &options.settings {
            config.set(key, value);
        }
        let consumer: StreamConsumer = config.create().map_err(broker_error)?;
        consumer.subscribe(topics).map_err(broker_error)?;
        Ok(KafkaSubscriber {
            consumer,
            topics: known,
            dead_letters: options.producer()?,
        })
    }
}

impl Subscriber for KafkaSubscriber {
    type Receipt = KafkaReceipt;

    async fn fetch(
        &self,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<(Incoming, KafkaReceipt)>, TransportError> {
        let mut messages = Vec::new();
        let mut wait = wait;
        while messages.len() < max.max(1) {
            let Ok(received) = tokio::time::timeout(wait, self.consumer.recv()).await else {
                break;
            };
            let message = received.map_err(broker_error)?;
            let headers = message
                .headers()
                .map(|headers| {
                    headers
                        .iter()
                        .filter_map(|header| {
                            let value = std::str::from_utf8(header.value?).ok()?;
                            Some((header.key.to_owned(), value.to_owned()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let incoming = Incoming {
                topic: message.topic().to_owned(),
                partition: message.partition(),
                sequence: u64::try_from(message.offset()).unwrap_or(0),
                attempt: 1,
                headers,
                key: message.key().map(<[u8]>::to_vec),
                payload: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
            };
            let receipt = KafkaReceipt {
                topic: incoming.topic.clone(),
                partition: incoming.partition,
                offset: message.offset(),
            };
            messages.push((incoming, receipt));
            // The rest of a batch is what is already buffered.
            wait = Duration::from_millis(1);
        }
        Ok(messages)
    }

    async fn settle(&self, receipt: KafkaReceipt, settle: Settle) -> Result<(), TransportError> {
        if settle != Settle::Done {
            return Ok(());
        }
        // A partition taken away meanwhile is not ours to commit: its new owner reads the
        // message again and the inbox drops it. `rd_kafka_offset_store` stores the offset
        // after the one it is given, so it is given the handled message's own offset.
        if let Err(error) =
            self.consumer
                .store_offset(&receipt.topic, receipt.partition, receipt.offset)
        {
            tracing::debug!(topic = %receipt.topic, partition = receipt.partition, %error, "offset not stored");
        }
        Ok(())
    }

    fn redelivers(&self) -> bool {
        false
    }

    async fn dead_letter(&self, message: &Incoming, error: &str) -> Result<(), TransportError> {
        let topic = format!("{}.dlq", message.topic);
        self.topics.partitions(&topic).await?;
        let mut headers = message.headers.clone();
        headers.insert(ERROR_HEADER.to_owned(), error.to_owned());
        let key = message.key.clone().unwrap_or_default();
        let mut record = FutureRecord::to(&topic)
            .payload(message.payload.as_slice())
            .headers(owned_headers(&headers));
        if !key.is_empty() {
            record = record.key(key.as_slice());
        }
        match self.dead_letters.send(record, Duration::from_secs(5)).await {
            Ok(_) => Ok(()),
            Err((failure, _)) => Err(TransportError::Publish {
                position: message.sequence,
                topic,
                message: failure.to_string(),
            }),
        }
    }
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
