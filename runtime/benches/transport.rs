//! Transport throughput: Herald's relay and consumer against bare clients doing the same work,
//! side by side in one run (issue 20, acceptance item 5).
//!
//! `cargo bench -p herald --features kafka,nats,consumer,postgres,sqlite --bench transport
//! [-- --events N --kafka-relay-events M --rounds R --only kafka|nats|kafka-relay|…
//! --async-commit]`
//!
//! Each comparison runs `R` rounds (3 by default) of a Herald run and a bare run, the order
//! alternating from one round to the next (Herald first in odd rounds, bare first in even
//! ones), and reports the median events per second of each, the ratio Herald / bare, and the
//! CPU time this process spent per event (all its threads, librdkafka's included; not the
//! broker's or the database's):
//!
//! - **Kafka relay**: `M` events (100,000 by default) in a [`MemoryStore`] relayed by
//!   [`Relay::catch_up`] (batches of 1000, 4 in flight) over [`KafkaPublisher`] to a fresh topic of 3
//!   partitions, timed until every event is acknowledged and checkpointed; against a bare
//!   `rdkafka` [`FutureProducer`] with the publisher's settings (idempotent, gapless,
//!   `acks=all`, `linger.ms=2`, the same delivery timeout) sending the same records (the
//!   relay's own messages: key, headers, payload, explicit partition) to another fresh topic
//!   and awaiting every delivery. Both producers first deliver one message to a warm-up topic:
//!   a new idempotent producer waits up to a second for its producer id, which is not
//!   throughput. `M` is larger than `N` because a bare burst of a few ten thousand messages
//!   ends within tens of milliseconds.
//! - **Kafka consumer**: a topic pre-filled by the relay with `N` events (10,000 by default),
//!   consumed by a [`Consumer`] over [`KafkaSubscriber`] with its inbox in PostgreSQL and a
//!   handler doing one `INSERT` per message; against a bare [`StreamConsumer`] with the
//!   subscriber's settings that, per message, in one transaction inserts the inbox row (`ON
//!   CONFLICT DO NOTHING`) and the same `INSERT`, commits and stores the offset. Each run has
//!   a fresh consumer group and a fresh PostgreSQL schema; the clock starts at the fetch that
//!   brings the first message (joining the group is not counted) and stops when all `N` are
//!   applied, and the read model is checked to hold each event once. Both paths commit
//!   durably, so both mostly wait for PostgreSQL's WAL flush, which on a busy disk varies
//!   from run to run; `--async-commit` sets `synchronous_commit = off` on both paths'
//!   connections, which measures the clients and the database's CPU instead, more steadily
//!   and more strictly.
//! - **NATS relay** and **NATS consumer**: the same with `N` events over JetStream, against a
//!   bare `async_nats` publish of the same messages (with the same `Nats-Msg-Id`, each
//!   acknowledgement awaited before the next publish, as [`NatsPublisher`] does) and a bare
//!   pull-consumer loop (batches of 100) with the same per-message transaction and an ack.
//!
//! PostgreSQL (127.0.0.1:5432, database `test`), NATS with JetStream (127.0.0.1:4222) and a
//! Kafka-protocol broker (127.0.0.1:9092, `scripts/kafka`) must be running: a missing one
//! fails the run with a message, nothing is skipped. Topics, streams and schemas the bench
//! creates are deleted at the end of a run that succeeds.

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

use herald_test_support::{KAFKA_BROKERS, NATS_URL, POSTGRES_URL};

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
    /// Events of the consumer comparisons and of the NATS relay's.
    events: usize,
    /// Events of the Kafka relay comparisons.
    kafka_relay_events: usize,
    rounds: usize,
    /// Which comparisons run (`kafka-relay`, `kafka-consumer`, `nats-relay`,
    /// `nats-consumer`); all by default.
    only: Vec<String>,
    /// `synchronous_commit = off` on both consumer paths' connections.
    async_commit: bool,
}

/// The comparisons, in the order they run.
const COMPARISONS: [&str; 4] = [
    "kafka-relay",
    "kafka-consumer",
    "nats-relay",
    "nats-consumer",
];

