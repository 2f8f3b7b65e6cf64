//! `orders-consumer`: another service reacting to the orders service's events. It consumes
//! what `orders-e2e relay` publishes to JetStream or Kafka into a read model of its own (an
//! order board), with `herald::consumer`'s inbox (each event once) and dead letters.
//!
//! ```text
//! orders-consumer --database sqlite://board.db --broker kafka://127.0.0.1:9092 --topic order consume --until-idle 5
//! orders-consumer --database sqlite://board.db --stream ORDERS consume --until-idle
//! orders-consumer --database sqlite://board.db --stream ORDERS dead-letters
//! orders-consumer --database sqlite://board.db --stream ORDERS replay --all
//! ```
//!
//! Confluent-framed messages need `--registry` (the registry the producer registered its
//! schemas with); Herald's relay without framing needs none.

use std::io::Write;
use std::str::FromStr;
use std::time::Duration;

use clap::{Parser, Subcommand};
use herald::Event;
use herald::consumer::{Backoff, Consumer, ConsumerOptions, Handler, Outcome, Received, Replayed};
use herald::projection::HandlerError;
use herald::registry_client::RegistryClient;
use herald::transport::Subscriber;
use herald::transport::kafka::{KafkaOptions, KafkaSubscriber};
use herald::transport::nats::{NatsOptions, NatsSubscriber};
use herald_example_orders::OrderEvent;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{SqliteConnection, SqlitePool};

/// Consumes the orders service's events into an order board.
#[derive(Debug, Parser)]
struct Config {
    /// The SQLite database holding the board, the inbox and the dead letters.
    #[arg(
        long,
        env = "BOARD_DATABASE",
        default_value = "sqlite://orders-board.db"
    )]
    database: String,
    /// The broker: `nats://host:port` (JetStream enabled) or
    /// `kafka://host:port[,host:port…][?setting=value&…]` (librdkafka settings after the `?`);
    /// a bare `host:port` is NATS.
    #[arg(
        long,
        alias = "nats",
        env = "ORDERS_BROKER",
        default_value = "nats://127.0.0.1:4222"
    )]
    broker: String,
    /// The JetStream stream the orders relay publishes to.
    #[arg(long, default_value = "ORDERS")]
    stream: String,
    /// Kafka: the topic the orders relay publishes to.
    #[arg(long, default_value = "order")]
    topic: String,
    /// The durable consumer's or consumer group's name (shared by replicas; also the inbox's
    /// key).
    #[arg(long, default_value = "order-board")]
    name: String,
    /// The schema registry resolving Confluent-framed messages' schema ids.
    #[arg(long, env = "BOARD_REGISTRY")]
    registry: Option<String>,
    /// Basic authentication for the registry, `user:password`.
    #[arg(long, env = "BOARD_REGISTRY_AUTH")]
    registry_auth: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Consumes messages, printing one line per message (`applied`, `duplicate`, `retry`,
    /// `dead-letter`, `skipped`, then the event id).
    Consume {
        /// Messages per fetch.
        #[arg(long, default_value_t = 50)]
        batch_size: usize,
        /// Attempts before a failing message becomes a dead letter.
        #[arg(long, default_value_t = 5)]
        max_attempts: u32,
        /// Milliseconds JetStream waits for an ack before delivering again.
        #[arg(long, default_value_t = 30_000)]
        ack_wait_ms: u64,
        /// Milliseconds to sleep per event inside its transaction (to watch or interrupt).
        #[arg(long, default_value_t = 0)]
        delay_ms: u64,
        /// Milliseconds to wait between a commit and its ack (widens the window a crash
        /// test aims at).
        #[arg(long, default_value_t = 0)]
        pause_before_ack_ms: u64,
        /// Stop after this many fetches in a row found nothing, counted once a message came
        /// or 15 s passed (0: never stop).
        #[arg(long, default_value_t = 0)]
        until_idle: u32,
    },
    /// Lists the dead letters.
    DeadLetters,
    /// Replays dead letters: runs the handler again, removing those that succeed.
    Replay {
        /// The dead letter's event id.
        event_id: Option<String>,
        /// Every dead letter.
        #[arg(long, conflicts_with = "event_id")]
        all: bool,
    },
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The order board: one row per order, and a count per event type. Updates are increments,
/// so an event applied twice would show.
#[derive(Debug, Default)]
struct Board {
    delay: Duration,
}

const BOARD_TABLES: &str = "\
    CREATE TABLE IF NOT EXISTS order_board (order_id TEXT PRIMARY KEY, status TEXT NOT NULL, \
        lines INTEGER NOT NULL, carrier TEXT, events INTEGER NOT NULL, version INTEGER NOT NULL); \
    CREATE TABLE IF NOT EXISTS order_board_counts (event_type TEXT PRIMARY KEY, \
        events INTEGER NOT NULL);";

impl Handler<sqlx::Sqlite> for Board {
    type Event = OrderEvent;

    async fn handle(
        &self,
        connection: &mut SqliteConnection,
        message: &Received<OrderEvent>,
    ) -> Result<(), HandlerError> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        // A message waiting for its retry, or redelivered after a crash, is overtaken by the
        // ones behind it: the status follows the order's latest event by stream version.
        let version: i64 = message
            .headers
            .get("Herald-Stream-Version")
            .and_then(|version| version.parse().ok())
            .ok_or("the message has no Herald-Stream-Version header")?;
        apply(connection, &message.event, version).await?;
        sqlx::query(
            "INSERT INTO order_board_counts (event_type, events) VALUES ($1, 1) \
             ON CONFLICT (event_type) DO UPDATE SET events = order_board_counts.events + 1",
        )
        .bind(message.event.event_type())
        .execute(&mut *connection)
        .await?;
        Ok(())
    }
}

