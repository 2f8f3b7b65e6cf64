//! Transport throughput: Herald's relay and consumer against bare clients doing the same work,
//! side by side in one run (issue 20, acceptance item 5).
//!
//! `cargo bench -p herald --features kafka,nats,consumer,postgres,sqlite --bench transport
//! [-- --events N --rounds R]`
//!
//! Four comparisons, each `R` rounds (3 by default) of a Herald run and a bare run, the order
//! alternating from one round to the next (Herald first in rounds 1 and 3, bare first in round
//! 2), reported as the median events per second of each and the ratio Herald / bare:
//!
//! - **Kafka relay**: `N` events in a [`MemoryStore`] relayed by [`Relay`] over
//!   [`KafkaPublisher`] to a fresh topic of 3 partitions (batches of 1000), timed until every
//!   event is acknowledged and checkpointed; against a bare `rdkafka` [`FutureProducer`] with
//!   the publisher's settings (idempotent, gapless, `acks=all`, `linger.ms=2`, the same
//!   delivery timeout) sending the same records (the relay's own messages: key, headers,
//!   payload, explicit partition) to another fresh topic, timed until every delivery is
//!   acknowledged.
//! - **Kafka consumer**: a topic pre-filled with the relay's `N` messages, consumed by a
//!   [`Consumer`] over [`KafkaSubscriber`] with its inbox in PostgreSQL and a handler doing one
//!   `INSERT` per message; against a bare [`StreamConsumer`] with the subscriber's settings
//!   that, per message, in one transaction inserts the inbox row (`ON CONFLICT DO NOTHING`) and
//!   the same `INSERT`, commits and stores the offset. Each run has a fresh consumer group and
//!   a fresh PostgreSQL schema; the clock starts at the fetch that brings the first message
//!   (so joining the group is not counted) and stops when all `N` are applied.
//! - **NATS relay** and **NATS consumer**: the same over JetStream, against a bare `async_nats`
//!   publish of the same messages (with the same `Nats-Msg-Id`, each acknowledgement awaited
//!   before the next publish, as [`NatsPublisher`] does) and a bare pull-consumer loop with
//!   the same per-message transaction and an ack.
//!
//! PostgreSQL (127.0.0.1:5432, database `test`), NATS with JetStream (127.0.0.1:4222) and a
//! Kafka-protocol broker (127.0.0.1:9092, `scripts/kafka`) must be running: a missing one
//! fails the run with a message, nothing is skipped.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    missing_docs
)]

use std::future::Future;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{AckPolicy, pull};
use async_nats::jetstream::message::AckKind;
use bytes::Bytes;
use futures_util::StreamExt;
use herald::consumer::{Consumer, ConsumerOptions, Handler, Received};
use herald::projection::HandlerError;
use herald::relay::Relay;
use herald::store::memory::MemoryStore;
use herald::store::{EventStore, Expected};
use herald::transport::kafka::{KafkaOptions, KafkaPublisher, KafkaSubscriber, partition_for};
use herald::transport::nats::{MSG_ID_HEADER, NatsOptions, NatsPublisher, NatsSubscriber};
use herald::transport::{EVENT_ID_HEADER, Outgoing, Publisher};
use herald::{Event, NewEvent, RecordedEvent};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer as _, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers as _, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const NATS_URL: &str = "127.0.0.1:4222";
const KAFKA_BROKERS: &str = "127.0.0.1:9092";

/// Partitions of every Kafka topic the bench creates (the publisher's default).
const PARTITIONS: i32 = 3;
/// Events per relay batch.
const RELAY_BATCH: usize = 1000;
/// Messages per consumer fetch (the consumer's default).
const FETCH_BATCH: usize = 100;
/// How long a fetch waits for its first message, for both paths.
const FETCH_WAIT: Duration = Duration::from_millis(100);
/// Distinct streams (message keys) the events are spread over.
const STREAMS: u64 = 64;
/// How long one timed run may take before the bench fails.
const RUN_LIMIT: Duration = Duration::from_secs(180);

/// The handler's one statement, the same on both paths.
const HANDLER_SQL: &str = "INSERT INTO parcels (id, grams) VALUES ($1, $2)";
/// The bare path's inbox row, as Herald's inbox writes it.
const INBOX_SQL: &str = "INSERT INTO bare_inbox (consumer, event_id, stream_sequence, \
     received_at_micros) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";

