//! `herald::consumer` against the machine's NATS JetStream and Kafka-protocol broker, with its
//! inbox in SQLite and in PostgreSQL: the relay publishes a store's events, the consumer
//! handles them into a read model whose updates are increments (an event applied twice would
//! show).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use herald::consumer::{
    Backoff, Consumer, ConsumerOptions, ConsumerStats, Handler, Outcome, Received, Replayed,
};
use herald::projection::HandlerError;
use herald::relay::Relay;
use herald::store::memory::MemoryStore;
use herald::store::{EventStore, Expected};
use herald::transport::kafka::{KafkaOptions, KafkaSubscriber};
use herald::transport::nats::{NatsOptions, NatsPublisher, NatsSubscriber};
use herald::{Event, NewEvent};
use herald_test_support::{KAFKA_BROKERS, kafka_required, read_topic};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The parcel whose version 1 `sent` event the upcaster refuses.
const POISON: u32 = 12;

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "parcel", version = 1)]
enum ParcelV1 {
    Sent { id: u32 },
    Lost { id: u32 },
}

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "parcel", version = 2, try_upcast_from = ParcelV1)]
enum Parcel {
    Sent { id: u32, grams: u32 },
    Lost { id: u32 },
}

impl TryFrom<ParcelV1> for Parcel {
    type Error = String;

    fn try_from(old: ParcelV1) -> Result<Self, String> {
        match old {
            ParcelV1::Sent { id } if id == POISON => Err(format!("parcel {id} has no weight")),
            ParcelV1::Sent { id } => Ok(Parcel::Sent { id, grams: 1000 }),
            ParcelV1::Lost { id } => Ok(Parcel::Lost { id }),
        }
    }
}

/// Counts events per parcel and sums their weights; fails on parcel `fail_on` while set.
#[derive(Clone)]
struct Parcels {
    fail_on: Arc<AtomicU32>,
}

impl Default for Parcels {
    fn default() -> Self {
        Parcels {
            fail_on: Arc::new(AtomicU32::new(u32::MAX)),
        }
    }
}

macro_rules! parcels_handler {
    ($db:ty, $connection:ty) => {
        impl Handler<$db> for Parcels {
            type Event = Parcel;

            async fn handle(
                &self,
                connection: &mut $connection,
                message: &Received<Parcel>,
            ) -> Result<(), HandlerError> {
                let (id, grams) = match message.event {
                    Parcel::Sent { id, grams } => (id, grams),
                    Parcel::Lost { id } => (id, 0),
                };
                if id == self.fail_on.load(Ordering::SeqCst) {
                    return Err(format!("parcel {id} is not wanted yet").into());
                }
                sqlx::query(
                    "INSERT INTO parcels (id, events, grams) VALUES ($1, 1, $2) \
                     ON CONFLICT (id) DO UPDATE SET events = parcels.events + 1, \
                     grams = parcels.grams + excluded.grams",
                )
                .bind(i64::from(id))
                .bind(i64::from(grams))
                .execute(&mut *connection)
                .await?;
                Ok(())
            }
        }
    };
}

parcels_handler!(sqlx::Sqlite, sqlx::SqliteConnection);
parcels_handler!(sqlx::Postgres, sqlx::PgConnection);

/// Appends `count` events to a memory store, every third one a loss, the even ones written
/// by version 1; parcel [`POISON`]'s `sent` (if `count` reaches it) is a version 1 event the
/// upcaster refuses. Returns the store and the expected (id, events, grams) rows.
async fn seed(count: u32) -> (MemoryStore, Vec<(i64, i64, i64)>) {
    let store = MemoryStore::new();
    let mut expected = std::collections::BTreeMap::<i64, (i64, i64)>::new();
    for n in 0..count {
        let id = n / 2;
        let lost = n % 2 == 1 && id % 3 == 0;
        let event = match (lost, n % 4 == 0) {
            (true, _) => NewEvent::new(&Parcel::Lost { id }).unwrap(),
            (false, true) => NewEvent::new(&ParcelV1::Sent { id }).unwrap(),
            (false, false) => NewEvent::new(&Parcel::Sent { id, grams: 250 }).unwrap(),
        };
        let grams = match (lost, n % 4 == 0) {
            (true, _) => 0,
            (false, true) => 1000,
            (false, false) => 250,
        };
        store
            .append(&format!("parcel-{id}"), Expected::Any, vec![event])
            .await
            .unwrap();
        if !(n % 4 == 0 && id == POISON && !lost) {
            let row = expected.entry(i64::from(id)).or_default();
            row.0 += 1;
            row.1 += grams;
        }
    }
    let rows = expected
        .into_iter()
        .map(|(id, (events, grams))| (id, events, grams))
        .collect();
    (store, rows)
}

