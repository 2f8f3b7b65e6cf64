//! Hot aggregates: many tasks sending commands to one aggregate at once, on every backend,
//! and two repositories (as two processes would be) sharing one PostgreSQL store.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use herald::aggregate::{Aggregate, CommandError, Repository};
use herald::store::{Direction, EventStore, StoreError};
use herald::{Event, RecordedEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

const TASKS: usize = 16;
const COMMANDS: usize = 10;

backends!(tests: sixteen_tasks_on_one_aggregate, refusals_are_not_retried);

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "account", version = 1)]
enum AccountEvent {
    Deposited { cents: i64 },
    Withdrawn { cents: i64 },
}

#[derive(Default, Debug, Serialize, Deserialize, PartialEq)]
struct Account {
    balance: i64,
    applied: u64,
}

#[derive(Debug, Clone, Copy)]
enum Command {
    Deposit(i64),
    Withdraw(i64),
}

#[derive(Debug, thiserror::Error)]
#[error("insufficient funds")]
struct Insufficient;

impl Aggregate for Account {
    const TYPE: &'static str = "account";
    type Event = AccountEvent;
    type Command = Command;
    type Error = Insufficient;

    fn apply(&mut self, event: &AccountEvent) {
        self.applied += 1;
        match event {
            AccountEvent::Deposited { cents } => self.balance += cents,
            AccountEvent::Withdrawn { cents } => self.balance -= cents,
        }
    }

    fn handle(&self, command: Command) -> Result<Vec<AccountEvent>, Insufficient> {
        match command {
            Command::Deposit(cents) => Ok(vec![AccountEvent::Deposited { cents }]),
            Command::Withdraw(cents) if cents > self.balance => Err(Insufficient),
            Command::Withdraw(cents) => Ok(vec![AccountEvent::Withdrawn { cents }]),
        }
    }
}

/// Runs `TASKS` tasks of `COMMANDS` deposits each on aggregate `id`, task `t` using
/// `repositories[t % len]`; every command must succeed. The versions the commands report.
async fn deposit_from_tasks<S: EventStore>(
    repositories: &[Repository<S, Account>],
    id: &'static str,
) -> Vec<u64> {
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let repository = repositories[task % repositories.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut versions = Vec::new();
            for command in 0..COMMANDS {
                let cents = (task * COMMANDS + command + 1) as i64;
                match repository.execute(id, Command::Deposit(cents)).await {
                    Ok(executed) => versions.push(executed.version),
                    Err(error) => {
                        panic!("task {task}, command {command} on `{id}` failed: {error}")
                    }
                }
            }
            versions
        }));
    }
    let all = async {
        let mut versions = Vec::new();
        for task in tasks {
            versions.extend(task.await.unwrap());
        }
        versions
    };
    tokio::time::timeout(Duration::from_secs(120), all)
        .await
        .expect("160 commands on one aggregate did not finish in 2 minutes")
}

