//! The fulfilment saga's subcommands: place orders, run the saga (one replica of it), play
//! the payment service, and show where the sagas are.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use herald::Envelope;
use herald::aggregate::Repository;
use herald::lease::{Ended, Leases};
use herald::projection::{HandlerError, Projection, ProjectionRunner, Runner, RunnerOptions};
use herald::saga::{SagaRunner, SagaState, SagaStore};
use herald::store::EventStore;
use herald_example_orders_e2e::fulfilment::{
    Fulfilling, Fulfilment, Payment, PaymentEvent, Stock, StockCommand, answer_payment,
    seeded_answer,
};
use herald_example_orders_e2e::{Order, OrderCommand, sample_commands};
use tokio::sync::watch;

use crate::{Error, stopped};

/// Puts enough stock in for `orders` sample orders, then places them (placing only: the
/// saga does the rest).
pub async fn place<S: EventStore>(store: &S, orders: usize) -> Result<(), Error> {
    let places: Vec<_> = sample_commands(orders)
        .into_iter()
        .filter(|(_, command)| matches!(command, OrderCommand::Place { .. }))
        .collect();
    let mut needed: BTreeMap<String, u32> = BTreeMap::new();
    for (_, command) in &places {
        if let OrderCommand::Place { lines, .. } = command {
            for line in lines {
                *needed.entry(line.sku.clone()).or_default() += line.quantity;
            }
        }
    }
    let stock = Repository::<_, Stock>::new(store.clone());
    for (sku, quantity) in needed {
        let command = StockCommand::Add {
            sku: sku.clone(),
            quantity,
        };
        stock.execute(&sku, command).await?;
    }
    let orders_repository = Repository::<_, Order>::new(store.clone());
    for (order_id, command) in &places {
        orders_repository.execute(order_id, command.clone()).await?;
    }
    println!("placed {} orders", places.len());
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

/// The simulated payment service: answers each payment request with the seeded answer of
/// its order (late answers from a task of their own).
struct PaymentService<S: EventStore> {
    payments: Repository<S, Payment>,
    seed: u64,
}

impl<S: EventStore> Projection for PaymentService<S> {
    type Event = PaymentEvent;

    fn name(&self) -> &str {
        "payment-service"
    }

    async fn handle(&mut self, event: &Envelope<PaymentEvent>) -> Result<(), HandlerError> {
        let PaymentEvent::Requested { order_id, .. } = &event.payload else {
            return Ok(());
        };
        let number = order_id
            .trim_start_matches("o-")
            .parse::<u64>()
            .unwrap_or_default();
        let answer = seeded_answer(self.seed, number);
        let (payments, order_id) = (self.payments.clone(), order_id.clone());
        match answer {
            herald_example_orders_e2e::fulfilment::PaymentAnswer::ApproveLate(after) => {
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    if let Err(error) = answer_payment(&payments, &order_id, answer).await {
                        eprintln!("late payment answer for {order_id} failed: {error}");
                    }
                });
                Ok(())
            }
            _ => Ok(answer_payment(&payments, &order_id, answer).await?),
        }
    }
}

/// Plays the payment service until `stop`.
pub async fn pay<S: EventStore + herald::projection::CheckpointStore>(
    store: S,
    seed: u64,
    stop: watch::Receiver<bool>,
) -> Result<(), Error> {
    let service = PaymentService {
        payments: Repository::new(store.clone()),
        seed,
    };
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