async fn relay_all(store: &MemoryStore, jetstream: &herald_test_support::JetStreamGuard) {
    let relay = Relay::new(
        store.clone(),
        NatsPublisher::new(jetstream.context.clone(), jetstream.name.clone()),
        "relay",
    )
    .batch_size(50);
    while relay.run_batch().await.unwrap().published > 0 {}
}

fn options(max_attempts: u32) -> ConsumerOptions {
    ConsumerOptions {
        batch_size: 16,
        fetch_wait: Duration::from_millis(300),
        max_attempts,
        backoff: Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(100),
        },
    }
}

/// A consumer of the guard's stream, with a one-second ack wait.
async fn bind<DB, H>(
    jetstream: &herald_test_support::JetStreamGuard,
    pool: sqlx::Pool<DB>,
    handler: H,
    options: ConsumerOptions,
) -> Consumer<DB, H, NatsSubscriber>
where
    DB: herald::consumer::InboxDatabase,
    H: Handler<DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let nats = NatsOptions {
        ack_wait: Duration::from_secs(1),
        filter_subject: None,
    };
    let subscriber = NatsSubscriber::bind(&jetstream.context, &jetstream.name, "parcels", nats)
        .await
        .unwrap();
    Consumer::new(subscriber, "parcels", pool, handler, options)
        .await
        .unwrap()
}

/// Runs batches until `done` holds of the running total, or fails after 30 s.
async fn run_until<DB, H>(
    consumer: &Consumer<DB, H, NatsSubscriber>,
    done: impl Fn(&ConsumerStats) -> bool,
) -> ConsumerStats
where
    DB: herald::consumer::InboxDatabase,
    H: Handler<DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let mut total = ConsumerStats::default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done(&total) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "consumer stalled at {total:?}"
        );
        let stats = consumer.run_batch().await.unwrap();
        total.received += stats.received;
        total.applied += stats.applied;
        total.duplicates += stats.duplicates;
        total.skipped += stats.skipped;
        total.retried += stats.retried;
        total.dead_lettered += stats.dead_lettered;
    }
    total
}

/// Relays a store's events to a Kafka topic of the test's own; returns the topic.
async fn relay_to_kafka(store: &MemoryStore) -> String {
    kafka_required();
    let topic = herald_test_support::unique("herald_consumer");
    let publisher = common::kafka_publisher(KAFKA_BROKERS);
    let name = topic.clone();
    let relay = Relay::new(store.clone(), publisher, "relay")
        .with_topic(move |_| name.clone())
        .batch_size(50);
    while relay.run_batch().await.unwrap().last_position > 0 {}
    topic
}

/// A member of consumer group `group` on `topic`.
async fn join<DB, H>(
    topic: &str,
    group: &str,
    pool: sqlx::Pool<DB>,
    handler: H,
    options: ConsumerOptions,
) -> Consumer<DB, H, KafkaSubscriber>
where
    DB: herald::consumer::InboxDatabase,
    H: Handler<DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let subscriber = KafkaSubscriber::join(KafkaOptions::new(KAFKA_BROKERS), group, &[topic])
        .await
        .unwrap();
    Consumer::new(subscriber, "parcels", pool, handler, options)
        .await
        .unwrap()
}