/// The benchmarked event.
#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "parcel", version = 1)]
enum Parcel {
    Sent { id: u64, grams: u64 },
}

/// The payload of `parcel.sent` as the bare consumer reads it: plain serde.
#[derive(Deserialize)]
struct SentFields {
    id: u64,
    grams: u64,
}

/// Herald's handler: one insert per message.
struct Parcels;

impl Handler<sqlx::Postgres> for Parcels {
    type Event = Parcel;

    async fn handle(
        &self,
        connection: &mut sqlx::PgConnection,
        message: &Received<Parcel>,
    ) -> Result<(), HandlerError> {
        let Parcel::Sent { id, grams } = message.event;
        sqlx::query(HANDLER_SQL)
            .bind(i64::try_from(id)?)
            .bind(i64::try_from(grams)?)
            .execute(&mut *connection)
            .await?;
        Ok(())
    }
}

/// What the command line asked for.
struct Settings {
    events: usize,
    rounds: usize,
    /// Which comparisons run (`kafka-relay`, `kafka-consumer`, `nats-relay`,
    /// `nats-consumer`); all by default.
    only: Vec<String>,
}

/// The comparisons, in the order they run.
const COMPARISONS: [&str; 4] = ["kafka-relay", "kafka-consumer", "nats-relay", "nats-consumer"];

impl Settings {
    fn runs(&self, comparison: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|only| only == comparison)
    }
}

impl Settings {
    fn parse() -> Settings {
        let mut settings = Settings {
            events: 20_000,
            rounds: 3,
            only: Vec::new(),
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut number = |name: &str| -> usize {
                args.next()
                    .and_then(|value| value.parse().ok())
                    .filter(|&value| value > 0)
                    .unwrap_or_else(|| panic!("{name} takes a positive number"))
            };
            match arg.as_str() {
                "--events" => settings.events = number("--events"),
                "--rounds" => settings.rounds = number("--rounds"),
                "--only" => {
                    let list = args.next().unwrap_or_default();
                    for item in list.split(',') {
                        let matching: Vec<&str> = COMPARISONS
                            .into_iter()
                            .filter(|c| *c == item || c.starts_with(&format!("{item}-")))
                            .collect();
                        assert!(
                            !matching.is_empty(),
                            "--only takes a comma-separated list of kafka, nats, {}",
                            COMPARISONS.join(", ")
                        );
                        settings.only.extend(matching.into_iter().map(str::to_owned));
                    }
                }
                // What `cargo bench` passes to every bench target.
                "--bench" => {}
                other => panic!(
                    "unknown argument `{other}`; usage: [--events N] [--rounds R] [--only kafka|nats|kafka-relay|…]"
                ),
            }
        }
        settings
    }
}

/// Everything the runs share.
struct Bench {
    events: Vec<RecordedEvent>,
    store: MemoryStore,
    postgres: PgPool,
    jetstream: async_nats::jetstream::Context,
    kafka_admin: AdminClient<DefaultClientContext>,
    /// Where each Kafka producer sends one message before its clock starts.
    warm_up_topic: tokio::sync::OnceCell<String>,
    /// Topics and streams to delete at the end.
    topics: Mutex<Vec<String>>,
    streams: Mutex<Vec<String>>,
}

/// A fresh name: `herald_bench_<prefix>_<uuid>`.
fn unique(prefix: &str) -> String {
    format!("herald_bench_{prefix}_{}", uuid::Uuid::now_v7().simple())
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|load| load.trim().to_owned())
        .unwrap_or_else(|error| format!("(unreadable: {error})"))
}

/// Fails the bench with a clear message when nothing listens at `address`.
fn require(address: &str, what: &str, hint: &str) {
    let socket = address.parse().expect("a socket address");
    if let Err(error) = std::net::TcpStream::connect_timeout(&socket, Duration::from_secs(3)) {
        panic!("{what} is required at {address} and is not reachable ({error}): {hint}");
    }
}

fn micros_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A PostgreSQL schema of one run, with a pool confined to it.
struct Schema {
    name: String,
    pool: PgPool,
}

