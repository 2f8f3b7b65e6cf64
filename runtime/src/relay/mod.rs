//! The outbox relay: publishes committed events, in position order, to a broker.
//!
//! The relay reads the store's log after its checkpoint and publishes each event through a
//! [`Publisher`] (NATS JetStream or Kafka, see [`crate::transport`]): to a topic per event
//! (the publisher's default, `<prefix>.<event type>` on JetStream and the event's name on
//! Kafka, or [`Relay::with_topic`]), keyed by its stream id so one aggregate's events keep
//! their order, with headers carrying the event id, type, schema version, stream, stream
//! version, global position, correlation and causation ids and the `traceparent` found in
//! the event's metadata. Up to [`Relay::pipeline`] batches are in flight at once: the next
//! batch is read and handed to the broker while earlier ones wait for their acks, and the
//! checkpoint moves over a batch only once every message of it and of the batches before it
//! was acknowledged.
//!
//! **Several replicas.** [`Relay::run_leased`] publishes only while this replica holds the
//! relay's [lease](crate::lease) (named like its checkpoint). The protocol, written once for
//! every broker:
//!
//! 1. On taking the lease, the publisher forgets what it knew of the broker.
//! 2. For each event after the checkpoint, the publisher is asked whether the broker already
//!    holds it ([`Publisher::holds`]); events it holds are skipped, so a new leader resumes
//!    from what the broker acknowledged. A broker that cannot tell (JetStream) gets them
//!    again and drops them in its duplicate window.
//! 3. A batch is sent only while the lease has at least [`Publisher::max_in_flight`] left,
//!    so nothing this replica sends lands after another one took over.
//! 4. The checkpoint is written fenced by the lease's token: a replica that stalled and lost
//!    its lease cannot move it.
//! 5. A broker error (refused, timed out, unreachable) is not fatal: the publisher forgets
//!    what it knew, the relay waits (with backoff, and at least the in-flight bound) and
//!    goes on from its checkpoint; the lag shows in [`crate::status`] meanwhile.
//!
//! What each failure (crash before or after a send, a stall across the lease expiry, a
//! timeout with an unknown outcome) does on Kafka is written out in
//! [`crate::transport::kafka`].
//!
//! Payloads can be framed in the Confluent wire format ([`ConfluentFraming`]): a zero byte,
//! the schema's registry id as a big-endian `u32`, then the payload, preceded by its union
//! branch when the id names an Avro union (see [`crate::wire`], which also splits Protobuf
//! messages with their message indexes).

mod framing;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::backoff::Backoff;
use crate::envelope::RecordedEvent;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::lease::{Ended, Lease, LeaseError, Leases};
use crate::projection::{CheckpointStore, Lag, lag};
use crate::store::{EventStore, StoreError};
use crate::transport::{
    Accepted, CAUSATION_ID_HEADER, CORRELATION_ID_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER,
    Headers, Outgoing, POSITION_HEADER, Publisher, SCHEMA_VERSION_HEADER, STREAM_ID_HEADER,
    STREAM_VERSION_HEADER, TRACEPARENT_HEADER, TransportError,
};

pub use framing::ConfluentFraming;

/// Why the relay stopped.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The broker refused, failed or did not acknowledge a publish.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// Confluent framing is on and no registry id is known for the event.
    #[error("no registry schema id for `{event_type}` version {schema_version}")]
    NoSchemaId {
        /// The event type.
        event_type: String,
        /// The schema version.
        schema_version: u32,
    },
    /// A data-contract rule of the event's registered schema failed (encryption, a missing
    /// key, ...).
    #[cfg(feature = "contract")]
    #[error(transparent)]
    Rule(#[from] crate::contract::RuleError),
    /// The lease failed, or was lost by a relay that wanted to publish or commit.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[error(transparent)]
    Lease(#[from] LeaseError),
}

/// Counts of one or more published batches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Events sent to the broker (including duplicates).
    pub published: u64,
    /// Sends the broker recognised as duplicates (JetStream's re-sends after a crash).
    pub duplicates: u64,
    /// Events not sent because the broker already held them (Kafka, after a takeover).
    pub skipped: u64,
    /// The last position published or skipped, 0 if none.
    pub last_position: u64,
}

