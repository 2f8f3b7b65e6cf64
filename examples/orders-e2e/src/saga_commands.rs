//! The fulfilment saga's subcommands: place orders, run the saga (one replica of it), play
//! the payment service, and show where the sagas are.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use herald::lease::{Ended, Leases};
use herald::projection::{ProjectionRunner, Runner, RunnerOptions};
use herald::saga::{SagaRunner, SagaState, SagaStore};
use herald::store::EventStore;
use herald_example_orders_e2e::fulfilment::{Fulfilling, Fulfilment, PaymentService, place_orders};
use tokio::sync::watch;

use crate::{Error, stopped};

/// Puts stock in and places `orders` sample orders.
pub async fn place<S: EventStore>(store: &S, orders: usize) -> Result<(), Error> {
    let placed = place_orders(store, orders).await?;
    println!("placed {placed} orders");
    Ok(())
}

/// Runs the fulfilment saga while this replica holds its lease, until `stop`.
pub async fn run_saga<S: SagaStore>(
    store: S,
    leases: Leases,
    batch_size: usize,
    stop: watch::Receiver<bool>,
) -> Result<(), Error> {
    let mut runner = SagaRunner::<_, Fulfilment, _>::new(store.clone(), Fulfilling::new(store))
        .with_options(RunnerOptions {
            batch_size,
            poll_interval: Duration::from_millis(50),
            ..RunnerOptions::default()
        });
    let name = runner.checkpoint_name();
    while let Some(lease) = leases.acquire(&name, stopped(&stop)).await? {
        println!("lead {name} {}", lease.token());
        match runner.run_held(&lease, stopped(&stop)).await? {
            Ended::Lost | Ended::Yielded => println!("lost {name} {}", lease.token()),
            Ended::Shutdown => {
                lease.release().await?;
                break;
            }
        }
    }
    Ok(())
}

/// Plays the payment service until `stop`.
pub async fn pay<S: EventStore + herald::projection::CheckpointStore>(
    store: S,
    seed: u64,
    stop: watch::Receiver<bool>,
) -> Result<(), Error> {
    let service = PaymentService::new(store.clone(), seed);
    let mut runner = ProjectionRunner::new(store, service).with_options(RunnerOptions {
        poll_interval: Duration::from_millis(50),
        ..RunnerOptions::default()
    });
    runner.run(stopped(&stop)).await?;
    Ok(())
}

/// Prints the saga counts (Prometheus text), or the instances in `state` with their last
/// step and error.
pub async fn show<S: SagaStore>(store: &S, state: Option<&str>, limit: usize) -> Result<(), Error> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or_default();
    let Some(state) = state else {
        print!(
            "{}",
            store
                .saga_counts(herald_example_orders_e2e::fulfilment::FULFILMENT, now)
                .await?
                .prometheus()
        );
        return Ok(());
    };
    let state = SagaState::parse(state).ok_or_else(|| {
        format!("unknown state `{state}`: running, compensating, completed, compensated or stuck")
    })?;
    let found = store
        .sagas_in(
            herald_example_orders_e2e::fulfilment::FULFILMENT,
            state,
            limit,
        )
        .await?;
    for saga in &found {
        println!(
            "{}\t{}\t{}\t{}",
            saga.instance,
            saga.state.as_str(),
            saga.last_step.as_deref().unwrap_or("-"),
            saga.error.as_deref().unwrap_or("-"),
        );
    }
    println!("{} {} instance(s)", found.len(), state.as_str());
    Ok(())
}
