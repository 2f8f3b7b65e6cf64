//! Topics as the publisher and the subscriber see them: partition counts (a topic created
//! when missing) and the last Herald position at the tail of a partition.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Headers as _, Message};
use rdkafka::{Offset, TopicPartitionList};

use super::{KafkaOptions, blocking, broker_error};
use crate::transport::{POSITION_HEADER, TransportError};

/// Topics: their partition counts, created when missing.
#[derive(Clone)]
pub(super) struct Topics {
    options: KafkaOptions,
    admin: Arc<AdminClient<DefaultClientContext>>,
    /// A consumer outside any group, for metadata and reading partition tails.
    reader: Arc<Mutex<BaseConsumer>>,
    partitions: Arc<Mutex<HashMap<String, i32>>>,
}

impl Topics {
    pub(super) fn new(options: &KafkaOptions) -> Result<Self, TransportError> {
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
    pub(super) async fn partitions(&self, topic: &str) -> Result<i32, TransportError> {
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
    pub(super) async fn tail_position(
        &self,
        topic: &str,
        partition: i32,
    ) -> Result<u64, TransportError> {
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
