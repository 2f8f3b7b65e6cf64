//! The Kafka-protocol broker the tests talk to (Tansu, started by `scripts/test`), and reading
//! a whole topic back as a consumer outside any group would.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers as _, Message};
use rdkafka::{Offset, TopicPartitionList};

/// The machine's Kafka-protocol broker.
pub const KAFKA_BROKERS: &str = "127.0.0.1:9092";

/// The librdkafka settings of every producer the tests run against Tansu 0.6.0: one record
/// per record batch. Tansu's fetch from an offset inside a batch of several records skips
/// to the next batch (from inside the partition's last batch it returns nothing), so a
/// consumer group resuming at a committed offset there would miss messages; and the high
/// watermark it lists is the last batch's base offset + 1. With one record per batch every
/// offset starts a batch. Kafka needs neither (README, "The test broker").
pub const TANSU_PRODUCER_SETTINGS: &[(&str, &str)] = &[("batch.num.messages", "1")];

/// [`KAFKA_BROKERS`] as the examples' `--broker` URL, with [`TANSU_PRODUCER_SETTINGS`].
pub const KAFKA_URL: &str = "kafka://127.0.0.1:9092?batch.num.messages=1";

/// Fails the test with a clear message when nothing listens on [`KAFKA_BROKERS`].
pub fn kafka_required() {
    assert!(
        std::net::TcpStream::connect(KAFKA_BROKERS).is_ok(),
        "a Kafka-protocol broker is required at {KAFKA_BROKERS}: run `scripts/kafka` (Tansu) \
         or scripts/test; this test never skips"
    );
}

/// One message read back from a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMessage {
    /// Its partition.
    pub partition: i32,
    /// Its offset in the partition.
    pub offset: i64,
    /// Its key, as text.
    pub key: Option<String>,
    /// Its headers (first value of each, as text).
    pub headers: BTreeMap<String, String>,
    /// Its value.
    pub payload: Vec<u8>,
}

impl TopicMessage {
    /// A header's value, or "".
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

/// Every message of `topic` on [`KAFKA_BROKERS`], partition by partition in offset order.
pub fn read_topic(topic: &str) -> Vec<TopicMessage> {
    read_topic_from(KAFKA_BROKERS, topic)
}

/// Every message of `topic` on `brokers`, partition by partition in offset order.
///
/// Each partition is read to its end as the fetch reports it (partition EOF): Tansu 0.6.0
/// lists a high watermark short of its last record batch's other records, so the listed one
/// only tells an empty partition from one with messages.
pub fn read_topic_from(brokers: &str, topic: &str) -> Vec<TopicMessage> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "herald-test-reader")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .create()
        .unwrap_or_else(|error| panic!("a Kafka client for {brokers}: {error}"));
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap_or_else(|error| panic!("metadata of `{topic}`: {error}"));
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    let mut assignment = TopicPartitionList::new();
    let mut reading = std::collections::BTreeSet::new();
    for &partition in &partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, partition, Duration::from_secs(10))
            .unwrap_or_else(|error| panic!("watermarks of {topic}/{partition}: {error}"));
        if high > low {
            reading.insert(partition);
            assignment
                .add_partition_offset(topic, partition, Offset::Offset(low))
                .unwrap();
        }
    }
    let mut messages = Vec::new();
    if reading.is_empty() {
        return messages;
    }
    consumer.assign(&assignment).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !reading.is_empty() {
        assert!(
            Instant::now() < deadline,
            "reading `{topic}` timed out: partitions {reading:?} did not end"
        );
        let message = match consumer.poll(Duration::from_millis(500)) {
            None => continue,
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                reading.remove(&partition);
                continue;
            }
            Some(message) => message.unwrap_or_else(|error| panic!("reading `{topic}`: {error}")),
        };
        let headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|header| {
                        let value = header
                            .value
                            .map(String::from_utf8_lossy)
                            .unwrap_or_default();
                        (header.key.to_owned(), value.into_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        messages.push(TopicMessage {
            partition: message.partition(),
            offset: message.offset(),
            key: message
                .key()
                .map(|key| String::from_utf8_lossy(key).into_owned()),
            headers,
            payload: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
        });
    }
    messages.sort_by_key(|message| (message.partition, message.offset));
    messages
}
