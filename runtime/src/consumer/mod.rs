//! Consuming another service's events from a broker: the other end of the relay.
//!
//! A [`Consumer`] fetches from a [`Subscriber`] (a durable JetStream consumer, a Kafka
//! consumer-group member: see [`crate::transport`]), reads each message into the
//! current version of its [`Handler`]'s event (the writer's schema resolved by registry id
//! and upcast through the derive chain, see [`MessageError`] for what can go wrong), and
//! runs the handler inside a SQL transaction (SQLite or PostgreSQL) that also inserts the
//! message's inbox row, keyed by its event id. Only after the commit is the message settled
//! (acked on JetStream; its offset stored for commit on Kafka, so Kafka never commits past a
//! message whose effects are not in the database).
//!
//! - **A redelivered message has no second effect.** Brokers deliver at least once (a
//!   consumer killed between commit and ack, a Kafka partition moved to another member in the
//!   middle of a batch); the inbox row, written in the same transaction as the effects, makes
//!   the second delivery a no-op, and PostgreSQL makes a concurrent one wait for the first.
//! - **Failures are retried with backoff** ([`Backoff`]): nak'ed with a delay on a broker that
//!   [redelivers](Subscriber::redelivers), retried in place on Kafka (a partition is a log);
//!   after [`ConsumerOptions::max_attempts`] attempts the message is stored with its error as a
//!   [`DeadLetter`] (with its inbox row, in one transaction), published where the broker keeps
//!   dead letters (Kafka: `<topic>.dlq`) and settled, so a poison message does not block the
//!   messages behind it. Dead letters are listed with
//!   [`Consumer::dead_letters`] and replayed with [`Consumer::replay`], which runs the
//!   handler and deletes the dead letter in one transaction.
//! - **Several replicas share one durable consumer or consumer group**: the broker hands each
//!   message to one of them, and the inbox row settles a message redelivered to another
//!   replica while the first one was still working on it.
//! - **Order** is the stream's (JetStream) or the partition's (Kafka) while nothing fails; on
//!   JetStream a message waiting for its retry (or dead-lettered) is overtaken by the ones
//!   after it.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use herald::consumer::{Consumer, ConsumerOptions, Handler, Received};
//! use herald::projection::HandlerError;
//! use herald::registry_client::RegistryClient;
//! use herald::transport::nats::{NatsOptions, NatsSubscriber};
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
//! let subscriber = NatsSubscriber::bind(&jetstream, "ORDERS", "billing", NatsOptions::default()).await?;
//! let consumer = Consumer::new(subscriber, "billing", pool, Billing, ConsumerOptions::default())
//!     .await?
//!     .with_registry(RegistryClient::new("http://127.0.0.1:8081")?);
//! consumer.run(std::future::pending()).await?;
//! # Ok(())
//! # }
//! ```

mod dead_letter;
mod decode;
mod inbox;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sqlx::{Database, Pool};

use crate::contract::Contract;
use crate::event::Event;
use crate::projection::HandlerError;
use crate::registry_client::RegistryClient;
use crate::store::{StoreError, is_event_of};
use crate::transport::{Incoming, Settle, Subscriber, TransportError};

pub use crate::backoff::Backoff;
pub use crate::transport::{EVENT_TYPE_HEADER, Headers, SCHEMA_VERSION_HEADER};
pub use dead_letter::{DeadLetter, Replayed};
pub use decode::MessageError;
pub use inbox::InboxDatabase;

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
    /// The event id: the `Herald-Event-Id` header (Herald's relay sets the event's id; on
    /// JetStream also `Nats-Msg-Id`), or `<topic>:<partition>:<sequence>` for a message
    /// without one. The inbox key.
    pub event_id: String,
    /// The subject or topic it was published to.
    pub subject: String,
    /// Its partition (0 on JetStream).
    pub partition: i32,
    /// Its sequence: the JetStream stream sequence, the Kafka offset.
    pub stream_sequence: u64,
    /// Which attempt this is (from 1).
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
    /// Attempts before a failing message becomes a dead letter (at least 1).
    pub max_attempts: u32,
    /// The wait before each retry.
    pub backoff: Backoff,
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        ConsumerOptions {
            batch_size: 100,
            fetch_wait: Duration::from_secs(1),
            max_attempts: 5,
            backoff: Backoff::default(),
        }
    }
}