impl Settings {
    fn runs(&self, comparison: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|only| only == comparison)
    }
}

impl Settings {
    fn parse() -> Settings {
        let mut settings = Settings {
            events: 10_000,
            kafka_relay_events: 100_000,
            rounds: 3,
            only: Vec::new(),
            async_commit: false,
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
                "--kafka-relay-events" => {
                    settings.kafka_relay_events = number("--kafka-relay-events");
                }
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
                        settings
                            .only
                            .extend(matching.into_iter().map(str::to_owned));
                    }
                }
                // What `cargo bench` passes to every bench target.
                "--async-commit" => settings.async_commit = true,
                "--bench" => {}
                other => panic!(
                    "unknown argument `{other}`; usage: [--events N] [--kafka-relay-events M] [--rounds R] [--only kafka|nats|kafka-relay|…] [--async-commit]"
                ),
            }
        }
        settings
    }
}

/// A memory store holding events to relay, and the events as read back.
struct Log {
    store: MemoryStore,
    events: Vec<RecordedEvent>,
}

impl Log {
    /// `count` `parcel.sent` events (ids 0 to `count - 1`) over [`STREAMS`] streams.
    async fn seed(count: usize) -> Log {
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
        Log { store, events }
    }

    fn last_position(&self) -> u64 {
        self.events.last().map_or(0, |event| event.position)
    }

    /// The relay's messages for every event, to `topic` (or the publisher's default).
    fn messages<P: Publisher>(&self, publisher: P, topic: Option<String>) -> Vec<Outgoing> {
        let mut relay = Relay::new(self.store.clone(), publisher, "messages");
        if let Some(topic) = topic {
            relay = relay.with_topic(move |_| topic.clone());
        }
        self.events
            .iter()
            .map(|event| relay.outgoing(event).expect("an outgoing message"))
            .collect()
    }

    /// A relay of this log named `name`, in batches of [`RELAY_BATCH`].
    fn relay<P: Publisher>(&self, publisher: P, name: String) -> Relay<MemoryStore, P> {
        Relay::new(self.store.clone(), publisher, name).batch_size(RELAY_BATCH)
    }

    /// Relays every event with `relay` (by reference: dropping its clients takes a while,
    /// outside the clock). A broker error is retried as [`Relay::run`] would.
    async fn relay_all<P: Publisher>(&self, relay: &Relay<MemoryStore, P>) {
        let mut published = 0;
        loop {
            match relay.catch_up().await {
                Ok(stats) => published += stats.published + stats.skipped,
                Err(herald::relay::RelayError::Transport(error)) => {
                    println!("    (relay error: {error}; again, as `Relay::run` would)");
                    tokio::time::sleep(relay.publisher().max_in_flight()).await;
                }
                Err(error) => panic!("relaying: {error}"),
            }
            if relay.checkpoint().await.expect("the checkpoint") >= self.last_position() {
                break;
            }
        }
        assert_eq!(
            published,
            self.events.len() as u64,
            "every event in exactly one committed batch (published, or found held after an error)"
        );
    }
}

/// Everything the runs share.
struct Bench {
    /// The `--events` events.
    log: Log,
    postgres: PgPool,
    jetstream: async_nats::jetstream::Context,
    kafka_admin: AdminClient<DefaultClientContext>,
    /// Where each Kafka producer sends one message before its clock starts.
    warm_up_topic: tokio::sync::OnceCell<String>,
    /// Topics and streams to delete at the end.
    topics: Mutex<Vec<String>>,
    streams: Mutex<Vec<String>>,
    /// `synchronous_commit` of the consumers' connections.
    synchronous_commit: &'static str,
}