/// Runs a consumer's batches until `idle` fetches in a row found nothing (counted once it
/// received something, or after 10 s: joining a group takes a rebalance); returns its total.
async fn run_until_idle<DB, H, T>(consumer: &Consumer<DB, H, T>, idle: u32) -> ConsumerStats
where
    DB: herald::consumer::InboxDatabase,
    H: Handler<DB>,
    T: herald::transport::Subscriber,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let mut total = ConsumerStats::default();
    let mut quiet = 0;
    let started = tokio::time::Instant::now();
    let deadline = started + Duration::from_secs(60);
    while quiet < idle {
        assert!(
            tokio::time::Instant::now() < deadline,
            "consumer never idle: {total:?}"
        );
        let stats = consumer.run_batch().await.unwrap();
        let counting = total.received > 0 || started.elapsed() > Duration::from_secs(10);
        quiet = if stats.received == 0 && counting {
            quiet + 1
        } else {
            0
        };
        total.received += stats.received;
        total.applied += stats.applied;
        total.duplicates += stats.duplicates;
        total.skipped += stats.skipped;
        total.retried += stats.retried;
        total.dead_lettered += stats.dead_lettered;
    }
    total
}

macro_rules! kafka_tests {
    ($backend:ident, $db:ty, $pool:expr) => {
        mod $backend {
            use super::*;

            async fn read_model(pool: &sqlx::Pool<$db>) -> Vec<(i64, i64, i64)> {
                sqlx::query_as("SELECT id, events, grams FROM parcels ORDER BY id")
                    .fetch_all(pool)
                    .await
                    .unwrap()
            }

            async fn create_read_model(pool: &sqlx::Pool<$db>) {
                sqlx::query(
                    "CREATE TABLE parcels (id BIGINT PRIMARY KEY, events BIGINT NOT NULL, \
                     grams BIGINT NOT NULL)",
                )
                .execute(pool)
                .await
                .unwrap();
            }

            /// A member handles (and commits) a batch but dies before its offsets are
            /// stored; a new member of the group gets those messages again: no second
            /// effect. The poison is retried in place, then dead-lettered into the table and
            /// `<topic>.dlq`.
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn redeliveries_have_no_second_effect_and_the_poison_is_dead_lettered() {
                let (pool, _guard) = $pool;
                create_read_model(&pool).await;
                let (store, expected) = seed(40).await;
                let topic = relay_to_kafka(&store).await;
                let group = herald_test_support::unique("group");
                let first =
                    join(&topic, &group, pool.clone(), Parcels::default(), options(3)).await;
                let mut handled = 0;
                while handled < 10 {
                    for (message, _receipt) in first.fetch().await.unwrap() {
                        let outcome = first.handle(&message).await;
                        assert!(
                            matches!(outcome, Outcome::Applied | Outcome::Retry { .. }),
                            "{outcome:?}"
                        );
                        handled += 1;
                    }
                }
                drop(first);

                let next = join(&topic, &group, pool.clone(), Parcels::default(), options(3)).await;
                let stats = run_until_idle(&next, 3).await;
                println!("after the first member died: {stats:?}");
                assert!(stats.duplicates >= 1, "{stats:?}");
                assert_eq!(
                    stats.applied + stats.duplicates + stats.dead_lettered,
                    40,
                    "{stats:?}"
                );
                assert_eq!(stats.dead_lettered, 1);
                assert_eq!(
                    stats.retried, 2,
                    "two retries in place before the dead letter"
                );
                assert_eq!(read_model(&pool).await, expected);

                let letters = next.dead_letters().await.unwrap();
                assert_eq!(letters.len(), 1);
                assert!(letters[0].error.contains("has no weight"), "{letters:?}");
                let dlq = read_topic(&format!("{topic}.dlq"));
                assert_eq!(dlq.len(), 1);
                assert_eq!(dlq[0].header("Herald-Event-Id"), letters[0].event_id);
                assert!(dlq[0].header("Herald-Error").contains("has no weight"));
            }

            /// Members join and leave while the group consumes (cooperative rebalancing):
            /// every event is applied once.
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn members_joining_and_leaving_apply_each_event_once() {
                let (pool, _guard) = $pool;
                create_read_model(&pool).await;
                let (store, expected) = seed(150).await;
                let topic = relay_to_kafka(&store).await;
                let group = herald_test_support::unique("group");
                let slow = Parcels::default();
                let mut members = Vec::new();
                for n in 0..3u64 {
                    let topic = topic.clone();
                    let group = group.clone();
                    let pool = pool.clone();
                    let handler = slow.clone();
                    members.push(tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(700 * n)).await;
                        let member = join(&topic, &group, pool, handler, options(1)).await;
                        let mut total = ConsumerStats::default();
                        // The second member leaves half-way; the others stay until idle.
                        let idle = if n == 1 { 1 } else { 4 };
                        let stats = run_until_idle(&member, idle).await;
                        total.applied += stats.applied;
                        total.duplicates += stats.duplicates;
                        total.dead_lettered += stats.dead_lettered;
                        total
                    }));
                }
                let mut applied = Vec::new();
                let mut dead = 0;
                for member in members {
                    let total = member.await.unwrap();
                    applied.push(total.applied);
                    dead += total.dead_lettered;
                }
                println!("applied per member: {applied:?}");
                assert_eq!(applied.iter().sum::<u64>(), 149, "{applied:?}");
                assert_eq!(dead, 1);
                assert_eq!(read_model(&pool).await, expected);
            }
        }
    };
}