impl Bench {
    async fn connect(count: usize, kafka: bool) -> Bench {
        require(
            "127.0.0.1:5432",
            "PostgreSQL",
            "start it (database `test`, user postgres, trust)",
        );
        require(
            "127.0.0.1:4222",
            "NATS with JetStream",
            "start nats-server with -js",
        );
        if kafka {
            require(
                KAFKA_BROKERS,
                "a Kafka-protocol broker",
                "run `scripts/kafka` (Tansu)",
            );
        }
        let postgres = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect(POSTGRES_URL)
            .await
            .unwrap_or_else(|error| panic!("PostgreSQL at {POSTGRES_URL}: {error}"));
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .connect(NATS_URL)
            .await
            .unwrap_or_else(|error| panic!("NATS at {NATS_URL}: {error}"));
        let kafka_admin = ClientConfig::new()
            .set("bootstrap.servers", KAFKA_BROKERS)
            .create()
            .expect("a Kafka admin client");

        let store = MemoryStore::new();
        for n in 0..count as u64 {
            let event = Parcel::Sent {
                id: n,
                grams: 100 + n % 900,
            };
            store
                .append(
                    &format!("parcel-{}", n % STREAMS),
                    Expected::Any,
                    vec![NewEvent::new(&event).expect("encoding an event")],
                )
                .await
                .expect("appending to the memory store");
        }
        let events = store
            .read_all(1, count)
            .await
            .expect("reading the memory store");
        assert_eq!(events.len(), count, "the store holds every event");
        Bench {
            events,
            store,
            postgres,
            jetstream: async_nats::jetstream::new(client),
            kafka_admin,
            warm_up_topic: tokio::sync::OnceCell::new(),
            topics: Mutex::new(Vec::new()),
            streams: Mutex::new(Vec::new()),
        }
    }

    fn last_position(&self) -> u64 {
        self.events.last().map_or(0, |event| event.position)
    }

    /// Creates a Kafka topic of [`PARTITIONS`] partitions and waits until its metadata shows
    /// them.
    async fn kafka_topic(&self, prefix: &str) -> String {
        let topic = unique(prefix);
        let new = NewTopic::new(&topic, PARTITIONS, TopicReplication::Fixed(1));
        let created = self
            .kafka_admin
            .create_topics(&[new], &AdminOptions::new())
            .await
            .unwrap_or_else(|error| panic!("creating Kafka topic `{topic}`: {error}"));
        for result in created {
            if let Err((name, code)) = result {
                panic!("creating Kafka topic `{name}`: {code}");
            }
        }
        self.topics.lock().unwrap().push(topic.clone());
        let name = topic.clone();
        tokio::task::spawn_blocking(move || {
            let reader: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", KAFKA_BROKERS)
                .create()
                .expect("a Kafka metadata client");
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let metadata = reader
                    .fetch_metadata(Some(&name), Duration::from_secs(5))
                    .unwrap_or_else(|error| panic!("metadata of `{name}`: {error}"));
                let partitions = metadata
                    .topics()
                    .iter()
                    .find(|t| t.name() == name && t.error().is_none())
                    .map_or(0, |t| t.partitions().len());
                if partitions == PARTITIONS as usize {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "topic `{name}` shows {partitions} partitions"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        })
        .await
        .expect("waiting for a topic");
        topic
    }

    /// Creates a JetStream stream on subjects `<name>.>`.
    async fn nats_stream(&self, prefix: &str) -> String {
        let name = unique(prefix);
        self.jetstream
            .create_stream(async_nats::jetstream::stream::Config {
                name: name.clone(),
                subjects: vec![format!("{name}.>")],
                ..Default::default()
            })
            .await
            .unwrap_or_else(|error| panic!("creating JetStream stream `{name}`: {error}"));
        self.streams.lock().unwrap().push(name.clone());
        name
    }

    /// A fresh PostgreSQL schema holding the handler's table (and the bare path's inbox).
    async fn schema(&self) -> Schema {
        let name = unique("pg");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&self.postgres)
            .await
            .expect("creating a schema");
        let options = PgConnectOptions::from_str(POSTGRES_URL)
            .expect("the PostgreSQL URL")
            .options([("search_path", name.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .expect("a pool on the schema");
        sqlx::raw_sql(
            "CREATE TABLE parcels (id BIGINT PRIMARY KEY, grams BIGINT NOT NULL); \
             CREATE TABLE bare_inbox (consumer TEXT NOT NULL, event_id TEXT NOT NULL, \
             stream_sequence BIGINT NOT NULL, received_at_micros BIGINT NOT NULL, \
             PRIMARY KEY (consumer, event_id));",
        )
        .execute(&pool)
        .await
        .expect("creating the read model");
        Schema { name, pool }
    }

    /// Checks that a run applied every event once, and drops its schema.
    async fn finish(&self, schema: Schema) {
        let (rows, sum): (i64, Option<i64>) =
            sqlx::query_as("SELECT count(*), sum(id)::BIGINT FROM parcels")
                .fetch_one(&schema.pool)
                .await
                .expect("counting the read model");
        let n = self.events.len() as i64;
        assert_eq!(
            (rows, sum.unwrap_or(0)),
            (n, n * (n - 1) / 2),
            "every event applied once"
        );
        schema.pool.close().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA {} CASCADE",
            schema.name
        )))
        .execute(&self.postgres)
        .await
        .expect("dropping a schema");
    }

