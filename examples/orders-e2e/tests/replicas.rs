//! Replicas: three `orders-e2e serve` processes share one PostgreSQL database and one
//! JetStream stream (or Kafka topic) while commands are appended. The leader is SIGKILLed three times and
//! stalled once (SIGSTOP, then SIGCONT after its lease expired); then the projection is
//! split into four partitions, taken by a first replica and shared with two that join later. Each time, the read model must equal one
//! pass over the log and JetStream must hold each event once.
//!
//! Over Kafka, the relay's leader is SIGKILLed three times and stalled once, and a read of
//! the topic must give every stored event, in stream order per key, with no duplicates.
//!
//! Needs PostgreSQL at 127.0.0.1:5432 (user `postgres`, database `test`, where the test
//! creates and drops its own database), NATS with JetStream at 127.0.0.1:4222 and a
//! Kafka-protocol broker at 127.0.0.1:9092.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant, SystemTime};

use herald::aggregate::Repository;
use herald::lease::Leases;
use herald::projection::sql::SqlProjectionRunner;
use herald::projection::{Partition, Runner, RunnerOptions};
use herald::store::EventStore;
use herald::store::postgres::PostgresStore;
use herald::store::sqlite::SqliteStore;
use herald_example_orders_e2e::{ORDER_SUMMARY, Order, OrderSummary, postgres, sample_commands};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;

const BINARY: &str = env!("CARGO_BIN_EXE_orders-e2e");
use herald_test_support::NATS_URL;
const POSTGRES_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";
const LEASE_TTL: Duration = Duration::from_millis(2000);
/// The bound asserted on each takeover (the target is under 5 s).
const TAKEOVER_BOUND: Duration = Duration::from_secs(10);

/// A database of its own on the shared server and a JetStream stream name of its own, both
/// removed when dropped (also when the test fails).
struct Resources {
    database: String,
    url: String,
    stream: String,
}

impl Resources {
    async fn create(label: &str) -> Resources {
        let unique = uuid::Uuid::now_v7().simple().to_string();
        let database = format!("herald_{label}_{}", &unique[16..]);
        let admin = sqlx::PgPool::connect(POSTGRES_ADMIN)
            .await
            .unwrap_or_else(|error| {
                panic!("PostgreSQL is required at {POSTGRES_ADMIN}: {error}. Start it; this test never skips.")
            });
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let url = format!("postgres://postgres@127.0.0.1:5432/{database}");
        let stream = format!("herald_{label}_{unique}");
        Resources {
            database,
            url,
            stream,
        }
    }
}

impl Drop for Resources {
    fn drop(&mut self) {
        let (database, stream) = (self.database.clone(), self.stream.clone());
        // Async work cannot run in `drop`: a thread with a runtime of its own does it.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                if let Ok(client) = async_nats::connect(NATS_URL).await {
                    let _ = async_nats::jetstream::new(client)
                        .delete_stream(&stream)
                        .await;
                }
                let admin = sqlx::PgPool::connect(POSTGRES_ADMIN).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
                )))
                .execute(&admin)
                .await
                .unwrap();
            });
        });
        let _ = cleanup.join();
    }
}

/// A line a replica printed, with when the test read it.
struct Line {
    replica: usize,
    text: String,
    at: Instant,
}

/// The replicas of one scenario and what they printed.
struct Cluster {
    database: String,
    stream: String,
    /// `--broker` and, for Kafka, `--topic`.
    broker: Vec<String>,
    partitions: u32,
    replicas: Vec<Option<Child>>,
    lines: Receiver<Line>,
    sender: Sender<Line>,
    /// Per lease name, its holder (replica index) and when it took it.
    leaders: BTreeMap<String, (usize, Instant)>,
    /// Every `lead`, `lost` and `yield` line, in order.
    log: Vec<(usize, String)>,
}

impl Cluster {
    fn new(database: &str, stream: &str, partitions: u32) -> Cluster {
        let (sender, lines) = channel();
        Cluster {
            database: database.to_owned(),
            stream: stream.to_owned(),
            broker: vec!["--broker".to_owned(), format!("nats://{NATS_URL}")],
            partitions,
            replicas: Vec::new(),
            lines,
            sender,
            leaders: BTreeMap::new(),
            log: Vec::new(),
        }
    }