impl RelayStats {
    fn add(&mut self, other: RelayStats) {
        self.published += other.published;
        self.duplicates += other.duplicates;
        self.skipped += other.skipped;
        self.last_position = self.last_position.max(other.last_position);
    }
}

/// One batch handed to the broker: its acks to come (none when the broker held all of it)
/// and its counts.
struct InFlight<A> {
    acks: Option<A>,
    stats: RelayStats,
}

impl<A: Future<Output = Result<Vec<Accepted>, TransportError>>> InFlight<A> {
    /// Waits for the batch's acks; its counts with the duplicates the broker reported.
    async fn landed(self) -> Result<RelayStats, RelayError> {
        let mut stats = self.stats;
        if let Some(acks) = self.acks {
            stats.duplicates = acks.await?.iter().filter(|a| a.duplicate).count() as u64;
        }
        Ok(stats)
    }
}

/// A shutdown future that stays complete once it completed, so that it can be asked again
/// (a finished `async` block may not be polled twice).
struct Latch<F> {
    inner: Option<Pin<Box<F>>>,
}

impl<F: Future<Output = ()>> Latch<F> {
    fn new(shutdown: F) -> Self {
        Latch {
            inner: Some(Box::pin(shutdown)),
        }
    }

    /// Whether it has completed, without waiting.
    async fn completed(&mut self) -> bool {
        std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *self).poll(cx).is_ready())).await
    }
}

impl<F: Future<Output = ()>> Future for Latch<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(());
        };
        if inner.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.inner = None;
        Poll::Ready(())
    }
}

/// Where an event of a given type is published.
type TopicOf = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// Publishes a store's events to a broker; see the [module documentation](self).
#[derive(Clone)]
pub struct Relay<S, P> {
    store: S,
    publisher: P,
    name: String,
    topic: Option<TopicOf>,
    batch_size: usize,
    pipeline: usize,
    framing: Option<ConfluentFraming>,
    #[cfg(feature = "contract")]
    contract: Option<Arc<crate::contract::Contract>>,
    backoff: Backoff,
}

impl<S: std::fmt::Debug, P: std::fmt::Debug> std::fmt::Debug for Relay<S, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("store", &self.store)
            .field("publisher", &self.publisher)
            .field("name", &self.name)
            .field("batch_size", &self.batch_size)
            .field("pipeline", &self.pipeline)
            .finish_non_exhaustive()
    }
}

impl<S: EventStore + CheckpointStore, P: Publisher> Relay<S, P> {
    /// A relay named `name` (its checkpoint's and its lease's name) publishing through
    /// `publisher`.
    pub fn new(store: S, publisher: P, name: impl Into<String>) -> Self {
        Relay {
            store,
            publisher,
            name: name.into(),
            topic: None,
            batch_size: 500,
            pipeline: 4,
            framing: None,
            #[cfg(feature = "contract")]
            contract: None,
            backoff: Backoff {
                initial: Duration::from_millis(200),
                max: Duration::from_secs(5),
            },
        }
    }

    /// Sets how many events are published between checkpoints.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Sets how many batches may be in flight at once (4 by default; 1 awaits each batch's
    /// acks before the next is read). The checkpoint still moves only over batches whose
    /// every message was acknowledged, in order; more in flight hides the broker's round
    /// trip behind reading and sending the next batches.
    pub fn pipeline(mut self, batches: usize) -> Self {
        self.pipeline = batches.max(1);
        self
    }

    /// Publishes each event to the topic `topic` gives for its event type, instead of the
    /// publisher's default.
    pub fn with_topic(mut self, topic: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        self.topic = Some(Arc::new(topic));
        self
    }

    /// Frames payloads in the Confluent wire format with these registry ids.
    pub fn with_confluent_framing(mut self, framing: ConfluentFraming) -> Self {
        self.framing = Some(framing);
        self
    }