/// Why a consumer stopped or an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    /// The broker refused or failed a request.
    #[error(transparent)]
    Transport(#[from] TransportError),
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

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Handled and committed.
    Applied,
    /// Its inbox row was already there: handled before, nothing done.
    Duplicate,
    /// An event type the handler does not read (from its `Herald-Event-Type` header).
    Skipped,
    /// Failed; to be tried again after `retry_in`.
    Retry {
        /// The error.
        error: String,
        /// The wait before the next attempt.
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
    /// Failed attempts that were retried.
    pub retried: u64,
    /// Stored as dead letters.
    pub dead_lettered: u64,
}

impl ConsumerStats {
    fn count(&mut self, outcome: &Outcome) {
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

/// A broker consumer with an inbox and dead letters; see the [module documentation](self).
#[derive(Debug)]
pub struct Consumer<DB: InboxDatabase, H: Handler<DB>, T> {
    name: String,
    pool: Pool<DB>,
    handler: H,
    decoder: Decoder<H::Event>,
    subscriber: T,
    options: ConsumerOptions,
}

impl<DB, H, T> Consumer<DB, H, T>
where
    DB: InboxDatabase,
    H: Handler<DB>,
    T: Subscriber,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    /// A consumer named `name` (its inbox's key) reading from `subscriber`; creates the
    /// inbox tables in `pool` when missing.
    pub async fn new(
        subscriber: T,
        name: &str,
        pool: Pool<DB>,
        handler: H,
        options: ConsumerOptions,
    ) -> Result<Self, ConsumerError> {
        DB::migrate(&pool).await?;
        Ok(Consumer {
            name: name.to_owned(),
            pool,
            handler,
            decoder: Decoder::new(None, None),
            subscriber,
            options,
        })
    }

    /// Resolves the schema ids of Confluent-framed messages through `registry`. Without a
    /// registry only unframed messages (Herald's relay without framing) can be read.
    pub fn with_registry(mut self, registry: RegistryClient) -> Self {
        self.decoder = Decoder::new(Some(registry), None);
        self
    }

    /// Runs the data-contract rules of framed messages' schemas (decrypting the fields
    /// Confluent's `ENCRYPT` rules encrypted) with `contract`, whose registry also resolves
    /// the schema ids (it replaces [`Consumer::with_registry`]). The rules see the subject
    /// `<topic>-value`.
    pub fn with_contract(mut self, contract: Arc<Contract>) -> Self {
        self.decoder = Decoder::new(Some(contract.registry().clone()), Some(contract));
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

    /// The subscriber.
    pub fn subscriber(&self) -> &T {
        &self.subscriber
    }

    /// Fetches up to [`ConsumerOptions::batch_size`] messages, waiting at most
    /// [`ConsumerOptions::fetch_wait`]. Handle each with [`Consumer::handle`], then settle it
    /// with [`Consumer::settle`].
    pub async fn fetch(&self) -> Result<Vec<(Incoming, T::Receipt)>, ConsumerError> {
        Ok(self
            .subscriber
            .fetch(self.options.batch_size.max(1), self.options.fetch_wait)
            .await?)
    }

    /// Handles one attempt at a message: decodes it, and runs the handler with its inbox
    /// row in one transaction; after its last attempt, stores it as a dead letter instead.
    /// Does not settle it.
    pub async fn handle(&self, message: &Incoming) -> Outcome {
        let attempt = message.attempt.max(1);
        let event_id = message.event_id();
        if let Some(event_type) = message.headers.get(EVENT_TYPE_HEADER)
            && !is_event_of::<H::Event>(event_type)
        {
            return Outcome::Skipped;
        }
        let error = match self.apply(&event_id, message).await {
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
            subject: message.topic.clone(),
            stream_sequence: message.sequence,
            headers: message.headers.clone(),
            payload: message.payload.clone(),
            attempts: u32::try_from(attempt).unwrap_or(u32::MAX),
            error: error.clone(),
            failed_at: SystemTime::now(),
        };
        match self.bury(&letter).await {
            Ok(true) => {
                if let Err(publish) = self.subscriber.dead_letter(message, &error).await {
                    tracing::warn!(consumer = %self.name, error = %publish, "the dead letter is stored, but publishing it to the broker's dead letters failed");
                }
                Outcome::DeadLettered { error }
            }
            // Its inbox row is there: an earlier delivery was handled (or buried) already.
            Ok(false) => Outcome::Duplicate,
            Err(bury_error) => Outcome::Retry {
                error: format!("{error}; storing it as a dead letter failed: {bury_error}"),
                retry_in: self.options.backoff.delay(attempt),
            },
        }
    }

    /// Settles a message after [`Consumer::handle`]: done unless the outcome is a retry.
    pub async fn settle(
        &self,
        receipt: T::Receipt,
        outcome: &Outcome,
    ) -> Result<(), ConsumerError> {
        let settle = match outcome {
            Outcome::Retry { retry_in, .. } => Settle::Retry(*retry_in),
            _ => Settle::Done,
        };
        Ok(self.subscriber.settle(receipt, settle).await?)
    }

    /// Fetches, handles and settles one batch. On a broker that does not redeliver, a
    /// failing message is retried in place (after its backoff) until it is applied or
    /// dead-lettered.
    pub async fn run_batch(&self) -> Result<ConsumerStats, ConsumerError> {
        let mut stats = ConsumerStats::default();
        for (mut message, receipt) in self.fetch().await? {
            stats.received += 1;
            let outcome = loop {
                let outcome = self.handle(&message).await;
                if let Outcome::Retry { error, .. } | Outcome::DeadLettered { error } = &outcome {
                    tracing::warn!(consumer = %self.name, topic = %message.topic, %error, ?outcome, "message failed");
                }
                match outcome {
                    Outcome::Retry { retry_in, .. } if !self.subscriber.redelivers() => {
                        stats.count(&outcome);
                        tokio::time::sleep(retry_in).await;
                        message.attempt = message.attempt.max(1) + 1;
                    }
                    outcome => break outcome,
                }
            };
            self.settle(receipt, &outcome).await?;
            stats.count(&outcome);
        }
        Ok(stats)
    }

    /// Consumes until `shutdown` completes. A batch in hand is abandoned: the message being
    /// handled rolls back, and the broker delivers again whatever was not settled. A broker
    /// error is logged and retried with backoff.
    pub async fn run(
        &self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<ConsumerStats, ConsumerError> {
        tokio::pin!(shutdown);
        let mut total = ConsumerStats::default();
        let mut failures = 0;
        loop {
            tokio::select! {
                () = &mut shutdown => return Ok(total),
                stats = self.run_batch() => match stats {
                    Ok(stats) => {
                        failures = 0;
                        total.add(stats);
                    }
                    Err(ConsumerError::Transport(error)) => {
                        failures += 1;
                        tracing::warn!(consumer = %self.name, %error, failures, "fetching failed; retrying");
                        tokio::time::sleep(self.options.backoff.delay(failures)).await;
                    }
                    Err(error) => return Err(error),
                },
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
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let Some(letter) = DB::take_dead_letter(&mut tx, &self.name, event_id).await? else {
            tx.rollback().await?;
            return Ok(Replayed::NotFound);
        };
        let message = Incoming {
            topic: letter.subject.clone(),
            partition: 0,
            sequence: letter.stream_sequence,
            attempt: u64::from(letter.attempts) + 1,
            headers: letter.headers.clone(),
            key: None,
            payload: letter.payload.clone(),
        };
        let result = async {
            let received = self
                .received(&letter.event_id, &message)
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
        message: &Incoming,
    ) -> Result<Received<H::Event>, MessageError> {
        let decoded = self
            .decoder
            .decode(&message.topic, &message.headers, &message.payload)
            .await?;
        Ok(Received {
            event_id: event_id.to_owned(),
            subject: message.topic.clone(),
            partition: message.partition,
            stream_sequence: message.sequence,
            attempt: message.attempt.max(1),
            event_type: decoded.event_type,
            schema_version: decoded.schema_version,
            schema_id: decoded.schema_id,
            headers: message.headers.clone(),
            event: decoded.event,
        })
    }

    /// One attempt: decode, then inbox row and handler in one transaction.
    async fn apply(&self, event_id: &str, message: &Incoming) -> Result<Outcome, String> {
        let received = self
            .received(event_id, message)
            .await
            .map_err(|error| error.to_string())?;
        let store_error = |error: StoreError| error.to_string();
        let mut tx = self
            .pool
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(|error| error.to_string())?;
        if !DB::claim(&mut tx, &self.name, event_id, message.sequence)
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
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
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
