//! Property: whatever the interleaving of payment answers, duplicated deliveries and crashes
//! (injected at every write the saga runner and its commands make, before or after the
//! write lands), the fulfilment saga leaves the aggregates exactly as a run without any of
//! them does.
//!
//! A crash is simulated by a store that, at a chosen write, fails it (having made it or
//! not) and then fails everything until "restarted": the runner in memory is dropped and a
//! new one, with new repositories and caches, carries on from the stored checkpoint, as a
//! new process would.

use std::sync::{Arc, Mutex};

use herald::aggregate::Repository;
use herald::projection::{CheckpointStore, DeadLetter, Runner, RunnerOptions};
use herald::saga::{SagaCounts, SagaRunner, SagaState, SagaStore, SagaSummary};
use herald::store::memory::MemoryStore;
use herald::store::{Appended, Direction, EventStore, Expected, Snapshot, StoreError, StreamInfo};
use herald::{NewEvent, RecordedEvent};
use herald_example_orders::v3::{Currency, Line};
use herald_example_orders_e2e::fulfilment::{
    FULFILMENT, Fulfilling, Fulfilment, Payment, PaymentAnswer, Stock, StockCommand, answer_payment,
};
use herald_example_orders_e2e::{Order, OrderCommand};
use proptest::prelude::*;

/// Where the injected crashes are.
#[derive(Debug, Default)]
struct Faults {
    writes: u64,
    /// Write numbers to crash at, with whether the write lands first.
    crash_at: Vec<(u64, bool)>,
    down: bool,
    crashes: u32,
}

/// A memory store that crashes where its [`Faults`] say.
#[derive(Debug, Clone)]
struct Crashing {
    inner: MemoryStore,
    faults: Arc<Mutex<Faults>>,
}

fn crashed() -> StoreError {
    StoreError::Corrupt("injected crash: the process died here".to_owned())
}

impl Crashing {
    fn check(&self) -> Result<(), StoreError> {
        if self.faults.lock().unwrap().down {
            return Err(crashed());
        }
        Ok(())
    }

    /// Runs a write, crashing before or after it when it is one of the chosen ones.
    async fn write<T>(
        &self,
        write: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let crash = {
            let mut faults = self.faults.lock().unwrap();
            if faults.down {
                return Err(crashed());
            }
            faults.writes += 1;
            let number = faults.writes;
            faults
                .crash_at
                .iter()
                .find(|(at, _)| *at == number)
                .map(|(_, lands)| *lands)
        };
        match crash {
            None => write.await,
            Some(lands) => {
                if lands {
                    let _ = write.await;
                }
                let mut faults = self.faults.lock().unwrap();
                faults.down = true;
                faults.crashes += 1;
                Err(crashed())
            }
        }
    }

    fn restart(&self) {
        self.faults.lock().unwrap().down = false;
    }
}

impl EventStore for Crashing {
    async fn append(
        &self,
        stream_id: &str,
        expected: Expected,
        events: Vec<NewEvent>,
    ) -> Result<Appended, StoreError> {
        self.write(self.inner.append(stream_id, expected, events))
            .await
    }

    async fn read_stream(
        &self,
        stream_id: &str,
        from: u64,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.check()?;
        self.inner
            .read_stream(stream_id, from, direction, limit)
            .await
    }

    async fn read_all(&self, from: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        self.check()?;
        self.inner.read_all(from, limit).await
    }

    async fn read_event(&self, event_id: uuid::Uuid) -> Result<Option<RecordedEvent>, StoreError> {
        self.check()?;
        self.inner.read_event(event_id).await
    }

    async fn head_position(&self) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.head_position().await
    }

    async fn stream_info(&self, stream_id: &str) -> Result<Option<StreamInfo>, StoreError> {
        self.check()?;
        self.inner.stream_info(stream_id).await
    }

    async fn delete_stream(&self, stream_id: &str, expected: Expected) -> Result<(), StoreError> {
        self.write(self.inner.delete_stream(stream_id, expected))
            .await
    }

    async fn truncate_stream(&self, stream_id: &str, before: u64) -> Result<(), StoreError> {
        self.write(self.inner.truncate_stream(stream_id, before))
            .await
    }

    async fn load_snapshot(&self, stream_id: &str) -> Result<Option<Snapshot>, StoreError> {
        self.check()?;
        self.inner.load_snapshot(stream_id).await
    }

    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError> {
        self.write(self.inner.save_snapshot(snapshot)).await
    }
}