/// A fresh name: `herald_bench_<prefix>_<16 hex digits>`.
fn unique(prefix: &str) -> String {
    herald_test_support::unique(&format!("herald_bench_{prefix}_"))
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

/// CPU time this process's threads have used so far (the sum of
/// `/proc/self/task/*/schedstat`; threads that already ended are not counted).
fn process_cpu() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let nanos: u64 = tasks
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

/// The start of a timed run: wall clock and process CPU.
#[derive(Clone, Copy)]
struct Clock {
    wall: Instant,
    cpu: Duration,
}

/// What a timed run took.
struct Measured {
    wall: Duration,
    cpu: Duration,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            wall: Instant::now(),
            cpu: process_cpu(),
        }
    }

    fn stop(self) -> Measured {
        Measured {
            wall: self.wall.elapsed(),
            cpu: process_cpu().saturating_sub(self.cpu),
        }
    }
}

/// A PostgreSQL schema of one run, with a pool confined to it.
struct Schema {
    name: String,
    pool: PgPool,
}

impl Bench {
    async fn connect(settings: &Settings, kafka: bool) -> Bench {
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

        Bench {
            log: Log::seed(settings.events).await,
            postgres,
            jetstream: async_nats::jetstream::new(client),
            kafka_admin,
            warm_up_topic: tokio::sync::OnceCell::new(),
            topics: Mutex::new(Vec::new()),
            streams: Mutex::new(Vec::new()),
            synchronous_commit: if settings.async_commit { "off" } else { "on" },
        }
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
            .options([
                ("search_path", name.as_str()),
                ("synchronous_commit", self.synchronous_commit),
            ]);
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
        let n = self.log.events.len() as i64;
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
        for attempt in 1.. {
            let sent = publisher.send(std::slice::from_ref(&message)).await;
            let acked = match sent {
                Ok(acks) => acks.await,
                Err(error) => Err(error),
            };
            match acked {
                Ok(_) => break,
                // A producer's first message can time out while librdkafka acquires its
                // producer id; the publisher starts a new producer, which acquires one idle.
                Err(error) if attempt < 5 => {
                    println!("    (warming up a Kafka publisher failed: {error}; again)");
                    tokio::time::sleep(publisher.max_in_flight()).await;
                }
                Err(error) => panic!("warming up a Kafka publisher: {error}"),
            }
        }
        publisher
    }

    /// A bare producer warmed up like [`Bench::warm_publisher`].
    async fn warm_bare_producer(&self) -> FutureProducer {
        let producer = bare_producer(&KafkaOptions::new(KAFKA_BROKERS));
        let message = self.warm_up_message().await;
        for attempt in 1.. {
            let record = FutureRecord::to(&message.topic)
                .partition(0)
                .key(message.key.as_bytes())
                .payload(message.payload.as_slice());
            match producer.send(record, Duration::from_secs(10)).await {
                Ok(_) => break,
                Err((error, _)) if attempt < 5 => {
                    println!("    (warming up a bare Kafka producer failed: {error}; again)");
                }
                Err((error, _)) => panic!("warming up a bare Kafka producer: {error}"),
            }
        }
        producer
    }

    async fn kafka_relay_herald(&self, log: &Log) -> Measured {
        let topic = self.kafka_topic("relay_herald").await;
        let publisher = self.warm_publisher().await;
        let relay = log
            .relay(publisher, unique("relay"))
            .with_topic(move |_| topic.clone());
        let started = Clock::start();
        log.relay_all(&relay).await;
        started.stop()
    }

    /// The bare producer: sends every message and awaits every delivery.
    async fn kafka_relay_bare(&self, log: &Log) -> Measured {
        let topic = self.kafka_topic("relay_bare").await;
        let publisher =
            KafkaPublisher::new(KafkaOptions::new(KAFKA_BROKERS)).expect("a Kafka publisher");
        let messages = log.messages(publisher, Some(topic.clone()));
        let producer = self.warm_bare_producer().await;
        let started = Clock::start();
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
        await_deliveries(deliveries).await;
        started.stop()
    }

    // ---- Kafka consumer ----

