//! Consuming another service's events from NATS JetStream: the other end of the relay.
//!
//! A [`Consumer`] pulls from a durable JetStream consumer, reads each message into the
//! current version of its [`Handler`]'s event (the writer's schema resolved by registry id
//! and upcast through the derive chain, see [`MessageError`] for what can go wrong), and
//! runs the handler inside a SQL transaction (SQLite or PostgreSQL) that also inserts the
//! message's inbox row, keyed by its event id. Only after the commit is the message acked.
//!
//! - **A redelivered message has no second effect.** JetStream delivers at least once (a
//!   consumer killed between commit and ack gets the message again); the inbox row, written
//!   in the same transaction as the effects, makes the second delivery a no-op.
//! - **Failures are retried with backoff**: the message is nak'ed with a delay
//!   ([`Backoff`]); after [`ConsumerOptions::max_attempts`] deliveries it is stored with its
//!   error as a [`DeadLetter`] (with its inbox row, in one transaction) and acked, so a
//!   poison message does not block the messages behind it. Dead letters are listed with
//!   [`Consumer::dead_letters`] and replayed with [`Consumer::replay`], which runs the
//!   handler and deletes the dead letter in one transaction.
//! - **Several replicas share one durable consumer**: JetStream hands each message to one
//!   of them, and the inbox row settles a message redelivered to another replica while the
//!   first one was still working on it.
//! - **Order** is the stream's while nothing fails; a message waiting for its retry (or
//!   dead-lettered) is overtaken by the ones after it.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use herald::consumer::{Consumer, ConsumerOptions, Handler, Received};
//! use herald::projection::HandlerError;
//! use herald::registry_client::RegistryClient;
//! # #[derive(herald::Event, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
//! # #[event(name = "order", version = 1)]
//! # enum OrderEvent { Placed { order_id: String } }
//!
//! struct Billing;
//!
//! impl Handler<sqlx::Sqlite> for Billing {
//!     type Event = OrderEvent;
//!
//!     async fn handle(
//!         &self,
//!         connection: &mut sqlx::SqliteConnection,
//!         message: &Received<OrderEvent>,
//!     ) -> Result<(), HandlerError> {
//!         let OrderEvent::Placed { order_id } = &message.event;
//!         sqlx::query("INSERT INTO invoices (order_id) VALUES ($1)")
//!             .bind(order_id)
//!             .execute(&mut *connection)
//!             .await?;
//!         Ok(())
//!     }
//! }
//!
//! let pool = sqlx::SqlitePool::connect("sqlite://billing.db").await?;
//! let jetstream = async_nats::jetstream::new(async_nats::connect("127.0.0.1:4222").await?);
//! let consumer = Consumer::bind(&jetstream, "ORDERS", "billing", pool, Billing, ConsumerOptions::default())
//!     .await?
//!     .with_registry(RegistryClient::new("http://127.0.0.1:8081")?);
//! consumer.run(std::future::pending()).await?;
//! # Ok(())
//! # }
//! ```

mod dead_letter;
mod decode;
mod inbox;
mod retry;

use std::future::Future;
use std::time::{Duration, SystemTime};

use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::message::AckKind;
use async_nats::jetstream::{Context, Message};
use futures_util::StreamExt;
use sqlx::{Database, Pool};

use crate::event::Event;
use crate::projection::HandlerError;
use crate::registry_client::RegistryClient;
use crate::store::{StoreError, is_event_of};

pub use dead_letter::{DeadLetter, Replayed};
pub use decode::{EVENT_TYPE_HEADER, Headers, MessageError, SCHEMA_VERSION_HEADER};
pub use inbox::InboxDatabase;
pub use retry::Backoff;

/// The header holding a message's id (Herald's relay: the event id), the inbox key.
const MSG_ID_HEADER: &str = "Nats-Msg-Id";

use decode::Decoder;

/// What handles a consumer's messages, inside the transaction that records them.
pub trait Handler<DB: Database>: Send + Sync {
    /// The event it reads, in its current version (older versions are upcast).
    type Event: Event + Send + Sync;

