//! A saga fed by a broker: events another service's relay published to NATS JetStream reach
//! a [`SagaRunner`] through a [`Consumer`] (`SagaRunner::handle_message` in its handler).
//! Every trip books its three legs exactly once and completes, although the handler fails
//! after the saga handled some messages (so the broker redelivers them) and the relay
//! publishes everything twice.
//!
//! Needs NATS with JetStream at 127.0.0.1:4222.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

#[path = "common/trips.rs"]
mod trips;

use herald::NewEvent;
use herald::aggregate::Repository;
use herald::consumer::{Consumer, ConsumerOptions, Handler, Received};
use herald::projection::HandlerError;
use herald::relay::Relay;
use herald::saga::{SagaRunner, SagaState, SagaStore, log_stream};
use herald::store::memory::MemoryStore;
use herald::store::sqlite::SqliteStore;
use herald::store::{Direction, EventStore, Expected};
use herald::transport::nats::{NatsOptions, NatsPublisher, NatsSubscriber};
use herald_test_support::{JetStreamGuard, sqlite_pool};
use trips::{Booking, LEGS, Trip, TripEvent};

const TRIPS: usize = 30;

/// Hands each message to the saga, then fails the first delivery of every third trip, so
/// the broker delivers it again.
struct Trips {
    runner: SagaRunner<SqliteStore, Trip, Booking<SqliteStore>>,
    failed: Mutex<HashSet<String>>,
}

impl Handler<sqlx::Sqlite> for Trips {
    type Event = TripEvent;

    async fn handle(
        &self,
        _: &mut sqlx::SqliteConnection,
        message: &Received<TripEvent>,
    ) -> Result<(), HandlerError> {
        self.runner.handle_message(message).await?;
        let TripEvent::Requested { trip_id } = &message.event;
        let number: usize = trip_id.trim_start_matches('t').parse()?;
        if number.is_multiple_of(3) && self.failed.lock().unwrap().insert(trip_id.clone()) {
            return Err(format!("{trip_id}: failing after the saga handled it").into());
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saga_fed_by_a_broker_books_each_leg_once() {
    let jetstream = JetStreamGuard::create().await;
    let source = MemoryStore::new();
    for trip in 0..TRIPS {
        let requested = TripEvent::Requested {
            trip_id: format!("t{trip}"),
        };
        let event = NewEvent::new(&requested).unwrap();
        source
            .append(&format!("trip-t{trip}"), Expected::NoStream, vec![event])
            .await
            .unwrap();
    }
    // The relay publishes everything, then (as after a lost checkpoint) everything again.
    for name in ["relay-a", "relay-b"] {
        let relay = Relay::new(
            source.clone(),
            NatsPublisher::new(jetstream.context.clone(), jetstream.name.clone()),
            name,
        );
        while relay.run_batch().await.unwrap().published > 0 {}
    }

    // The saga's store and the consumer's inbox in two files: SQLite has one writer per
    // file, and the handler runs inside the inbox's write transaction.
    let (saga_pool, _saga_dir) = sqlite_pool().await;
    let store = SqliteStore::new(saga_pool);
    store.migrate().await.unwrap();
    let (pool, _dir) = sqlite_pool().await;
    let runner = SagaRunner::new(store.clone(), Booking(Repository::new(store.clone())));
    let handler = Trips {
        runner,
        failed: Mutex::new(HashSet::new()),
    };
    let nats = NatsOptions {
        ack_wait: Duration::from_secs(1),
        filter_subject: None,
    };
    let subscriber = NatsSubscriber::bind(&jetstream.context, &jetstream.name, "trips", nats)
        .await
        .unwrap();
    let options = ConsumerOptions {
        fetch_wait: Duration::from_millis(200),
        ..ConsumerOptions::default()
    };
    let consumer = Consumer::new(subscriber, "trips", pool, handler, options)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        consumer.run_batch().await.unwrap();
        let counts = store.saga_counts("trip", 0).await.unwrap();
        if counts.count(SagaState::Completed) == TRIPS as u64 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not every trip completed in 60 s: {counts:?}"
        );
    }
    assert!(!consumer.handler().failed.lock().unwrap().is_empty());
    for trip in 0..TRIPS {
        for leg in LEGS {
            let booked = store
                .read_stream(&format!("leg-t{trip}-{leg}"), 1, Direction::Forward, 10)
                .await
                .unwrap();
            assert_eq!(
                booked.len(),
                1,
                "t{trip} {leg} booked {} times",
                booked.len()
            );
        }
        let log = store
            .read_stream(
                &log_stream("trip", &format!("t{trip}")),
                1,
                Direction::Forward,
                100,
            )
            .await
            .unwrap();
        let received = log
            .iter()
            .filter(|event| event.event_type == "herald.saga.received")
            .count();
        assert_eq!(received, 1, "t{trip}: the request reached its saga once");
    }
}