    /// A topic holding the relay's messages for every event.
    async fn kafka_filled_topic(&self) -> String {
        let topic = self.kafka_topic("consume").await;
        let publisher =
            KafkaPublisher::new(KafkaOptions::new(KAFKA_BROKERS)).expect("a Kafka publisher");
        let name = topic.clone();
        let relay = self
            .log
            .relay(publisher, unique("fill"))
            .with_topic(move |_| name.clone());
        self.log.relay_all(&relay).await;
        topic
    }

    async fn kafka_consume_herald(&self, topic: &str) -> Measured {
        let subscriber =
            KafkaSubscriber::join(KafkaOptions::new(KAFKA_BROKERS), &unique("group"), &[topic])
                .await
                .expect("joining a consumer group");
        self.consume_herald_from(subscriber).await
    }

    async fn kafka_consume_bare(&self, topic: &str) -> Measured {
        let schema = self.schema().await;
        let consumer = bare_stream_consumer(&KafkaOptions::new(KAFKA_BROKERS), &unique("group"));
        consumer.subscribe(&[topic]).expect("subscribing");
        let total = self.log.events.len();
        let mut applied = 0;
        let mut started = None;
        let deadline = Instant::now() + RUN_LIMIT;
        while applied < total {
            assert!(Instant::now() < deadline, "bare Kafka consumer stalled");
            let asked = started.is_none().then(Clock::start);
            let Ok(received) = tokio::time::timeout(FETCH_WAIT, consumer.recv()).await else {
                continue;
            };
            started = started.or(asked);
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
        let elapsed = started.expect("messages were received").stop();
        drop(consumer);
        self.finish(schema).await;
        elapsed
    }

    // ---- NATS relay ----

    async fn nats_relay_herald(&self) -> Measured {
        let stream = self.nats_stream("relay_herald").await;
        let publisher = NatsPublisher::new(self.jetstream.clone(), stream);
        let relay = self.log.relay(publisher, unique("relay"));
        let started = Clock::start();
        self.log.relay_all(&relay).await;
        started.stop()
    }

    async fn nats_relay_bare(&self) -> Measured {
        let stream = self.nats_stream("relay_bare").await;
        let messages = self
            .log
            .messages(NatsPublisher::new(self.jetstream.clone(), stream), None);
        let started = Clock::start();
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
        started.stop()
    }

    // ---- NATS consumer ----

    /// A stream holding the relay's messages for every event.
    async fn nats_filled_stream(&self) -> String {
        let stream = self.nats_stream("consume").await;
        let publisher = NatsPublisher::new(self.jetstream.clone(), stream.clone());
        let relay = self.log.relay(publisher, unique("fill"));
        self.log.relay_all(&relay).await;
        stream
    }

    async fn nats_consume_herald(&self, stream: &str) -> Measured {
        let subscriber = NatsSubscriber::bind(
            &self.jetstream,
            stream,
            &unique("durable"),
            NatsOptions::default(),
        )
        .await
        .expect("binding a durable consumer");
        self.consume_herald_from(subscriber).await
    }

    /// Herald's consumer over `subscriber`, with its inbox in a fresh PostgreSQL schema.
    async fn consume_herald_from<T: herald::transport::Subscriber>(
        &self,
        subscriber: T,
    ) -> Measured {
        let schema = self.schema().await;
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

    async fn nats_consume_bare(&self, stream: &str) -> Measured {
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
        let total = self.log.events.len();
        let mut applied = 0;
        let mut started = None;
        let deadline = Instant::now() + RUN_LIMIT;
        while applied < total {
            assert!(Instant::now() < deadline, "bare NATS consumer stalled");
            let asked = started.is_none().then(Clock::start);
            let mut batch = consumer
                .batch()
                .max_messages(FETCH_BATCH)
                .expires(FETCH_WAIT)
                .messages()
                .await
                .expect("a pull request");
            while let Some(message) = batch.next().await {
                started = started.or(asked);
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
        let elapsed = started.expect("messages were received").stop();
        self.finish(schema).await;
        elapsed
    }

    /// Runs Herald's consumer until every event is applied; the clock starts at the batch
    /// that brought the first message.
    async fn consume_herald<T: herald::transport::Subscriber>(
        &self,
        consumer: &Consumer<sqlx::Postgres, Parcels, T>,
    ) -> Measured {
        let total = self.log.events.len() as u64;
        let mut applied = 0;
        let mut started = None;
        let deadline = Instant::now() + RUN_LIMIT;
        while applied < total {
            assert!(Instant::now() < deadline, "Herald's consumer stalled");
            let asked = started.is_none().then(Clock::start);
            let stats = consumer.run_batch().await.expect("a consumer batch");
            if stats.received > 0 {
                started = started.or(asked);
            }
            assert_eq!(stats.received, stats.applied, "every message applied");
            applied += stats.applied;
        }
        started.expect("messages were received").stop()
    }
}

/// Awaits bare Kafka deliveries; any failure fails the bench.
async fn await_deliveries(deliveries: impl IntoIterator<Item = rdkafka::producer::DeliveryFuture>) {
    for delivery in deliveries {
        match delivery.await {
            Ok(Ok(_)) => {}
            Ok(Err((error, _))) => panic!("bare Kafka delivery: {error}"),
            Err(_) => panic!("bare Kafka delivery: the producer was dropped"),
        }
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

/// Events per second and this process's CPU microseconds per event, of each run of each
/// path.
#[derive(Default)]
struct Rates {
    events: usize,
    herald: Vec<f64>,
    bare: Vec<f64>,
    herald_cpu: Vec<f64>,
    bare_cpu: Vec<f64>,
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
    FH: Future<Output = Measured>,
    FB: Future<Output = Measured>,
{
    let mut rates = Rates {
        events,
        ..Rates::default()
    };
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
            let measured = tokio::time::timeout(RUN_LIMIT + Duration::from_secs(30), run)
                .await
                .unwrap_or_else(|_| panic!("{label} ({path}) did not finish in time"));
            let rate = events as f64 / measured.wall.as_secs_f64();
            let cpu = measured.cpu.as_secs_f64() * 1e6 / events as f64;
            println!(
                "  {label:<15} round {} {path:<6} {events} events in {:>7.3} s = {rate:>9.0} ev/s, \
                 {cpu:>6.1} µs CPU/event",
                round + 1,
                measured.wall.as_secs_f64()
            );
            if is_herald {
                rates.herald.push(rate);
                rates.herald_cpu.push(cpu);
            } else {
                rates.bare.push(rate);
                rates.bare_cpu.push(cpu);
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
    if settings.async_commit {
        println!("consumers' PostgreSQL connections: synchronous_commit = off");
    }
    let kafka = settings.runs("kafka-relay") || settings.runs("kafka-consumer");
    let bench = Bench::connect(&settings, kafka).await;
    let (n, rounds) = (settings.events, settings.rounds);
    let mut table: Vec<Row> = Vec::new();
    if settings.runs("kafka-relay") {
        let m = settings.kafka_relay_events;
        let log = Log::seed(m).await;
        let rates = compare(
            "kafka relay",
            m,
            rounds,
            || bench.kafka_relay_herald(&log),
            || bench.kafka_relay_bare(&log),
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
        "{:<10} {:<14} {:>7} {:>12} {:>12} {:>7}   {:>13}",
        "transport", "path", "events", "herald ev/s", "bare ev/s", "ratio", "CPU µs/ev h/b"
    );
    for (transport, path, rates) in &table {
        let (herald, bare) = (median(&rates.herald), median(&rates.bare));
        println!(
            "{transport:<10} {path:<14} {:>7} {herald:>12.0} {bare:>12.0} {:>6.2}x   {:>6.1}/{:<6.1}",
            rates.events,
            herald / bare,
            median(&rates.herald_cpu),
            median(&rates.bare_cpu),
        );
    }
    println!(
        "(medians of {rounds} runs each; ratio = herald / bare; CPU = this process's threads, \
         not the broker's or the database's)"
    );
    println!("load at start: {load_start}");
    println!("load at end:   {load_end}");
}

/// One line of the closing table: transport, path, rates.
type Row = (&'static str, &'static str, Rates);
