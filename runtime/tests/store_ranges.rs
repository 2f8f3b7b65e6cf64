//! Numbers a store cannot hold: input beyond its columns is refused with
//! `StoreError::OutOfRange` by every backend (never clamped), and a negative value read back
//! from SQLite or PostgreSQL is `StoreError::Corrupt` (never turned into 0).

mod common;

use std::time::SystemTime;

use herald::NewEvent;
use herald::projection::{CheckpointStore, DeadLetter};
use herald::store::{Direction, EventStore, Expected, Snapshot, StoreError};
use serde_json::json;
use uuid::Uuid;

backends!(tests:
    append_refuses_out_of_range,
    snapshots_refuse_out_of_range,
    checkpoints_refuse_out_of_range,
    dead_letters_refuse_out_of_range,
    reads_refuse_out_of_range,
);

fn event(schema_version: u32) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "ranged".to_owned(),
        schema_version,
        payload: b"{}".to_vec(),
        correlation_id: None,
        causation_id: None,
        metadata: json!({}),
    }
}

#[track_caller]
fn assert_out_of_range<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str, value: u64) {
    match result {
        Err(StoreError::OutOfRange {
            what: actual,
            value: actual_value,
            ..
        }) => assert_eq!((actual, actual_value), (what, value)),
        other => panic!("expected {what} {value} out of range, got {other:?}"),
    }
}

async fn append_refuses_out_of_range<S: EventStore>(store: S) {
    let too_big = u64::from(i32::MAX as u32) + 1;
    assert_out_of_range(
        store
            .append("r", Expected::Any, vec![event(1), event(too_big as u32)])
            .await,
        "schema version",
        too_big,
    );
    assert_out_of_range(
        store
            .append("r", Expected::Exact(u64::MAX), vec![event(1)])
            .await,
        "expected version",
        u64::MAX,
    );
    assert_out_of_range(
        store.append("r", Expected::Exact(u64::MAX), vec![]).await,
        "expected version",
        u64::MAX,
    );
    assert_eq!(store.head_position().await.unwrap(), 0);
    assert_eq!(store.stream_info("r").await.unwrap(), None);
    // The largest values that fit are stored as they are.
    let schema_version = i32::MAX as u32;
    store
        .append("r", Expected::NoStream, vec![event(schema_version)])
        .await
        .unwrap();
    let events = store
        .read_stream("r", 1, Direction::Forward, 10)
        .await
        .unwrap();
    assert_eq!(events[0].schema_version, schema_version);
}

fn snapshot(schema_version: u32, stream_version: u64) -> Snapshot {
    Snapshot {
        stream_id: "s".to_owned(),
        aggregate_type: "ranged".to_owned(),
        schema_version,
        stream_version,
        state: json!({"n": 1}),
    }
}

async fn snapshots_refuse_out_of_range<S: EventStore>(store: S) {
    let too_big = i32::MAX as u32 + 1;
    assert_out_of_range(
        store.save_snapshot(snapshot(too_big, 1)).await,
        "snapshot schema version",
        too_big.into(),
    );
    assert_out_of_range(
        store.save_snapshot(snapshot(1, u64::MAX)).await,
        "snapshot stream version",
        u64::MAX,
    );
    assert_eq!(store.load_snapshot("s").await.unwrap(), None);
    let largest = snapshot(i32::MAX as u32, i64::MAX as u64);
    store.save_snapshot(largest.clone()).await.unwrap();
    assert_eq!(store.load_snapshot("s").await.unwrap(), Some(largest));
}

async fn checkpoints_refuse_out_of_range<S: EventStore + CheckpointStore>(store: S) {
    store.save_checkpoint("c", 5).await.unwrap();
    let too_big = i64::MAX as u64 + 1;
    assert_out_of_range(
        store.save_checkpoint("c", too_big).await,
        "checkpoint position",
        too_big,
    );
    assert_eq!(store.load_checkpoint("c").await.unwrap(), 5);
    store.save_checkpoint("c", i64::MAX as u64).await.unwrap();
    assert_eq!(store.load_checkpoint("c").await.unwrap(), i64::MAX as u64);
}

fn dead_letter(position: u64, attempts: u32) -> DeadLetter {
    DeadLetter {
        projection: "d".to_owned(),
        event_id: Uuid::now_v7(),
        position,
        event_type: "ranged".to_owned(),
        attempts,
        error: "boom".to_owned(),
        failed_at: SystemTime::now(),
    }
}

