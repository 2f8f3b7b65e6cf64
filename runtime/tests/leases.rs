//! Leases: one holder at a time, takeover after expiry, renewal by heartbeat, and fencing (a
//! holder that lost its lease cannot commit a checkpoint or a read model batch).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald::lease::{Ended, LeaseError, LeaseOptions, Leases};
use herald::projection::sql::{SqlProjection, SqlProjectionRunner};
use herald::projection::{
    CheckpointStore, HandlerError, Partition, Projection, ProjectionRunner, Runner, RunnerOptions,
};
use herald::relay::Relay;
use herald::store::{EventStore, Expected};
use herald::transport::nats::NatsPublisher;
use herald::{Envelope, Event, NewEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A lease that expires quickly and is never renewed in time: its holder acts as stalled.
fn stalling() -> LeaseOptions {
    LeaseOptions {
        ttl: Duration::from_millis(800),
        heartbeat: Duration::from_secs(60),
        retry: Duration::from_millis(20),
    }
}

macro_rules! lease_tests {
    ($module:ident, $backend:path) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn one_holder_takeover_after_expiry_and_stale_commits_refused() {
                let (store, _guard) = $backend().await;
                let a = Leases::new(store.pool().clone(), "a").with_options(stalling());
                let b = Leases::new(store.pool().clone(), "b").with_options(stalling());

                let first = a
                    .try_acquire("relay:x")
                    .await
                    .unwrap()
                    .expect("a free lease");
                assert_eq!(first.token(), 1);
                assert!(b.try_acquire("relay:x").await.unwrap().is_none());
                first.fence().save_checkpoint(3).await.unwrap();
                assert_eq!(a.held(), 1);

                // a stalls past its TTL; b takes over with the next token.
                tokio::time::sleep(Duration::from_millis(1000)).await;
                assert!(!first.is_valid());
                let second = b.try_acquire("relay:x").await.unwrap().expect("expired");
                assert_eq!(second.token(), 2);
                let stale = first.fence().save_checkpoint(9).await.unwrap_err();
                assert!(
                    matches!(stale, LeaseError::Lost { token: 1, .. }),
                    "{stale}"
                );
                second.fence().save_checkpoint(5).await.unwrap();
                assert_eq!(store.load_checkpoint("relay:x").await.unwrap(), 5);

                let states = b.states().await.unwrap();
                assert_eq!(states.len(), 1);
                assert_eq!((states[0].holder.as_str(), states[0].token), ("b", 2));
                assert!(states[0].expires_in.is_some(), "{states:?}");

                // Released, it is free at once; dropped, it no longer counts as held.
                second.release().await.unwrap();
                assert_eq!(b.held(), 0);
                let third = a.try_acquire("relay:x").await.unwrap().expect("released");
                assert_eq!(third.token(), 3);
                drop(first);
                assert_eq!(a.held(), 1);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn side_effect_runner_checkpoint_is_fenced() {
                let (store, _guard) = $backend().await;
                seed(&store, 10).await;
                let options = LeaseOptions::with_ttl(Duration::from_secs(30));
                let a = Leases::new(store.pool().clone(), "a").with_options(options);
                let b = Leases::new(store.pool().clone(), "b").with_options(options);
                let lease = a.try_acquire("seen").await.unwrap().expect("a free lease");
                // The database expires a's lease behind its back (as a clock jump or a
                // missed renewal would); b takes it while a still believes it holds it.
                sqlx::query("UPDATE herald_leases SET expires_at_micros = 0")
                    .execute(store.pool())
                    .await
                    .unwrap();
                let taken = b.try_acquire("seen").await.unwrap().expect("expired");
                assert!(lease.is_valid());

                let seen = Arc::new(Mutex::new(Vec::new()));
                let mut runner = ProjectionRunner::new(store.clone(), Seen(seen.clone()));
                let ended = runner
                    .run_held(&lease, std::future::pending::<()>())
                    .await
                    .unwrap();
                assert_eq!(ended, Ended::Lost);
                assert_eq!(
                    runner.checkpoint().await.unwrap(),
                    0,
                    "a's commit was refused"
                );

                let ended = runner
                    .run_held(&taken, tokio::time::sleep(Duration::from_millis(300)))
                    .await
                    .unwrap();
                assert_eq!(ended, Ended::Shutdown);
                assert_eq!(runner.checkpoint().await.unwrap(), 10);
                // At least once: a's batch ran before its commit was refused, and again.
                assert_eq!(seen.lock().unwrap().len(), 20);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn partitions_are_handed_to_a_replica_that_asks_until_shares_are_even() {
                let (store, _guard) = $backend().await;
                let options = LeaseOptions::with_ttl(Duration::from_millis(900));
                let a = Leases::new(store.pool().clone(), "a").with_options(options);
                let b = Leases::new(store.pool().clone(), "b").with_options(options);
                let mut held = std::collections::HashMap::new();
                for k in 0..4 {
                    let lease = a.try_acquire(&format!("p#{k}")).await.unwrap().unwrap();
                    held.insert(k, lease);
                }
                // b waits for p#1, then p#2; a gives each back when asked.
                let mut taken = Vec::new();
                for wanted in [1, 2] {
                    let asking = {
                        let b = b.clone();
                        tokio::spawn(async move {
                            let name = format!("p#{wanted}");
                            b.acquire(&name, std::future::pending())
                                .await
                                .unwrap()
                                .unwrap()
                        })
                    };
                    let deadline = std::time::Instant::now() + Duration::from_secs(10);
                    while !held[&wanted].should_yield() {
                        assert!(
                            std::time::Instant::now() < deadline,
                            "p#{wanted} never asked for"
                        );
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    held.remove(&wanted).unwrap().release().await.unwrap();
                    let lease = asking.await.unwrap();
                    assert_eq!(lease.token(), 2);
                    taken.push(lease);
                    assert_eq!((a.held(), b.held()), (4 - taken.len(), taken.len()));
                }
                // Two each: b's request for p#3 is not granted.
                let asking = {
                    let b = b.clone();
                    tokio::spawn(async move { b.acquire("p#3", std::future::pending()).await })
                };
                tokio::time::sleep(Duration::from_millis(2000)).await;
                assert!(!held[&3].should_yield());
                assert!(!asking.is_finished());
                asking.abort();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn heartbeat_keeps_the_lease() {
                let (store, _guard) = $backend().await;
                let options = LeaseOptions::with_ttl(Duration::from_millis(900));
                let a = Leases::new(store.pool().clone(), "a").with_options(options);
                let b = Leases::new(store.pool().clone(), "b").with_options(options);
                let lease = a.try_acquire("p").await.unwrap().expect("a free lease");
                tokio::time::sleep(Duration::from_millis(2000)).await;
                assert!(lease.is_valid(), "renewed by its heartbeat");
                assert!(b.try_acquire("p").await.unwrap().is_none());
                // A checkpoint row exists from the first acquisition on.
                assert_eq!(a.checkpoints().await.unwrap(), vec![("p".to_owned(), 0)]);
            }
        }
    };
}

lease_tests!(sqlite, common::sqlite);
lease_tests!(postgres, common::postgres);

/// Records the positions it handled (a side effect outside the database).
struct Seen(Arc<Mutex<Vec<u64>>>);

impl Projection for Seen {
    type Event = TallyEvent;

    fn name(&self) -> &str {
        "seen"
    }

    async fn handle(&mut self, event: &Envelope<TallyEvent>) -> Result<(), HandlerError> {
        self.0.lock().unwrap().push(event.position);
        Ok(())
    }
}

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "tally", version = 1)]
enum TallyEvent {
    Added { amount: i64 },
}

/// Counts events per stream with increments (an event applied twice shows), sleeping in the
/// database at one position to stall its holder mid-batch.
struct Counts {
    stall_at: Option<u64>,
}

impl SqlProjection<sqlx::Postgres> for Counts {
    type Event = TallyEvent;

    fn name(&self) -> &str {
        "counts"
    }

    async fn apply(
        &mut self,
        connection: &mut sqlx::PgConnection,
        event: &Envelope<TallyEvent>,
    ) -> Result<(), HandlerError> {
        sqlx::query(
            "INSERT INTO counts (stream_id, events) VALUES ($1, 1) \
             ON CONFLICT (stream_id) DO UPDATE SET events = counts.events + 1",
        )
        .bind(&event.stream_id)
        .execute(&mut *connection)
        .await?;
        if self.stall_at == Some(event.position) {
            // Busy in a statement, not idle: the session outlives the TTL, so only the
            // fencing token can stop the commit.
            sqlx::query("SELECT pg_sleep(2)")
                .execute(&mut *connection)
                .await?;
        }
        Ok(())
    }

    async fn reset(&mut self, connection: &mut sqlx::PgConnection) -> Result<(), HandlerError> {
        sqlx::query("DELETE FROM counts")
            .execute(&mut *connection)
            .await?;
        Ok(())
    }
}

async fn seed<S: EventStore>(store: &S, events: usize) {
    for n in 0..events {
        let event = NewEvent::new(&TallyEvent::Added { amount: 1 }).unwrap();
        store
            .append(&format!("tally-{}", n % 7), Expected::Any, vec![event])
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_holder_stalled_mid_batch_cannot_commit_it() {
    let (store, _guard) = common::postgres().await;
    let pool = store.pool().clone();
    sqlx::query("CREATE TABLE counts (stream_id TEXT PRIMARY KEY, events BIGINT NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    seed(&store, 35).await;
    let options = RunnerOptions {
        batch_size: 7,
        ..RunnerOptions::default()
    };
    let a = Leases::new(pool.clone(), "a").with_options(stalling());
    let b =
        Leases::new(pool.clone(), "b").with_options(LeaseOptions::with_ttl(Duration::from_secs(5)));

    // a stalls inside its second batch (positions 8..=14), past its lease.
    let lease = a
        .try_acquire("counts")
        .await
        .unwrap()
        .expect("a free lease");
    let mut stalled =
        SqlProjectionRunner::new(pool.clone(), store.clone(), Counts { stall_at: Some(10) })
            .with_options(options);
    let stalled =
        tokio::spawn(async move { stalled.run_held(&lease, std::future::pending::<()>()).await });
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let taken = b
        .try_acquire("counts")
        .await
        .unwrap()
        .expect("a's lease expired");
    assert_eq!(taken.token(), 2);
    assert_eq!(stalled.await.unwrap().unwrap(), Ended::Lost);
    let checkpoint: i64 =
        sqlx::query_scalar("SELECT position FROM herald_checkpoints WHERE name = 'counts'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(checkpoint, 7, "only a's first batch committed");

    let mut runner =
        SqlProjectionRunner::new(pool.clone(), store.clone(), Counts { stall_at: None })
            .with_options(options);
    let watched = store.clone();
    let caught_up = async move {
        while watched.load_checkpoint("counts").await.unwrap() < 35 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let ended = runner.run_held(&taken, caught_up).await.unwrap();
    assert_eq!(ended, Ended::Shutdown);
    let applied: i64 = sqlx::query_scalar("SELECT CAST(SUM(events) AS BIGINT) FROM counts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(applied, 35, "each event applied once");
}

#[test]
fn partitions_split_streams_disjointly_and_cover_them() {
    let streams: Vec<String> = (0..1000).map(|n| format!("order-{n}")).collect();
    let mut owned = [0; 4];
    for stream in &streams {
        let owners: Vec<u32> = Partition::all(4)
            .filter(|partition| partition.contains(stream))
            .map(Partition::index)
            .collect();
        assert_eq!(owners.len(), 1, "{stream} belongs to {owners:?}");
        owned[owners[0] as usize] += 1;
    }
    assert!(owned.iter().all(|count| *count > 150), "{owned:?}");
    assert_eq!(Partition::new(2, 4).unwrap().checkpoint_name("p"), "p#2");
    assert_eq!(Partition::ALL.checkpoint_name("p"), "p");
    assert!(Partition::new(4, 4).is_none());
    // Stable: the hash is FNV-1a, not the process-seeded std hasher.
    assert!(Partition::new(1, 4).unwrap().contains("order-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_with_a_stale_lease_publishes_but_cannot_commit() {
    let (store, _guard) = common::sqlite().await;
    let jetstream = herald_test_support::JetStreamGuard::create().await;
    seed(&store, 12).await;
    let relay = Relay::new(
        store.clone(),
        NatsPublisher::new(jetstream.context.clone(), jetstream.name.clone()),
        "relay",
    )
    .batch_size(5);
    let options = LeaseOptions::with_ttl(Duration::from_secs(30));
    let a = Leases::new(store.pool().clone(), "a").with_options(options);
    let b = Leases::new(store.pool().clone(), "b").with_options(options);
    let stale = a.try_acquire("relay").await.unwrap().expect("a free lease");
    sqlx::query("UPDATE herald_leases SET expires_at_micros = 0")
        .execute(store.pool())
        .await
        .unwrap();
    let taken = b.try_acquire("relay").await.unwrap().expect("expired");

    // a still believes it holds the lease: it publishes as many batches as it may have in
    // flight (all three: 5 + 5 + 2 events, the default pipeline is 4), then its first commit
    // is refused.
    let poll = Duration::from_millis(10);
    let (ended, stats) = relay
        .run_held(&stale, poll, std::future::pending::<()>())
        .await
        .unwrap();
    assert_eq!((ended, stats.published), (Ended::Lost, 0));
    assert_eq!(relay.checkpoint().await.unwrap(), 0);

    // b re-sends them from the checkpoint; JetStream drops every copy.
    let watched = relay.clone();
    let caught_up = async move {
        while watched.checkpoint().await.unwrap() < 12 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let (ended, stats) = relay.run_held(&taken, poll, caught_up).await.unwrap();
    assert_eq!(ended, Ended::Shutdown);
    assert_eq!((stats.published, stats.duplicates), (12, 12));
    let mut stream = jetstream.context.get_stream(&jetstream.name).await.unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 12);
}
