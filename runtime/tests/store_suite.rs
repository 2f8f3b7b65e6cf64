//! The backend-generic store suite: every test runs against memory, SQLite and PostgreSQL.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald::aggregate::{Aggregate, CommandError, Repository};
use herald::projection::{CheckpointStore, Runner};
use herald::projection::{
    HandlerError, OnFailure, Projection, ProjectionError, ProjectionRunner, RunnerOptions,
};
use herald::store::{Direction, EventStore, Expected, StoreError, Subscription};
use herald::{Envelope, Event, NewEvent};
use herald_example_orders::OrderEvent;
use herald_example_orders::v1::{ItemV1, OrderEventV1};
use herald_example_orders::v2::{Currency, Line, OrderEventV2, ShippingStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

backends!(tests:
    append_and_read,
    every_expected_case,
    idempotent_reappend,
    batch_is_atomic,
    typed_reads_upcast_old_versions,
    causation_is_carried,
    delete_and_truncate,
    snapshots_are_used_and_invalidated,
    cached_states_go_stale_safely,
    dead_letters_skip,
    dead_letters_halt,
    checkpoints_subscription_and_lag,
);

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "counter", version = 1)]
enum CounterEvent {
    Added { amount: i64 },
    Reset,
}

fn added(amount: i64) -> NewEvent {
    NewEvent::new(&CounterEvent::Added { amount }).unwrap()
}

async fn append_and_read<S: EventStore>(store: S) {
    assert_eq!(store.head_position().await.unwrap(), 0);
    let first = store
        .append(
            "c-1",
            Expected::NoStream,
            vec![added(1), added(2), added(3)],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            first.stream_version,
            first.first_position,
            first.last_position,
            first.duplicate
        ),
        (3, 1, 3, false)
    );
    let other = store
        .append("c-2", Expected::Any, vec![added(10)])
        .await
        .unwrap();
    assert_eq!((other.stream_version, other.first_position), (1, 4));
    store
        .append("c-1", Expected::Exact(3), vec![added(4)])
        .await
        .unwrap();
    assert_eq!(store.head_position().await.unwrap(), 5);

    let forward = store
        .read_stream_as::<CounterEvent>("c-1", 1, Direction::Forward, 100)
        .await
        .unwrap();
    let amounts: Vec<_> = forward.iter().map(|e| e.payload.clone()).collect();
    assert_eq!(
        amounts,
        (1..=4)
            .map(|amount| CounterEvent::Added { amount })
            .collect::<Vec<_>>()
    );
    assert_eq!(
        forward.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(
        forward.iter().map(|e| e.position).collect::<Vec<_>>(),
        [1, 2, 3, 5]
    );
    assert!(forward.iter().all(|e| e.stream_id == "c-1"));
    assert!(
        forward
            .iter()
            .all(|e| e.event_type == "counter.added" && e.schema_version == 1)
    );
    assert_eq!(forward[0].correlation_id, forward[0].event_id);
    assert_eq!(forward[0].causation_id, None);

    let backward = store
        .read_stream("c-1", 3, Direction::Backward, 2)
        .await
        .unwrap();
    assert_eq!(
        backward
            .iter()
            .map(|e| e.stream_version)
            .collect::<Vec<_>>(),
        [3, 2]
    );
    let limited = store
        .read_stream("c-1", 2, Direction::Forward, 2)
        .await
        .unwrap();
    assert_eq!(
        limited.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        [2, 3]
    );
    assert!(
        store
            .read_stream("nope", 1, Direction::Forward, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let all = store.read_all(1, 100).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(all[3].stream_id, "c-2");
    let tail = store.read_all(4, 1).await.unwrap();
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].position, 4);
    let typed = store.read_all_as::<CounterEvent>(5, 10).await.unwrap();
    assert_eq!(typed[0].payload, CounterEvent::Added { amount: 4 });
    let info = store.stream_info("c-1").await.unwrap().unwrap();
    assert_eq!((info.version, info.deleted), (4, false));
    assert_eq!(store.stream_info("nope").await.unwrap(), None);
}

fn assert_conflict(result: Result<herald::store::Appended, StoreError>, expected_actual: u64) {
    match result {
        Err(StoreError::Conflict { actual, .. }) => assert_eq!(actual, expected_actual),
        other => panic!("expected a conflict with actual version {expected_actual}, got {other:?}"),
    }
}

