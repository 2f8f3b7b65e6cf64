//! Herald against `cqrs-es` + `postgres-es` 0.5 on the same PostgreSQL, in one run.
//!
//! ```text
//! cd benches/cqrs-peer && cargo run --release -- [postgres-url]
//! ```
//!
//! Workloads (each side in a schema of its own, dropped afterwards):
//! 1. commands: 16 tasks run deposit commands on 1,000 account aggregates; each command
//!    loads the account from its events and appends one event;
//! 2. replay: load one account with 10,000 events;
//! 3. Herald batched append throughput on SQLite and PostgreSQL;
//! 4. the cost of Herald's hole-free ordering: the same appends into a plain `BIGSERIAL`
//!    table without the head lock;
//! 5. hot aggregates: 16 tasks run deposit commands on one account, then on 10; successful
//!    commands per second and failed commands (a conflict still there after 5 s of
//!    retries) on each side.

use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{AggregateError, CqrsFramework, DomainEvent, EventStore as _};
use herald::aggregate::{Aggregate as HeraldAggregate, Repository};
use herald::store::postgres::PostgresStore;
use herald::store::sqlite::SqliteStore;
use herald::store::{EventStore, Expected};
use herald::{Event, NewEvent};
use postgres_es::PostgresEventRepository;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const TASKS: usize = 16;
const ACCOUNTS: usize = 1_000;
const COMMANDS: usize = 16_000;
const REPLAY_EVENTS: usize = 10_000;
const REPLAY_ROUNDS: usize = 9;

type Error = Box<dyn std::error::Error + Send + Sync>;

// ---- Herald's account -------------------------------------------------------------------

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "account", version = 1)]
enum AccountEvent {
    Deposited { amount: i64 },
}

#[derive(Default, Serialize, Deserialize)]
struct HeraldAccount {
    balance: i64,
    deposits: u64,
}

impl HeraldAggregate for HeraldAccount {
    const TYPE: &'static str = "account";
    type Event = AccountEvent;
    type Command = i64;
    type Error = std::convert::Infallible;

    fn apply(&mut self, AccountEvent::Deposited { amount }: &AccountEvent) {
        self.balance += amount;
        self.deposits += 1;
    }

    fn handle(&self, amount: i64) -> Result<Vec<AccountEvent>, Self::Error> {
        Ok(vec![AccountEvent::Deposited { amount }])
    }
}

// ---- The same account for cqrs-es -------------------------------------------------------

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
enum PeerEvent {
    Deposited { amount: i64 },
}

impl DomainEvent for PeerEvent {
    fn event_type(&self) -> String {
        "Deposited".to_owned()
    }
    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("never")]
struct Never;

#[derive(Default, Serialize, Deserialize)]
struct PeerAccount {
    balance: i64,
    deposits: u64,
}

impl cqrs_es::Aggregate for PeerAccount {
    const TYPE: &'static str = "account";
    type Command = i64;
    type Event = PeerEvent;
    type Error = Never;
    type Services = ();

    async fn handle(
        &mut self,
        amount: i64,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), Never> {
        sink.write(PeerEvent::Deposited { amount }, self).await;
        Ok(())
    }

    fn apply(&mut self, PeerEvent::Deposited { amount }: PeerEvent) {
        self.balance += amount;
        self.deposits += 1;
    }
}

// ---- Set-up ------------------------------------------------------------------------------

