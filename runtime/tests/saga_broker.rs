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

use herald::aggregate::{Aggregate, Repository};
use herald::consumer::{Consumer, ConsumerOptions, Handler, Received};
use herald::projection::HandlerError;
use herald::relay::Relay;
use herald::saga::{
    Command, Correlation, Decision, Dispatch, DispatchError, Saga, SagaRunner, SagaState,
    SagaStore, log_stream,
};
use herald::store::memory::MemoryStore;
use herald::store::sqlite::SqliteStore;
use herald::store::{Direction, EventStore, Expected};
use herald::transport::nats::{NatsOptions, NatsPublisher, NatsSubscriber};
use herald::{Event, NewEvent};
use herald_test_support::{JetStreamGuard, sqlite_pool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

const TRIPS: usize = 30;

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "trip", version = 1)]
enum TripEvent {
    Requested { trip_id: String },
}

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "leg", version = 1)]
enum LegEvent {
    Booked { trip_id: String, leg: String },
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Leg {
    booked: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Book {
    trip_id: String,
    leg: String,
}

#[derive(Debug, thiserror::Error)]
#[error("already booked")]
struct AlreadyBooked;

impl Aggregate for Leg {
    const TYPE: &'static str = "leg";
    type Event = LegEvent;
    type Command = Book;
    type Error = AlreadyBooked;

    fn apply(&mut self, _: &LegEvent) {
        self.booked = true;
    }

    fn handle(&self, book: Book) -> Result<Vec<LegEvent>, AlreadyBooked> {
        if self.booked {
            return Err(AlreadyBooked);
        }
        Ok(vec![LegEvent::Booked {
            trip_id: book.trip_id,
            leg: book.leg,
        }])
    }
}

const LEGS: [&str; 3] = ["flight", "hotel", "car"];

#[derive(Debug, Default)]
struct Trip {
    trip_id: String,
}

impl Saga for Trip {
    const NAME: &'static str = "trip";
    const STARTS: &'static [&'static str] = &["trip.requested"];
    const CORRELATION: Correlation = Correlation::Field("trip_id");
    type Event = TripEvent;
    type Command = Book;

    fn apply(&mut self, TripEvent::Requested { trip_id }: &TripEvent) {
        self.trip_id = trip_id.clone();
    }

    fn on(&self, _: &TripEvent) -> Vec<Decision<Book>> {
        let book = |leg: &str| Book {
            trip_id: self.trip_id.clone(),
            leg: leg.to_owned(),
        };
        let mut decisions: Vec<_> = LEGS
            .iter()
            .map(|leg| Decision::send(*leg, book(leg)))
            .collect();
        decisions.push(Decision::Complete);
        decisions
    }

    fn on_deadline(&self, _: &str) -> Vec<Decision<Book>> {
        Vec::new()
    }
}

struct Booking(Repository<SqliteStore, Leg>);

impl Dispatch<Book> for Booking {
    async fn dispatch(&self, command: &Command<Book>) -> Result<(), DispatchError> {
        let book = &command.command;
        let id = format!("{}-{}", book.trip_id, book.leg);
        self.0
            .execute_once(&id, command.command_id, book.clone(), Some(command.cause))
            .await
            .map(|_| ())
            .map_err(|error| DispatchError::Failed(Box::new(error)))
    }
}

/// Hands each message to the saga, then fails the first delivery of every third trip, so
/// the broker delivers it again.
struct Trips {
    runner: SagaRunner<SqliteStore, Trip, Booking>,
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