    async fn clean_up(&self) {
        let topics = std::mem::take(&mut *self.topics.lock().unwrap());
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        if names.is_empty() {
        } else if let Err(error) = self
            .kafka_admin
            .delete_topics(&names, &AdminOptions::new())
            .await
        {
            println!("(deleting the bench's Kafka topics failed: {error})");
        }
        let streams = std::mem::take(&mut *self.streams.lock().unwrap());
        for stream in streams {
            if let Err(error) = self.jetstream.delete_stream(&stream).await {
                println!("(deleting JetStream stream {stream} failed: {error})");
            }
        }
    }

    /// The relay's messages for every event, to `topic` (or the publisher's default).
    fn messages<P: Publisher>(
        &self,
        publisher: P,
        topic: Option<String>,
    ) -> Vec<Outgoing> {
        let mut relay = Relay::new(self.store.clone(), publisher, "messages");
        if let Some(topic) = topic {
            relay = relay.with_topic(move |_| topic.clone());
        }
        self.events
            .iter()
            .map(|event| relay.outgoing(event).expect("an outgoing message"))
            .collect()
    }

    /// Relays every event with Herald's relay, in batches of [`RELAY_BATCH`].
    /// (Takes the relay by reference: dropping its clients takes a while, outside the clock.)
    async fn relay_all<P: Publisher>(&self, relay: &Relay<MemoryStore, P>) {
        let mut published = 0;
        loop {
            let t = Instant::now();
            let stats = match relay.run_batch().await {
                Ok(stats) => stats,
                Err(herald::relay::RelayError::Transport(error)) => {
                    println!("    relay error after {:?}: {error}", t.elapsed());
                    tokio::time::sleep(relay.publisher().max_in_flight()).await;
                    continue;
                }
                Err(error) => panic!("relaying a batch: {error}"),
            };
            if std::env::var_os("BENCH_TRACE").is_some() {
                println!("    batch to {} in {:?}", stats.last_position, t.elapsed());
            }
            published += stats.published + stats.skipped;
            if stats.last_position >= self.last_position() {
                break;
            }
            assert!(stats.last_position > 0, "the relay stopped short");
        }
        assert_eq!(
            published,
            self.events.len() as u64,
            "every event published (or found held after an error)"
        );
    }

    // ---- Kafka relay ----

    /// One message to the warm-up topic, such as a producer is warmed with.
    async fn warm_up_message(&self) -> Outgoing {
        let topic = self
            .warm_up_topic
            .get_or_init(|| self.kafka_topic("warm_up"))
            .await;
        Outgoing {
            id: uuid::Uuid::now_v7().to_string(),
            topic: topic.clone(),
            key: "warm-up".to_owned(),
            position: 1,
            headers: Default::default(),
            payload: b"{}".to_vec(),
        }
    }