async fn every_expected_case<S: EventStore>(store: S) {
    assert_conflict(
        store
            .append("s", Expected::StreamExists, vec![added(1)])
            .await,
        0,
    );
    assert_conflict(
        store.append("s", Expected::Exact(1), vec![added(1)]).await,
        0,
    );
    store
        .append("s", Expected::NoStream, vec![added(1)])
        .await
        .unwrap();
    assert_conflict(
        store.append("s", Expected::NoStream, vec![added(2)]).await,
        1,
    );
    store
        .append("s", Expected::StreamExists, vec![added(2)])
        .await
        .unwrap();
    assert_conflict(
        store.append("s", Expected::Exact(1), vec![added(3)]).await,
        2,
    );
    assert_conflict(
        store.append("s", Expected::Exact(5), vec![added(3)]).await,
        2,
    );
    store
        .append("s", Expected::Exact(2), vec![added(3)])
        .await
        .unwrap();
    let any = store
        .append("s", Expected::Any, vec![added(4), added(5)])
        .await
        .unwrap();
    assert_eq!(any.stream_version, 5);
    store
        .append("t", Expected::Exact(0), vec![added(1)])
        .await
        .unwrap();
    store
        .append("u", Expected::Any, vec![added(1)])
        .await
        .unwrap();
    // Failed appends wrote nothing.
    assert_eq!(store.head_position().await.unwrap(), 7);
    assert_eq!(
        store
            .read_stream("s", 1, Direction::Forward, 100)
            .await
            .unwrap()
            .len(),
        5
    );
}

