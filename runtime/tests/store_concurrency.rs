//! Concurrency: optimistic concurrency under contention, and a subscriber tailing the global
//! log while many streams are appended to, next to a naive `BIGSERIAL` reader that skips
//! late commits.

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use herald::store::{Direction, EventStore, Expected, StoreError, Subscription};
use herald::{Event, NewEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const TASKS: usize = 16;

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "race", version = 1)]
struct Raced {
    task: usize,
    attempt: u32,
}

backends!(tests:
    one_winner_per_version,
    subscriber_sees_every_commit_once,
    concurrent_appends_succeed_or_fail_alone,
    concurrent_retries_write_once,
    one_id_sent_to_two_streams_is_stored_once,
    retries_among_fresh_appends,
);

/// The same event id appended to two streams at once (on PostgreSQL, possibly in one
/// group): one append stores it, the other is refused, and neither takes the rest down.
async fn one_id_sent_to_two_streams_is_stored_once<S: EventStore>(store: S) {
    for round in 0..20u32 {
        let shared = raced(0, round);
        let mut tasks = Vec::new();
        for stream in ["left", "right"] {
            let store = store.clone();
            let events = vec![shared.clone()];
            tasks.push(tokio::spawn(async move {
                store
                    .append(&format!("{stream}-{round}"), Expected::NoStream, events)
                    .await
            }));
        }
        // A bystander in the same moment is unaffected.
        let bystander = store
            .append(
                &format!("bystander-{round}"),
                Expected::NoStream,
                vec![raced(1, round)],
            )
            .await;
        assert!(bystander.is_ok(), "{bystander:?}");
        let mut stored = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(appended) => {
                    assert!(!appended.duplicate);
                    stored += 1;
                }
                Err(StoreError::DuplicateEventId { event_id, .. }) => {
                    assert_eq!(event_id, shared.event_id);
                }
                Err(other) => panic!("unexpected {other}"),
            }
        }
        assert_eq!(
            stored, 1,
            "round {round}: the id must be stored exactly once"
        );
    }
}

/// 32 concurrent appends to 32 streams, every other one with a wrong expectation: those
/// (and only those) fail, the others are stored at consecutive positions.
async fn concurrent_appends_succeed_or_fail_alone<S: EventStore>(store: S) {
    for stream in 0..32 {
        store
            .append(
                &format!("mixed-{stream}"),
                Expected::NoStream,
                vec![raced(stream, 0)],
            )
            .await
            .unwrap();
    }
    let head = store.head_position().await.unwrap();
    let mut tasks = Vec::new();
    for stream in 0..32usize {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let expected = if stream % 2 == 0 { 1 } else { 7 };
            let events = vec![raced(stream, 1), raced(stream, 2)];
            store
                .append(
                    &format!("mixed-{stream}"),
                    Expected::Exact(expected),
                    events,
                )
                .await
        }));
    }
    let mut positions = Vec::new();
    for (stream, task) in tasks.into_iter().enumerate() {
        match (stream % 2, task.await.unwrap()) {
            (0, Ok(appended)) => {
                assert_eq!(appended.stream_version, 3);
                assert_eq!(appended.last_position, appended.first_position + 1);
                positions.extend([appended.first_position, appended.last_position]);
            }
            (1, Err(StoreError::Conflict { actual: 1, .. })) => {}
            (_, other) => panic!("stream {stream}: unexpected {other:?}"),
        }
    }
    positions.sort_unstable();
    assert_eq!(positions, ((head + 1)..=(head + 32)).collect::<Vec<_>>());
    let log = store.read_all(head + 1, 100).await.unwrap();
    assert_eq!(log.len(), 32);
    for stream in 0..32usize {
        let info = store
            .stream_info(&format!("mixed-{stream}"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(info.version, if stream % 2 == 0 { 3 } else { 1 });
    }
}

/// Retries of stored batches (same ids; one with its expectation gone stale, one with
/// `Any`) sent at once with fresh appends to other streams (on PostgreSQL, likely in one
/// group): each retry is answered as a duplicate with its first answer, and every fresh
/// append is stored once.
async fn retries_among_fresh_appends<S: EventStore>(store: S) {
    let stale = vec![raced(100, 1), raced(100, 2)];
    let any = vec![raced(101, 1)];
    let first_stale = store
        .append("retry-stale", Expected::NoStream, stale.clone())
        .await
        .unwrap();
    let first_any = store
        .append("retry-any", Expected::Any, any.clone())
        .await
        .unwrap();
    let head = store.head_position().await.unwrap();
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        let (stale, any) = (stale.clone(), any.clone());
        tasks.push(tokio::spawn(async move {
            match task {
                0 => store.append("retry-stale", Expected::NoStream, stale).await,
                1 => store.append("retry-any", Expected::Any, any).await,
                _ => {
                    let stream = format!("fresh-{task}");
                    store
                        .append(&stream, Expected::NoStream, vec![raced(task, 0)])
                        .await
                }
            }
        }));
    }
    let mut positions = Vec::new();
    for (task, joined) in tasks.into_iter().enumerate() {
        let appended = joined.await.unwrap().unwrap();
        match task {
            0 | 1 => {
                let first = if task == 0 { &first_stale } else { &first_any };
                assert!(appended.duplicate, "task {task}: a retry");
                assert_eq!(
                    (appended.stream_version, appended.first_position),
                    (first.stream_version, first.first_position)
                );
            }
            _ => {
                assert!(!appended.duplicate, "task {task}: fresh");
                positions.push(appended.first_position);
            }
        }
    }
    positions.sort_unstable();
    let fresh = (TASKS - 2) as u64;
    assert_eq!(positions, ((head + 1)..=(head + fresh)).collect::<Vec<_>>());
    assert_eq!(store.head_position().await.unwrap(), head + fresh);
}