    /// A Kafka publisher whose producer has connected and has its idempotent producer id
    /// (librdkafka acquires it on a 500 ms timer), so that the clock measures publishing,
    /// not starting a client.
    async fn warm_publisher(&self) -> KafkaPublisher {
        let publisher =
            KafkaPublisher::new(KafkaOptions::new(KAFKA_BROKERS)).expect("a Kafka publisher");
        let message = self.warm_up_message().await;
        publisher
            .publish(std::slice::from_ref(&message))
            .await
            .expect("warming up a Kafka publisher");
        publisher
    }

    /// A bare producer warmed up like [`Bench::warm_publisher`].
    async fn warm_bare_producer(&self) -> FutureProducer {
        let producer = bare_producer(&KafkaOptions::new(KAFKA_BROKERS));
        let message = self.warm_up_message().await;
        let record = FutureRecord::to(&message.topic)
            .partition(0)
            .key(message.key.as_bytes())
            .payload(message.payload.as_slice());
        producer
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(error, _)| error)
            .expect("warming up a bare Kafka producer");
        producer
    }

    async fn kafka_relay_herald(&self) -> Duration {
        let topic = self.kafka_topic("relay_herald").await;
        let publisher = self.warm_publisher().await;
        let relay = Relay::new(self.store.clone(), publisher, unique("relay"))
            .with_topic(move |_| topic.clone())
            .batch_size(RELAY_BATCH);
        let started = Instant::now();
        self.relay_all(&relay).await;
        started.elapsed()
    }

    async fn kafka_relay_bare(&self) -> Duration {
        let topic = self.kafka_topic("relay_bare").await;
        let publisher =
            KafkaPublisher::new(KafkaOptions::new(KAFKA_BROKERS)).expect("a Kafka publisher");
        let messages = self.messages(publisher, Some(topic.clone()));
        let producer = self.warm_bare_producer().await;
        let started = Instant::now();
        let mut deliveries = Vec::with_capacity(messages.len());
        for message in &messages {
            let headers = message.headers.iter().fold(
                OwnedHeaders::new_with_capacity(message.headers.len()),
                |all, (key, value)| {
                    all.insert(Header {
                        key,
                        value: Some(value.as_str()),
                    })
                },
            );
            let mut record = FutureRecord::to(&message.topic)
                .partition(partition_for(message.key.as_bytes(), PARTITIONS))
                .key(message.key.as_bytes())
                .payload(message.payload.as_slice())
                .headers(headers);
            loop {
                match producer.send_result(record) {
                    Ok(delivery) => {
                        deliveries.push(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        record = back;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err((error, _)) => panic!("bare Kafka send: {error}"),
                }
            }
        }
        for (n, delivery) in deliveries.into_iter().enumerate() {
            if n % 1000 == 0 && std::env::var_os("BENCH_TRACE").is_some() {
                println!("    bare delivery {n} at {:?}", started.elapsed());
            }
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((error, _))) => panic!("bare Kafka delivery: {error}"),
                Err(_) => panic!("bare Kafka delivery: the producer was dropped"),
            }
        }
        started.elapsed()
    }

    // ---- Kafka consumer ----

    /// A topic holding the relay's messages for every event.
    async fn kafka_filled_topic(&self) -> String {
        let topic = self.kafka_topic("consume").await;
        let publisher =
            KafkaPublisher::new(KafkaOptions::new(KAFKA_BROKERS)).expect("a Kafka publisher");
        let name = topic.clone();
        let relay = Relay::new(self.store.clone(), publisher, unique("fill"))
            .with_topic(move |_| name.clone())
            .batch_size(RELAY_BATCH);
        self.relay_all(&relay).await;
        topic
    }

    async fn kafka_consume_herald(&self, topic: &str) -> Duration {
        let schema = self.schema().await;
        let subscriber =
            KafkaSubscriber::join(KafkaOptions::new(KAFKA_BROKERS), &unique("group"), &[topic])
                .await
                .expect("joining a consumer group");
        let consumer = Consumer::new(
            subscriber,
            "bench",
            schema.pool.clone(),
            Parcels,
            consumer_options(),
        )
        .await
        .expect("a consumer");
        let elapsed = self.consume_herald(&consumer).await;
        drop(consumer);
        self.finish(schema).await;
        elapsed
    }

    async fn kafka_consume_bare(&self, topic: &str) -> Duration {
        let schema = self.schema().await;
        let consumer = bare_stream_consumer(&KafkaOptions::new(KAFKA_BROKERS), &unique("group"));
        consumer.subscribe(&[topic]).expect("subscribing");
        let total = self.events.len();
        let mut applied = 0;
        let mut started = None;
        let deadline = Instant::now() + RUN_LIMIT;
        while applied < total {
            assert!(Instant::now() < deadline, "bare Kafka consumer stalled");
            let asked = Instant::now();
            let Ok(received) = tokio::time::timeout(FETCH_WAIT, consumer.recv()).await else {
                continue;
            };
            started.get_or_insert(asked);
            let message = received.expect("receiving from Kafka");
            let event_id = message
                .headers()
                .and_then(|headers| {
                    headers
                        .iter()
                        .find(|header| header.key == EVENT_ID_HEADER)
                        .and_then(|header| header.value)
                })
                .and_then(|value| std::str::from_utf8(value).ok())
                .expect("a Herald-Event-Id header");
            let fields: SentFields =
                serde_json::from_slice(message.payload().unwrap_or_default()).expect("a payload");
            if apply_bare(&schema.pool, event_id, message.offset(), &fields).await {
                applied += 1;
            }
            consumer
                .store_offset(message.topic(), message.partition(), message.offset() + 1)
                .expect("storing an offset");
        }
        let elapsed = started.expect("messages were received").elapsed();
        drop(consumer);
        self.finish(schema).await;
        elapsed
    }

    // ---- NATS relay ----

    async fn nats_relay_herald(&self) -> Duration {
        let stream = self.nats_stream("relay_herald").await;
        let publisher = NatsPublisher::new(self.jetstream.clone(), stream);
        let relay =
            Relay::new(self.store.clone(), publisher, unique("relay")).batch_size(RELAY_BATCH);
        let started = Instant::now();
        self.relay_all(&relay).await;
        started.elapsed()
    }

    async fn nats_relay_bare(&self) -> Duration {
        let stream = self.nats_stream("relay_bare").await;
        let messages = self.messages(NatsPublisher::new(self.jetstream.clone(), stream), None);
        let started = Instant::now();
        for message in &messages {
            let mut headers = HeaderMap::new();
            headers.insert(MSG_ID_HEADER, message.id.as_str());
            for (name, value) in &message.headers {
                headers.insert(name.as_str(), value.as_str());
            }
            self.jetstream
                .publish_with_headers(
                    message.topic.clone(),
                    headers,
                    Bytes::from(message.payload.clone()),
                )
                .await
                .expect("bare JetStream publish")
                .await
                .expect("bare JetStream publish ack");
        }
        started.elapsed()
    }

    // ---- NATS consumer ----

    /// A stream holding the relay's messages for every event.
    async fn nats_filled_stream(&self) -> String {
        let stream = self.nats_stream("consume").await;
        let publisher = NatsPublisher::new(self.jetstream.clone(), stream.clone());
        let relay =
            Relay::new(self.store.clone(), publisher, unique("fill")).batch_size(RELAY_BATCH);
        self.relay_all(&relay).await;
        stream
    }

    async fn nats_consume_herald(&self, stream: &str) -> Duration {
        let schema = self.schema().await;
        let subscriber = NatsSubscriber::bind(
            &self.jetstream,
            stream,
            &unique("durable"),
            NatsOptions::default(),
        )
        .await
        .expect("binding a durable consumer");
        let consumer = Consumer::new(
            subscriber,
            "bench",
            schema.pool.clone(),
            Parcels,
            consumer_options(),
        )
        .await
        .expect("a consumer");
        let elapsed = self.consume_herald(&consumer).await;
        drop(consumer);
        self.finish(schema).await;
        elapsed
    }

    async fn nats_consume_bare(&self, stream: &str) -> Duration {
        let schema = self.schema().await;
        let name = unique("durable");
        let defaults = NatsOptions::default();
        let consumer = self
            .jetstream
            .get_stream(stream)
            .await
            .expect("the stream")
            .get_or_create_consumer(
                &name,
                pull::Config {
                    durable_name: Some(name.clone()),
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: defaults.ack_wait,
                    ..Default::default()
                },
            )
            .await
            .expect("a durable pull consumer");
        let total = self.events.len();
        let mut applied = 0;
        let mut started = None;
        let deadline = Instant::now() + RUN_LIMIT;
        while applied < total {
            assert!(Instant::now() < deadline, "bare NATS consumer stalled");
            let asked = Instant::now();
            let mut batch = consumer
                .batch()
                .max_messages(FETCH_BATCH)
                .expires(FETCH_WAIT)
                .messages()
                .await
                .expect("a pull request");
            while let Some(message) = batch.next().await {
                started.get_or_insert(asked);
                let message = message.expect("a JetStream message");
                let sequence = message.info().expect("JetStream info").stream_sequence;
                let headers = message.headers.as_ref().expect("headers");
                let event_id = headers
                    .get(EVENT_ID_HEADER)
                    .or_else(|| headers.get(MSG_ID_HEADER))
                    .expect("an event id")
                    .as_str();
                let fields: SentFields =
                    serde_json::from_slice(&message.payload).expect("a payload");
                let sequence = i64::try_from(sequence).expect("a sequence");
                if apply_bare(&schema.pool, event_id, sequence, &fields).await {
                    applied += 1;
                }
                message.ack_with(AckKind::Ack).await.expect("an ack");
            }
        }
        let elapsed = started.expect("messages were received").elapsed();
        self.finish(schema).await;
        elapsed
    }

    /// Runs Herald's consumer until every event is applied; the clock starts at the batch
    /// that brought the first message.
    async fn consume_herald<T: herald::transport::Subscriber>(
        &self,
        consumer: &Consumer<sqlx::Postgres, Parcels, T>,
    ) -> Duration {
        let total = self.events.len() as u64;
        let mut applied = 0;
        let mut started = None;
        let deadline = Instant::now() + RUN_LIMIT;
        while applied < total {
            assert!(Instant::now() < deadline, "Herald's consumer stalled");
            let asked = Instant::now();
            let stats = consumer.run_batch().await.expect("a consumer batch");
            if stats.received > 0 {
                started.get_or_insert(asked);
            }
            assert_eq!(stats.received, stats.applied, "every message applied");
            applied += stats.applied;
        }
        started.expect("messages were received").elapsed()
    }
}