    /// Handles one message on `connection`, inside the transaction that also writes the
    /// message's inbox row. Return an error to roll it back and have the message retried.
    fn handle(
        &self,
        connection: &mut DB::Connection,
        message: &Received<Self::Event>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// A message as the handler receives it: where it came from, what wrote it, and the event.
#[derive(Debug, Clone, PartialEq)]
pub struct Received<E> {
    /// The event id: the `Nats-Msg-Id` header (Herald's relay sets the event's id), or
    /// `<stream>:<sequence>` for a message without one. The inbox key.
    pub event_id: String,
    /// The subject it was published to.
    pub subject: String,
    /// Its sequence in the JetStream stream.
    pub stream_sequence: u64,
    /// Which delivery this is (from 1).
    pub attempt: u64,
    /// The event type that wrote it (the writer's, before upcasting).
    pub event_type: String,
    /// The schema version that wrote it.
    pub schema_version: u32,
    /// The registry id of the writer's schema, for a Confluent-framed message.
    pub schema_id: Option<u32>,
    /// Its headers (first value of each).
    pub headers: Headers,
    /// The event, in the handler's current version.
    pub event: E,
}

/// How a consumer fetches and retries.
#[derive(Debug, Clone)]
pub struct ConsumerOptions {
    /// Messages fetched per request.
    pub batch_size: usize,
    /// How long a fetch waits for messages.
    pub fetch_wait: Duration,
    /// Deliveries before a failing message becomes a dead letter (at least 1).
    pub max_attempts: u32,
    /// The wait before each retry.
    pub backoff: Backoff,
    /// How long JetStream waits for an ack before delivering a message again (set when the
    /// durable consumer is created).
    pub ack_wait: Duration,
    /// Only messages on this subject (wildcards allowed); all of the stream's when `None`.
    pub filter_subject: Option<String>,
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        ConsumerOptions {
            batch_size: 100,
            fetch_wait: Duration::from_secs(1),
            max_attempts: 5,
            backoff: Backoff::default(),
            ack_wait: Duration::from_secs(30),
            filter_subject: None,
        }
    }
}

/// Why a consumer stopped or an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    /// JetStream refused or failed a request.
    #[error("JetStream: {0}")]
    JetStream(String),
    /// The inbox's database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A dead letter's message cannot be read.
    #[error(transparent)]
    Message(#[from] MessageError),
}

impl From<sqlx::Error> for ConsumerError {
    fn from(error: sqlx::Error) -> Self {
        ConsumerError::Store(StoreError::Database(error))
    }
}

fn jetstream_error(error: impl std::fmt::Display) -> ConsumerError {
    ConsumerError::JetStream(error.to_string())
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Handled and committed.
    Applied,
    /// Its inbox row was already there: handled before, nothing done.
    Duplicate,
    /// An event type the handler does not read (from its `Herald-Event-Type` header).
    Skipped,
    /// Failed; to be delivered again after `retry_in`.
    Retry {
        /// The error.
        error: String,
        /// The wait before the next delivery.
        retry_in: Duration,
    },
    /// Failed its last attempt and was stored as a dead letter.
    DeadLettered {
        /// The error.
        error: String,
    },
}

/// Counts of handled messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumerStats {
    /// Messages fetched.
    pub received: u64,
    /// Handled and committed.
    pub applied: u64,
    /// Already in the inbox.
    pub duplicates: u64,
    /// Not the handler's event types.
    pub skipped: u64,
    /// Failed and nak'ed for a retry.
    pub retried: u64,
    /// Stored as dead letters.
    pub dead_lettered: u64,
}

impl ConsumerStats {
    fn count(&mut self, outcome: &Outcome) {
        self.received += 1;
        match outcome {
            Outcome::Applied => self.applied += 1,
            Outcome::Duplicate => self.duplicates += 1,
            Outcome::Skipped => self.skipped += 1,
            Outcome::Retry { .. } => self.retried += 1,
            Outcome::DeadLettered { .. } => self.dead_lettered += 1,
        }
    }

    fn add(&mut self, other: ConsumerStats) {
        self.received += other.received;
        self.applied += other.applied;
        self.duplicates += other.duplicates;
        self.skipped += other.skipped;
        self.retried += other.retried;
        self.dead_lettered += other.dead_lettered;
    }
}

/// A durable JetStream consumer with an inbox and dead letters; see the
/// [module documentation](self).
#[derive(Debug)]
pub struct Consumer<DB: InboxDatabase, H: Handler<DB>> {
    name: String,
    pool: Pool<DB>,
    handler: H,
    decoder: Decoder<H::Event>,
    jetstream: PullConsumer,
    options: ConsumerOptions,
}