/// 8 tasks send the same batch (same event ids) at once: it is stored once, every task
/// succeeds, and all but one are told it was a retry.
async fn concurrent_retries_write_once<S: EventStore>(store: S) {
    let batch = vec![raced(0, 1), raced(0, 2), raced(0, 3)];
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let batch = batch.clone();
        tasks.push(tokio::spawn(async move {
            store.append("retried", Expected::Any, batch).await.unwrap()
        }));
    }
    let mut fresh = 0;
    for task in tasks {
        let appended = task.await.unwrap();
        assert_eq!(appended.stream_version, 3);
        fresh += usize::from(!appended.duplicate);
    }
    assert_eq!(fresh, 1, "exactly one task wrote the batch");
    let stored = store
        .read_stream("retried", 1, Direction::Forward, 10)
        .await
        .unwrap();
    let ids: Vec<_> = stored.iter().map(|event| event.event_id).collect();
    assert_eq!(
        ids,
        batch.iter().map(|event| event.event_id).collect::<Vec<_>>()
    );
}

fn raced(task: usize, attempt: u32) -> NewEvent {
    NewEvent::new(&Raced { task, attempt }).unwrap()
}

/// 16 tasks append to one stream with `Exact` expectations until each has won 5 versions.
async fn one_winner_per_version<S: EventStore>(store: S) {
    const WINS: usize = 5;
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut wins = Vec::new();
            let mut conflicts = 0u32;
            let mut attempt = 0;
            while wins.len() < WINS {
                attempt += 1;
                let version = store
                    .stream_info("contended")
                    .await
                    .unwrap()
                    .map_or(0, |info| info.version);
                // Let the other tasks run between reading the version and appending.
                tokio::task::yield_now().await;
                let event = NewEvent::new(&Raced { task, attempt }).unwrap();
                let id = event.event_id;
                match store
                    .append("contended", Expected::Exact(version), vec![event])
                    .await
                {
                    Ok(appended) => {
                        assert_eq!(appended.stream_version, version + 1);
                        wins.push((appended.stream_version, id));
                    }
                    Err(StoreError::Conflict { actual, .. }) => {
                        // Somebody else won this version (or a later one).
                        assert!(actual > version, "conflict reports {actual} <= {version}");
                        conflicts += 1;
                    }
                    Err(other) => panic!("unexpected error: {other}"),
                }
            }
            (wins, conflicts)
        }));
    }
    let mut winners: HashMap<u64, Uuid> = HashMap::new();
    let mut conflicts = 0;
    for task in tasks {
        let (wins, task_conflicts) = task.await.unwrap();
        conflicts += task_conflicts;
        for (version, id) in wins {
            assert!(
                winners.insert(version, id).is_none(),
                "two winners for version {version}"
            );
        }
    }
    let total = (TASKS * WINS) as u64;
    let stream = store
        .read_stream("contended", 1, Direction::Forward, 1000)
        .await
        .unwrap();
    assert_eq!(stream.len() as u64, total);
    for (index, event) in stream.iter().enumerate() {
        assert_eq!(event.stream_version, index as u64 + 1, "gap in the stream");
        assert_eq!(winners.get(&event.stream_version), Some(&event.event_id));
    }
    assert_eq!(
        store
            .stream_info("contended")
            .await
            .unwrap()
            .unwrap()
            .version,
        total
    );
    println!("{TASKS} tasks, {total} versions, {conflicts} conflicts");
}