    /// Runs the data-contract rules of the registered schemas the framing names (encrypting
    /// the fields Confluent's `ENCRYPT` rules select) on each framed payload, in write mode,
    /// with `contract`. The rules see the subject `<topic>-value`, Confluent's default subject
    /// name, so that Confluent's deserializers of the topic find the same DEKs. Needs
    /// [`Relay::with_confluent_framing`]; an unframed payload is published as it is.
    #[cfg(feature = "contract")]
    pub fn with_contract(mut self, contract: Arc<crate::contract::Contract>) -> Self {
        self.contract = Some(contract);
        self
    }

    /// The payload of `message` after the contract's write rules, when there is a contract
    /// and the payload is framed.
    #[cfg(feature = "contract")]
    async fn apply_contract(&self, message: &mut Outgoing) -> Result<(), RelayError> {
        let Some(contract) = &self.contract else {
            return Ok(());
        };
        let Ok((id, body)) = crate::wire::unframe(&message.payload) else {
            return Ok(());
        };
        let schema = contract.schema(id).await?;
        if !schema.has_rules(crate::contract::Mode::Write) {
            return Ok(());
        }
        let subject = format!("{}-value", message.topic);
        let body = contract
            .run_with(
                crate::contract::Mode::Write,
                &subject,
                &schema,
                body.to_vec(),
            )
            .await?;
        message.payload = crate::wire::frame(id, &body);
        Ok(())
    }

    /// How long the relay waits after a broker error before it tries again (at least the
    /// publisher's in-flight bound).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The topic (or subject) an event is published to.
    pub fn topic(&self, event: &RecordedEvent) -> String {
        match &self.topic {
            Some(topic) => topic(&event.event_type),
            None => self.publisher.default_topic(&event.event_type),
        }
    }

    /// The publisher.
    pub fn publisher(&self) -> &P {
        &self.publisher
    }

    /// The relay's checkpoint.
    pub async fn checkpoint(&self) -> Result<u64, StoreError> {
        self.store.load_checkpoint(&self.name).await
    }

    /// The relay's lag.
    pub async fn lag(&self) -> Result<Lag, StoreError> {
        lag(&self.store, self.checkpoint().await?).await
    }

    /// The relay's checkpoint name, also the name of its lease.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Publishes the next batch after the checkpoint without saving the checkpoint; call
    /// [`Relay::commit`] with the returned `last_position` afterwards.
    pub async fn publish_batch(&self) -> Result<RelayStats, RelayError> {
        self.publish_checked(|_| Ok(true)).await
    }

    /// The message an event is published as.
    pub fn outgoing(&self, event: &RecordedEvent) -> Result<Outgoing, RelayError> {
        let mut headers = Headers::new();
        let mut header = |name: &str, value: String| headers.insert(name.to_owned(), value);
        header(EVENT_ID_HEADER, event.event_id.to_string());
        header(EVENT_TYPE_HEADER, event.event_type.clone());
        header(SCHEMA_VERSION_HEADER, event.schema_version.to_string());
        header(STREAM_ID_HEADER, event.stream_id.clone());
        header(STREAM_VERSION_HEADER, event.stream_version.to_string());
        header(POSITION_HEADER, event.position.to_string());
        header(CORRELATION_ID_HEADER, event.correlation_id.to_string());
        if let Some(causation) = event.causation_id {
            header(CAUSATION_ID_HEADER, causation.to_string());
        }
        if let Some(traceparent) = event
            .metadata
            .get(TRACEPARENT_HEADER)
            .and_then(|value| value.as_str())
        {
            header(TRACEPARENT_HEADER, traceparent.to_owned());
        }
        let payload = match &self.framing {
            None => event.payload.clone(),
            Some(framing) => framing
                .frame_event(&event.event_type, event.schema_version, &event.payload)
                .ok_or_else(|| RelayError::NoSchemaId {
                    event_type: event.event_type.clone(),
                    schema_version: event.schema_version,
                })?,
        };
        Ok(Outgoing {
            id: event.event_id.to_string(),
            topic: self.topic(event),
            key: event.stream_id.clone(),
            position: event.position,
            headers,
            payload,
        })
    }