impl CheckpointStore for Crashing {
    async fn load_checkpoint(&self, name: &str) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.load_checkpoint(name).await
    }

    async fn save_checkpoint(&self, name: &str, position: u64) -> Result<(), StoreError> {
        self.write(self.inner.save_checkpoint(name, position)).await
    }

    async fn record_dead_letter(&self, dead_letter: DeadLetter) -> Result<(), StoreError> {
        self.write(self.inner.record_dead_letter(dead_letter)).await
    }

    async fn dead_letters(&self, projection: &str) -> Result<Vec<DeadLetter>, StoreError> {
        self.check()?;
        self.inner.dead_letters(projection).await
    }
}

impl SagaStore for Crashing {
    async fn schedule_deadline(
        &self,
        saga: &str,
        instance: &str,
        name: &str,
        due: i64,
    ) -> Result<(), StoreError> {
        self.write(self.inner.schedule_deadline(saga, instance, name, due))
            .await
    }

    async fn remove_deadline(
        &self,
        saga: &str,
        instance: &str,
        name: &str,
        due: Option<i64>,
    ) -> Result<(), StoreError> {
        self.write(self.inner.remove_deadline(saga, instance, name, due))
            .await
    }

    async fn due_deadlines(
        &self,
        saga: &str,
        now: i64,
        limit: usize,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        self.check()?;
        self.inner.due_deadlines(saga, now, limit).await
    }

    async fn record_saga(&self, summary: &SagaSummary) -> Result<(), StoreError> {
        self.write(self.inner.record_saga(summary)).await
    }

    async fn saga_counts(&self, saga: &str, now: i64) -> Result<SagaCounts, StoreError> {
        self.check()?;
        self.inner.saga_counts(saga, now).await
    }

    async fn sagas_in(
        &self,
        saga: &str,
        state: SagaState,
        limit: usize,
    ) -> Result<Vec<SagaSummary>, StoreError> {
        self.check()?;
        self.inner.sagas_in(saga, state, limit).await
    }
}

/// One order of a case: its products (`z` is never in stock) and its payment's answer.
#[derive(Debug, Clone)]
struct Plan {
    skus: Vec<&'static str>,
    approve: bool,
}

fn plans() -> impl Strategy<Value = Vec<Plan>> {
    prop::collection::vec(
        (
            prop::sample::subsequence(vec!["a", "b", "z"], 1..=3),
            any::<bool>(),
        )
            .prop_map(|(skus, approve)| Plan { skus, approve }),
        1..=5,
    )
}

/// What a case leaves: each aggregate's final state and its events' types, sorted.
#[derive(Debug, PartialEq)]
struct Outcome {
    orders: Vec<(String, String, Vec<String>)>,
    payments: Vec<(String, String, Vec<String>)>,
    stock: Vec<(String, i64, Vec<String>)>,
    sagas: Vec<(String, SagaState)>,
}

async fn types(store: &MemoryStore, stream: &str) -> Vec<String> {
    let mut types: Vec<String> = store
        .read_stream(stream, 1, Direction::Forward, usize::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|event| {
            format!(
                "{} {}",
                event.event_type,
                String::from_utf8_lossy(&event.payload)
            )
        })
        .collect();
    types.sort();
    types
}