async fn dead_letters_refuse_out_of_range<S: EventStore + CheckpointStore>(store: S) {
    assert_out_of_range(
        store.record_dead_letter(dead_letter(u64::MAX, 1)).await,
        "dead letter position",
        u64::MAX,
    );
    let too_many = i32::MAX as u32 + 1;
    assert_out_of_range(
        store.record_dead_letter(dead_letter(1, too_many)).await,
        "dead letter attempts",
        too_many.into(),
    );
    // A failure time no BIGINT of microseconds can hold (2^62 s after 1970).
    let mut far_future = dead_letter(1, 1);
    far_future.failed_at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 62);
    assert_out_of_range(
        store.record_dead_letter(far_future).await,
        "dead letter time",
        u64::MAX,
    );
    assert!(store.dead_letters("d").await.unwrap().is_empty());
    store
        .record_dead_letter(dead_letter(1, i32::MAX as u32))
        .await
        .unwrap();
    assert_eq!(
        store.dead_letters("d").await.unwrap()[0].attempts,
        i32::MAX as u32
    );
}

async fn reads_refuse_out_of_range<S: EventStore>(store: S) {
    store
        .append("t", Expected::NoStream, vec![event(1), event(1)])
        .await
        .unwrap();
    assert_out_of_range(store.read_all(u64::MAX, 10).await, "position", u64::MAX);
    assert_out_of_range(
        store
            .read_stream("t", u64::MAX, Direction::Backward, 10)
            .await,
        "stream version",
        u64::MAX,
    );
    assert_out_of_range(
        store.truncate_stream("t", u64::MAX).await,
        "truncation version",
        u64::MAX,
    );
    // A limit beyond every table means "all": nothing is lost by reading it as i64::MAX.
    assert_eq!(store.read_all(1, usize::MAX).await.unwrap().len(), 2);
    let mut folded = 0;
    store
        .fold_stream("t", 1, usize::MAX, &mut folded, |folded, _| {
            *folded += 1;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(folded, 2);
    assert_eq!(store.stream_info("t").await.unwrap().unwrap().version, 2);
}

#[track_caller]
fn assert_corrupt<T: std::fmt::Debug>(result: Result<T, StoreError>, mentions: &str) {
    match result {
        Err(StoreError::Corrupt(message)) => {
            assert!(
                message.contains(mentions),
                "{message} (expected `{mentions}`)"
            )
        }
        other => panic!("expected a corrupt {mentions}, got {other:?}"),
    }
}

/// Writes negative numbers behind the store's back with `execute` and checks that each is
/// read back as corrupt.
async fn negative_values_are_corrupt<S: EventStore + CheckpointStore>(
    store: S,
    execute: impl AsyncFn(&str),
) {
    store
        .append("n", Expected::NoStream, vec![event(1)])
        .await
        .unwrap();
    store.save_snapshot(snapshot(1, 1)).await.unwrap();
    store.save_checkpoint("c", 1).await.unwrap();
    store.record_dead_letter(dead_letter(1, 1)).await.unwrap();
    execute("UPDATE herald_events SET schema_version = -1").await;
    execute("UPDATE herald_snapshots SET schema_version = -2").await;
    execute("UPDATE herald_checkpoints SET position = -3").await;
    execute("UPDATE herald_dead_letters SET attempts = -4").await;
    assert_corrupt(store.read_all(1, 10).await, "schema version: -1");
    assert_corrupt(
        store.read_stream("n", 1, Direction::Forward, 10).await,
        "schema version: -1",
    );
    let mut folded = 0;
    assert_corrupt(
        store
            .fold_stream("n", 1, 10, &mut folded, |folded, _| {
                *folded += 1;
                Ok(())
            })
            .await,
        "schema version: -1",
    );
    assert_eq!(folded, 0);
    assert_corrupt(store.load_snapshot("s").await, "snapshot version: -2");
    assert_corrupt(store.load_checkpoint("c").await, "checkpoint: -3");
    assert_corrupt(store.dead_letters("d").await, "attempts: -4");
    execute("UPDATE herald_head SET position = -5").await;
    assert_corrupt(store.head_position().await, "head position: -5");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_negative_values_are_corrupt() {
    let (store, _guard) = common::sqlite().await;
    let pool = store.pool().clone();
    negative_values_are_corrupt(store, async |sql: &str| {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&pool)
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_negative_values_are_corrupt() {
    let (store, _guard) = common::postgres().await;
    let pool = store.pool().clone();
    negative_values_are_corrupt(store, async |sql: &str| {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&pool)
            .await
            .unwrap();
    })
    .await;
}
