//! Sagas end to end on PostgreSQL (issue 22, acceptance item 3): a 3-step saga started by
//! an event, every step a command on a local aggregate, against issuing the same three
//! commands directly through [`Repository`], side by side in one run.
//!
//! `cargo bench -p herald --features postgres --bench saga [-- --sagas N --rounds R]`
//!
//! - **Saga**: `N` `trip.requested` events (200 by default) are appended, then a
//!   [`SagaRunner`] catches up; the clock runs from its start until every instance has
//!   completed: per saga, its log (started, event received, three steps scheduled, three
//!   completed, completed), three commands carried out at most once
//!   ([`Repository::execute_once`]), its index row and its share of the checkpoints.
//! - **Direct**: the same three commands per trip through [`Repository::execute`], one
//!   after another, as the runner sends them.
//!
//! Each of `R` rounds (3 by default) runs both on fresh schemas, alternating which goes
//! first; the medians give sagas per second and the machinery's cost per saga over the
//! commands' own (goal: under 2×). PostgreSQL at 127.0.0.1:5432 (database `test`) must be
//! running: without it the run fails with a message.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    missing_docs
)]

use std::time::{Duration, Instant};

use herald::aggregate::{Aggregate, Repository};
use herald::projection::{Runner, RunnerOptions};
use herald::saga::{
    Command, Correlation, Decision, Dispatch, DispatchError, Saga, SagaRunner, SagaState, SagaStore,
};
use herald::store::EventStore;
use herald::store::postgres::PostgresStore;
use herald::{Event, NewEvent};
use herald_test_support::PgSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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

/// A leg of a trip (flight, hotel, car): booked once.
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

/// The 3-step saga: book the flight, the hotel and the car, then complete.
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
        let mut decisions: Vec<_> = LEGS
            .iter()
            .map(|leg| {
                Decision::send(
                    *leg,
                    Book {
                        trip_id: self.trip_id.clone(),
                        leg: (*leg).to_owned(),
                    },
                )
            })
            .collect();
        decisions.push(Decision::Complete);
        decisions
    }

    fn on_deadline(&self, _: &str) -> Vec<Decision<Book>> {
        Vec::new()
    }
}

struct Booking<S: EventStore>(Repository<S, Leg>);

impl<S: EventStore> Dispatch<Book> for Booking<S> {
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

async fn store() -> (PgSchema, PostgresStore) {
    let schema = PgSchema::create().await;
    let store = PostgresStore::new(schema.connect(8).await);
    store.migrate().await.unwrap();
    (schema, store)
}

/// Seconds for `n` sagas, from the runner's start until all completed.
async fn saga_run(n: usize) -> f64 {
    let (_schema, store) = store().await;
    for trip in 0..n {
        let requested = TripEvent::Requested {
            trip_id: format!("t{trip}"),
        };
        store
            .append(
                &format!("trip-t{trip}"),
                herald::store::Expected::NoStream,
                vec![NewEvent::new(&requested).unwrap()],
            )
            .await
            .unwrap();
    }
    let mut runner = SagaRunner::<_, Trip, _>::new(
        store.clone(),
        Booking(Repository::<_, Leg>::new(store.clone())),
    )
    .with_options(RunnerOptions {
        batch_size: 100,
        ..RunnerOptions::default()
    });
    let started = Instant::now();
    runner.catch_up(|_| {}).await.unwrap();
    let took = started.elapsed().as_secs_f64();
    let counts = store.saga_counts("trip", 0).await.unwrap();
    assert_eq!(counts.count(SagaState::Completed), n as u64, "{counts:?}");
    took
}

/// Seconds for the same commands issued directly.
async fn direct_run(n: usize) -> f64 {
    let (_schema, store) = store().await;
    let legs = Repository::<_, Leg>::new(store.clone());
    let started = Instant::now();
    for trip in 0..n {
        for leg in LEGS {
            let book = Book {
                trip_id: format!("t{trip}"),
                leg: leg.to_owned(),
            };
            legs.execute(&format!("t{trip}-{leg}"), book).await.unwrap();
        }
    }
    started.elapsed().as_secs_f64()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let (mut sagas, mut rounds) = (200_usize, 3_usize);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> usize {
            args.next()
                .and_then(|value| value.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match arg.as_str() {
            "--sagas" => sagas = number("--sagas"),
            "--rounds" => rounds = number("--rounds"),
            "--bench" => {}
            other => panic!("unknown argument `{other}`; usage: [--sagas N] [--rounds R]"),
        }
    }
    let (mut saga_times, mut direct_times) = (Vec::new(), Vec::new());
    for round in 0..rounds.max(1) {
        if round % 2 == 0 {
            saga_times.push(saga_run(sagas).await);
            direct_times.push(direct_run(sagas).await);
        } else {
            direct_times.push(direct_run(sagas).await);
            saga_times.push(saga_run(sagas).await);
        }
        println!(
            "round {}: saga {:.3} s, direct {:.3} s",
            round + 1,
            saga_times[round],
            direct_times[round]
        );
    }
    let saga = median(&mut saga_times);
    let direct = median(&mut direct_times);
    let per_saga = Duration::from_secs_f64(saga / sagas as f64);
    let per_trip = Duration::from_secs_f64(direct / sagas as f64);
    let overhead = (saga - direct) / direct;
    println!(
        "{sagas} three-step sagas on PostgreSQL, median of {rounds}: {:.0} sagas/s ({per_saga:?} per saga); \
         the same 3 commands directly: {per_trip:?} per trip; saga machinery adds {overhead:.2}× the commands' cost (goal < 2×)",
        sagas as f64 / saga
    );
}