    /// Sends the batch after position `after` (skipping what the broker already holds),
    /// asking `ready` with the publisher's in-flight bound first: `true` sends, `false`
    /// waits a moment and asks again, an error ends. `None` when there is nothing after
    /// `after`.
    async fn send_after(
        &self,
        after: u64,
        ready: &impl Fn(Duration) -> Result<bool, RelayError>,
    ) -> Result<Option<InFlight<P::Acks>>, RelayError> {
        let events = self.store.read_all(after + 1, self.batch_size).await?;
        let Some(last) = events.last() else {
            return Ok(None);
        };
        let mut stats = RelayStats {
            last_position: last.position,
            ..RelayStats::default()
        };
        let mut batch = Vec::with_capacity(events.len());
        for event in &events {
            #[cfg_attr(not(feature = "contract"), allow(unused_mut))]
            let mut message = self.outgoing(event)?;
            #[cfg(feature = "contract")]
            self.apply_contract(&mut message).await?;
            if self.publisher.holds(&message).await? == Some(true) {
                stats.skipped += 1;
            } else {
                batch.push(message);
            }
        }
        let acks = if batch.is_empty() {
            None
        } else {
            while !ready(self.publisher.max_in_flight())? {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            stats.published = batch.len() as u64;
            Some(self.publisher.send(&batch).await?)
        };
        Ok(Some(InFlight { acks, stats }))
    }

    /// [`Relay::publish_batch`] with a `ready` check.
    async fn publish_checked(
        &self,
        ready: impl Fn(Duration) -> Result<bool, RelayError>,
    ) -> Result<RelayStats, RelayError> {
        match self.send_after(self.checkpoint().await?, &ready).await? {
            None => Ok(RelayStats::default()),
            Some(sent) => sent.landed().await,
        }
    }

    /// Publishes everything after the checkpoint up to the end of the log (and what is
    /// appended meanwhile), keeping up to [`Relay::pipeline`] batches in flight and calling
    /// `commit` with each batch's last position once its acks are in, in order. Once
    /// `shutdown` completes no further batch is sent; those in flight are still committed.
    /// What was committed is added to `total` as it is, so it counts even when a later batch
    /// fails.
    async fn pump<F>(
        &self,
        ready: &impl Fn(Duration) -> Result<bool, RelayError>,
        commit: &impl Fn(u64) -> F,
        shutdown: &mut Latch<impl Future<Output = ()>>,
        total: &mut RelayStats,
    ) -> Result<(), RelayError>
    where
        F: Future<Output = Result<(), RelayError>>,
    {
        let mut sent_through = self.checkpoint().await?;
        let mut in_flight = VecDeque::with_capacity(self.pipeline);
        let mut ended = false;
        loop {
            while !ended && in_flight.len() < self.pipeline {
                ended = shutdown.completed().await;
                if !ended {
                    match self.send_after(sent_through, ready).await? {
                        Some(sent) => {
                            sent_through = sent.stats.last_position;
                            in_flight.push_back(sent);
                        }
                        None => ended = true,
                    }
                }
            }
            let Some(oldest) = in_flight.pop_front() else {
                return Ok(());
            };
            let stats = oldest.landed().await?;
            commit(stats.last_position).await?;
            total.add(stats);
        }
    }

    /// Publishes everything after the checkpoint, saving the checkpoint as batches are
    /// acknowledged, until caught up with the log; see [`Relay::pipeline`].
    pub async fn catch_up(&self) -> Result<RelayStats, RelayError> {
        let mut total = RelayStats::default();
        self.pump(
            &|_| Ok(true),
            &|position| async move { Ok(self.commit(position).await?) },
            &mut Latch::new(std::future::pending()),
            &mut total,
        )
        .await?;
        Ok(total)
    }

    /// Saves the checkpoint after a published batch.
    pub async fn commit(&self, position: u64) -> Result<(), StoreError> {
        self.store.save_checkpoint(&self.name, position).await
    }

    /// Publishes the next batch and saves the checkpoint.
    pub async fn run_batch(&self) -> Result<RelayStats, RelayError> {
        let stats = self.publish_batch().await?;
        if stats.last_position > 0 {
            self.commit(stats.last_position).await?;
        }
        Ok(stats)
    }

    /// After a broker error (`failures` counts them in a row): logs it, forgets what the
    /// publisher knew of the broker, and gives the wait before the next try (at least the
    /// in-flight bound, so that whatever was still in flight has landed or failed).
    fn after_error(&self, error: &TransportError, failures: &mut u64) -> Duration {
        *failures += 1;
        let failures = *failures;
        tracing::warn!(relay = %self.name, %error, failures, "publishing failed; retrying");
        self.publisher.forget();
        self.backoff
            .delay(failures)
            .max(self.publisher.max_in_flight())
    }

    /// Relays until `shutdown` completes, polling every `poll_interval` when caught up. A
    /// broker error is logged and retried with backoff.
    pub async fn run(
        &self,
        poll_interval: Duration,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<RelayStats, RelayError> {
        let mut total = RelayStats::default();
        self.relay_until(
            |_| Ok(true),
            |position| async move { Ok(self.commit(position).await?) },
            poll_interval,
            &mut Latch::new(shutdown),
            &mut total,
        )
        .await?;
        Ok(total)
    }

    /// [`Relay::pump`] until `shutdown` completes, waiting `poll_interval` whenever caught up
    /// and backing off after a broker error; any other error ends it.
    async fn relay_until<F>(
        &self,
        ready: impl Fn(Duration) -> Result<bool, RelayError>,
        commit: impl Fn(u64) -> F,
        poll_interval: Duration,
        shutdown: &mut Latch<impl Future<Output = ()>>,
        total: &mut RelayStats,
    ) -> Result<(), RelayError>
    where
        F: Future<Output = Result<(), RelayError>>,
    {
        let mut failures = 0;
        loop {
            let wait = match self.pump(&ready, &commit, shutdown, total).await {
                Ok(()) => {
                    failures = 0;
                    poll_interval
                }
                Err(RelayError::Transport(error)) => self.after_error(&error, &mut failures),
                Err(error) => return Err(error),
            };
            tokio::select! {
                biased;
                () = &mut *shutdown => return Ok(()),
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Relays while `lease` (named [`Relay::name`]) is held, each checkpoint fenced by it;
    /// returns [`Ended::Lost`] once it is lost and [`Ended::Shutdown`] when `shutdown`
    /// completes, with what was published. A broker error is logged and retried with
    /// backoff.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub async fn run_held(
        &self,
        lease: &Lease,
        poll_interval: Duration,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(Ended, RelayStats), RelayError> {
        // Another replica may have published since this one last held the lease.
        self.publisher.forget();
        let mut total = RelayStats::default();
        let relayed = self
            .relay_until(
                |in_flight| {
                    // Lost: stop. Held, but not for long enough: wait for the next renewal.
                    lease.check()?;
                    Ok(lease.check_for(in_flight).is_ok())
                },
                |position| async move {
                    lease.check()?;
                    Ok(lease.fence().save_checkpoint(position).await?)
                },
                poll_interval,
                &mut Latch::new(shutdown),
                &mut total,
            )
            .await;
        match relayed {
            Ok(()) => Ok((Ended::Shutdown, total)),
            Err(RelayError::Lease(LeaseError::Lost { .. })) => Ok((Ended::Lost, total)),
            Err(error) => Err(error),
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
        let mut shutdown = Latch::new(shutdown);
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
            total.add(stats);
            match ended {
                Ended::Lost | Ended::Yielded => tracing::warn!(relay = %self.name, "lease lost"),
                Ended::Shutdown => {
                    lease.release().await?;
                    return Ok(total);
                }
            }
        }
    }
}
