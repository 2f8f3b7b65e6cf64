//! Crash tests: the `orders-e2e` binary is killed with SIGKILL mid-rebuild and mid-relay,
//! restarted, and the results compared with uninterrupted runs.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;

use herald::projection::sql::SqlProjectionRunner;
use herald::projection::{CheckpointStore, Runner, RunnerOptions};
use herald::store::EventStore;
use herald::store::sqlite::SqliteStore;
use herald_example_orders_e2e::{OrderSummary, migrate_read_model, read_model};
use sqlx::sqlite::SqliteConnectOptions;

const BINARY: &str = env!("CARGO_BIN_EXE_orders-e2e");
use herald_test_support::NATS_URL;

fn orders_e2e(database: &str, args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .arg("--database")
        .arg(database)
        .arg("--nats")
        .arg(NATS_URL)
        .args(args);
    command
}

fn run(database: &str, args: &[&str]) -> String {
    let output = orders_e2e(database, args).output().unwrap();
    assert!(
        output.status.success(),
        "orders-e2e {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Reads the child's stdout until `stop` accepts a line, then kills it with SIGKILL.
fn kill_when(mut child: Child, mut stop: impl FnMut(&str) -> bool) -> Vec<String> {
    let stdout = child.stdout.take().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = stop(&line);
        lines.push(line);
        if done {
            break;
        }
    }
    // `Child::kill` sends SIGKILL on Unix: no destructor, no rollback by the process.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the child finished before it was killed: {lines:?}"
    );
    lines
}

async fn open(database: &str) -> SqliteStore {
    SqliteStore::connect_with(SqliteConnectOptions::from_str(database).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projection_killed_mid_rebuild_resumes_to_the_single_pass_result() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("orders.db").display());
    run(&database, &["seed", "--orders", "600"]);
    run(&database, &["project"]);
    let store = open(&database).await;
    let head = store.head_position().await.unwrap();
    assert_eq!(head, 1440);

    // Rebuild slowly (1 ms per event, 40 events per transaction); kill it during the
    // transaction after the 8th committed batch.
    let child = orders_e2e(
        &database,
        &["rebuild", "--batch-size", "40", "--delay-ms", "1"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let lines = kill_when(child, |line| line.starts_with("progress 320 "));
    assert!(lines.iter().any(|line| line.starts_with("progress 320 ")));

    let runner =
        SqlProjectionRunner::new(store.pool().clone(), store.clone(), OrderSummary::default());
    let at_kill = runner.checkpoint().await.unwrap();
    assert!(
        at_kill >= 320 && at_kill < head,
        "checkpoint {at_kill} is not mid-rebuild"
    );
    let (partial, _) = read_model(store.pool()).await.unwrap();
    let applied: i64 = partial.iter().map(|row| row.5).sum();
    assert_eq!(
        applied as u64, at_kill,
        "the read model and its checkpoint disagree"
    );

    // Restart: catch up from the checkpoint (no reset).
    let output = run(&database, &["project"]);
    assert!(output.contains(&format!("caught up at {head}")), "{output}");
    let resumed = read_model(store.pool()).await.unwrap();

    // The same events projected in one uninterrupted pass into a fresh database.
    let reference_dir = tempfile::tempdir().unwrap();
    let reference = open(&format!(
        "sqlite://{}",
        reference_dir.path().join("ref.db").display()
    ))
    .await;
    migrate_read_model(reference.pool()).await.unwrap();
    let mut single_pass = SqlProjectionRunner::new(
        reference.pool().clone(),
        store.clone(),
        OrderSummary::default(),
    )
    .with_options(RunnerOptions {
        batch_size: 10_000,
        ..RunnerOptions::default()
    });
    assert_eq!(single_pass.catch_up(|_| {}).await.unwrap(), head);
    let expected = read_model(reference.pool()).await.unwrap();

    assert_eq!(resumed.0.len(), 600);
    assert_eq!(resumed, expected);
    let applied: i64 = resumed.0.iter().map(|row| row.5).sum();
    assert_eq!(
        applied as u64, head,
        "some event was applied twice or not at all"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_killed_mid_stream_leaves_each_event_once_in_jetstream() {
    let client = async_nats::connect(NATS_URL).await.unwrap_or_else(|error| {
        panic!("NATS with JetStream is required at {NATS_URL}: {error}. Start it; this test never skips.")
    });
    let jetstream = async_nats::jetstream::new(client);
    let name = format!("herald_e2e_crash_{}", uuid::Uuid::now_v7().simple());
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("orders.db").display());
    run(&database, &["seed", "--orders", "400"]);
    let store = open(&database).await;
    let head = store.head_position().await.unwrap();

    // The child prints "published N" after JetStream acknowledged a batch and before it
    // checkpoints; it is killed right there, on the third batch.
    let child = orders_e2e(
        &database,
        &[
            "relay",
            "--stream",
            &name,
            "--batch-size",
            "50",
            "--pause-before-commit-ms",
            "5000",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit())
    .spawn()
    .unwrap();
    let mut batches = 0;
    kill_when(child, |line| {
        batches += usize::from(line.starts_with("published "));
        batches == 3
    });
    let checkpoint = store
        .load_checkpoint(&format!("relay:{name}"))
        .await
        .unwrap();
    assert_eq!(
        checkpoint, 100,
        "the third batch was published but not checkpointed"
    );

    let output = run(
        &database,
        &[
            "relay",
            "--stream",
            &name,
            "--batch-size",
            "50",
            "--until-caught-up",
        ],
    );
    // The restarted relay re-sent the 50 events of the unacknowledged checkpoint.
    assert!(
        output.contains(&format!(
            "relayed {} events (50 duplicates dropped by JetStream, 0 already in Kafka)",
            head - 100
        )),
        "{output}"
    );

    let mut stream = jetstream.get_stream(&name).await.unwrap();
    let count = stream.info().await.unwrap().state.messages;
    let events = store.read_all(1, 10_000).await.unwrap();
    let mut ids = Vec::new();
    for sequence in 1..=count {
        let message = stream.get_raw_message(sequence).await.unwrap();
        let id = message
            .headers
            .get(async_nats::header::NATS_MESSAGE_ID)
            .unwrap();
        ids.push(id.as_str().to_owned());
    }
    jetstream.delete_stream(&name).await.unwrap();
    assert_eq!(count, head);
    let expected: Vec<String> = events
        .iter()
        .map(|event| event.event_id.to_string())
        .collect();
    assert_eq!(
        ids, expected,
        "JetStream must hold each event once, in position order"
    );
}
