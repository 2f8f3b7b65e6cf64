//! [`KafkaSubscriber`]: a consumer-group member, the consumer's side of Kafka.

use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers as _, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};

use super::publisher::owned_headers;
use super::topics::Topics;
use super::{ERROR_HEADER, KafkaOptions, broker_error};
use crate::transport::{Incoming, Settle, Subscriber, TransportError};

/// A Kafka consumer-group member; see the [module documentation](super).
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