async fn idempotent_reappend<S: EventStore>(store: S) {
    store
        .append("other", Expected::Any, vec![added(0)])
        .await
        .unwrap();
    let batch = vec![added(1), added(2)];
    let first = store
        .append("r", Expected::NoStream, batch.clone())
        .await
        .unwrap();
    // A retried request: same ids, same (now stale) expectation.
    let retry = store
        .append("r", Expected::NoStream, batch.clone())
        .await
        .unwrap();
    assert!(retry.duplicate);
    assert_eq!(
        (
            retry.stream_version,
            retry.first_position,
            retry.last_position
        ),
        (
            first.stream_version,
            first.first_position,
            first.last_position
        )
    );
    assert_eq!(store.head_position().await.unwrap(), 3);
    assert_eq!(
        store
            .read_stream("r", 1, Direction::Forward, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    // The same ids mixed with new ones, or in another stream, are not a retry.
    let mixed = vec![batch[0].clone(), added(3)];
    assert!(matches!(
        store.append("r", Expected::Any, mixed).await,
        Err(StoreError::DuplicateEventId { .. })
    ));
    assert!(matches!(
        store
            .append("elsewhere", Expected::Any, batch.clone())
            .await,
        Err(StoreError::DuplicateEventId { .. })
    ));
    assert_eq!(store.head_position().await.unwrap(), 3);
}

async fn batch_is_atomic<S: EventStore>(store: S) {
    store
        .append("a", Expected::Any, vec![added(1)])
        .await
        .unwrap();
    let twice = added(2);
    let batch = vec![added(3), twice.clone(), twice];
    assert!(store.append("a", Expected::Any, batch).await.is_err());
    assert_conflict(
        store
            .append("a", Expected::Exact(0), vec![added(4), added(5)])
            .await,
        1,
    );
    assert_eq!(store.head_position().await.unwrap(), 1);
    assert_eq!(store.read_all(1, 10).await.unwrap().len(), 1);
    assert_eq!(store.stream_info("a").await.unwrap().unwrap().version, 1);
}

async fn typed_reads_upcast_old_versions<S: EventStore>(store: S) {
    let v1 = OrderEventV1::Placed {
        order_id: "o-1".into(),
        items: vec![ItemV1 {
            sku: "apple".into(),
            quantity: 2,
        }],
    };
    let v1_shipped = OrderEventV1::Shipped {
        order_id: "o-1".into(),
    };
    let v2 = OrderEventV2::StatusChanged {
        order_id: "o-1".into(),
        status: ShippingStatus::Delivered,
    };
    let v3 = OrderEvent::Cancelled {
        order_id: "o-2".into(),
        reason: "late".into(),
    };
    let events = vec![
        NewEvent::new(&v1).unwrap(),
        NewEvent::new(&v1_shipped).unwrap(),
        NewEvent::new(&v2).unwrap(),
    ];
    assert_eq!(
        events.iter().map(|e| e.schema_version).collect::<Vec<_>>(),
        [1, 1, 2]
    );
    store
        .append("order-o-1", Expected::NoStream, events)
        .await
        .unwrap();
    store
        .append(
            "order-o-2",
            Expected::NoStream,
            vec![NewEvent::new(&v3).unwrap()],
        )
        .await
        .unwrap();

    let read = store
        .read_stream_as::<OrderEvent>("order-o-1", 1, Direction::Forward, 10)
        .await
        .unwrap();
    let payloads: Vec<_> = read.iter().map(|e| e.payload.clone()).collect();
    assert_eq!(
        payloads,
        [
            OrderEvent::Placed {
                order_id: "o-1".into(),
                lines: vec![Line {
                    sku: "apple".into(),
                    quantity: 2,
                    unit_price_cents: 0
                }],
                currency: Currency::EUR,
                note: None,
            },
            OrderEvent::Dispatched {
                order_id: "o-1".into(),
                carrier: herald_example_orders::v3::UNKNOWN_CARRIER.into(),
            },
            OrderEvent::Delivered {
                order_id: "o-1".into()
            },
        ]
    );
    // The envelope still says what is stored.
    assert_eq!(
        read.iter()
            .map(|e| (e.event_type.as_str(), e.schema_version))
            .collect::<Vec<_>>(),
        [
            ("order.placed", 1),
            ("order.shipped", 1),
            ("order.status_changed", 2)
        ]
    );
    let all = store.read_all_as::<OrderEvent>(1, 10).await.unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[3].payload, v3);

    // A stored event the chain refuses surfaces as a decode error with its position.
    let empty = OrderEventV2::Placed {
        order_id: "o-3".into(),
        lines: vec![],
        currency: Currency::USD,
    };
    store
        .append(
            "order-o-3",
            Expected::NoStream,
            vec![NewEvent::new(&empty).unwrap()],
        )
        .await
        .unwrap();
    match store.read_all_as::<OrderEvent>(1, 10).await {
        Err(StoreError::Decode { position, .. }) => assert_eq!(position, 5),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

async fn causation_is_carried<S: EventStore>(store: S) {
    store
        .append(
            "cause",
            Expected::NoStream,
            vec![added(1).with_metadata(serde_json::json!({"user": "ada"}))],
        )
        .await
        .unwrap();
    let trigger = &store
        .read_stream("cause", 1, Direction::Forward, 1)
        .await
        .unwrap()[0];
    assert_eq!(trigger.metadata, serde_json::json!({"user": "ada"}));
    store
        .append(
            "effect",
            Expected::NoStream,
            vec![added(2).caused_by(trigger.cause())],
        )
        .await
        .unwrap();
    let effect = &store
        .read_stream("effect", 1, Direction::Forward, 1)
        .await
        .unwrap()[0];
    assert_eq!(effect.correlation_id, trigger.event_id);
    assert_eq!(effect.causation_id, Some(trigger.event_id));
    store
        .append(
            "second",
            Expected::NoStream,
            vec![added(3).caused_by(effect.cause())],
        )
        .await
        .unwrap();
    let second = &store
        .read_stream("second", 1, Direction::Forward, 1)
        .await
        .unwrap()[0];
    assert_eq!(second.correlation_id, trigger.event_id);
    assert_eq!(second.causation_id, Some(effect.event_id));
    assert!(second.recorded_at >= trigger.recorded_at);
    assert!(uuid::Uuid::get_version_num(&second.event_id) == 7);
}

async fn delete_and_truncate<S: EventStore>(store: S) {
    store
        .append("d", Expected::NoStream, vec![added(1), added(2)])
        .await
        .unwrap();
    assert_conflict(
        store
            .delete_stream("d", Expected::Exact(1))
            .await
            .map(|()| herald::store::Appended {
                stream_version: 0,
                first_position: 0,
                last_position: 0,
                duplicate: false,
            }),
        2,
    );
    store.delete_stream("d", Expected::Exact(2)).await.unwrap();
    assert!(store.stream_info("d").await.unwrap().unwrap().deleted);
    assert!(matches!(
        store.read_stream("d", 1, Direction::Forward, 10).await,
        Err(StoreError::StreamDeleted(_))
    ));
    assert!(matches!(
        store.append("d", Expected::Any, vec![added(3)]).await,
        Err(StoreError::StreamDeleted(_))
    ));
    // Folding refuses it too, with rows to fold (from 1) and without (from 3).
    for from in [1, 3] {
        assert!(matches!(
            store
                .fold_stream("d", from, 10, &mut (), |_, _| Ok(()))
                .await,
            Err(StoreError::StreamDeleted(_))
        ));
    }
    // The global log keeps the history.
    assert_eq!(store.read_all(1, 10).await.unwrap().len(), 2);

    store
        .append("t", Expected::NoStream, (1..=5).map(added).collect())
        .await
        .unwrap();
    store.truncate_stream("t", 4).await.unwrap();
    let kept = store
        .read_stream("t", 1, Direction::Forward, 10)
        .await
        .unwrap();
    assert_eq!(
        kept.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        [4, 5]
    );
    let info = store.stream_info("t").await.unwrap().unwrap();
    assert_eq!((info.version, info.truncated_before), (5, 4));
    let mut folded = Vec::new();
    let count = store
        .fold_stream("t", 1, usize::MAX, &mut folded, |folded, event| {
            let amount =
                match CounterEvent::decode(event.event_type, event.schema_version, event.payload) {
                    Ok(CounterEvent::Added { amount }) => amount,
                    other => panic!("unexpected {other:?}"),
                };
            folded.push((event.stream_version, amount));
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!((count, folded), (2, vec![(4, 4), (5, 5)]));
    let mut last = Vec::new();
    store
        .fold_stream("t", 5, 1, &mut last, |last, event| {
            last.push(event.stream_version);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(last, [5]);
    assert_eq!(
        store
            .fold_stream("never", 1, 10, &mut (), |_, _| Ok(()))
            .await
            .unwrap(),
        0
    );
    store
        .append("t", Expected::Exact(5), vec![added(6)])
        .await
        .unwrap();
    assert_eq!(store.read_all(1, 100).await.unwrap().len(), 2 + 2 + 1);

    // Truncating every event keeps the stream's version.
    store
        .append("all", Expected::NoStream, (1..=3).map(added).collect())
        .await
        .unwrap();
    store.truncate_stream("all", 100).await.unwrap();
    let info = store.stream_info("all").await.unwrap().unwrap();
    assert_eq!((info.version, info.truncated_before), (3, 100));
    assert_conflict(
        store
            .append("all", Expected::NoStream, vec![added(4)])
            .await,
        3,
    );
    assert_eq!(
        store
            .append("all", Expected::Exact(3), vec![added(4)])
            .await
            .unwrap()
            .stream_version,
        4
    );
    // A stream deleted before its first event exists, deleted, at version 0.
    store
        .delete_stream("never-written", Expected::NoStream)
        .await
        .unwrap();
    let info = store.stream_info("never-written").await.unwrap().unwrap();
    assert!(info.deleted);
    assert_eq!(info.version, 0);
    assert!(
        store
            .stream_info("never-mentioned")
            .await
            .unwrap()
            .is_none()
    );
}

#[derive(Default, Debug, Serialize, Deserialize, PartialEq)]
struct Counter {
    total: i64,
    applied: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("the counter would go negative")]
struct Negative;

impl Aggregate for Counter {
    const TYPE: &'static str = "counter";
    type Event = CounterEvent;
    type Command = i64;
    type Error = Negative;

    fn apply(&mut self, event: &CounterEvent) {
        self.applied += 1;
        match event {
            CounterEvent::Added { amount } => self.total += amount,
            CounterEvent::Reset => self.total = 0,
        }
    }

    fn handle(&self, amount: i64) -> Result<Vec<CounterEvent>, Negative> {
        if self.total + amount < 0 {
            return Err(Negative);
        }
        Ok(vec![CounterEvent::Added { amount }])
    }
}

/// The same aggregate type after a change of its state: `total` is now in cents.
#[derive(Default, Debug, Serialize, Deserialize, PartialEq)]
struct CounterV2 {
    total_cents: i64,
}

impl Aggregate for CounterV2 {
    const TYPE: &'static str = "counter";
    const SNAPSHOT_VERSION: u32 = 2;
    type Event = CounterEvent;
    type Command = i64;
    type Error = Negative;

    fn apply(&mut self, event: &CounterEvent) {
        match event {
            CounterEvent::Added { amount } => self.total_cents += amount * 100,
            CounterEvent::Reset => self.total_cents = 0,
        }
    }

    fn handle(&self, amount: i64) -> Result<Vec<CounterEvent>, Negative> {
        Ok(vec![CounterEvent::Added { amount }])
    }
}

/// Two repositories with state caches on one store (as two processes would be): each
/// command sees every event, whoever appended it, and a refused command leaves the state.
async fn cached_states_go_stale_safely<S: EventStore>(store: S) {
    let first = Repository::<_, Counter>::new(store.clone()).cache(1);
    let second = Repository::<_, Counter>::new(store.clone()).cache(10);
    first.execute("c", 5).await.unwrap();
    second.execute("c", 7).await.unwrap();
    // `first` holds the state at version 1: its append conflicts, and it reloads.
    let executed = first.execute("c", 1).await.unwrap();
    assert_eq!(executed.version, 3);
    // Capacity 1: "d" evicts "c" from `first`, which still gets "c" right afterwards.
    first.execute("d", 1).await.unwrap();
    assert!(matches!(
        second.execute("c", -100).await,
        Err(CommandError::Refused(Negative))
    ));
    assert_eq!(second.execute("c", -13).await.unwrap().version, 4);
    assert_eq!(first.execute("c", 2).await.unwrap().version, 5);
    let loaded = first.load("c").await.unwrap();
    assert_eq!(
        (loaded.state.total, loaded.state.applied, loaded.version),
        (2, 5, 5)
    );
}

async fn snapshots_are_used_and_invalidated<S: EventStore>(store: S) {
    let counters = Repository::<_, Counter>::new(store.clone()).snapshot_every(5);
    for amount in 1..=12 {
        let executed = counters.execute("c", amount).await.unwrap();
        assert_eq!(executed.version, amount as u64);
    }
    assert!(matches!(
        counters.execute("c", -1000).await,
        Err(CommandError::Refused(Negative))
    ));
    let snapshot = store.load_snapshot("counter-c").await.unwrap().unwrap();
    assert_eq!((snapshot.stream_version, snapshot.schema_version), (10, 1));
    assert_eq!(
        snapshot.state,
        serde_json::json!({"total": 55, "applied": 10})
    );

    let loaded = counters.load("c").await.unwrap();
    assert!(loaded.from_snapshot);
    assert_eq!(loaded.version, 12);
    // Only the two events after the snapshot were applied on top of it.
    assert_eq!(
        loaded.state,
        Counter {
            total: 78,
            applied: 12
        }
    );
    let without = Repository::<_, Counter>::new(store.clone())
        .load("c")
        .await
        .unwrap();
    assert!(!without.from_snapshot);
    assert_eq!(without.state, loaded.state);

    // The changed aggregate ignores the version 1 snapshot instead of misreading it.
    let changed = Repository::<_, CounterV2>::new(store.clone()).snapshot_every(5);
    let loaded = changed.load("c").await.unwrap();
    assert!(!loaded.from_snapshot);
    assert_eq!(loaded.state.total_cents, 7800);
    changed.execute("c", 1).await.unwrap();
    changed.execute("c", 1).await.unwrap();
    changed.execute("c", 1).await.unwrap();
    let snapshot = store.load_snapshot("counter-c").await.unwrap().unwrap();
    assert_eq!((snapshot.stream_version, snapshot.schema_version), (15, 2));
    let reloaded = changed.load("c").await.unwrap();
    assert!(reloaded.from_snapshot);
    assert_eq!(reloaded.state.total_cents, 8100);
    // And the old aggregate, in turn, ignores the version 2 snapshot.
    let old = counters.load("c").await.unwrap();
    assert!(!old.from_snapshot);
    assert_eq!(old.state.total, 81);
}

/// Fails on every `counter.reset` event, records the rest.
struct Flaky {
    name: String,
    seen: Arc<Mutex<Vec<i64>>>,
    calls: Arc<AtomicU32>,
}

impl Projection for Flaky {
    type Event = CounterEvent;

    fn name(&self) -> &str {
        &self.name
    }

    async fn handle(&mut self, event: &Envelope<CounterEvent>) -> Result<(), HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match event.payload {
            CounterEvent::Added { amount } => {
                self.seen.lock().unwrap().push(amount);
                Ok(())
            }
            CounterEvent::Reset => Err("resets are not supported".into()),
        }
    }
}

async fn seed_with_reset<S: EventStore>(store: &S) {
    store
        .append("f", Expected::Any, vec![added(1), added(2)])
        .await
        .unwrap();
    store
        .append(
            "f",
            Expected::Any,
            vec![NewEvent::new(&CounterEvent::Reset).unwrap()],
        )
        .await
        .unwrap();
    store
        .append("f", Expected::Any, vec![added(3)])
        .await
        .unwrap();
}

fn fast_retries(on_failure: OnFailure) -> RunnerOptions {
    RunnerOptions {
        batch_size: 2,
        max_attempts: 3,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
        on_failure,
        poll_interval: Duration::from_millis(5),
    }
}

async fn dead_letters_skip<S: EventStore + CheckpointStore>(store: S) {
    seed_with_reset(&store).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(AtomicU32::new(0));
    let projection = Flaky {
        name: "flaky".into(),
        seen: seen.clone(),
        calls: calls.clone(),
    };
    let mut runner = ProjectionRunner::new(store.clone(), projection)
        .with_options(fast_retries(OnFailure::Skip));
    let mut reports = Vec::new();
    let reached = runner
        .catch_up(|progress| reports.push(*progress))
        .await
        .unwrap();
    assert_eq!(reached, 4);
    assert_eq!(*seen.lock().unwrap(), [1, 2, 3]);
    assert_eq!(calls.load(Ordering::SeqCst), 3 + 3);
    let letters = store.dead_letters("flaky").await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!((letters[0].position, letters[0].attempts), (3, 3));
    assert_eq!(letters[0].event_type, "counter.reset");
    assert!(letters[0].error.contains("resets are not supported"));
    assert_eq!(reports.last().map(|p| (p.done, p.total)), Some((4, 4)));
    assert!(store.dead_letters("other").await.unwrap().is_empty());
    let lag = runner.lag().await.unwrap();
    assert_eq!((lag.positions, lag.oldest_unprocessed_age), (0, None));
}

async fn dead_letters_halt<S: EventStore + CheckpointStore>(store: S) {
    seed_with_reset(&store).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(AtomicU32::new(0));
    let projection = Flaky {
        name: "halting".into(),
        seen: seen.clone(),
        calls,
    };
    let mut runner = ProjectionRunner::new(store.clone(), projection)
        .with_options(fast_retries(OnFailure::Halt));
    match runner.catch_up(|_| {}).await {
        Err(ProjectionError::Halted { position, .. }) => assert_eq!(position, 3),
        other => panic!("expected the runner to halt, got {other:?}"),
    }
    assert_eq!(*seen.lock().unwrap(), [1, 2]);
    assert_eq!(runner.checkpoint().await.unwrap(), 2);
    let lag = runner.lag().await.unwrap();
    assert_eq!((lag.head, lag.checkpoint, lag.positions), (4, 2, 2));
    assert!(lag.oldest_unprocessed_age.is_some());
    let letters = store.dead_letters("halting").await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].position, 3);
}

async fn checkpoints_subscription_and_lag<S: EventStore + CheckpointStore>(store: S) {
    assert_eq!(store.load_checkpoint("p").await.unwrap(), 0);
    store.save_checkpoint("p", 7).await.unwrap();
    store.save_checkpoint("p", 9).await.unwrap();
    assert_eq!(store.load_checkpoint("p").await.unwrap(), 9);
    assert_eq!(store.load_checkpoint("q").await.unwrap(), 0);

    let mut subscription = Subscription::new(store.clone(), 1).batch_size(2);
    assert!(subscription.poll().await.unwrap().is_empty());
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for amount in 0..5 {
                store
                    .append("sub", Expected::Any, vec![added(amount)])
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let mut positions = Vec::new();
    while positions.len() < 5 {
        let batch = tokio::time::timeout(Duration::from_secs(10), subscription.next_batch())
            .await
            .unwrap()
            .unwrap();
        assert!(batch.len() <= 2);
        positions.extend(batch.iter().map(|e| e.position));
    }
    writer.await.unwrap();
    assert_eq!(positions, [1, 2, 3, 4, 5]);
    assert_eq!(subscription.next_position(), 6);
    let lag = herald::projection::lag(&store, 2).await.unwrap();
    assert_eq!((lag.head, lag.positions), (5, 3));
    assert!(lag.oldest_unprocessed_age.unwrap() < Duration::from_secs(60));
}