impl<DB, H> Consumer<DB, H>
where
    DB: InboxDatabase,
    H: Handler<DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    /// Binds to the durable pull consumer `name` of JetStream stream `stream` (created with
    /// explicit acks when missing; replicas binding the same name share it) and creates the
    /// inbox tables in `pool` when missing. `name` is also the inbox's key.
    pub async fn bind(
        jetstream: &Context,
        stream: &str,
        name: &str,
        pool: Pool<DB>,
        handler: H,
        options: ConsumerOptions,
    ) -> Result<Self, ConsumerError> {
        DB::migrate(&pool).await?;
        let stream = jetstream
            .get_stream(stream)
            .await
            .map_err(jetstream_error)?;
        let config = pull::Config {
            durable_name: Some(name.to_owned()),
            ack_policy: AckPolicy::Explicit,
            ack_wait: options.ack_wait,
            filter_subject: options.filter_subject.clone().unwrap_or_default(),
            ..Default::default()
        };
        let consumer = stream
            .get_or_create_consumer(name, config)
            .await
            .map_err(jetstream_error)?;
        Ok(Consumer {
            name: name.to_owned(),
            pool,
            handler,
            decoder: Decoder::new(None),
            jetstream: consumer,
            options,
        })
    }

    /// Resolves the schema ids of Confluent-framed messages through `registry`. Without a
    /// registry only unframed messages (Herald's relay without framing) can be read.
    pub fn with_registry(mut self, registry: RegistryClient) -> Self {
        self.decoder = Decoder::new(Some(registry));
        self
    }

    /// The consumer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// Fetches up to [`ConsumerOptions::batch_size`] messages, waiting at most
    /// [`ConsumerOptions::fetch_wait`]. Handle each with [`Consumer::handle`], then
    /// [`Consumer::settle`] it.
    pub async fn fetch(&self) -> Result<Vec<Message>, ConsumerError> {
        let mut batch = self
            .jetstream
            .batch()
            .max_messages(self.options.batch_size.max(1))
            .expires(self.options.fetch_wait)
            .messages()
            .await
            .map_err(jetstream_error)?;
        let mut messages = Vec::new();
        while let Some(message) = batch.next().await {
            messages.push(message.map_err(jetstream_error)?);
        }
        Ok(messages)
    }

    /// Handles one message: decodes it, and runs the handler with its inbox row in one
    /// transaction; after its last attempt, stores it as a dead letter instead. Does not ack:
    /// [`Consumer::settle`] does, after this returns.
    pub async fn handle(&self, message: &Message) -> Outcome {
        let (stream, stream_sequence, attempt) = match message.info() {
            Ok(info) => (
                info.stream.to_owned(),
                info.stream_sequence,
                u64::try_from(info.delivered).unwrap_or(1).max(1),
            ),
            Err(error) => {
                return Outcome::Retry {
                    error: format!("not a JetStream message: {error}"),
                    retry_in: self.options.backoff.delay(1),
                };
            }
        };
        let headers = headers_of(message);
        let event_id = headers
            .get(MSG_ID_HEADER)
            .cloned()
            .unwrap_or_else(|| format!("{stream}:{stream_sequence}"));
        if let Some(event_type) = headers.get(EVENT_TYPE_HEADER)
            && !is_event_of::<H::Event>(event_type)
        {
            return Outcome::Skipped;
        }
        let subject = message.subject.to_string();
        let result = self
            .apply(
                &event_id,
                &subject,
                stream_sequence,
                attempt,
                &headers,
                &message.payload,
            )
            .await;
        let error = match result {
            Ok(outcome) => return outcome,
            Err(error) => error,
        };
        if attempt < u64::from(self.options.max_attempts.max(1)) {
            return Outcome::Retry {
                error,
                retry_in: self.options.backoff.delay(attempt),
            };
        }
        let letter = DeadLetter {
            consumer: self.name.clone(),
            event_id,
            subject,
            stream_sequence,
            headers,
            payload: message.payload.to_vec(),
            attempts: u32::try_from(attempt).unwrap_or(u32::MAX),
            error: error.clone(),
            failed_at: SystemTime::now(),
        };
        match self.bury(&letter).await {
            Ok(true) => Outcome::DeadLettered { error },
            // Its inbox row is there: an earlier delivery was handled (or buried) already.
            Ok(false) => Outcome::Duplicate,
            Err(bury_error) => Outcome::Retry {
                error: format!("{error}; storing it as a dead letter failed: {bury_error}"),
                retry_in: self.options.backoff.delay(attempt),
            },
        }
    }

    /// Acks a message that was applied, skipped, a duplicate or dead-lettered; nak's one to
    /// retry, with its delay.
    pub async fn settle(&self, message: &Message, outcome: &Outcome) -> Result<(), ConsumerError> {
        let kind = match outcome {
            Outcome::Retry { retry_in, .. } => AckKind::Nak(Some(*retry_in)),
            _ => AckKind::Ack,
        };
        message.ack_with(kind).await.map_err(jetstream_error)
    }

    /// Fetches, handles and settles one batch.
    pub async fn run_batch(&self) -> Result<ConsumerStats, ConsumerError> {
        let mut stats = ConsumerStats::default();
        for message in self.fetch().await? {
            let outcome = self.handle(&message).await;
            if let Outcome::Retry { error, .. } | Outcome::DeadLettered { error } = &outcome {
                tracing::warn!(consumer = %self.name, subject = %message.subject, %error, ?outcome, "message failed");
            }
            self.settle(&message, &outcome).await?;
            stats.count(&outcome);
        }
        Ok(stats)
    }

    /// Consumes until `shutdown` completes. A batch in hand is abandoned: the message being
    /// handled rolls back, and JetStream delivers again whatever was not acked.
    pub async fn run(
        &self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<ConsumerStats, ConsumerError> {
        tokio::pin!(shutdown);
        let mut total = ConsumerStats::default();
        loop {
            tokio::select! {
                () = &mut shutdown => return Ok(total),
                stats = self.run_batch() => total.add(stats?),
            }
        }
    }

    /// The consumer's dead letters, in stream order.
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>, ConsumerError> {
        Ok(DB::dead_letters(&self.pool, &self.name).await?)
    }

    /// Replays dead letter `event_id`: decodes it again and runs the handler, deleting the
    /// dead letter in the same transaction. A failure keeps it, with one more attempt.
    pub async fn replay(&self, event_id: &str) -> Result<Replayed, ConsumerError> {
        let mut tx = DB::begin_write(&self.pool).await?;
        let Some(letter) = DB::take_dead_letter(&mut tx, &self.name, event_id).await? else {
            tx.rollback().await?;
            return Ok(Replayed::NotFound);
        };
        let result = async {
            let received = self
                .received(
                    &letter.event_id,
                    &letter.subject,
                    letter.stream_sequence,
                    u64::from(letter.attempts) + 1,
                    &letter.headers,
                    &letter.payload,
                )
                .await
                .map_err(|error| error.to_string())?;
            self.handler
                .handle(&mut tx, &received)
                .await
                .map_err(|error| error.to_string())
        }
        .await;
        match result {
            Ok(()) => {
                DB::remove_dead_letter(&mut tx, &self.name, event_id).await?;
                tx.commit().await?;
                Ok(Replayed::Applied)
            }
            Err(error) => {
                tx.rollback().await?;
                DB::record_failure(&self.pool, &self.name, event_id, &error).await?;
                Ok(Replayed::Failed(error))
            }
        }
    }

    /// Decodes a message into what the handler receives.
    async fn received(
        &self,
        event_id: &str,
        subject: &str,
        stream_sequence: u64,
        attempt: u64,
        headers: &Headers,
        payload: &[u8],
    ) -> Result<Received<H::Event>, MessageError> {
        let decoded = self.decoder.decode(headers, payload).await?;
        Ok(Received {
            event_id: event_id.to_owned(),
            subject: subject.to_owned(),
            stream_sequence,
            attempt,
            event_type: decoded.event_type,
            schema_version: decoded.schema_version,
            schema_id: decoded.schema_id,
            headers: headers.clone(),
            event: decoded.event,
        })
    }

    /// One attempt: decode, then inbox row and handler in one transaction.
    async fn apply(
        &self,
        event_id: &str,
        subject: &str,
        stream_sequence: u64,
        attempt: u64,
        headers: &Headers,
        payload: &[u8],
    ) -> Result<Outcome, String> {
        let received = self
            .received(
                event_id,
                subject,
                stream_sequence,
                attempt,
                headers,
                payload,
            )
            .await
            .map_err(|error| error.to_string())?;
        let store_error = |error: StoreError| error.to_string();
        let mut tx = DB::begin_write(&self.pool)
            .await
            .map_err(|error| error.to_string())?;
        if !DB::claim(&mut tx, &self.name, event_id, stream_sequence)
            .await
            .map_err(store_error)?
        {
            tx.rollback().await.map_err(|error| error.to_string())?;
            return Ok(Outcome::Duplicate);
        }
        self.handler
            .handle(&mut tx, &received)
            .await
            .map_err(|error| error.to_string())?;
        tx.commit().await.map_err(|error| error.to_string())?;
        Ok(Outcome::Applied)
    }

    /// Stores a dead letter with its inbox row; `false` (and nothing stored) when the inbox
    /// already holds the message.
    async fn bury(&self, letter: &DeadLetter) -> Result<bool, ConsumerError> {
        let mut tx = DB::begin_write(&self.pool).await?;
        if !DB::claim(
            &mut tx,
            &self.name,
            &letter.event_id,
            letter.stream_sequence,
        )
        .await?
        {
            tx.rollback().await?;
            return Ok(false);
        }
        DB::bury(&mut tx, letter).await?;
        tx.commit().await?;
        Ok(true)
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
