//! Another service consuming the orders service's events, as processes: `orders-e2e seed`
//! appends commands, `orders-e2e relay --registry` publishes them to a JetStream stream of
//! the test's own, framed with the ids of the schemas it finds or registers in a real
//! `herald serve`, and `orders-consumer` consumes them into its own read model, fetching the
//! writer's schema by id. The consumer is killed
//! with SIGKILL mid-batch twice and restarted; a poison message (a correctly framed version 2
//! `order.placed` without lines, which the version 3 upcaster refuses) waits in the stream
//! before the orders' events. At the end the board equals one application of each event of
//! the log, and the poison is the one dead letter.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::Duration;

use herald::Event;
use herald::relay::ConfluentFraming;
use herald::store::EventStore;
use herald::store::sqlite::SqliteStore;
use herald_example_orders::OrderEvent;
use herald_example_orders::v1::OrderEventV1;
use herald_example_orders::v2::OrderEventV2;
use herald_test_support::{
    HeraldServe, JetStreamGuard, KAFKA_BROKERS, KAFKA_URL, NATS_URL, TestDatabase, kafka_required,
    read_topic,
};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use sqlx::sqlite::SqliteConnectOptions;

const ORDERS: &str = env!("CARGO_BIN_EXE_orders-e2e");
const CONSUMER: &str = env!("CARGO_BIN_EXE_orders-consumer");

/// (order, status, lines, carrier, events).
type BoardRow = (String, String, i64, Option<String>, i64);