/// 16 writers append to their own streams for a while; a subscriber tails `read_all`.
async fn subscriber_sees_every_commit_once<S: EventStore>(store: S) {
    let appended = tail_under_load(store, Duration::from_secs(2), None, None).await;
    assert!(appended > 100, "only {appended} events appended");
}

/// Returns the number of events appended. With `naive`, each writer also commits a row of a
/// plain `BIGSERIAL` table per append, with a short random pause inside that transaction.
/// With `second`, odd writers append through it (another store on the same database, as a
/// second process would).
async fn tail_under_load<S: EventStore>(
    store: S,
    run_for: Duration,
    naive: Option<sqlx::PgPool>,
    second: Option<S>,
) -> usize {
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..TASKS {
        let store = match &second {
            Some(second) if writer % 2 == 1 => second.clone(),
            _ => store.clone(),
        };
        let stop = stop.clone();
        let naive = naive.clone();
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            let mut attempt = 0;
            while !stop.load(Ordering::Relaxed) {
                attempt += 1;
                let batch: Vec<_> = (0..1 + attempt % 3)
                    .map(|_| {
                        NewEvent::new(&Raced {
                            task: writer,
                            attempt,
                        })
                        .unwrap()
                    })
                    .collect();
                ids.extend(batch.iter().map(|event| event.event_id));
                store
                    .append(&format!("writer-{writer}"), Expected::Any, batch)
                    .await
                    .unwrap();
                if let Some(pool) = &naive {
                    let pause = f64::from((attempt * 7 + writer as u32) % 4) / 1000.0;
                    let mut tx = pool.begin().await.unwrap();
                    sqlx::query("INSERT INTO naive_log (writer) VALUES ($1)")
                        .bind(writer as i32)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    sqlx::query("SELECT pg_sleep($1)")
                        .bind(pause)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                }
            }
            ids
        }));
    }
    let naive_reader = naive
        .clone()
        .map(|pool| tokio::spawn(naive_tail(pool, stop.clone(), NAIVE_LOG)));

    let mut subscription = Subscription::new(store.clone(), 1)
        .batch_size(100)
        .poll_interval(Duration::from_millis(1));
    let mut positions = Vec::new();
    let mut seen_ids = Vec::new();
    let started = Instant::now();
    while started.elapsed() < run_for {
        for event in subscription.poll().await.unwrap() {
            positions.push(event.position);
            seen_ids.push(event.event_id);
        }
    }
    stop.store(true, Ordering::SeqCst);
    let mut written = HashSet::new();
    for writer in writers {
        written.extend(writer.await.unwrap());
    }
    // Drain what committed after the writers stopped.
    loop {
        let batch = subscription.poll().await.unwrap();
        if batch.is_empty() {
            break;
        }
        for event in batch {
            positions.push(event.position);
            seen_ids.push(event.event_id);
        }
    }
    assert_eq!(
        positions.len(),
        written.len(),
        "the subscriber missed or repeated events"
    );
    for (index, position) in positions.iter().enumerate() {
        assert_eq!(*position, index as u64 + 1, "out of order or skipped");
    }
    let seen: HashSet<_> = seen_ids.iter().copied().collect();
    assert_eq!(seen.len(), seen_ids.len(), "an event was delivered twice");
    assert_eq!(seen, written);

    if let (Some(pool), Some(reader)) = (naive, naive_reader) {
        let seen = reader.await.unwrap();
        let committed: Vec<i64> = sqlx::query_scalar("SELECT id FROM naive_log ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
        let skipped: Vec<_> = committed.iter().filter(|id| !seen.contains(id)).collect();
        println!(
            "herald subscriber: {} events, none skipped; naive BIGSERIAL reader: {} of {} rows skipped",
            written.len(),
            skipped.len(),
            committed.len(),
        );
        assert!(
            !skipped.is_empty(),
            "the naive BIGSERIAL reader skipped nothing in this run; the comparison proves nothing"
        );
    }
    written.len()
}

