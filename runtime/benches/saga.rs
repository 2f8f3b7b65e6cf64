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

#[path = "../tests/common/trips.rs"]
mod trips;

use herald::NewEvent;
use herald::aggregate::Repository;
use herald::projection::{Runner, RunnerOptions};
use herald::saga::{SagaRunner, SagaState, SagaStore};
use herald::store::EventStore;
use herald::store::postgres::PostgresStore;
use herald_test_support::PgSchema;
use trips::{Book, Booking, LEGS, Leg, Trip, TripEvent};

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
