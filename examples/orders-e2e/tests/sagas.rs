//! The fulfilment saga end to end. 1,000 orders, with a seeded mix of declined, unanswered
//! and late payments, go through three `orders-e2e saga` replicas on PostgreSQL while the
//! leader is SIGKILLed three times and SIGSTOPped once; a single-process run does the same
//! on SQLite. Then every saga must have ended completed or compensated within a bound, no
//! command may have been applied twice (each aggregate stream holds exactly the expected
//! events and every product's stock is exactly what the completed orders took), every
//! deadline that should fire fired once and none fired for a completed saga, and each
//! instance's log replays to the state the index shows.
//!
//! Needs PostgreSQL at 127.0.0.1:5432 (user `postgres`, database `test`; the test works in a
//! schema of its own).

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use herald::Event;
use herald::aggregate::Repository;
use herald::lease::Leases;
use herald::projection::{ProjectionRunner, Runner, RunnerOptions};
use herald::saga::{SagaEvent, SagaRunner, SagaState, SagaStore, log_stream};
use herald::store::postgres::PostgresStore;
use herald::store::sqlite::SqliteStore;
use herald::store::{Direction, EventStore};
use herald_example_orders_e2e::fulfilment::{
    FULFILMENT, Fulfilling, Fulfilment, PaymentAnswer, PaymentService, Stock, StockEvent,
    place_orders, seeded_answer,
};
use herald_example_orders_e2e::{OrderCommand, sample_commands};
use herald_test_support::PgSchema;

const BINARY: &str = env!("CARGO_BIN_EXE_orders-e2e");
const SEED: u64 = 7;
/// How long every saga may take to end once the orders are placed.
const BOUND: Duration = Duration::from_secs(300);

/// The replicas of the saga, by index (`r<index>` in the lease table).
struct Replicas {
    url: String,
    children: Vec<Option<Child>>,
}

impl Replicas {
    fn spawn(&mut self) -> usize {
        let index = self.children.len();
        let child = Command::new(BINARY)
            .args(["--database", &self.url, "saga", "--holder"])
            .arg(format!("r{index}"))
            .args(["--lease-ttl-ms", "2000", "--batch-size", "50"])
            .stdout(Stdio::null())
            .spawn()
            .expect("start an orders-e2e saga replica");
        self.children.push(Some(child));
        index
    }

    fn signal(&self, index: usize, signal: &str) {
        let pid = self.children[index].as_ref().expect("running").id();
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.children[index].take() {
            child.kill().expect("SIGKILL a replica");
            let _ = child.wait();
        }
    }
}

impl Drop for Replicas {
    fn drop(&mut self) {
        for index in 0..self.children.len() {
            if self.children[index].is_some() {
                let _ = self.signal_quiet(index);
                self.kill(index);
            }
        }
    }
}

impl Replicas {
    fn signal_quiet(&self, index: usize) -> Option<()> {
        let pid = self.children[index].as_ref()?.id();
        Command::new("kill")
            .args(["-CONT", &pid.to_string()])
            .status()
            .ok()
            .map(|_| ())
    }
}

/// The replica holding the saga's lease now, if one does.
async fn leader(leases: &Leases) -> Option<usize> {
    let states = leases.states().await.ok()?;
    let held = states
        .iter()
        .find(|state| state.name == format!("saga-{FULFILMENT}") && state.expires_in.is_some())?;
    held.holder.strip_prefix('r')?.parse().ok()
}