fn run(binary: &str, args: &[&str]) -> String {
    let output = Command::new(binary).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{binary} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Reads the child's stdout until `count` lines starting with `applied` were seen, then
/// kills it with SIGKILL; returns the lines. A child that stops printing for
/// [`QUIET_LIMIT`] (the other members took the rest of the log, or hold its partitions
/// until their sessions expire) is killed all the same, rather than waited for forever.
fn kill_after_applied(mut child: Child, count: usize) -> Vec<String> {
    let stdout = child.stdout.take().unwrap();
    let (sender, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let mut applied = 0;
    while applied < count {
        match received.recv_timeout(QUIET_LIMIT) {
            Ok(line) => {
                applied += usize::from(line.starts_with("applied "));
                lines.push(line);
            }
            Err(_) => break,
        }
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the consumer finished before it was killed: {lines:?}"
    );
    lines.extend(received.try_iter());
    lines
}

/// How long [`kill_after_applied`] waits for the next line.
const QUIET_LIMIT: Duration = Duration::from_secs(20);

/// The board one application of each event of the log gives, and the counts per type.
async fn expected_board(store: &SqliteStore) -> (Vec<BoardRow>, Vec<(String, i64)>) {
    let mut board = BTreeMap::<String, BoardRow>::new();
    let mut counts = BTreeMap::<String, i64>::new();
    for event in store.read_all(1, usize::MAX).await.unwrap() {
        let event = event.decode::<OrderEvent>().unwrap().payload;
        *counts.entry(event.event_type().to_owned()).or_default() += 1;
        match event {
            OrderEvent::Placed {
                order_id, lines, ..
            } => {
                let row = (
                    order_id.clone(),
                    "placed".into(),
                    lines.len() as i64,
                    None,
                    1,
                );
                assert!(board.insert(order_id, row).is_none());
            }
            OrderEvent::Cancelled { order_id, .. } => {
                let row = board.get_mut(&order_id).unwrap();
                row.1 = "cancelled".into();
                row.4 += 1;
            }
            OrderEvent::Dispatched { order_id, carrier } => {
                let row = board.get_mut(&order_id).unwrap();
                row.1 = "shipped".into();
                row.3 = Some(carrier);
                row.4 += 1;
            }
            OrderEvent::Delivered { order_id } => {
                let row = board.get_mut(&order_id).unwrap();
                row.1 = "delivered".into();
                row.4 += 1;
            }
        }
    }
    (board.into_values().collect(), counts.into_iter().collect())
}

/// Orders seeded through the aggregate, a board database, and a registry holding version 2's
/// JSON Schema as `herald push` registers it, with its major (it frames the poison).
struct Setup {
    _dir: tempfile::TempDir,
    orders: String,
    board: String,
    store: SqliteStore,
    head: u64,
    registry: HeraldServe,
    schema_id: u32,
}

impl Setup {
    async fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let orders = format!("sqlite://{}", dir.path().join("orders.db").display());
        let board = format!("sqlite://{}", dir.path().join("board.db").display());
        run(ORDERS, &["--database", &orders, "seed", "--orders", "120"]);
        let store = SqliteStore::connect_with(SqliteConnectOptions::from_str(&orders).unwrap())
            .await
            .unwrap();
        let head = store.head_position().await.unwrap();
        let registry = HeraldServe::start_on(TestDatabase::sqlite());
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/subjects/order-value/versions", registry.base))
            .json(&serde_json::json!({
                "schemaType": "JSON",
                "schema": OrderEventV2::export_json_schema().unwrap().to_string(),
                "metadata": { "properties": { "herald.major": "2" } },
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let schema_id = u32::try_from(answer["id"].as_u64().expect("a schema id")).unwrap();
        Setup {
            _dir: dir,
            orders,
            board,
            store,
            head,
            registry,
            schema_id,
        }
    }

    /// The registry ids the relay found (version 2) or registered (versions 1 and 3); returns
    /// version 3's, which frames the log.
    async fn relayed_version_3_id(&self) -> u32 {
        let lookup = |schema: serde_json::Value| {
            let url = format!("{}/subjects/order-value", self.registry.base);
            async move {
                let answer: serde_json::Value = reqwest::Client::new()
                    .post(url)
                    .json(
                        &serde_json::json!({ "schemaType": "JSON", "schema": schema.to_string() }),
                    )
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                answer["id"].as_u64().and_then(|id| u32::try_from(id).ok())
            }
        };
        assert_eq!(
            lookup(OrderEventV2::export_json_schema().unwrap()).await,
            Some(self.schema_id)
        );
        assert!(
            lookup(OrderEventV1::export_json_schema().unwrap())
                .await
                .is_some()
        );
        let v3_id = lookup(OrderEvent::export_json_schema().unwrap())
            .await
            .unwrap();
        assert_ne!(v3_id, self.schema_id);
        v3_id
    }

    /// The board is one application of each event; the inbox holds each event and the
    /// poison; the poison is the one dead letter, after 7 attempts, and fails again on replay.
    async fn assert_board_and_dead_letter(&self, broker: &[&str], poison_id: &str) {
        let pool = sqlx::SqlitePool::connect(&self.board).await.unwrap();
        let rows: Vec<BoardRow> = sqlx::query_as(
            "SELECT order_id, status, lines, carrier, events FROM order_board ORDER BY order_id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let counts: Vec<(String, i64)> =
            sqlx::query_as("SELECT event_type, events FROM order_board_counts ORDER BY event_type")
                .fetch_all(&pool)
                .await
                .unwrap();
        let (expected_rows, expected_counts) = expected_board(&self.store).await;
        assert_eq!(rows, expected_rows);
        assert_eq!(counts, expected_counts);
        let inbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM herald_inbox")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(inbox as u64, self.head + 1);

        let args = |command: &'static str| {
            let mut args = vec!["--database", &self.board];
            args.extend_from_slice(broker);
            args.extend([
                "--name",
                "board",
                "--registry",
                &self.registry.base,
                command,
            ]);
            args
        };
        let letters = run(CONSUMER, &args("dead-letters"));
        let letters: Vec<&str> = letters.lines().collect();
        assert_eq!(letters.len(), 1, "{letters:?}");
        assert!(letters[0].starts_with(poison_id), "{letters:?}");
        assert!(letters[0].contains("attempts 7"), "{letters:?}");
        assert!(letters[0].contains("without lines"), "{letters:?}");
        let replay = run(CONSUMER, &[args("replay"), vec!["--all"]].concat());
        assert!(
            replay.starts_with(&format!("failed {poison_id}")),
            "{replay}"
        );
    }
}

/// The poison: a correctly framed version 2 `order.placed` without lines.
const POISON: &[u8] = br#"{"order_id":"o-poison","lines":[],"currency":"EUR"}"#;

const CONSUME: [&str; 11] = [
    "consume",
    "--batch-size",
    "25",
    "--max-attempts",
    "7",
    "--ack-wait-ms",
    "1500",
    "--delay-ms",
    "2",
    "--pause-before-ack-ms",
    "10",
];

fn count(lines: &[String], prefix: &str) -> usize {
    lines.iter().filter(|line| line.starts_with(prefix)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_killed_twice_applies_each_event_once_and_dead_letters_the_poison() {
    let setup = Setup::new().await;
    let (orders, board, head, registry, schema_id) = (
        &setup.orders,
        &setup.board,
        setup.head,
        &setup.registry,
        setup.schema_id,
    );

    // The poison goes first, then the relay publishes the log.
    let stream = JetStreamGuard::create().await;
    let jetstream = &stream.context;
    let poison_id = uuid::Uuid::now_v7().to_string();
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", poison_id.as_str());
    headers.insert("Herald-Event-Type", "order.placed");
    headers.insert("Herald-Schema-Version", "2");
    let payload = br#"{"order_id":"o-poison","lines":[],"currency":"EUR"}"#;
    jetstream
        .publish_with_headers(
            format!("{}.order.placed", stream.name),
            headers,
            ConfluentFraming::frame(schema_id, payload).into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let relayed = run(
        ORDERS,
        &[
            "--database",
            orders,
            "relay",
            "--stream",
            &stream.name,
            "--registry",
            &registry.base,
            "--until-caught-up",
        ],
    );
    assert!(relayed.contains(&format!("checkpoint {head}")), "{relayed}");

    // The relay looked up version 2 (the poison's schema) and registered versions 1 and 3;
    // the log is version 3, framed with version 3's id.
    let v3_id = Some(setup.relayed_version_3_id().await);
    let mut relayed_stream = jetstream.get_stream(&stream.name).await.unwrap();
    let messages = relayed_stream.info().await.unwrap().state.messages;
    assert_eq!(messages, head + 1);
    for sequence in 2..=messages {
        let message = relayed_stream.get_raw_message(sequence).await.unwrap();
        let framed = ConfluentFraming::unframe(&message.payload).map(|(id, _)| id);
        assert_eq!(
            framed, v3_id,
            "message {sequence} is not framed with version 3's id"
        );
    }

    let consumer = |extra: &[&str]| {
        let mut command = Command::new(CONSUMER);
        command
            .args([
                "--database",
                board,
                "--nats",
                NATS_URL,
                "--stream",
                &stream.name,
            ])
            .args(["--name", "board", "--registry", &registry.base])
            .args(extra);
        command
    };
    let consume = CONSUME;
    let mut lines = Vec::new();
    for _ in 0..2 {
        let child = consumer(&consume).stdout(Stdio::piped()).spawn().unwrap();
        // Mid-batch: after a commit, while waiting to ack it, or inside the next transaction.
        lines.extend(kill_after_applied(child, 90));
    }
    let last = consumer(&consume)
        .args(["--until-idle", "6"])
        .output()
        .unwrap();
    assert!(
        last.status.success(),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );
    lines.extend(
        String::from_utf8(last.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned),
    );

    let count = |prefix: &str| count(&lines, prefix);
    println!(
        "{head} events: {} applied, {} duplicates, {} retries, {} dead letters printed",
        count("applied "),
        count("duplicate "),
        count("retry "),
        count("dead-letter ")
    );
    assert!(
        count("duplicate ") >= 1,
        "a kill between commit and ack redelivers"
    );
    assert!(
        count("retry ") >= 6,
        "the poison is retried before it is buried"
    );
    let broker = ["--broker", NATS_URL, "--stream", &stream.name];
    setup
        .assert_board_and_dead_letter(&broker, &poison_id)
        .await;
}

/// The same over Kafka, with a second consumer joining the group during the run and leaving
/// it (SIGKILL) before the end: partitions move between members, and the board is still one
/// application of each event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_consumers_killed_joining_and_leaving_apply_each_event_once() {
    kafka_required();
    let setup = Setup::new().await;
    let topic = format!(
        "orders_consumer_{}_{}",
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    );
    let kafka = KAFKA_URL.to_owned();
    // The poison goes first, then the relay publishes the log.
    let admin: rdkafka::admin::AdminClient<rdkafka::client::DefaultClientContext> =
        rdkafka::ClientConfig::new()
            .set("bootstrap.servers", KAFKA_BROKERS)
            .create()
            .unwrap();
    let new = rdkafka::admin::NewTopic::new(&topic, 3, rdkafka::admin::TopicReplication::Fixed(1));
    admin
        .create_topics(&[new], &rdkafka::admin::AdminOptions::new())
        .await
        .unwrap();
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", KAFKA_BROKERS)
        .create()
        .unwrap();
    let poison_id = uuid::Uuid::now_v7().to_string();
    let framed = ConfluentFraming::frame(setup.schema_id, POISON);
    let headers = OwnedHeaders::new()
        .insert(Header {
            key: "Herald-Event-Id",
            value: Some(poison_id.as_str()),
        })
        .insert(Header {
            key: "Herald-Event-Type",
            value: Some("order.placed"),
        })
        .insert(Header {
            key: "Herald-Schema-Version",
            value: Some("2"),
        });
    producer
        .send(
            FutureRecord::to(&topic)
                .key("o-poison")
                .payload(&framed)
                .headers(headers),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let relayed = run(
        ORDERS,
        &[
            "--database",
            &setup.orders,
            "--broker",
            &kafka,
            "relay",
            "--topic",
            &topic,
            "--registry",
            &setup.registry.base,
            "--until-caught-up",
        ],
    );
    assert!(
        relayed.contains(&format!("checkpoint {}", setup.head)),
        "{relayed}"
    );
    let v3_id = setup.relayed_version_3_id().await;
    let messages = read_topic(&topic);
    assert_eq!(messages.len() as u64, setup.head + 1);
    for message in messages
        .iter()
        .filter(|m| m.key.as_deref() != Some("o-poison"))
    {
        let framed = ConfluentFraming::unframe(&message.payload).map(|(id, _)| id);
        assert_eq!(
            framed,
            Some(v3_id),
            "{message:?} is not framed with version 3's id"
        );
    }

    let broker = ["--broker", &kafka, "--topic", &topic];
    let consumer = |extra: &[&str]| {
        let mut command = Command::new(CONSUMER);
        command
            .args(["--database", &setup.board])
            .args(broker)
            .args(["--name", "board", "--registry", &setup.registry.base])
            .args(extra);
        command
    };
    let mut lines = Vec::new();
    // A second member joins while the first one is killed mid-batch, and leaves (SIGKILL)
    // before the first one's replacement starts.
    let mut second = consumer(&CONSUME).stdout(Stdio::piped()).spawn().unwrap();
    let second_stdout = second.stdout.take().unwrap();
    let (second_lines, second_done) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(second_stdout).lines().map_while(Result::ok) {
            if second_lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut second = Some(second);
    for _ in 0..2 {
        let child = consumer(&CONSUME).stdout(Stdio::piped()).spawn().unwrap();
        lines.extend(kill_after_applied(child, 60));
        if let Some(mut child) = second.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
    lines.extend(second_done.try_iter());
    // The killed members hold their partitions until their sessions expire (6 s) and the
    // group rebalances, so the last member waits longer than that for more to come.
    let last = consumer(&CONSUME)
        .args(["--until-idle", "15"])
        .output()
        .unwrap();
    assert!(
        last.status.success(),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );
    lines.extend(
        String::from_utf8(last.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned),
    );
    println!(
        "{} events: {} applied, {} duplicates, {} retries, {} dead letters printed",
        setup.head,
        count(&lines, "applied "),
        count(&lines, "duplicate "),
        count(&lines, "retry "),
        count(&lines, "dead-letter ")
    );
    assert!(
        count(&lines, "retry ") >= 6,
        "the poison is retried before it is buried"
    );
    setup
        .assert_board_and_dead_letter(&broker, &poison_id)
        .await;
}