/// A fresh schema with pools for both sqlx versions.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    async fn create(url: &str, name: &str) -> Result<Schema, Error> {
        let admin = sqlx::PgPool::connect(url).await.map_err(|error| {
            format!("PostgreSQL is required at {url} and is not reachable: {error}")
        })?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        )))
        .execute(&admin)
        .await?;
        admin.close().await;
        Ok(Schema {
            url: url.to_owned(),
            name: name.to_owned(),
        })
    }

    async fn herald(&self) -> Result<PostgresStore, Error> {
        let options = sqlx::postgres::PgConnectOptions::from_str(&self.url)?
            .options([("search_path", self.name.as_str())]);
        Ok(PostgresStore::connect_with(options).await?)
    }

    async fn peer(&self) -> Result<sqlx08::PgPool, Error> {
        let options = sqlx08::postgres::PgConnectOptions::from_str(&self.url)?
            .options([("search_path", self.name.as_str())]);
        let pool = sqlx08::postgres::PgPoolOptions::new()
            .max_connections(32)
            .connect_with(options)
            .await?;
        // postgres-es's tables, as in its db/init.sql.
        sqlx08::raw_sql(
            "CREATE TABLE events (aggregate_type text NOT NULL, aggregate_id text NOT NULL, \
             sequence bigint CHECK (sequence >= 0) NOT NULL, event_type text NOT NULL, \
             event_version text NOT NULL, payload json NOT NULL, metadata json NOT NULL, \
             PRIMARY KEY (aggregate_type, aggregate_id, sequence)); \
             CREATE TABLE snapshots (aggregate_type text NOT NULL, aggregate_id text NOT NULL, \
             last_sequence bigint CHECK (last_sequence >= 0) NOT NULL, \
             current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL, payload json NOT NULL, \
             PRIMARY KEY (aggregate_type, aggregate_id, last_sequence))",
        )
        .execute(&pool)
        .await?;
        Ok(pool)
    }

    async fn drop(self) -> Result<(), Error> {
        let admin = sqlx::PgPool::connect(&self.url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA {} CASCADE",
            self.name
        )))
        .execute(&admin)
        .await?;
        admin.close().await;
        Ok(())
    }
}

/// The account command `k` of task `task` goes to.
fn account_of(task: usize, k: usize) -> String {
    format!("acc-{}", (task * 7919 + k * 104_729) % ACCOUNTS)
}