    /// Starts one more replica; returns its index.
    fn spawn(&mut self) -> usize {
        let index = self.replicas.len();
        let mut child = Command::new(BINARY)
            .args(["--database", &self.database])
            .args(&self.broker[..2])
            .arg("serve")
            .args(&self.broker[2..])
            .args(["--stream", &self.stream, "--holder", &format!("r{index}")])
            .args(["--partitions", &self.partitions.to_string()])
            .args(["--lease-ttl-ms", &LEASE_TTL.as_millis().to_string()])
            .args(["--batch-size", "20"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let sender = self.sender.clone();
        std::thread::spawn(move || {
            for text in BufReader::new(stdout).lines().map_while(Result::ok) {
                let line = Line {
                    replica: index,
                    text,
                    at: Instant::now(),
                };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        self.replicas.push(Some(child));
        index
    }

    /// Reads what the replicas printed for up to `wait`.
    fn pump(&mut self, wait: Duration) {
        let deadline = Instant::now() + wait;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Ok(line) = self.lines.recv_timeout(left) else {
                return;
            };
            self.record(line);
        }
    }

    fn record(&mut self, line: Line) {
        let words: Vec<&str> = line.text.split(' ').collect();
        if let ["lead" | "lost" | "yield", name, _token] = words[..] {
            if words[0] == "lead" {
                self.leaders
                    .insert(name.to_owned(), (line.replica, line.at));
            }
            self.log.push((line.replica, line.text.clone()));
        }
    }

    /// The replicas leading the named leases now.
    fn partition_holders(&self, names: &[String]) -> HashSet<usize> {
        names
            .iter()
            .filter_map(|name| self.leaders.get(name).map(|(replica, _)| *replica))
            .collect()
    }

    /// Waits until a replica other than `not` leads `name`; returns it and when.
    fn wait_for_leader(&mut self, name: &str, not: Option<usize>) -> (usize, Instant) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(&(replica, at)) = self.leaders.get(name)
                && Some(replica) != not
            {
                return (replica, at);
            }
            assert!(
                Instant::now() < deadline,
                "nobody took `{name}` over: {:?}",
                self.log
            );
            self.pump(Duration::from_millis(50));
        }
    }

    fn pid(&self, replica: usize) -> String {
        self.replicas[replica].as_ref().unwrap().id().to_string()
    }

    /// Sends `signal` (`STOP`, `CONT`, `TERM`) with the shell's `kill`.
    fn signal(&self, replica: usize, signal: &str) {
        let status = Command::new("sh")
            .args(["-c", &format!("kill -{signal} {}", self.pid(replica))])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} failed");
    }

    /// SIGKILLs a replica (no clean-up of any kind in the process).
    fn kill(&mut self, replica: usize) {
        let mut child = self.replicas[replica].take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERMs every replica still running; each must give its leases back and exit 0.
    fn stop(&mut self) {
        for replica in 0..self.replicas.len() {
            if self.replicas[replica].is_some() {
                self.signal(replica, "TERM");
            }
        }
        for child in self
            .replicas
            .iter_mut()
            .filter_map(Option::take)
            .collect::<Vec<_>>()
        {
            let mut child = child;
            let status = child.wait().unwrap();
            assert!(status.success(), "a replica failed: {status}");
        }
    }
}

impl Drop for Cluster {
    /// SIGKILLs the replicas a failed test left running.
    fn drop(&mut self) {
        for mut child in self.replicas.iter_mut().filter_map(Option::take) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Appends the commands of `orders` orders through the aggregate, a little at a time.
fn append_commands(
    store: &PostgresStore,
    orders: usize,
    pause: Duration,
) -> tokio::task::JoinHandle<()> {
    let repository = Repository::<_, Order>::new(store.clone());
    tokio::spawn(async move {
        for (order_id, command) in sample_commands(orders) {
            repository.execute(&order_id, command).await.unwrap();
            tokio::time::sleep(pause).await;
        }
    })
}

/// A random-ish pause between `min` and `min + spread` (no RNG crate needed for this).
fn jitter(min: Duration, spread: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    min + spread.mul_f64(f64::from(nanos % 1000) / 1000.0)
}

async fn connect(resources: &Resources) -> PostgresStore {
    let options = PgConnectOptions::from_str(&resources.url).unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(6)
        .connect_with(options)
        .await
        .unwrap();
    postgres::migrate_read_model(&pool).await.unwrap();
    PostgresStore::new(pool)
}

/// Waits until every named checkpoint reached the head, reading them through the status.
async fn wait_caught_up(store: &PostgresStore, names: &[String]) -> herald::status::Status {
    let leases = Leases::new(store.pool().clone(), "test");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = herald::status::status(store, &leases).await.unwrap();
        let behind: Vec<_> = names
            .iter()
            .filter(|name| {
                !status
                    .runners
                    .iter()
                    .any(|runner| &runner.name == *name && runner.lag.positions == 0)
            })
            .collect();
        if behind.is_empty() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "not caught up: {behind:?}\n{}",
            status.prometheus()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The read model must equal one uninterrupted pass over the log (into a fresh SQLite read
/// model), and every event must have been applied once.
async fn assert_single_pass(store: &PostgresStore) {
    let head = store.head_position().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteConnectOptions::from_str(&format!(
        "sqlite://{}",
        dir.path().join("ref.db").display()
    ))
    .unwrap();
    let reference = SqliteStore::connect_with(options).await.unwrap();
    herald_example_orders_e2e::migrate_read_model(reference.pool())
        .await
        .unwrap();
    let mut single_pass = SqlProjectionRunner::new(
        reference.pool().clone(),
        store.clone(),
        OrderSummary::default(),
    )
    .with_options(RunnerOptions {
        batch_size: 100_000,
        ..RunnerOptions::default()
    });
    assert_eq!(single_pass.catch_up(|_| {}).await.unwrap(), head);
    let expected = herald_example_orders_e2e::read_model(reference.pool())
        .await
        .unwrap();
    let actual = postgres::read_model(store.pool()).await.unwrap();
    let applied: i64 = actual.0.iter().map(|row| row.5).sum();
    assert_eq!(
        applied as u64, head,
        "some event was applied twice or not at all"
    );
    assert_eq!(
        actual, expected,
        "the read model differs from a single pass"
    );
}

/// JetStream must hold each event once: as many messages as events, as many distinct
/// message ids, and those ids are the event ids.
async fn assert_each_event_once_in(stream_name: &str, store: &PostgresStore) {
    let client = async_nats::connect(NATS_URL).await.unwrap();
    let jetstream = async_nats::jetstream::new(client);
    let mut stream = jetstream.get_stream(stream_name).await.unwrap();
    let count = stream.info().await.unwrap().state.messages;
    let mut ids = HashSet::new();
    for sequence in 1..=count {
        let message = stream.get_raw_message(sequence).await.unwrap();
        let id = message
            .headers
            .get(async_nats::header::NATS_MESSAGE_ID)
            .unwrap();
        ids.insert(id.as_str().to_owned());
    }
    let events = store.read_all(1, 100_000).await.unwrap();
    let expected: HashSet<String> = events.iter().map(|e| e.event_id.to_string()).collect();
    println!(
        "JetStream: {count} messages, {} distinct ids, {} events",
        ids.len(),
        events.len()
    );
    assert_eq!(count, events.len() as u64, "messages in JetStream");
    assert_eq!(ids, expected, "JetStream must hold each event once");
}

fn nats_required() {
    let reachable = std::net::TcpStream::connect(NATS_URL).is_ok();
    assert!(
        reachable,
        "NATS with JetStream is required at {NATS_URL}. Start it; this test never skips."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_killed_three_times_and_stalled_once_loses_nothing_and_repeats_nothing() {
    nats_required();
    let resources = Resources::create("replicas").await;
    let store = connect(&resources).await;
    let stream = resources.stream.clone();
    let relay = format!("relay:{stream}");
    let mut cluster = Cluster::new(&resources.url, &stream, 1);
    for _ in 0..3 {
        cluster.spawn();
    }
    let appending = append_commands(&store, 500, Duration::from_millis(8));
    let mut takeovers = Vec::new();

    for round in 1..=3 {
        cluster.wait_for_leader(ORDER_SUMMARY, None);
        cluster.pump(jitter(
            Duration::from_millis(300),
            Duration::from_millis(1500),
        ));
        let (leader, _) = cluster.leaders[ORDER_SUMMARY];
        let relay_leader = cluster.leaders.get(&relay).map(|(replica, _)| *replica);
        let killed_at = Instant::now();
        cluster.kill(leader);
        for name in [
            Some(ORDER_SUMMARY.to_owned()),
            (relay_leader == Some(leader)).then(|| relay.clone()),
        ]
        .into_iter()
        .flatten()
        {
            let (next, at) = cluster.wait_for_leader(&name, Some(leader));
            let took = at.duration_since(killed_at);
            println!("SIGKILL {round}: r{leader} killed, r{next} took `{name}` over in {took:?}");
            takeovers.push((format!("SIGKILL {round} {name}"), took));
        }
        cluster.spawn();
    }

    // Stall the leader past its lease; another replica takes over; the stalled one wakes
    // up and must notice it lost the lease (its uncommitted batch is rolled back by fencing).
    let (leader, _) = cluster.wait_for_leader(ORDER_SUMMARY, None);
    let stopped_at = Instant::now();
    cluster.signal(leader, "STOP");
    let (next, at) = cluster.wait_for_leader(ORDER_SUMMARY, Some(leader));
    let took = at.duration_since(stopped_at);
    println!("SIGSTOP: r{leader} stalled, r{next} took `{ORDER_SUMMARY}` over in {took:?}");
    takeovers.push(("SIGSTOP order_summary".to_owned(), took));
    cluster.pump(Duration::from_millis(500));
    cluster.signal(leader, "CONT");
    let lost = format!("lost {ORDER_SUMMARY} ");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cluster
        .log
        .iter()
        .any(|(replica, text)| *replica == leader && text.starts_with(&lost))
    {
        assert!(
            Instant::now() < deadline,
            "the stalled leader never saw it lost its lease: {:?}",
            cluster.log
        );
        cluster.pump(Duration::from_millis(100));
    }

    appending.await.unwrap();
    let status = wait_caught_up(&store, &[ORDER_SUMMARY.to_owned(), relay.clone()]).await;
    println!("{}", status.prometheus());
    let summary = status
        .runners
        .iter()
        .find(|runner| runner.name == ORDER_SUMMARY)
        .unwrap();
    let lease = summary.lease.as_ref().unwrap();
    assert!(
        lease.token >= 5,
        "four takeovers and a first lease: {lease:?}"
    );
    cluster.stop();
    println!("lease log: {:?}", cluster.log);

    assert_single_pass(&store).await;
    assert_each_event_once_in(&stream, &store).await;
    for (what, took) in &takeovers {
        println!("takeover {what}: {took:?}");
        assert!(*took < TAKEOVER_BOUND, "{what} took {took:?}");
    }
    store.pool().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_partitions_over_three_replicas_apply_each_event_once() {
    nats_required();
    let resources = Resources::create("partitions").await;
    let store = connect(&resources).await;
    let stream = resources.stream.clone();
    let relay = format!("relay:{stream}");
    let mut cluster = Cluster::new(&resources.url, &stream, 4);
    let appending = append_commands(&store, 400, Duration::from_millis(5));
    let names: Vec<String> = Partition::all(4)
        .map(|partition| partition.checkpoint_name(ORDER_SUMMARY))
        .collect();
    // The first replica takes every partition; two more join and ask for their share.
    let first = cluster.spawn();
    for name in &names {
        assert_eq!(cluster.wait_for_leader(name, None).0, first);
    }
    let joined_at = Instant::now();
    cluster.spawn();
    cluster.spawn();
    let deadline = Instant::now() + Duration::from_secs(30);
    while cluster.partition_holders(&names).len() < 3 {
        assert!(
            Instant::now() < deadline,
            "the partitions were not shared: {:?}",
            cluster.log
        );
        cluster.pump(Duration::from_millis(50));
    }
    println!(
        "three replicas share the partitions {:?} after they joined",
        joined_at.elapsed()
    );
    // Kill the replica running partition 0 mid-stream; its partitions move to the others.
    cluster.pump(Duration::from_millis(500));
    let (victim, _) = cluster.leaders[&names[0]];
    let killed_at = Instant::now();
    cluster.kill(victim);
    let (next, at) = cluster.wait_for_leader(&names[0], Some(victim));
    println!(
        "SIGKILL: r{victim} killed, r{next} took `{}` over in {:?}",
        names[0],
        at.duration_since(killed_at)
    );
    appending.await.unwrap();

    let mut expected = names.clone();
    expected.push(relay);
    let status = wait_caught_up(&store, &expected).await;
    println!("{}", status.prometheus());
    cluster.pump(Duration::from_millis(200));
    println!("lease log: {:?}", cluster.log);
    let holders = cluster.partition_holders(&names);
    cluster.stop();
    assert_eq!(
        holders.len(),
        2,
        "the two replicas left share the partitions: {:?}",
        cluster.log
    );
    // Every partition owns some of the orders, and each was processed to the head.
    let events = store.read_all(1, 100_000).await.unwrap();
    for partition in Partition::all(4) {
        let owned = events
            .iter()
            .filter(|event| partition.contains(&event.stream_id))
            .count();
        println!("partition {}: {owned} events", partition.index());
        assert!(owned > 0, "partition {} owns no events", partition.index());
    }

    assert_single_pass(&store).await;
    assert_each_event_once_in(&stream, &store).await;
    store.pool().close().await;
}

/// Over Kafka: the relay's leader is SIGKILLed three times and SIGSTOPped once while more than
/// a thousand events are appended. Reading the topic back gives every stored event once, in
/// stream order per key; each takeover is timed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_relay_leader_killed_and_stalled_publishes_each_event_once_in_order() {
    herald_test_support::kafka_required();
    let resources = Resources::create("kafka").await;
    let store = connect(&resources).await;
    let stream = resources.stream.clone();
    let topic = format!("orders_{stream}");
    let relay = format!("relay:{stream}");
    let mut cluster = Cluster::new(&resources.url, &stream, 1);
    cluster.broker = vec![
        "--broker".to_owned(),
        herald_test_support::KAFKA_URL.to_owned(),
        "--topic".to_owned(),
        topic.clone(),
    ];
    for _ in 0..3 {
        cluster.spawn();
    }
    let appending = append_commands(&store, 500, Duration::from_millis(6));
    let mut takeovers = Vec::new();
    for round in 1..=3 {
        let (leader, _) = cluster.wait_for_leader(&relay, None);
        cluster.pump(jitter(
            Duration::from_millis(300),
            Duration::from_millis(1500),
        ));
        let killed_at = Instant::now();
        cluster.kill(leader);
        let (next, at) = cluster.wait_for_leader(&relay, Some(leader));
        let took = at.duration_since(killed_at);
        println!("SIGKILL {round}: r{leader} killed, r{next} took the relay over in {took:?}");
        takeovers.push((format!("SIGKILL {round}"), took));
        cluster.spawn();
    }
    let (leader, _) = cluster.wait_for_leader(&relay, None);
    cluster.pump(Duration::from_millis(400));
    let stopped_at = Instant::now();
    cluster.signal(leader, "STOP");
    let (next, at) = cluster.wait_for_leader(&relay, Some(leader));
    let took = at.duration_since(stopped_at);
    println!("SIGSTOP: r{leader} stalled, r{next} took the relay over in {took:?}");
    takeovers.push(("SIGSTOP".to_owned(), took));
    cluster.pump(Duration::from_millis(500));
    cluster.signal(leader, "CONT");
    let lost = format!("lost {relay} ");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cluster
        .log
        .iter()
        .any(|(replica, text)| *replica == leader && text.starts_with(&lost))
    {
        assert!(
            Instant::now() < deadline,
            "the stalled leader never saw it lost the relay's lease: {:?}",
            cluster.log
        );
        cluster.pump(Duration::from_millis(100));
    }

    appending.await.unwrap();
    wait_caught_up(&store, std::slice::from_ref(&relay)).await;
    cluster.stop();

    let events = store.read_all(1, 100_000).await.unwrap();
    assert!(events.len() >= 1000, "{} events", events.len());
    let messages = herald_test_support::read_topic(&topic);
    let ids: Vec<&str> = messages
        .iter()
        .map(|message| message.header("Herald-Event-Id"))
        .collect();
    let distinct: HashSet<&str> = ids.iter().copied().collect();
    let duplicates = ids.len() - distinct.len();
    println!(
        "Kafka: {} messages, {} distinct ids, {} events, {duplicates} duplicates",
        ids.len(),
        distinct.len(),
        events.len()
    );
    let expected: HashSet<String> = events.iter().map(|e| e.event_id.to_string()).collect();
    assert_eq!(
        distinct,
        expected.iter().map(String::as_str).collect::<HashSet<_>>(),
        "every stored event is in the topic"
    );
    assert_eq!(duplicates, 0, "no event twice");
    let mut last: BTreeMap<&str, u64> = BTreeMap::new();
    for message in &messages {
        let key = message.key.as_deref().unwrap();
        let version: u64 = message.header("Herald-Stream-Version").parse().unwrap();
        let before = last.insert(key, version).unwrap_or(0);
        assert_eq!(version, before + 1, "stream order of {key}");
    }
    for (what, took) in &takeovers {
        println!("takeover {what}: {took:?}");
        assert!(*took < Duration::from_secs(5), "{what} took {took:?}");
    }
    store.pool().close().await;
}