macro_rules! backend_tests {
    ($backend:ident, $db:ty, $pool:expr) => {
        mod $backend {
            use super::*;

            async fn read_model(pool: &sqlx::Pool<$db>) -> Vec<(i64, i64, i64)> {
                sqlx::query_as("SELECT id, events, grams FROM parcels ORDER BY id")
                    .fetch_all(pool)
                    .await
                    .unwrap()
            }

            async fn create_read_model(pool: &sqlx::Pool<$db>) {
                sqlx::query(
                    "CREATE TABLE parcels (id BIGINT PRIMARY KEY, events BIGINT NOT NULL, \
                     grams BIGINT NOT NULL)",
                )
                .execute(pool)
                .await
                .unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn a_redelivered_message_has_no_second_effect() {
                let (pool, _guard) = $pool;
                create_read_model(&pool).await;
                let jetstream = herald_test_support::JetStreamGuard::create().await;
                let (store, expected) = seed(20).await;
                relay_all(&store, &jetstream).await;
                let consumer = bind(&jetstream, pool.clone(), Parcels::default(), options(3)).await;

                // Handled and committed, but never acked: a crash between commit and ack.
                let mut handled = 0;
                while handled < 20 {
                    for (message, _receipt) in consumer.fetch().await.unwrap() {
                        assert_eq!(consumer.handle(&message).await, Outcome::Applied);
                        handled += 1;
                    }
                }
                assert_eq!(read_model(&pool).await, expected);

                // JetStream delivers them all again after the ack wait: no second effect.
                let stats = run_until(&consumer, |total| total.duplicates == 20).await;
                assert_eq!((stats.applied, stats.duplicates), (0, 20));
                assert_eq!(read_model(&pool).await, expected);
                let inbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM herald_inbox")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                assert_eq!(inbox, 20);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn failures_are_retried_then_dead_lettered_without_blocking_the_rest() {
                let (pool, _guard) = $pool;
                create_read_model(&pool).await;
                let jetstream = herald_test_support::JetStreamGuard::create().await;
                // Parcel 12's version 1 `sent` is poison; parcel 4 fails in the handler.
                let (store, expected) = seed(40).await;
                relay_all(&store, &jetstream).await;
                let handler = Parcels::default();
                handler.fail_on.store(4, Ordering::SeqCst);
                let consumer = bind(&jetstream, pool.clone(), handler.clone(), options(3)).await;
                // Parcel 4 has two events (a version 1 `sent`, then a `sent`), parcel 12 one
                // poison event and one good one.
                let stats = run_until(&consumer, |total| total.dead_lettered == 3).await;
                let total = run_until(&consumer, |total| total.applied + stats.applied == 37).await;
                assert_eq!(stats.retried + total.retried, 6, "two retries per dead letter");

                let letters = consumer.dead_letters().await.unwrap();
                assert_eq!(letters.len(), 3);
                assert!(letters.iter().all(|letter| letter.attempts == 3));
                let poison = letters
                    .iter()
                    .find(|letter| letter.error.contains("has no weight"))
                    .expect("the poison message is a dead letter");
                assert_eq!(poison.headers["Herald-Schema-Version"], "1");
                let failed: Vec<_> = letters
                    .iter()
                    .filter(|letter| letter.error.contains("parcel 4 is not wanted yet"))
                    .collect();
                assert_eq!(failed.len(), 2);

                // Everything else went through; parcel 4 is missing from the read model.
                let without_4: Vec<_> =
                    expected.iter().copied().filter(|row| row.0 != 4).collect();
                assert_eq!(read_model(&pool).await, without_4);

                // The poison fails again on replay and stays, one attempt more.
                assert!(matches!(
                    consumer.replay(&poison.event_id).await.unwrap(),
                    Replayed::Failed(error) if error.contains("has no weight")
                ));
                let letters = consumer.dead_letters().await.unwrap();
                let again = letters
                    .iter()
                    .find(|letter| letter.event_id == poison.event_id)
                    .unwrap();
                assert_eq!(again.attempts, 4);

                // Parcel 4's handler is fixed: replaying applies each once and removes them.
                handler.fail_on.store(u32::MAX, Ordering::SeqCst);
                for letter in failed {
                    assert_eq!(
                        consumer.replay(&letter.event_id).await.unwrap(),
                        Replayed::Applied
                    );
                    assert_eq!(
                        consumer.replay(&letter.event_id).await.unwrap(),
                        Replayed::NotFound
                    );
                }
                assert_eq!(read_model(&pool).await, expected);
                assert_eq!(consumer.dead_letters().await.unwrap().len(), 1);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn replicas_share_one_durable_consumer() {
                let (pool, _guard) = $pool;
                create_read_model(&pool).await;
                let jetstream = herald_test_support::JetStreamGuard::create().await;
                let (store, expected) = seed(120).await;
                relay_all(&store, &jetstream).await;
                let mut replicas = Vec::new();
                for _ in 0..3 {
                    let consumer = bind(&jetstream, pool.clone(), Parcels::default(), options(1)).await;
                    replicas.push(tokio::spawn(async move {
                        let mut total = ConsumerStats::default();
                        let mut idle = 0;
                        while idle < 3 {
                            let stats = consumer.run_batch().await.unwrap();
                            idle = if stats.received == 0 { idle + 1 } else { 0 };
                            total.applied += stats.applied;
                            total.duplicates += stats.duplicates;
                            total.dead_lettered += stats.dead_lettered;
                        }
                        total
                    }));
                }
                let mut applied = Vec::new();
                let mut dead = 0;
                for replica in replicas {
                    let total = replica.await.unwrap();
                    applied.push(total.applied);
                    dead += total.dead_lettered;
                }
                // Parcel 12's poison `sent` is the one dead letter (one attempt allowed).
                assert_eq!(applied.iter().sum::<u64>(), 119, "{applied:?}");
                assert_eq!(dead, 1);
                assert!(
                    applied.iter().filter(|&&n| n > 0).count() >= 2,
                    "JetStream spread the work: {applied:?}"
                );
                assert_eq!(read_model(&pool).await, expected);
            }
        }
    };
}

backend_tests!(
    sqlite,
    sqlx::Sqlite,
    herald_test_support::sqlite_pool().await
);
kafka_tests!(
    kafka_sqlite,
    sqlx::Sqlite,
    herald_test_support::sqlite_pool().await
);
kafka_tests!(kafka_postgres, sqlx::Postgres, {
    let schema = herald_test_support::PgSchema::create().await;
    (schema.pool.clone(), schema)
});
backend_tests!(postgres, sqlx::Postgres, {
    let schema = herald_test_support::PgSchema::create().await;
    (schema.pool.clone(), schema)
});