fn consumer_options() -> ConsumerOptions {
    ConsumerOptions {
        batch_size: FETCH_BATCH,
        fetch_wait: FETCH_WAIT,
        ..ConsumerOptions::default()
    }
}

/// The bare path's per-message transaction: inbox row, then the handler's insert unless the
/// row was there; `true` when applied.
async fn apply_bare(pool: &PgPool, event_id: &str, sequence: i64, fields: &SentFields) -> bool {
    let mut tx = pool.begin().await.expect("a transaction");
    let claimed = sqlx::query(INBOX_SQL)
        .bind("bench")
        .bind(event_id)
        .bind(sequence)
        .bind(micros_now())
        .execute(&mut *tx)
        .await
        .expect("an inbox row")
        .rows_affected()
        == 1;
    if !claimed {
        tx.rollback().await.expect("a rollback");
        return false;
    }
    sqlx::query(HANDLER_SQL)
        .bind(i64::try_from(fields.id).expect("an id"))
        .bind(i64::try_from(fields.grams).expect("grams"))
        .execute(&mut *tx)
        .await
        .expect("the handler's insert");
    tx.commit().await.expect("a commit");
    true
}

/// A producer with the settings of Herald's Kafka publisher (`KafkaOptions::producer`).
fn bare_producer(options: &KafkaOptions) -> FutureProducer {
    let timeout = options.message_timeout.as_millis().max(1).to_string();
    ClientConfig::new()
        .set("bootstrap.servers", &options.brokers)
        .set("enable.idempotence", "true")
        .set("enable.gapless.guarantee", "true")
        .set("acks", "all")
        .set("message.timeout.ms", &timeout)
        .set("request.timeout.ms", &timeout)
        .set("linger.ms", "2")
        .create()
        .expect("a bare Kafka producer")
}

