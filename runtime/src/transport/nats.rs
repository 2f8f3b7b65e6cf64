//! NATS JetStream behind the [transport seam](super).
//!
//! [`NatsPublisher`] publishes each message to its subject with the event id as
//! `Nats-Msg-Id` and awaits each acknowledgement before the next publish, so the stream holds
//! events in position order; JetStream's duplicate window (two minutes by default) drops a
//! re-send after a crash or a takeover. JetStream cannot say which events it already holds,
//! so a new relay leader re-sends from the relay's checkpoint and relies on that window.
//!
//! [`NatsSubscriber`] pulls from a durable consumer with explicit acks; a failed message is
//! nak'ed with a delay and JetStream delivers it again.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::message::AckKind;
use async_nats::jetstream::{Context, Message};
use bytes::Bytes;
use futures_util::StreamExt;

use super::{Accepted, Headers, Incoming, Outgoing, Publisher, Settle, Subscriber, TransportError};

/// The header JetStream deduplicates on (`Nats-Msg-Id`).
pub const MSG_ID_HEADER: async_nats::header::HeaderName = async_nats::header::NATS_MESSAGE_ID;

fn broker_error(error: impl std::fmt::Display) -> TransportError {
    TransportError::Broker {
        broker: "JetStream",
        message: error.to_string(),
    }
}

/// Publishes to JetStream subjects `<prefix>.<event type>`.
#[derive(Debug, Clone)]
pub struct NatsPublisher {
    jetstream: Context,
    prefix: String,
}

impl NatsPublisher {
    /// A publisher whose default subjects are `<prefix>.<event type>`.
    pub fn new(jetstream: Context, prefix: impl Into<String>) -> Self {
        NatsPublisher {
            jetstream,
            prefix: prefix.into(),
        }
    }

    async fn publish_one(&self, message: &Outgoing) -> Result<Accepted, TransportError> {
        let mut headers = HeaderMap::new();
        headers.insert(MSG_ID_HEADER, message.id.as_str());
        for (name, value) in &message.headers {
            headers.insert(name.as_str(), value.as_str());
        }
        let failed = |error: String| TransportError::Publish {
            position: message.position,
            topic: message.topic.clone(),
            message: error,
        };
        let ack = self
            .jetstream
            .publish_with_headers(
                message.topic.clone(),
                headers,
                Bytes::from(message.payload.clone()),
            )
            .await
            .map_err(|error| failed(error.to_string()))?
            .await
            .map_err(|error| failed(error.to_string()))?;
        Ok(Accepted {
            duplicate: ack.duplicate,
        })
    }
}

impl Publisher for NatsPublisher {
    fn default_topic(&self, event_type: &str) -> String {
        format!("{}.{event_type}", self.prefix)
    }

    async fn holds(&self, _message: &Outgoing) -> Result<Option<bool>, TransportError> {
        Ok(None)
    }

    /// Each message's acknowledgement is awaited before the next is sent (so the stream
    /// keeps position order): the acks are in by the time the batch is handed over.
    type Acks = std::future::Ready<Result<Vec<Accepted>, TransportError>>;

    async fn send(&self, batch: &[Outgoing]) -> Result<Self::Acks, TransportError> {
        let mut accepted = Vec::with_capacity(batch.len());
        for message in batch {
            accepted.push(self.publish_one(message).await?);
        }
        Ok(std::future::ready(Ok(accepted)))
    }

    fn max_in_flight(&self) -> Duration {
        // Each publish is awaited; a stale leader's re-send is a duplicate JetStream drops.
        Duration::ZERO
    }

    fn forget(&self) {}
}

/// How a [`NatsSubscriber`] binds its durable consumer.
#[derive(Debug, Clone)]
pub struct NatsOptions {
    /// How long JetStream waits for an ack before delivering a message again.
    pub ack_wait: Duration,
    /// Only messages on this subject (wildcards allowed); all of the stream's when `None`.
    pub filter_subject: Option<String>,
}

impl Default for NatsOptions {
    fn default() -> Self {
        NatsOptions {
            ack_wait: Duration::from_secs(30),
            filter_subject: None,
        }
    }
}

/// A durable JetStream pull consumer; replicas binding the same name share it.
#[derive(Debug)]
pub struct NatsSubscriber {
    consumer: PullConsumer,
}

impl NatsSubscriber {
    /// Binds to the durable pull consumer `name` of stream `stream`, created with explicit
    /// acks when missing.
    pub async fn bind(
        jetstream: &Context,
        stream: &str,
        name: &str,
        options: NatsOptions,
    ) -> Result<Self, TransportError> {
        let stream = jetstream.get_stream(stream).await.map_err(broker_error)?;
        let config = pull::Config {
            durable_name: Some(name.to_owned()),
            ack_policy: AckPolicy::Explicit,
            ack_wait: options.ack_wait,
            filter_subject: options.filter_subject.unwrap_or_default(),
            ..Default::default()
        };
        let consumer = stream
            .get_or_create_consumer(name, config)
            .await
            .map_err(broker_error)?;
        Ok(NatsSubscriber { consumer })
    }
}

impl Subscriber for NatsSubscriber {
    type Receipt = Message;

    fn redelivers(&self) -> bool {
        true
    }

    async fn fetch(
        &self,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<(Incoming, Message)>, TransportError> {
        let mut batch = self
            .consumer
            .batch()
            .max_messages(max.max(1))
            .expires(wait)
            .messages()
            .await
            .map_err(broker_error)?;
        let mut messages = Vec::new();
        while let Some(message) = batch.next().await {
            let message = message.map_err(broker_error)?;
            let (sequence, attempt) = match message.info() {
                Ok(info) => (
                    info.stream_sequence,
                    u64::try_from(info.delivered).unwrap_or(1).max(1),
                ),
                Err(error) => {
                    return Err(broker_error(format!("not a JetStream message: {error}")));
                }
            };
            let incoming = Incoming {
                topic: message.subject.to_string(),
                partition: 0,
                sequence,
                attempt,
                headers: headers_of(&message),
                key: None,
                payload: message.payload.to_vec(),
            };
            messages.push((incoming, message));
        }
        Ok(messages)
    }

    async fn settle(&self, receipt: Message, settle: Settle) -> Result<(), TransportError> {
        let kind = match settle {
            Settle::Done => AckKind::Ack,
            Settle::Retry(delay) => AckKind::Nak(Some(delay)),
        };
        receipt.ack_with(kind).await.map_err(broker_error)
    }

    async fn dead_letter(&self, _message: &Incoming, _error: &str) -> Result<(), TransportError> {
        Ok(())
    }
}

/// A message's headers, first value of each.
fn headers_of(message: &Message) -> Headers {
    let mut headers = Headers::new();
    if let Some(map) = &message.headers {
        for (name, values) in map.iter() {
            if let Some(value) = values.first() {
                headers.insert(name.to_string(), value.to_string());
            }
        }
    }
    headers
}
