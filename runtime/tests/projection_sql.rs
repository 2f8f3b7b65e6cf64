//! SQL read models: writes and checkpoint commit together, so every event's effect lands
//! exactly once, even when a batch fails halfway; rebuilds report progress.

mod common;

use std::collections::BTreeMap;

use herald::projection::sql::{SqlProjection, SqlProjectionRunner};
use herald::projection::{HandlerError, Progress, Runner, RunnerOptions};
use herald::store::{EventStore, Expected};
use herald::{Envelope, Event, NewEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "tally", version = 1)]
enum TallyEvent {
    Added { amount: i64 },
}

/// Sums amounts per stream with non-idempotent increments: an event applied twice shows.
struct Totals {
    /// Fail when applying the event at this position (to interrupt a batch).
    fail_at: Option<u64>,
}

macro_rules! totals_for {
    ($db:ty, $connection:ty) => {
        impl SqlProjection<$db> for Totals {
            type Event = TallyEvent;

            fn name(&self) -> &str {
                "totals"
            }

            async fn apply(
                &mut self,
                connection: &mut $connection,
                event: &Envelope<TallyEvent>,
            ) -> Result<(), HandlerError> {
                let TallyEvent::Added { amount } = event.payload;
                sqlx::query(
                    "INSERT INTO totals (stream_id, total, events) VALUES ($1, $2, 1) \
                     ON CONFLICT (stream_id) DO UPDATE SET total = totals.total + excluded.total, \
                     events = totals.events + 1",
                )
                .bind(&event.stream_id)
                .bind(amount)
                .execute(&mut *connection)
                .await?;
                if self.fail_at == Some(event.position) {
                    return Err(format!("injected failure at {}", event.position).into());
                }
                Ok(())
            }

            async fn reset(&mut self, connection: &mut $connection) -> Result<(), HandlerError> {
                sqlx::query("DELETE FROM totals").execute(&mut *connection).await?;
                Ok(())
            }
        }
    };
}

totals_for!(sqlx::Sqlite, sqlx::SqliteConnection);
totals_for!(sqlx::Postgres, sqlx::PgConnection);

const CREATE: &str = "CREATE TABLE totals (stream_id TEXT PRIMARY KEY, total BIGINT NOT NULL, events BIGINT NOT NULL)";

/// Appends 60 events over 6 streams, plus unrelated events the projection passes over.
async fn seed<S: EventStore>(store: &S) -> BTreeMap<String, (i64, i64)> {
    let mut expected = BTreeMap::new();
    for round in 0..10i64 {
        for stream in 0..6i64 {
            let id = format!("tally-{stream}");
            let amount = round * 10 + stream;
            store
                .append(
                    &id,
                    Expected::Any,
                    vec![NewEvent::new(&TallyEvent::Added { amount }).unwrap()],
                )
                .await
                .unwrap();
            let entry = expected.entry(id).or_insert((0, 0));
            entry.0 += amount;
            entry.1 += 1;
        }
        store
            .append(
                "noise",
                Expected::Any,
                vec![NewEvent::raw("other.thing", 1, b"{}".to_vec())],
            )
            .await
            .unwrap();
    }
    expected
}

macro_rules! exactly_once_test {
    ($name:ident, $backend:path) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let (store, _guard) = $backend().await;
            let pool = store.pool().clone();
            sqlx::query(CREATE).execute(&pool).await.unwrap();
            let expected = seed(&store).await;
            let head = store.head_position().await.unwrap();
            assert_eq!(head, 70);

            macro_rules! read {
                ($pool:expr) => {
                    sqlx::query_as::<_, (String, i64, i64)>(
                        "SELECT stream_id, total, events FROM totals ORDER BY stream_id",
                    )
                    .fetch_all($pool)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|(id, total, events)| (id, (total, events)))
                    .collect::<BTreeMap<String, (i64, i64)>>()
                };
            }

            // A failure in the middle of the third batch: batches one and two stay
            // committed, the third (including its rows written before the failure) does not.
            let mut runner =
                SqlProjectionRunner::new(pool.clone(), store.clone(), Totals { fail_at: Some(18) })
                    .with_options(RunnerOptions {
                        batch_size: 7,
                        ..RunnerOptions::default()
                    });
            let error = runner.catch_up(|_| {}).await.unwrap_err();
            assert!(
                error.to_string().contains("injected failure at 18"),
                "{error}"
            );
            assert_eq!(runner.checkpoint().await.unwrap(), 14);
            let partial = read!(&pool);
            let applied: i64 = partial.values().map(|(_, events)| events).sum();
            // Positions 1..=14 hold 12 tally events and 2 others.
            assert_eq!(applied, 12);
            let lag = runner.lag().await.unwrap();
            assert_eq!((lag.checkpoint, lag.positions), (14, 56));

            // Resume without the failure: each event's effect exactly once.
            let mut runner =
                SqlProjectionRunner::new(pool.clone(), store.clone(), Totals { fail_at: None })
                    .with_options(RunnerOptions {
                        batch_size: 7,
                        ..RunnerOptions::default()
                    });
            let mut reports: Vec<Progress> = Vec::new();
            let reached = runner
                .catch_up(|progress| reports.push(*progress))
                .await
                .unwrap();
            assert_eq!(reached, head);
            assert_eq!(read!(&pool), expected);
            assert_eq!(reports.last().map(|p| (p.done, p.total)), Some((56, 56)));
            assert!(reports.windows(2).all(|pair| pair[0].done <= pair[1].done));
            assert_eq!(runner.run_batch().await.unwrap(), 0);
            assert_eq!(runner.lag().await.unwrap().positions, 0);

            // A rebuild replays from position 1 into an emptied read model.
            let mut reports: Vec<Progress> = Vec::new();
            runner
                .rebuild(|progress| reports.push(*progress))
                .await
                .unwrap();
            assert_eq!(read!(&pool), expected);
            assert_eq!(reports.last().map(|p| (p.done, p.total)), Some((70, 70)));
            assert!(reports.len() >= 10);
            assert!(
                reports
                    .iter()
                    .all(|p| p.rate() >= 0.0 && p.fraction() <= 1.0)
            );
        }
    };
}

exactly_once_test!(sqlite_exactly_once_and_rebuild, common::sqlite);
exactly_once_test!(postgres_exactly_once_and_rebuild, common::postgres);