/// A consumer with the settings of Herald's Kafka subscriber (`KafkaSubscriber::join`).
fn bare_stream_consumer(options: &KafkaOptions, group: &str) -> StreamConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", &options.brokers)
        .set("group.id", group)
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "500")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "500")
        .create()
        .expect("a bare Kafka consumer")
}

/// Events per second of each run of one path.
#[derive(Default)]
struct Rates {
    herald: Vec<f64>,
    bare: Vec<f64>,
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Runs `rounds` rounds of `herald` and `bare`, alternating which goes first.
async fn compare<FH, FB>(
    label: &str,
    events: usize,
    rounds: usize,
    herald: impl Fn() -> FH,
    bare: impl Fn() -> FB,
) -> Rates
where
    FH: Future<Output = Duration>,
    FB: Future<Output = Duration>,
{
    let mut rates = Rates::default();
    for round in 0..rounds {
        let herald_first = round % 2 == 0;
        for is_herald in [herald_first, !herald_first] {
            let path = if is_herald { "herald" } else { "bare" };
            let run = async {
                if is_herald {
                    herald().await
                } else {
                    bare().await
                }
            };
            let elapsed = tokio::time::timeout(RUN_LIMIT + Duration::from_secs(30), run)
                .await
                .unwrap_or_else(|_| panic!("{label} ({path}) did not finish in time"));
            let rate = events as f64 / elapsed.as_secs_f64();
            println!(
                "  {label:<15} round {} {path:<6} {events} events in {:>7.3} s = {rate:>9.0} ev/s",
                round + 1,
                elapsed.as_secs_f64()
            );
            if is_herald {
                rates.herald.push(rate);
            } else {
                rates.bare.push(rate);
            }
        }
    }
    rates
}

fn main() {
    let settings = Settings::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run(settings));
}