fn rate(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

// ---- 1. Commands --------------------------------------------------------------------------

/// `cache`: keep aggregate states between commands (`Repository::cache`), so commands skip
/// the load; not the like-for-like workload, reported beside it.
async fn herald_commands(store: PostgresStore, cache: bool) -> Result<(f64, u64), Error> {
    let mut repository = Repository::<_, HeraldAccount>::new(store.clone());
    if cache {
        repository = repository.cache(ACCOUNTS);
    }
    let repository = Arc::new(repository);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let repository = repository.clone();
        tasks.push(tokio::spawn(async move {
            for k in 0..COMMANDS / TASKS {
                repository.execute(&account_of(task, k), 1).await?;
            }
            Ok::<_, Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    let head = store.head_position().await?;
    assert_eq!(head as usize, COMMANDS, "every command appended one event");
    Ok((rate(COMMANDS, elapsed), head))
}

async fn peer_commands(pool: sqlx08::PgPool) -> Result<(f64, u64), Error> {
    let store: PersistedEventStore<_, PeerAccount> =
        PersistedEventStore::new_event_store(PostgresEventRepository::new(pool.clone()));
    let cqrs = Arc::new(CqrsFramework::new(store, vec![], ()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    let conflicts = Arc::new(std::sync::atomic::AtomicU64::new(0));
    for task in 0..TASKS {
        let cqrs = cqrs.clone();
        let conflicts = conflicts.clone();
        tasks.push(tokio::spawn(async move {
            for k in 0..COMMANDS / TASKS {
                let id = account_of(task, k);
                // Retry on a concurrency conflict, as Herald's repository does.
                loop {
                    match cqrs.execute(&id, 1).await {
                        Ok(()) => break,
                        Err(AggregateError::AggregateConflict) => {
                            conflicts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Err(error) => return Err::<(), Error>(error.to_string().into()),
                    }
                }
            }
            Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    let count: i64 = sqlx08::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await?;
    assert_eq!(count as usize, COMMANDS, "every command appended one event");
    Ok((
        rate(COMMANDS, elapsed),
        conflicts.load(std::sync::atomic::Ordering::Relaxed),
    ))
}

// ---- 5. Hot aggregates --------------------------------------------------------------------

/// Commands per task in the hot-aggregate workloads (cqrs-es manages a few dozen per second
/// on one aggregate: more would make the run long).
const HOT_COMMANDS: usize = 20;
/// How long a command retries conflicts before it counts as failed (Herald's default).
const HOT_DEADLINE: Duration = Duration::from_secs(5);

/// What a run of commands achieved.
struct Outcome {
    succeeded: usize,
    failed: usize,
    elapsed: Duration,
}

impl Outcome {
    fn rate(&self) -> f64 {
        rate(self.succeeded, self.elapsed)
    }
}

/// The aggregate command `k` of task `task` goes to, among `aggregates`.
fn hot_account_of(task: usize, k: usize, aggregates: usize) -> String {
    format!("hot-{}", (task * HOT_COMMANDS + k) % aggregates)
}

/// Herald's repository as it comes (no cache): commands on one account take turns, and a
/// failed command is counted, not retried by the caller.
async fn herald_hot(store: PostgresStore, aggregates: usize) -> Result<Outcome, Error> {
    let repository = Repository::<_, HeraldAccount>::new(store.clone());
    let (succeeded, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let repository = repository.clone();
        let (succeeded, failed) = (succeeded.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            for k in 0..HOT_COMMANDS {
                match repository
                    .execute(&hot_account_of(task, k, aggregates), 1)
                    .await
                {
                    Ok(_) => succeeded.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let elapsed = started.elapsed();
    let succeeded = succeeded.load(Ordering::Relaxed);
    let head = store.head_position().await?;
    assert_eq!(
        head as usize, succeeded,
        "every successful command appended one event"
    );
    Ok(Outcome {
        succeeded,
        failed: failed.load(Ordering::Relaxed),
        elapsed,
    })
}

/// How the peer's caller retries a conflict: cqrs-es leaves it to the caller.
#[derive(Clone, Copy)]
enum PeerRetry {
    /// Run the command again at once.
    AtOnce,
    /// Wait as Herald does: 5 ms doubling up to 500 ms, with a random half dropped.
    Backoff,
}

/// A number in `[0, 1)` from the standard library's randomly seeded hasher.
fn unit_random() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0);
    (hasher.finish() >> 11) as f64 / (1_u64 << 53) as f64
}

async fn peer_hot(
    pool: sqlx08::PgPool,
    aggregates: usize,
    retry: PeerRetry,
) -> Result<Outcome, Error> {
    let store: PersistedEventStore<_, PeerAccount> =
        PersistedEventStore::new_event_store(PostgresEventRepository::new(pool.clone()));
    let cqrs = Arc::new(CqrsFramework::new(store, vec![], ()));
    let (succeeded, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let cqrs = cqrs.clone();
        let (succeeded, failed) = (succeeded.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            for k in 0..HOT_COMMANDS {
                let id = hot_account_of(task, k, aggregates);
                let first = Instant::now();
                let mut wait = Duration::from_millis(5);
                loop {
                    match cqrs.execute(&id, 1).await {
                        Ok(()) => {
                            succeeded.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                        Err(AggregateError::AggregateConflict) => {
                            let left = HOT_DEADLINE.saturating_sub(first.elapsed());
                            if left.is_zero() {
                                failed.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            if let PeerRetry::Backoff = retry {
                                let jittered = wait / 2 + (wait / 2).mul_f64(unit_random());
                                tokio::time::sleep(jittered.min(left)).await;
                                wait = (wait * 2).min(Duration::from_millis(500));
                            }
                        }
                        Err(error) => return Err::<(), Error>(error.to_string().into()),
                    }
                }
            }
            Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    let succeeded = succeeded.load(Ordering::Relaxed);
    let count: i64 = sqlx08::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await?;
    assert_eq!(
        count as usize, succeeded,
        "every successful command appended one event"
    );
    Ok(Outcome {
        succeeded,
        failed: failed.load(Ordering::Relaxed),
        elapsed,
    })
}

async fn hot(url: &str, prefix: &str) -> Result<(), Error> {
    println!(
        "hot aggregates: {TASKS} tasks x {HOT_COMMANDS} deposits, conflicts retried for up to \
         {HOT_DEADLINE:?}, {ROUNDS} alternating rounds"
    );
    for aggregates in [1usize, 10] {
        let mut ratios = Vec::new();
        for round in 0..ROUNDS {
            let mut peers = Vec::new();
            for (label, retry) in [
                ("retry at once", PeerRetry::AtOnce),
                ("backoff", PeerRetry::Backoff),
            ] {
                let schema =
                    Schema::create(url, &format!("{prefix}_peer_hot{aggregates}_{round}")).await?;
                let outcome = peer_hot(schema.peer().await?, aggregates, retry).await?;
                schema.drop().await?;
                peers.push((label, outcome));
            }
            let schema =
                Schema::create(url, &format!("{prefix}_herald_hot{aggregates}_{round}")).await?;
            let herald = herald_hot(schema.herald().await?, aggregates).await?;
            schema.drop().await?;
            let best = peers
                .iter()
                .map(|(_, outcome)| outcome.rate())
                .fold(0.0, f64::max);
            let peer_text: Vec<String> = peers
                .iter()
                .map(|(label, outcome)| {
                    format!(
                        "cqrs-es ({label}) {:>6.0}/s, {} failed",
                        outcome.rate(),
                        outcome.failed
                    )
                })
                .collect();
            println!(
                "  {aggregates:>2} aggregate(s), round {round}: {}; herald {:>6.0}/s, {} failed: \
                 {:.2}x the better peer",
                peer_text.join("; "),
                herald.rate(),
                herald.failed,
                herald.rate() / best
            );
            ratios.push(herald.rate() / best);
        }
        println!(
            "  {aggregates:>2} aggregate(s): herald / better cqrs-es (median): {:.2}x",
            median_f64(ratios)
        );
    }
    println!();
    Ok(())
}

// ---- 2. Replay ----------------------------------------------------------------------------

async fn seed_herald_replay(store: &PostgresStore) -> Result<(), Error> {
    let stream = Repository::<PostgresStore, HeraldAccount>::stream_id("big");
    for chunk in 0..REPLAY_EVENTS / 500 {
        let batch = (0..500)
            .map(|_| NewEvent::new(&AccountEvent::Deposited { amount: 1 }))
            .collect::<Result<Vec<_>, _>>()?;
        store
            .append(&stream, Expected::Exact((chunk * 500) as u64), batch)
            .await?;
    }
    Ok(())
}

async fn herald_replay(store: &PostgresStore) -> Result<Duration, Error> {
    let repository = Repository::<_, HeraldAccount>::new(store.clone());
    let started = Instant::now();
    let loaded = repository.load("big").await?;
    let elapsed = started.elapsed();
    assert_eq!(loaded.state.deposits as usize, REPLAY_EVENTS);
    Ok(elapsed)
}

async fn seed_peer_replay(pool: &sqlx08::PgPool) -> Result<(), Error> {
    // Seeded with the rows postgres-es itself writes for these events.
    sqlx08::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         SELECT 'account', 'big', n, 'Deposited', '1.0', '{\"Deposited\":{\"amount\":1}}', '{}' \
         FROM generate_series(1, $1) AS n",
    )
    .bind(REPLAY_EVENTS as i64)
    .execute(pool)
    .await?;
    Ok(())
}

async fn peer_replay(pool: &sqlx08::PgPool) -> Result<Duration, Error> {
    let store: PersistedEventStore<_, PeerAccount> =
        PersistedEventStore::new_event_store(PostgresEventRepository::new(pool.clone()));
    let started = Instant::now();
    let context = store
        .load_aggregate("big")
        .await
        .map_err(|error| error.to_string())?;
    let elapsed = started.elapsed();
    assert_eq!(context.aggregate.deposits as usize, REPLAY_EVENTS);
    Ok(elapsed)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

// ---- 3. Batched appends -------------------------------------------------------------------

async fn batched_appends<S: EventStore>(
    store: S,
    label: &'static str,
    writers: usize,
    batch: usize,
    total: usize,
) -> Result<f64, Error> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..total / writers / batch {
                let events = (0..batch)
                    .map(|_| NewEvent::new(&AccountEvent::Deposited { amount: 1 }))
                    .collect::<Result<Vec<_>, _>>()?;
                store
                    .append(
                        &format!("{label}-{writer}-{round}"),
                        Expected::NoStream,
                        events,
                    )
                    .await?;
            }
            Ok::<_, Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(rate(total, started.elapsed()))
}

// ---- 4. The cost of hole-free ordering ----------------------------------------------------

/// The same append as Herald's (stream check, insert, stream upsert, one transaction) into a
/// table whose position is a plain `BIGSERIAL`, without the head lock: what a store that
/// lets readers skip late commits would do.
async fn naive_appends(
    pool: sqlx::PgPool,
    writers: usize,
    batch: usize,
    total: usize,
) -> Result<f64, Error> {
    sqlx::raw_sql(
        "CREATE TABLE naive_streams (stream_id TEXT PRIMARY KEY, version BIGINT NOT NULL); \
         CREATE TABLE naive_events (position BIGSERIAL PRIMARY KEY, event_id UUID NOT NULL UNIQUE, \
         stream_id TEXT NOT NULL, stream_version BIGINT NOT NULL, event_type TEXT NOT NULL, \
         schema_version INTEGER NOT NULL, recorded_at_micros BIGINT NOT NULL, correlation_id UUID NOT NULL, \
         causation_id UUID, metadata JSONB NOT NULL, payload BYTEA NOT NULL, UNIQUE (stream_id, stream_version))",
    )
    .execute(&pool)
    .await?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..total / writers / batch {
                let stream = format!("naive-{writer}-{round}");
                let mut tx = pool.begin().await?;
                let version: Option<i64> =
                    sqlx::query_scalar("SELECT version FROM naive_streams WHERE stream_id = $1 FOR UPDATE")
                        .bind(&stream)
                        .fetch_optional(&mut *tx)
                        .await?;
                let version = version.unwrap_or(0);
                let mut insert = sqlx::QueryBuilder::<sqlx::Postgres>::new(
                    "INSERT INTO naive_events (event_id, stream_id, stream_version, event_type, schema_version, \
                     recorded_at_micros, correlation_id, causation_id, metadata, payload) ",
                );
                insert.push_values(0..batch, |mut row, index| {
                    let id = uuid::Uuid::now_v7();
                    row.push_bind(id)
                        .push_bind(stream.clone())
                        .push_bind(version + index as i64 + 1)
                        .push_bind("account.deposited")
                        .push_bind(1i32)
                        .push_bind(0i64)
                        .push_bind(id)
                        .push_bind(None::<uuid::Uuid>)
                        .push_bind("{}")
                        .push_unseparated("::jsonb")
                        .push_bind(br#"{"amount":1}"#.to_vec());
                });
                insert.build().execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO naive_streams (stream_id, version) VALUES ($1, $2) \
                     ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version",
                )
                .bind(&stream)
                .bind(version + batch as i64)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
            Ok::<_, Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(rate(total, started.elapsed()))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| DEFAULT_URL.to_owned());
    let prefix = format!("herald_bench_{}", std::process::id());
    // `HERALD_BENCH_ONLY=commands|hot|replay|batched|ordering` runs one workload (for
    // profiling).
    let only = std::env::var("HERALD_BENCH_ONLY").ok();
    let run = |name: &str| only.as_deref().is_none_or(|only| only == name);
    println!("PostgreSQL: {url}; {TASKS} tasks, {ACCOUNTS} accounts, {COMMANDS} commands\n");

    if run("commands") {
        commands(&url, &prefix).await?;
    }
    if run("hot") {
        hot(&url, &prefix).await?;
    }
    if run("replay") {
        replay(&url, &prefix).await?;
    }
    if run("batched") || run("ordering") {
        appends(&url, &prefix, run("batched"), run("ordering")).await?;
    }
    Ok(())
}

/// Rounds of each side, alternating (peer, Herald, peer, ...), so that load from elsewhere
/// on a shared machine hits both sides alike; the ratio reported is the median round's.
const ROUNDS: usize = 5;

async fn commands(url: &str, prefix: &str) -> Result<(), Error> {
    println!("commands (load + append 1 event), {ROUNDS} alternating rounds");
    let (mut ratios, mut cached_ratios) = (Vec::new(), Vec::new());
    // `HERALD_BENCH_SIDE=herald` runs Herald's like-for-like commands alone (for profiling).
    if std::env::var("HERALD_BENCH_SIDE").is_ok_and(|side| side == "herald") {
        for round in 0..ROUNDS {
            let schema = Schema::create(url, &format!("{prefix}_herald_cmd{round}")).await?;
            let store = schema.herald().await?;
            let busy = busy_cpu();
            let (rate, _) = herald_commands(store, false).await?;
            println!("  round {round}: herald {rate:>7.0}/s ({:.0} us)", per_command(busy));
            schema.drop().await?;
        }
        return Ok(());
    }
    for round in 0..ROUNDS {
        let peer_schema = Schema::create(url, &format!("{prefix}_peer_cmd{round}")).await?;
        let pool = peer_schema.peer().await?;
        let busy = busy_cpu();
        let (peer_rate, peer_conflicts) = peer_commands(pool).await?;
        let peer_cpu = per_command(busy);
        peer_schema.drop().await?;
        let herald_schema = Schema::create(url, &format!("{prefix}_herald_cmd{round}")).await?;
        let store = herald_schema.herald().await?;
        let busy = busy_cpu();
        let (herald_rate, _) = herald_commands(store, false).await?;
        let herald_cpu = per_command(busy);
        herald_schema.drop().await?;
        let cached_schema = Schema::create(url, &format!("{prefix}_cached_cmd{round}")).await?;
        let store = cached_schema.herald().await?;
        let busy = busy_cpu();
        let (cached_rate, _) = herald_commands(store, true).await?;
        let cached_cpu = per_command(busy);
        cached_schema.drop().await?;
        println!(
            "  round {round}: cqrs-es + postgres-es {peer_rate:>7.0}/s ({peer_conflicts} conflicts retried, \
             {peer_cpu:.0} us CPU each), herald {herald_rate:>7.0}/s ({herald_cpu:.0} us): {:.2}x; \
             herald with a state cache {cached_rate:>7.0}/s ({cached_cpu:.0} us): {:.2}x",
            herald_rate / peer_rate,
            cached_rate / peer_rate
        );
        ratios.push(herald_rate / peer_rate);
        cached_ratios.push(cached_rate / peer_rate);
    }
    println!(
        "  herald / cqrs-es (median): {:.2}x; with Repository::cache (no load per command): {:.2}x\n",
        median_f64(ratios),
        median_f64(cached_ratios)
    );
    Ok(())
}

async fn replay(url: &str, prefix: &str) -> Result<(), Error> {
    let peer_schema = Schema::create(url, &format!("{prefix}_peer_replay")).await?;
    let peer_pool = peer_schema.peer().await?;
    seed_peer_replay(&peer_pool).await?;
    let herald_schema = Schema::create(url, &format!("{prefix}_herald_replay")).await?;
    let herald_store = herald_schema.herald().await?;
    seed_herald_replay(&herald_store).await?;
    let (mut peer_times, mut herald_times) = (Vec::new(), Vec::new());
    for _ in 0..REPLAY_ROUNDS {
        peer_times.push(peer_replay(&peer_pool).await?);
        herald_times.push(herald_replay(&herald_store).await?);
    }
    peer_pool.close().await;
    herald_store.pool().close().await;
    peer_schema.drop().await?;
    herald_schema.drop().await?;
    let (peer_replay, herald_replay) = (median(peer_times), median(herald_times));
    println!(
        "replay of a {REPLAY_EVENTS}-event aggregate (median of {REPLAY_ROUNDS} alternating rounds)"
    );
    println!(
        "  cqrs-es + postgres-es: {:>10.1} ms ({:.0} events/s)",
        peer_replay.as_secs_f64() * 1e3,
        rate(REPLAY_EVENTS, peer_replay)
    );
    println!(
        "  herald               : {:>10.1} ms ({:.0} events/s)",
        herald_replay.as_secs_f64() * 1e3,
        rate(REPLAY_EVENTS, herald_replay)
    );
    println!(
        "  herald / cqrs-es     : {:>10.2}x\n",
        peer_replay.as_secs_f64() / herald_replay.as_secs_f64()
    );
    Ok(())
}

/// The machine's busy CPU time so far, in seconds (all processes: client and PostgreSQL).
fn busy_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|field| field.parse().ok())
        .collect();
    // user, nice, system, (idle, iowait), irq, softirq, steal; 100 ticks per second.
    let busy: f64 = [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|index| fields.get(*index))
        .sum();
    busy / 100.0
}

/// Busy CPU microseconds per command since `since` (whatever else ran counts too).
fn per_command(since: f64) -> f64 {
    (busy_cpu() - since) * 1e6 / COMMANDS as f64
}

fn median_f64(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn appends(url: &str, prefix: &str, batched: bool, ordering: bool) -> Result<(), Error> {
    let schema = Schema::create(url, &format!("{prefix}_batch")).await?;
    let store = schema.herald().await?;
    if batched {
        batched_section(&store, prefix).await?;
    }
    if ordering {
        ordering_section(&store).await?;
    }
    Ok(())
}

async fn batched_section(store: &PostgresStore, prefix: &str) -> Result<(), Error> {
    println!("herald batched appends (100 events per batch, 100,000 events)");
    let dir = std::env::temp_dir().join(format!("{prefix}.db"));
    let sqlite = SqliteStore::connect(&format!("sqlite://{}", dir.display())).await?;
    let sqlite_rate = batched_appends(sqlite.clone(), "sqlite", 1, 100, 100_000).await?;
    sqlite.pool().close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", dir.display()));
    }
    println!("  SQLite, 1 writer     : {sqlite_rate:>10.0} events/s");
    let pg_1 = batched_appends(store.clone(), "pg1", 1, 100, 100_000).await?;
    let pg_16 = batched_appends(store.clone(), "pg16", 16, 100, 96_000).await?;
    println!("  PostgreSQL, 1 writer : {pg_1:>10.0} events/s");
    println!("  PostgreSQL, 16 writers: {pg_16:>9.0} events/s\n");
    Ok(())
}

async fn ordering_section(store: &PostgresStore) -> Result<(), Error> {
    println!("cost of hole-free ordering on PostgreSQL (16 writers)");
    for batch in [1usize, 100] {
        let total = if batch == 1 { 16_000 } else { 96_000 };
        let ordered = batched_appends(
            store.clone(),
            if batch == 1 { "ord1" } else { "ord100" },
            16,
            batch,
            total,
        )
        .await?;
        let naive = naive_appends(store.pool().clone(), 16, batch, total).await?;
        sqlx::raw_sql("DROP TABLE naive_events; DROP TABLE naive_streams")
            .execute(store.pool())
            .await?;
        println!(
            "  batch {batch:>3}: herald {ordered:>9.0} events/s, plain BIGSERIAL {naive:>9.0} events/s ({:.0}% of naive)",
            ordered / naive * 100.0
        );
    }
    Ok(())
}
