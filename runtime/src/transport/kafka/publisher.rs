//! [`KafkaPublisher`]: the relay's side of Kafka.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer, PurgeConfig};

use super::topics::Topics;
use super::{KafkaOptions, partition_for};
use crate::transport::{Accepted, Headers, Outgoing, Publisher, TransportError};

/// Publishes to Kafka: key = stream id, Java-compatible partitions, an idempotent producer,
/// tails read back for [`Publisher::holds`]; see the [module documentation](super).
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

impl KafkaPublisher {
    /// Awaits the deliveries of one sent batch, in order, and records each partition's new
    /// tail; on the first failure the producer is replaced (what it still queues is
    /// purged) and the error returned.
    async fn acks(
        &self,
        pending: Vec<(String, i32, u64, DeliveryFuture)>,
    ) -> Result<Vec<Accepted>, TransportError> {
        let mut accepted = Vec::with_capacity(pending.len());
        for (topic, partition, position, delivery) in pending {
            let failure = match delivery.await {
                Ok(Ok(_)) => None,
                Ok(Err((failure, _))) => Some(failure.to_string()),
                Err(_) => Some("the producer was dropped".to_owned()),
            };
            if let Some(message) = failure {
                self.restart();
                return Err(TransportError::Publish {
                    position,
                    topic,
                    message,
                });
            }
            let mut tails = self.tails.lock().unwrap_or_else(PoisonError::into_inner);
            let tail = tails.entry((topic, partition)).or_default();
            *tail = (*tail).max(position);
            accepted.push(Accepted::default());
        }
        Ok(accepted)
    }
}

pub(super) fn owned_headers(headers: &Headers) -> OwnedHeaders {
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

    type Acks = Pin<Box<dyn Future<Output = Result<Vec<Accepted>, TransportError>> + Send>>;

    async fn send(&self, batch: &[Outgoing]) -> Result<Self::Acks, TransportError> {
        let producer = self.producer();
        let mut pending = Vec::with_capacity(batch.len());
        for message in batch {
            let partitions = self.topics.partitions(&message.topic).await?;
            let partition = partition_for(message.key.as_bytes(), partitions);
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
                        return Err(TransportError::Publish {
                            position: message.position,
                            topic: message.topic.clone(),
                            message: error.to_string(),
                        });
                    }
                }
            };
            pending.push((message.topic.clone(), partition, message.position, delivery));
        }
        let this = self.clone();
        Ok(Box::pin(async move { this.acks(pending).await }))
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