const NAIVE_LOG: &str = "SELECT id FROM naive_log WHERE id > $1 ORDER BY id";

/// Tails a `BIGSERIAL` column the naive way, `WHERE id > $last ORDER BY id`, until `stop`.
async fn naive_tail(
    pool: sqlx::PgPool,
    stop: Arc<AtomicBool>,
    query: &'static str,
) -> BTreeSet<i64> {
    let mut last = 0i64;
    let mut seen = BTreeSet::new();
    loop {
        let done = stop.load(Ordering::SeqCst);
        let ids: Vec<i64> = sqlx::query_scalar(query)
            .bind(last)
            .fetch_all(&pool)
            .await
            .unwrap();
        if let Some(max) = ids.last() {
            last = *max;
        }
        seen.extend(ids);
        if done {
            return seen;
        }
    }
}

/// PostgreSQL under load for 8 seconds, with the naive `BIGSERIAL` reader alongside: the
/// naive reader skips late commits, Herald's subscriber sees every event once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_late_commits_skip_naive_reader_but_not_herald() {
    let (store, guard) = common::postgres().await;
    let pool = store.pool().clone();
    sqlx::query("CREATE TABLE naive_log (id BIGSERIAL PRIMARY KEY, writer INTEGER NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    // A second store on its own pool: its appends are grouped apart, as another process's.
    let second = common::postgres_store_on(&guard, 8).await;
    let appended = tail_under_load(store, Duration::from_secs(8), Some(pool), Some(second)).await;
    assert!(appended > 1000, "only {appended} events appended");
}

/// A store on a pool of 3 connections (two of which the grouped appends and loads keep while
/// busy): 16 tasks running commands and reads all finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_small_pool_does_not_starve() {
    use herald::aggregate::{Aggregate, Repository};

    #[derive(Default, Serialize, Deserialize)]
    struct Tally(u64);
    impl Aggregate for Tally {
        const TYPE: &'static str = "tally";
        type Event = Raced;
        type Command = u32;
        type Error = std::convert::Infallible;
        fn apply(&mut self, _: &Raced) {
            self.0 += 1;
        }
        fn handle(&self, attempt: u32) -> Result<Vec<Raced>, Self::Error> {
            Ok(vec![Raced { task: 0, attempt }])
        }
    }

    let (store, guard) = common::postgres().await;
    let small = common::postgres_store_on(&guard, 3).await;
    drop(store);
    let repository =
        Repository::<_, Tally>::new(small.clone()).conflict_deadline(Duration::from_secs(30));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let repository = repository.clone();
        let small = small.clone();
        tasks.push(tokio::spawn(async move {
            for attempt in 0..20 {
                repository
                    .execute(&format!("t{}", (task + attempt as usize) % 5), attempt)
                    .await
                    .unwrap();
                small.read_all(1, 10).await.unwrap();
                small.stream_info("tally-t0").await.unwrap();
            }
        }));
    }
    let all = async {
        for task in tasks {
            task.await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("commands and reads on a 3-connection pool did not finish");
    assert_eq!(small.head_position().await.unwrap(), (TASKS * 20) as u64);
}