async fn apply(
    connection: &mut SqliteConnection,
    event: &OrderEvent,
    version: i64,
) -> Result<(), HandlerError> {
    let (order_id, status, carrier) = match event {
        OrderEvent::Placed {
            order_id, lines, ..
        } => {
            sqlx::query(
                "INSERT INTO order_board (order_id, status, lines, events, version) \
                 VALUES ($1, 'placed', $2, 1, $3)",
            )
            .bind(order_id)
            .bind(lines.len() as i64)
            .bind(version)
            .execute(&mut *connection)
            .await?;
            return Ok(());
        }
        OrderEvent::Cancelled { order_id, .. } => (order_id, "cancelled", None),
        OrderEvent::Dispatched { order_id, carrier } => (order_id, "shipped", Some(carrier)),
        OrderEvent::Delivered { order_id } => (order_id, "delivered", None),
    };
    let updated = sqlx::query(
        "UPDATE order_board SET status = CASE WHEN $4 > version THEN $2 ELSE status END, \
         carrier = COALESCE($3, carrier), events = events + 1, version = MAX(version, $4) \
         WHERE order_id = $1",
    )
    .bind(order_id)
    .bind(status)
    .bind(carrier)
    .bind(version)
    .execute(&mut *connection)
    .await?;
    if updated.rows_affected() == 0 {
        // Delivered before its `placed` (which is being retried): try again later.
        return Err(format!("order `{order_id}` is not on the board yet").into());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Config::parse();
    let pool = connect(&config.database).await?;
    sqlx::raw_sql(BOARD_TABLES).execute(&pool).await?;
    let mut options = ConsumerOptions::default();
    let mut ack_wait = Duration::from_secs(30);
    let mut board = Board::default();
    if let Command::Consume {
        batch_size,
        max_attempts,
        ack_wait_ms,
        delay_ms,
        ..
    } = &config.command
    {
        ack_wait = Duration::from_millis(*ack_wait_ms);
        options = ConsumerOptions {
            batch_size: *batch_size,
            max_attempts: *max_attempts,
            backoff: Backoff {
                initial: Duration::from_millis(100),
                max: Duration::from_secs(5),
            },
            ..options
        };
        board.delay = Duration::from_millis(*delay_ms);
    }
    let registry = match &config.registry {
        Some(url) => {
            let mut registry = RegistryClient::new(url)?;
            if let Some(auth) = &config.registry_auth {
                let (user, password) = auth
                    .split_once(':')
                    .ok_or("--registry-auth takes `user:password`")?;
                registry = registry.with_basic_auth(user, password);
            }
            Some(registry)
        }
        None => None,
    };
    match config.broker.split_once("://") {
        Some(("kafka", brokers)) => {
            let subscriber = KafkaSubscriber::join(
                KafkaOptions::parse(brokers)?,
                &config.name,
                &[&config.topic],
            )
            .await?;
            let consumer = Consumer::new(subscriber, &config.name, pool, board, options).await?;
            run(config.command, with_registry(consumer, registry)).await
        }
        split => {
            let address = split.map_or(config.broker.as_str(), |(_, address)| address);
            let jetstream = async_nats::jetstream::new(async_nats::connect(address).await?);
            let nats = NatsOptions {
                ack_wait,
                filter_subject: None,
            };
            let subscriber =
                NatsSubscriber::bind(&jetstream, &config.stream, &config.name, nats).await?;
            let consumer = Consumer::new(subscriber, &config.name, pool, board, options).await?;
            run(config.command, with_registry(consumer, registry)).await
        }
    }
}

fn with_registry<T: Subscriber>(
    consumer: Consumer<sqlx::Sqlite, Board, T>,
    registry: Option<RegistryClient>,
) -> Consumer<sqlx::Sqlite, Board, T> {
    match registry {
        Some(registry) => consumer.with_registry(registry),
        None => consumer,
    }
}

async fn run<T: Subscriber>(
    command: Command,
    consumer: Consumer<sqlx::Sqlite, Board, T>,
) -> Result<(), Error> {
    match command {
        Command::Consume {
            pause_before_ack_ms,
            until_idle,
            ..
        } => {
            consume(
                &consumer,
                Duration::from_millis(pause_before_ack_ms),
                until_idle,
            )
            .await
        }
        Command::DeadLetters => {
            for letter in consumer.dead_letters().await? {
                println!(
                    "{} {} sequence {} attempts {}: {}",
                    letter.event_id,
                    letter.subject,
                    letter.stream_sequence,
                    letter.attempts,
                    letter.error
                );
            }
            Ok(())
        }
        Command::Replay { event_id, all } => {
            let ids = match (event_id, all) {
                (Some(id), _) => vec![id],
                (None, true) => consumer
                    .dead_letters()
                    .await?
                    .into_iter()
                    .map(|letter| letter.event_id)
                    .collect(),
                (None, false) => return Err("name a dead letter's event id, or --all".into()),
            };
            for id in ids {
                match consumer.replay(&id).await? {
                    Replayed::Applied => println!("replayed {id}"),
                    Replayed::Failed(error) => println!("failed {id}: {error}"),
                    Replayed::NotFound => println!("not found {id}"),
                }
            }
            Ok(())
        }
    }
}

async fn consume<T: Subscriber>(
    consumer: &Consumer<sqlx::Sqlite, Board, T>,
    pause_before_ack: Duration,
    until_idle: u32,
) -> Result<(), Error> {
    let mut idle = 0;
    let mut received = false;
    let started = std::time::Instant::now();
    while until_idle == 0 || idle < until_idle {
        let messages = consumer.fetch().await?;
        // Joining a Kafka group takes a rebalance: idle fetches count once something came,
        // or after 15 s.
        received |= !messages.is_empty();
        let counting = received || started.elapsed() > Duration::from_secs(15);
        idle = if messages.is_empty() && counting {
            idle + 1
        } else {
            0
        };
        for (mut message, receipt) in messages {
            let id = message.event_id();
            let mut outcome = consumer.handle(&message).await;
            // A broker that does not redeliver (Kafka): retry in place after the backoff.
            while let Outcome::Retry { error, retry_in } = &outcome
                && !consumer.subscriber().redelivers()
            {
                println!("retry {id}: {error}");
                tokio::time::sleep(*retry_in).await;
                message.attempt += 1;
                outcome = consumer.handle(&message).await;
            }
            match &outcome {
                Outcome::Applied => println!("applied {id}"),
                Outcome::Duplicate => println!("duplicate {id}"),
                Outcome::Skipped => println!("skipped {id}"),
                Outcome::Retry { error, .. } => println!("retry {id}: {error}"),
                Outcome::DeadLettered { error } => println!("dead-letter {id}: {error}"),
            }
            let _ = std::io::stdout().flush();
            if outcome == Outcome::Applied && !pause_before_ack.is_zero() {
                tokio::time::sleep(pause_before_ack).await;
            }
            consumer.settle(receipt, &outcome).await?;
        }
    }
    Ok(())
}

async fn connect(database: &str) -> Result<SqlitePool, Error> {
    let options = SqliteConnectOptions::from_str(database)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(30));
    Ok(SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await?)
}