async fn run(settings: Settings) {
    let load_start = load();
    println!(
        "transport bench: {} events, {} rounds per path (order alternating), {} CPUs",
        settings.events,
        settings.rounds,
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!("load at start (/proc/loadavg): {load_start}");
    let kafka = settings.runs("kafka-relay") || settings.runs("kafka-consumer");
    let bench = Bench::connect(settings.events, kafka).await;
    let (n, rounds) = (settings.events, settings.rounds);
    let mut table: Vec<Row> = Vec::new();
    if settings.runs("kafka-relay") {
        let rates = compare(
            "kafka relay",
            n,
            rounds,
            || bench.kafka_relay_herald(),
            || bench.kafka_relay_bare(),
        )
        .await;
        table.push(("kafka", "relay", rates));
    }
    if settings.runs("kafka-consumer") {
        let topic = bench.kafka_filled_topic().await;
        let rates = compare(
            "kafka consumer",
            n,
            rounds,
            || bench.kafka_consume_herald(&topic),
            || bench.kafka_consume_bare(&topic),
        )
        .await;
        table.push(("kafka", "consumer (pg)", rates));
    }
    if settings.runs("nats-relay") {
        let rates = compare(
            "nats relay",
            n,
            rounds,
            || bench.nats_relay_herald(),
            || bench.nats_relay_bare(),
        )
        .await;
        table.push(("nats", "relay", rates));
    }
    if settings.runs("nats-consumer") {
        let stream = bench.nats_filled_stream().await;
        let rates = compare(
            "nats consumer",
            n,
            rounds,
            || bench.nats_consume_herald(&stream),
            || bench.nats_consume_bare(&stream),
        )
        .await;
        table.push(("nats", "consumer (pg)", rates));
    }
    bench.clean_up().await;
    let load_end = load();

    println!();
    println!(
        "{:<10} {:<14} {:>12} {:>12} {:>7}",
        "transport", "path", "herald ev/s", "bare ev/s", "ratio"
    );
    for (transport, path, rates) in &table {
        let (herald, bare) = (median(&rates.herald), median(&rates.bare));
        println!(
            "{transport:<10} {path:<14} {herald:>12.0} {bare:>12.0} {:>6.2}x",
            herald / bare
        );
    }
    println!("(medians of {rounds} runs each; {n} events per run)");
    println!("load at start: {load_start}");
    println!("load at end:   {load_end}");
}

/// One line of the closing table: transport, path, rates.
type Row = (&'static str, &'static str, Rates);