/// Waits until a replica other than `not` leads; returns it and how long that took.
async fn wait_for_leader(leases: &Leases, not: Option<usize>) -> (usize, Duration) {
    let started = Instant::now();
    loop {
        if let Some(found) = leader(leases).await
            && Some(found) != not
        {
            return (found, started.elapsed());
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no replica took the saga's lease over within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until every one of `orders` sagas has ended; returns the counts.
async fn wait_until_all_ended<S: SagaStore>(store: &S, orders: u64) -> herald::saga::SagaCounts {
    let started = Instant::now();
    loop {
        let counts = store.saga_counts(FULFILMENT, 0).await.unwrap();
        let ended = counts.count(SagaState::Completed) + counts.count(SagaState::Compensated);
        if ended == orders || counts.count(SagaState::Stuck) > 0 {
            return counts;
        }
        assert!(
            started.elapsed() < BOUND,
            "after {BOUND:?} only {ended} of {orders} sagas ended: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Event types of a stream, as `(type, order)` pairs where the payload names an order.
async fn stream_events<S: EventStore>(store: &S, stream: &str) -> Vec<herald::RecordedEvent> {
    store
        .read_stream(stream, 1, Direction::Forward, usize::MAX)
        .await
        .unwrap()
}

/// Checks the outcome of `orders` fulfilment sagas against the seeded payment answers.
async fn check_outcome<S: SagaStore>(store: &S, orders: usize) {
    let counts = store.saga_counts(FULFILMENT, 0).await.unwrap();
    assert_eq!(counts.count(SagaState::Stuck), 0, "stuck sagas: {counts:?}");
    assert_eq!(counts.count(SagaState::Running), 0, "{counts:?}");
    assert_eq!(counts.count(SagaState::Compensating), 0, "{counts:?}");
    let runner = SagaRunner::<_, Fulfilment, _>::new(store.clone(), Fulfilling::new(store.clone()));
    let mut taken: BTreeMap<String, i64> = BTreeMap::new();
    let mut placed: BTreeMap<String, i64> = BTreeMap::new();
    let (mut completed, mut fired) = (0, 0);
    for (order_id, command) in sample_commands(orders) {
        let OrderCommand::Place { lines, .. } = command else {
            continue;
        };
        let number: u64 = order_id.trim_start_matches("o-").parse().unwrap();
        let answer = seeded_answer(SEED, number);
        let instance = runner.load(&order_id).await.unwrap();
        let again = runner.load(&order_id).await.unwrap();
        // The log replays to the same state, twice, and to what the index shows.
        assert_eq!(instance.state, again.state);
        assert_eq!(instance.saga, again.saga);
        assert_eq!(instance.saga.order_id, order_id);
        let expected = match answer {
            PaymentAnswer::Approve | PaymentAnswer::ApproveLate(_) => SagaState::Completed,
            PaymentAnswer::Decline | PaymentAnswer::Silent => SagaState::Compensated,
        };
        assert_eq!(
            (instance.state, instance.saga.reserved),
            (expected, lines.len()),
            "{order_id} ({answer:?}): state and lines reserved; error {:?}, last step {:?}",
            instance.error,
            instance.last_step
        );
        let log = stream_events(store, &log_stream(FULFILMENT, &order_id)).await;
        let deadlines_fired = log
            .iter()
            .filter(|event| {
                matches!(
                    SagaEvent::decode(&event.event_type, event.schema_version, &event.payload),
                    Ok(SagaEvent::DeadlineFired { .. })
                )
            })
            .count();
        let should_fire = usize::from(answer == PaymentAnswer::Silent);
        assert_eq!(
            deadlines_fired, should_fire,
            "{order_id} ({answer:?}): deadlines fired"
        );
        fired += deadlines_fired;

        // The order: placed, then shipped or cancelled, once.
        let order: Vec<_> = stream_events(store, &format!("order-{order_id}"))
            .await
            .iter()
            .map(|event| event.event_type.clone())
            .collect();
        let end = if expected == SagaState::Completed {
            "order.shipped"
        } else {
            "order.cancelled"
        };
        assert_eq!(order, ["order.placed", end], "{order_id}: order stream");
        // The payment: requested, then its answer or the withdrawal, once.
        let payment: Vec<_> = stream_events(store, &format!("payment-{order_id}"))
            .await
            .iter()
            .map(|event| event.event_type.clone())
            .collect();
        let answer_type = match answer {
            PaymentAnswer::Approve | PaymentAnswer::ApproveLate(_) => "payment.approved",
            PaymentAnswer::Decline => "payment.declined",
            PaymentAnswer::Silent => "payment.cancelled",
        };
        assert_eq!(
            payment,
            ["payment.requested", answer_type],
            "{order_id}: payment stream"
        );
        for line in &lines {
            *placed.entry(line.sku.clone()).or_default() += i64::from(line.quantity);
            if expected == SagaState::Completed {
                *taken.entry(line.sku.clone()).or_default() += i64::from(line.quantity);
            }
        }
        completed += usize::from(expected == SagaState::Completed);
    }
    // Stock: each order reserved each of its lines once and released them once if it was
    // compensated, so what is left is exactly what the completed orders did not take.
    let stock = Repository::<_, Stock>::new(store.clone());
    for (sku, total) in &placed {
        let loaded = stock.load(sku).await.unwrap().state;
        let expected_left = total - taken.get(sku).copied().unwrap_or(0);
        assert_eq!(loaded.available, expected_left, "{sku}: stock left");
        let events = stream_events(store, &format!("stock-{sku}")).await;
        let mut per_order: BTreeMap<(String, &str), u32> = BTreeMap::new();
        for event in &events {
            match StockEvent::decode(&event.event_type, event.schema_version, &event.payload)
                .unwrap()
            {
                StockEvent::Reserved { order_id, .. } => {
                    *per_order.entry((order_id, "reserved")).or_default() += 1
                }
                StockEvent::Released { order_id, .. } => {
                    *per_order.entry((order_id, "released")).or_default() += 1
                }
                StockEvent::Added { .. } => {}
            }
        }
        assert!(
            per_order.values().all(|times| *times == 1),
            "{sku}: a reservation or release applied twice: {per_order:?}"
        );
    }
    assert_eq!(counts.count(SagaState::Completed), completed as u64);
    println!(
        "{orders} orders: {completed} completed, {} compensated, {fired} deadlines fired",
        orders - completed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_orders_over_three_replicas_with_the_leader_killed_and_stalled() {
    let schema = PgSchema::create().await;
    let pool = schema.connect(8).await;
    herald_example_orders_e2e::postgres::migrate_read_model(&pool)
        .await
        .unwrap();
    let store = PostgresStore::new(pool.clone());
    let leases = Leases::new(pool.clone(), "test");
    let url = schema.url();
    let pay = Command::new(BINARY)
        .args(["--database", &url, "pay", "--seed", &SEED.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .expect("start the payment service");
    let _pay = Replicas {
        url: url.clone(),
        children: vec![Some(pay)],
    };
    let mut replicas = Replicas {
        url: url.clone(),
        children: Vec::new(),
    };
    for _ in 0..3 {
        replicas.spawn();
    }
    let placing = tokio::spawn({
        let store = store.clone();
        async move { place_orders(&store, 1000).await.unwrap() }
    });
    let started = Instant::now();
    let (mut current, _) = wait_for_leader(&leases, None).await;
    for round in 1..=3 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        replicas.kill(current);
        let (next, took) = wait_for_leader(&leases, Some(current)).await;
        println!("SIGKILL {round}: r{current} killed, r{next} took the saga over in {took:?}");
        replicas.spawn();
        current = next;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    replicas.signal(current, "STOP");
    let (next, took) = wait_for_leader(&leases, Some(current)).await;
    println!("SIGSTOP: r{current} stalled, r{next} took the saga over in {took:?}");
    replicas.signal(current, "CONT");
    let placed = placing.await.unwrap();
    assert_eq!(placed, 1000);
    let counts = wait_until_all_ended(&store, placed as u64).await;
    println!(
        "every saga ended {:?} after the first order; {counts:?}",
        started.elapsed()
    );
    check_outcome(&store, 1000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_orders_in_one_process_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("sagas.db").display()
    ))
    .await
    .unwrap();
    store.migrate().await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |stopped: &tokio::sync::watch::Receiver<bool>| {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };
    let options = RunnerOptions {
        poll_interval: Duration::from_millis(20),
        ..RunnerOptions::default()
    };
    let mut pay = ProjectionRunner::new(store.clone(), PaymentService::new(store.clone(), SEED))
        .with_options(options);
    let mut saga =
        SagaRunner::<_, Fulfilment, _>::new(store.clone(), Fulfilling::new(store.clone()))
            .with_options(options);
    let paying = tokio::spawn({
        let stopped = until_stopped(&stopped);
        async move { pay.run(stopped).await }
    });
    let running = tokio::spawn({
        let stopped = until_stopped(&stopped);
        async move { saga.run(stopped).await }
    });
    let placed = place_orders(&store, 1000).await.unwrap();
    wait_until_all_ended(&store, placed as u64).await;
    stop.send(true).unwrap();
    paying.await.unwrap().unwrap();
    running.await.unwrap().unwrap();
    check_outcome(&store, 1000).await;
}