/// The stream holds each of the `TASKS * COMMANDS` deposits exactly once, numbered 1..=160,
/// and every command reported a version of its own.
async fn assert_each_command_once<S: EventStore>(store: &S, id: &str, mut versions: Vec<u64>) {
    let total = (TASKS * COMMANDS) as u64;
    versions.sort_unstable();
    assert_eq!(versions, (1..=total).collect::<Vec<_>>());
    let stream_id = Repository::<S, Account>::stream_id(id);
    let events: Vec<RecordedEvent> = store
        .read_stream(&stream_id, 1, Direction::Forward, 1000)
        .await
        .unwrap();
    assert_eq!(
        events.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
    let ids: HashSet<_> = events.iter().map(|e| e.event_id).collect();
    assert_eq!(ids.len(), events.len(), "an event id is stored twice");
    let typed = store
        .read_stream_as::<AccountEvent>(&stream_id, 1, Direction::Forward, 1000)
        .await
        .unwrap();
    let mut amounts: Vec<i64> = typed
        .iter()
        .map(|e| match e.payload {
            AccountEvent::Deposited { cents } => cents,
            AccountEvent::Withdrawn { .. } => panic!("no withdrawal was sent"),
        })
        .collect();
    amounts.sort_unstable();
    assert_eq!(amounts, (1..=total as i64).collect::<Vec<_>>());
    assert_eq!(
        store
            .stream_info(&stream_id)
            .await
            .unwrap()
            .unwrap()
            .version,
        total
    );
}

/// 16 tasks × 10 commands on one aggregate: all succeed, the stream ends at version 160 with
/// each deposit once. Run with the defaults and with a state cache and snapshots, which
/// commands queued on one aggregate hand on to each other.
async fn sixteen_tasks_on_one_aggregate<S: EventStore>(store: S) {
    let total = (TASKS * COMMANDS) as u64;
    let sum = (total * (total + 1) / 2) as i64;

    let plain = Repository::<_, Account>::new(store.clone());
    let versions = deposit_from_tasks(std::slice::from_ref(&plain), "plain").await;
    assert_each_command_once(&store, "plain", versions).await;
    let loaded = plain.load("plain").await.unwrap();
    assert_eq!((loaded.state.balance, loaded.version), (sum, total));

    let cached = Repository::<_, Account>::new(store.clone())
        .cache(4)
        .snapshot_every(16);
    let versions = deposit_from_tasks(std::slice::from_ref(&cached), "cached").await;
    assert_each_command_once(&store, "cached", versions).await;
    let snapshot = store
        .load_snapshot("account-cached")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(snapshot.stream_version, total);
    assert_eq!(
        snapshot.state,
        serde_json::json!({"balance": sum, "applied": total})
    );
    let loaded = cached.load("cached").await.unwrap();
    assert!(loaded.from_snapshot);
    assert_eq!(
        (loaded.state.balance, loaded.state.applied, loaded.version),
        (sum, total, total)
    );
    // The cached state carries on after the burst, and is the store's.
    assert_eq!(
        cached
            .execute("cached", Command::Withdraw(sum))
            .await
            .unwrap()
            .version,
        total + 1
    );
    assert!(matches!(
        cached.execute("cached", Command::Withdraw(1)).await,
        Err(CommandError::Refused(Insufficient))
    ));
}

/// A refused command is answered at once and appends nothing, even while other tasks keep
/// the aggregate busy; the commands around it still succeed.
async fn refusals_are_not_retried<S: EventStore>(store: S) {
    let accounts = Repository::<_, Account>::new(store.clone()).cache(8);
    accounts.execute("r", Command::Deposit(100)).await.unwrap();
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let accounts = accounts.clone();
        tasks.push(tokio::spawn(async move {
            let command = if task % 2 == 0 {
                Command::Withdraw(1_000)
            } else {
                Command::Deposit(1)
            };
            accounts.execute("r", command).await
        }));
    }
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => {}
            Err(CommandError::Refused(Insufficient)) => refused += 1,
            Err(error) => panic!("unexpected failure: {error}"),
        }
    }
    assert_eq!(refused, TASKS / 2);
    let loaded = accounts.load("r").await.unwrap();
    assert_eq!(
        (loaded.state.balance, loaded.version),
        (100 + (TASKS / 2) as i64, 1 + (TASKS / 2) as u64)
    );
}

/// Two repositories, each on a pool of its own (two processes, as far as the store can
/// tell), share the 16 tasks: the conflicts between them are retried with backoff until
/// every command has succeeded.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_processes_on_one_aggregate() {
    let (store, guard) = common::postgres().await;
    let first = common::postgres_store_on(&guard, 8).await;
    let second = common::postgres_store_on(&guard, 8).await;
    for (id, cache) in [("two", 0), ("two-cached", 16)] {
        let repositories = [
            Repository::<_, Account>::new(first.clone()).cache(cache),
            Repository::<_, Account>::new(second.clone()).cache(cache),
        ];
        let versions = deposit_from_tasks(&repositories, id).await;
        assert_each_command_once(&store, id, versions).await;
    }
    // The workload does conflict: without retries, commands fail.
    let repositories = [
        Repository::<_, Account>::new(first.clone()).conflict_deadline(Duration::ZERO),
        Repository::<_, Account>::new(second.clone()).conflict_deadline(Duration::ZERO),
    ];
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let repository = repositories[task % 2].clone();
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0;
            for _ in 0..COMMANDS {
                match repository.execute("no-retry", Command::Deposit(1)).await {
                    Ok(_) => {}
                    Err(CommandError::Store(StoreError::Conflict { .. })) => conflicts += 1,
                    Err(error) => panic!("unexpected failure: {error}"),
                }
            }
            conflicts
        }));
    }
    let mut conflicts = 0;
    for task in tasks {
        conflicts += task.await.unwrap();
    }
    assert!(conflicts > 0, "two processes never conflicted");
}

/// The same with two repositories on one SQLite file.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_two_processes_on_one_aggregate() {
    let (store, _guard) = common::sqlite().await;
    let repositories = [
        Repository::<_, Account>::new(store.clone()),
        Repository::<_, Account>::new(store.clone()),
    ];
    let versions = deposit_from_tasks(&repositories, "two").await;
    assert_each_command_once(&store, "two", versions).await;
}