/// Runs a case: `crash_at` crashes, `duplicates` (event positions to deliver again, taken
/// modulo the log's length) and payment answers given `answer_every` loop turns.
async fn run_case(
    plans: &[Plan],
    crash_at: Vec<(u64, bool)>,
    duplicates: Vec<u64>,
    answer_every: usize,
) -> (Outcome, u32) {
    let inner = MemoryStore::new();
    let store = Crashing {
        inner: inner.clone(),
        faults: Arc::new(Mutex::new(Faults {
            crash_at,
            ..Faults::default()
        })),
    };
    let stock = Repository::<_, Stock>::new(inner.clone());
    for sku in ["a", "b"] {
        let add = StockCommand::Add {
            sku: sku.to_owned(),
            quantity: 100,
        };
        stock.execute(sku, add).await.unwrap();
    }
    let orders = Repository::<_, Order>::new(inner.clone());
    let ids: Vec<String> = (0..plans.len()).map(|n| format!("o-{n:05}")).collect();
    for (order_id, plan) in ids.iter().zip(plans) {
        let place = OrderCommand::Place {
            order_id: order_id.clone(),
            lines: plan
                .skus
                .iter()
                .map(|sku| Line {
                    sku: (*sku).to_owned(),
                    quantity: 2,
                    unit_price_cents: 100,
                })
                .collect(),
            currency: Currency::EUR,
        };
        orders.execute(order_id, place).await.unwrap();
    }
    let payments = Repository::<_, Payment>::new(inner.clone());
    let options = RunnerOptions {
        batch_size: 3,
        max_attempts: 2,
        initial_backoff: std::time::Duration::from_millis(1),
        max_backoff: std::time::Duration::from_millis(1),
        ..RunnerOptions::default()
    };
    let runner = || {
        SagaRunner::<_, Fulfilment, _>::new(store.clone(), Fulfilling::new(store.clone()))
            .with_options(options)
    };
    let mut saga = runner();
    let mut duplicates = duplicates.into_iter();
    for turn in 0..10_000 {
        if let Err(error) = saga.catch_up(|_| {}).await {
            assert!(error.to_string().contains("injected crash"), "{error}");
            store.restart();
            saga = runner();
            continue;
        }
        // A duplicated delivery, as a broker would make.
        if let Some(position) = duplicates.next() {
            let head = inner.head_position().await.unwrap();
            let event = inner.read_all(1 + position % head, 1).await.unwrap();
            if let Err(error) = saga.handle(&event[0]).await {
                assert!(error.to_string().contains("injected crash"), "{error}");
                store.restart();
                saga = runner();
                continue;
            }
        }
        if turn % answer_every.max(1) == 0 {
            for (order_id, plan) in ids.iter().zip(plans) {
                let requested = payments.load(order_id).await.unwrap().state.status
                    == herald_example_orders_e2e::fulfilment::PaymentStatus::Requested;
                if requested {
                    let answer = if plan.approve {
                        PaymentAnswer::Approve
                    } else {
                        PaymentAnswer::Decline
                    };
                    answer_payment(&payments, order_id, answer).await.unwrap();
                    break;
                }
            }
        }
        let counts = inner.saga_counts(FULFILMENT, 0).await.unwrap();
        let ended = counts.count(SagaState::Completed) + counts.count(SagaState::Compensated);
        let head = inner.head_position().await.unwrap();
        let checkpoint = inner.load_checkpoint("saga-fulfilment").await.unwrap();
        if ended == plans.len() as u64 && checkpoint == head {
            break;
        }
        assert_eq!(counts.count(SagaState::Stuck), 0, "{counts:?}");
    }
    let crashes = store.faults.lock().unwrap().crashes;
    let mut outcome = Outcome {
        orders: Vec::new(),
        payments: Vec::new(),
        stock: Vec::new(),
        sagas: Vec::new(),
    };
    for order_id in &ids {
        let order = orders.load(order_id).await.unwrap().state;
        outcome.orders.push((
            order_id.clone(),
            order.status.as_str().to_owned(),
            types(&inner, &format!("order-{order_id}")).await,
        ));
        let payment = payments.load(order_id).await.unwrap().state;
        outcome.payments.push((
            order_id.clone(),
            format!("{:?}", payment.status),
            types(&inner, &format!("payment-{order_id}")).await,
        ));
        let instance = runner().load(order_id).await.unwrap();
        outcome.sagas.push((order_id.clone(), instance.state));
    }
    for sku in ["a", "b", "z"] {
        let loaded = stock.load(sku).await.unwrap().state;
        outcome.stock.push((
            sku.to_owned(),
            loaded.available,
            types(&inner, &format!("stock-{sku}")).await,
        ));
    }
    (outcome, crashes)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn crashes_duplicates_and_interleavings_leave_the_aggregates_as_a_clean_run(
        plans in plans(),
        crash_at in prop::collection::vec((1_u64..120, any::<bool>()), 0..6),
        duplicates in prop::collection::vec(any::<u64>(), 0..8),
        answer_every in 1_usize..4,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (clean, none) = runtime.block_on(run_case(&plans, Vec::new(), Vec::new(), 1));
        prop_assert_eq!(none, 0);
        for (_, state) in &clean.sagas {
            prop_assert!(matches!(state, SagaState::Completed | SagaState::Compensated));
        }
        let (faulty, _crashes) =
            runtime.block_on(run_case(&plans, crash_at, duplicates, answer_every));
        prop_assert_eq!(faulty, clean);
    }
}

/// The crash points do land: a case with a crash at every one of its first writes still
/// ends as the clean run does.
#[test]
fn a_crash_at_each_of_the_first_writes_in_turn() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let plans = vec![
        Plan {
            skus: vec!["a", "b"],
            approve: true,
        },
        Plan {
            skus: vec!["b", "z"],
            approve: true,
        },
        Plan {
            skus: vec!["a"],
            approve: false,
        },
    ];
    let (clean, _) = runtime.block_on(run_case(&plans, Vec::new(), Vec::new(), 1));
    let mut crashed = 0;
    for at in 1..=60 {
        for lands in [false, true] {
            let (outcome, crashes) =
                runtime.block_on(run_case(&plans, vec![(at, lands)], vec![at], 2));
            assert_eq!(outcome, clean, "crash at write {at} (landed: {lands})");
            crashed += crashes;
        }
    }
    assert!(crashed >= 100, "only {crashed} of 120 crashes happened");
}
