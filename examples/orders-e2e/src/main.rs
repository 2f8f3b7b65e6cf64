//! `orders-e2e`: seed orders through the aggregate, build the read model, relay to NATS
//! JetStream or Kafka.
//!
//! ```text
//! orders-e2e --database sqlite://orders.db seed --orders 1000
//! orders-e2e --database sqlite://orders.db project
//! orders-e2e --database sqlite://orders.db rebuild
//! orders-e2e --database sqlite://orders.db relay --stream ORDERS --until-caught-up
//! orders-e2e --database sqlite://orders.db relay --stream ORDERS --registry http://127.0.0.1:8081
//! orders-e2e --database sqlite://orders.db --broker kafka://127.0.0.1:9092 relay --registry http://127.0.0.1:8081
//! orders-e2e --database postgres://localhost/orders serve --stream ORDERS --partitions 4
//! orders-e2e --database postgres://localhost/orders status
//! orders-e2e --database postgres://localhost/orders place --orders 1000
//! orders-e2e --database postgres://localhost/orders saga --holder r1
//! orders-e2e --database postgres://localhost/orders pay --seed 7
//! orders-e2e --database postgres://localhost/orders sagas --state stuck
//! ```

mod saga_commands;

use std::str::FromStr;
use std::time::Duration;

use clap::{Parser, Subcommand};
use herald::aggregate::Repository;
use herald::lease::{Ended, LeaseOptions, LeasePool, Leases};
use herald::projection::sql::{ReadModelDatabase, SqlProjection, SqlProjectionRunner};
use herald::projection::{CheckpointStore, Partition, Progress, Runner, RunnerOptions};
use herald::relay::{ConfluentFraming, Relay};
use herald::saga::SagaStore;
use herald::store::postgres::PostgresStore;
use herald::store::sqlite::SqliteStore;
use herald::store::{EventStore, SqlBackend, SqlStore};
use herald::transport::Publisher;
use herald::transport::kafka::{KafkaOptions, KafkaPublisher};
use herald::transport::nats::NatsPublisher;
use herald_example_orders::OrderEvent;
use herald_example_orders_e2e::{
    ORDER_SUMMARY, Order, OrderSummary, registration, sample_commands,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sqlx::Pool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use tokio::sync::watch;

/// Orders end to end with Herald.
#[derive(Debug, Parser)]
struct Config {
    /// The database holding the event store and the read model: `sqlite://file.db` or
    /// `postgres://user@host/database`.
    #[arg(
        long,
        env = "ORDERS_DATABASE",
        default_value = "sqlite://orders-e2e.db"
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
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the commands of a sample day through the order aggregate.
    Seed {
        /// How many orders.
        #[arg(long, default_value_t = 100)]
        orders: usize,
    },
    /// Brings the order summary up to date from its checkpoint.
    Project {
        /// Events per transaction.
        #[arg(long, default_value_t = 500)]
        batch_size: usize,
        /// Milliseconds to sleep per event (to watch or interrupt it).
        #[arg(long, default_value_t = 0)]
        delay_ms: u64,
    },
    /// Empties the order summary and replays every event, with a progress bar.
    Rebuild {
        /// Events per transaction.
        #[arg(long, default_value_t = 500)]
        batch_size: usize,
        /// Milliseconds to sleep per event (to watch or interrupt it).
        #[arg(long, default_value_t = 0)]
        delay_ms: u64,
    },
    /// Publishes events to the broker: a JetStream stream (created if needed) or Kafka topics.
    Relay {
        /// The JetStream stream; subjects are `<stream>.<event type>`. Also names the relay
        /// (its checkpoint and lease are `relay:<stream>`).
        #[arg(long, default_value = "ORDERS")]
        stream: String,
        /// Kafka: the topic every order event goes to (default: the event's name, `order`).
        #[arg(long)]
        topic: Option<String>,
        /// Events per checkpoint.
        #[arg(long, default_value_t = 500)]
        batch_size: usize,
        /// A schema registry (Confluent's API): the order event's JSON Schemas are looked
        /// up there, or registered under `order-value`, and the messages are framed in the
        /// Confluent wire format with their ids. Without it, messages are unframed JSON.
        #[arg(long, value_name = "URL")]
        registry: Option<String>,
        /// Stop when caught up instead of following the log.
        #[arg(long)]
        until_caught_up: bool,
        /// Milliseconds to wait between publishing a batch and checkpointing it (widens the
        /// window a crash test aims at).
        #[arg(long, default_value_t = 0)]
        pause_before_commit_ms: u64,
    },
    /// Runs as one replica of the service: the order summary (or each of its partitions)
    /// and the relay, each only while this replica holds its lease, until SIGTERM or
    /// Ctrl-C. Prints `lead <name> <token>` when it takes a lease, `lost <name> <token>`
    /// when it loses one and `yield <name> <token>` when it gives one to a replica that asked.
    Serve {
        /// The relay's JetStream stream (and the relay's name, `relay:<stream>`).
        #[arg(long, default_value = "ORDERS")]
        stream: String,
        /// Kafka: the topic every order event goes to (default: the event's name, `order`).
        #[arg(long)]
        topic: Option<String>,
        /// Partitions of the order summary, each leased separately (1: not partitioned).
        #[arg(long, default_value_t = 1)]
        partitions: u32,
        /// A schema registry (Confluent's API): the order event's JSON Schemas are looked
        /// up there, or registered under `order-value`, and the messages are framed in the
        /// Confluent wire format with their ids. Without it, messages are unframed JSON.
        #[arg(long, value_name = "URL")]
        registry: Option<String>,
        /// This replica's name in the lease table (default: host-pid).
        #[arg(long)]
        holder: Option<String>,
        /// How long a lease lasts without renewal, in milliseconds.
        #[arg(long, default_value_t = 2500)]
        lease_ttl_ms: u64,
        /// Events per transaction (read model) and per checkpoint (relay).
        #[arg(long, default_value_t = 100)]
        batch_size: usize,
    },
    /// Deletes a JetStream stream (clean-up after a demo).
    DropStream {
        /// The stream.
        #[arg(long, default_value = "ORDERS")]
        stream: String,
    },
    /// Prints who runs the order summary and the relay, their checkpoints and lag, as
    /// Prometheus text.
    Status,
    /// Puts stock in and places the orders of a sample day (only placing them: the
    /// fulfilment saga does the rest).
    Place {
        /// How many orders.
        #[arg(long, default_value_t = 100)]
        orders: usize,
    },
    /// Runs as one replica of the fulfilment saga (reserve stock, charge, ship; compensate
    /// on a declined or unanswered payment), while it holds the saga's lease, until SIGTERM
    /// or Ctrl-C. Prints `lead saga-fulfilment <token>` when it takes the lease.
    Saga {
        /// This replica's name in the lease table (default: host-pid).
        #[arg(long)]
        holder: Option<String>,
        /// How long a lease lasts without renewal, in milliseconds.
        #[arg(long, default_value_t = 2500)]
        lease_ttl_ms: u64,
        /// Events per checkpoint.
        #[arg(long, default_value_t = 100)]
        batch_size: usize,
    },
    /// Plays the payment service: answers each payment request with its order's seeded
    /// answer (approve, approve late, decline or never answer), until SIGTERM or Ctrl-C.
    Pay {
        /// The seed of the answers.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Shows the fulfilment sagas: counts per state (Prometheus text), or with `--state`
    /// the instances in that state with their last step and error.
    Sagas {
        /// running, compensating, completed, compensated or stuck.
        #[arg(long)]
        state: Option<String>,
        /// At most this many instances.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Config::parse();
    if config.database.starts_with("postgres:") || config.database.starts_with("postgresql:") {
        let options = PgConnectOptions::from_str(&config.database)?;
        // Enough for the partitions, the relay, their heartbeats and the store's groups.
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        herald_example_orders_e2e::postgres::migrate_read_model(&pool).await?;
        run(config, PostgresStore::new(pool)).await
    } else {
        let options = SqliteConnectOptions::from_str(&config.database)?;
        let store = SqliteStore::connect_with(options).await?;
        herald_example_orders_e2e::migrate_read_model(store.pool()).await?;
        run(config, store).await
    }
}

async fn run<DB>(config: Config, store: SqlStore<DB>) -> Result<(), Error>
where
    DB: ReadModelDatabase + SqlBackend,
    SqlStore<DB>: EventStore + CheckpointStore + SagaStore,
    OrderSummary: SqlProjection<DB>,
    LeasePool: From<Pool<DB>>,
{
    match config.command {
        Command::Place { orders } => saga_commands::place(&store, orders).await,
        Command::Saga {
            holder,
            lease_ttl_ms,
            batch_size,
        } => {
            let holder = holder.unwrap_or_else(default_holder);
            let options = LeaseOptions::with_ttl(Duration::from_millis(lease_ttl_ms));
            let leases = Leases::new(store.pool().clone(), holder).with_options(options);
            until_terminated(|stop| saga_commands::run_saga(store, leases, batch_size, stop)).await
        }
        Command::Pay { seed } => {
            until_terminated(|stop| saga_commands::pay(store, seed, stop)).await
        }
        Command::Sagas { state, limit } => {
            saga_commands::show(&store, state.as_deref(), limit).await
        }
        Command::Seed { orders } => seed(&store, orders).await,
        Command::Project {
            batch_size,
            delay_ms,
        } => {
            let mut runner = runner(&store, batch_size, delay_ms, Partition::ALL);
            let bar = progress_bar()?;
            let reached = runner.catch_up(|p| show_progress(&bar, p)).await?;
            bar.finish();
            println!("caught up at {reached}");
            Ok(())
        }
        Command::Rebuild {
            batch_size,
            delay_ms,
        } => {
            let mut runner = runner(&store, batch_size, delay_ms, Partition::ALL);
            let bar = progress_bar()?;
            let reached = runner.rebuild(|p| show_progress(&bar, p)).await?;
            bar.finish();
            println!("rebuilt up to {reached}");
            Ok(())
        }
        Command::Relay {
            stream,
            topic,
            batch_size,
            registry,
            until_caught_up,
            pause_before_commit_ms,
        } => {
            let framing = framing(registry).await?;
            match Broker::parse(&config.broker) {
                Broker::Nats(address) => {
                    let publisher = nats_publisher(&address, &stream).await?;
                    let relay = relay(store, publisher, &stream, batch_size, topic, framing);
                    relay_once(relay, until_caught_up, pause_before_commit_ms).await
                }
                Broker::Kafka(brokers) => {
                    let publisher = KafkaPublisher::new(KafkaOptions::parse(&brokers)?)?;
                    let relay = relay(store, publisher, &stream, batch_size, topic, framing);
                    relay_once(relay, until_caught_up, pause_before_commit_ms).await
                }
            }
        }
        Command::Serve {
            stream,
            topic,
            partitions,
            registry,
            holder,
            lease_ttl_ms,
            batch_size,
        } => {
            let holder = holder.unwrap_or_else(default_holder);
            let options = LeaseOptions::with_ttl(Duration::from_millis(lease_ttl_ms));
            let leases = Leases::new(store.pool().clone(), holder).with_options(options);
            let framing = framing(registry).await?;
            let relay_store = store.clone();
            match Broker::parse(&config.broker) {
                Broker::Nats(address) => {
                    let publisher = nats_publisher(&address, &stream).await?;
                    let relay = relay(relay_store, publisher, &stream, batch_size, topic, framing);
                    serve(store, leases, relay, partitions, batch_size).await
                }
                Broker::Kafka(brokers) => {
                    let publisher = KafkaPublisher::new(KafkaOptions::parse(&brokers)?)?;
                    let relay = relay(relay_store, publisher, &stream, batch_size, topic, framing);
                    serve(store, leases, relay, partitions, batch_size).await
                }
            }
        }
        Command::DropStream { stream } => {
            let Broker::Nats(address) = Broker::parse(&config.broker) else {
                return Err("drop-stream deletes a JetStream stream: give a nats:// broker".into());
            };
            let jetstream = async_nats::jetstream::new(async_nats::connect(&address).await?);
            jetstream.delete_stream(&stream).await?;
            println!("deleted {stream}");
            Ok(())
        }
        Command::Status => {
            let leases = Leases::new(store.pool().clone(), default_holder());
            print!(
                "{}",
                herald::status::status(&store, &leases).await?.prometheus()
            );
            Ok(())
        }
    }
}

async fn seed<S: EventStore>(store: &S, orders: usize) -> Result<(), Error> {
    let repository = Repository::<_, Order>::new(store.clone()).snapshot_every(50);
    let commands = sample_commands(orders);
    for (order_id, command) in &commands {
        repository.execute(order_id, command.clone()).await?;
    }
    println!(
        "{} commands for {orders} orders; head is now {}",
        commands.len(),
        store.head_position().await?
    );
    Ok(())
}

fn runner<DB>(
    store: &SqlStore<DB>,
    batch_size: usize,
    delay_ms: u64,
    partition: Partition,
) -> SqlProjectionRunner<DB, SqlStore<DB>, OrderSummary>
where
    DB: ReadModelDatabase + SqlBackend,
    SqlStore<DB>: EventStore + CheckpointStore,
    OrderSummary: SqlProjection<DB>,
{
    let projection = OrderSummary {
        delay_per_event: Duration::from_millis(delay_ms),
    };
    SqlProjectionRunner::new(store.pool().clone(), store.clone(), projection)
        .with_options(RunnerOptions {
            batch_size,
            ..RunnerOptions::default()
        })
        .with_partition(partition)
}

/// A progress bar with rate and ETA on stderr; indicatif draws nothing when stderr is not a
/// terminal.
fn progress_bar() -> Result<ProgressBar, Error> {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "[{bar:30}] {pos}/{len} ({percent}%) {per_sec} ETA {eta} elapsed {elapsed}",
        )?
        .progress_chars("#>."),
    );
    Ok(bar)
}

/// Moves the bar and prints a machine-readable line on stdout per batch.
fn show_progress(bar: &ProgressBar, progress: &Progress) {
    bar.set_length(progress.total);
    bar.set_position(progress.done);
    println!("progress {} {}", progress.done, progress.total);
}

fn relay_name(stream: &str) -> String {
    format!("relay:{stream}")
}

/// Where the relay publishes and the consumer reads.
enum Broker {
    /// NATS JetStream at this address.
    Nats(String),
    /// Kafka at these bootstrap servers.
    Kafka(String),
}

impl Broker {
    /// `kafka://brokers` is Kafka; `nats://address` or a bare `host:port` is NATS.
    fn parse(url: &str) -> Broker {
        match url.split_once("://") {
            Some(("kafka", brokers)) => Broker::Kafka(brokers.to_owned()),
            Some((_, address)) => Broker::Nats(address.to_owned()),
            None => Broker::Nats(url.to_owned()),
        }
    }
}

/// A JetStream publisher to `<stream>.<event type>`, the stream created if needed.
async fn nats_publisher(address: &str, stream: &str) -> Result<NatsPublisher, Error> {
    let client = async_nats::connect(address).await?;
    let jetstream = async_nats::jetstream::new(client);
    jetstream
        .get_or_create_stream(async_nats::jetstream::stream::Config {
            name: stream.to_owned(),
            subjects: vec![format!("{stream}.>")],
            ..Default::default()
        })
        .await?;
    Ok(NatsPublisher::new(jetstream, stream))
}

/// The framing of the order event's JSON Schemas looked up (or registered) at `registry`.
async fn framing(registry: Option<String>) -> Result<Option<ConfluentFraming>, Error> {
    Ok(match registry {
        Some(url) => Some(registration::framing::<OrderEvent>(&url).await?),
        None => None,
    })
}

/// The relay `relay:<stream>` through `publisher`.
fn relay<S: EventStore + CheckpointStore, P: Publisher>(
    store: S,
    publisher: P,
    stream: &str,
    batch_size: usize,
    topic: Option<String>,
    framing: Option<ConfluentFraming>,
) -> Relay<S, P> {
    let mut relay = Relay::new(store, publisher, relay_name(stream)).batch_size(batch_size);
    if let Some(topic) = topic {
        relay = relay.with_topic(move |_| topic.clone());
    }
    match framing {
        Some(framing) => relay.with_confluent_framing(framing),
        None => relay,
    }
}

/// Relays without a lease, printing `published N` between publishing a batch and saving its
/// checkpoint.
async fn relay_once<S: EventStore + CheckpointStore, P: Publisher>(
    relay: Relay<S, P>,
    until_caught_up: bool,
    pause_before_commit_ms: u64,
) -> Result<(), Error> {
    let mut total = herald::relay::RelayStats::default();
    loop {
        let stats = relay.publish_batch().await?;
        if stats.last_position == 0 {
            if until_caught_up {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        println!("published {}", stats.last_position);
        if pause_before_commit_ms > 0 {
            tokio::time::sleep(Duration::from_millis(pause_before_commit_ms)).await;
        }
        relay.commit(stats.last_position).await?;
        total.published += stats.published;
        total.duplicates += stats.duplicates;
        total.skipped += stats.skipped;
        total.last_position = stats.last_position;
    }
    println!(
        "relayed {} events ({} duplicates dropped by JetStream, {} already in Kafka), checkpoint {}",
        total.published, total.duplicates, total.skipped, total.last_position
    );
    Ok(())
}

fn default_holder() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".to_owned());
    format!("{host}-{}", std::process::id())
}

/// Completes once `stop` turns true.
fn stopped(stop: &watch::Receiver<bool>) -> impl Future<Output = ()> + Send + 'static {
    let mut stop = stop.clone();
    async move {
        let _ = stop.wait_for(|stop| *stop).await;
    }
}

/// Runs `task` until it ends, or until SIGTERM or Ctrl-C tell it to stop.
async fn until_terminated<F, T>(task: F) -> Result<(), Error>
where
    F: FnOnce(watch::Receiver<bool>) -> T,
    T: Future<Output = Result<(), Error>> + Send + 'static,
{
    let (stop, stop_rx) = watch::channel(false);
    let mut running = tokio::spawn(task(stop_rx));
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
        ended = &mut running => return ended?,
    }
    let _ = stop.send(true);
    running.await??;
    println!("stopped");
    Ok(())
}

/// Runs every partition of the order summary and the relay, each while its lease is held,
/// until SIGTERM or Ctrl-C.
async fn serve<DB, P: Publisher + 'static>(
    store: SqlStore<DB>,
    leases: Leases,
    relay: Relay<SqlStore<DB>, P>,
    partitions: u32,
    batch_size: usize,
) -> Result<(), Error>
where
    DB: ReadModelDatabase + SqlBackend,
    SqlStore<DB>: EventStore + CheckpointStore,
    OrderSummary: SqlProjection<DB>,
{
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for partition in Partition::all(partitions.max(1)) {
        let runner = runner(&store, batch_size, 0, partition);
        let name = partition.checkpoint_name(ORDER_SUMMARY);
        tasks.spawn(lead_projection(
            runner,
            name,
            leases.clone(),
            stop_rx.clone(),
        ));
    }
    tasks.spawn(lead_relay(relay, leases.clone(), stop_rx));
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
        Some(ended) = tasks.join_next() => ended??,
    }
    let _ = stop.send(true);
    while let Some(ended) = tasks.join_next().await {
        ended??;
    }
    println!("stopped");
    Ok(())
}

async fn lead_projection<DB>(
    mut runner: SqlProjectionRunner<DB, SqlStore<DB>, OrderSummary>,
    name: String,
    leases: Leases,
    stop: watch::Receiver<bool>,
) -> Result<(), Error>
where
    DB: ReadModelDatabase + SqlBackend,
    SqlStore<DB>: EventStore + CheckpointStore,
    OrderSummary: SqlProjection<DB>,
{
    while let Some(lease) = leases.acquire(&name, stopped(&stop)).await? {
        println!("lead {name} {}", lease.token());
        match runner.run_held(&lease, stopped(&stop)).await? {
            Ended::Lost => println!("lost {name} {}", lease.token()),
            Ended::Yielded => {
                println!("yield {name} {}", lease.token());
                lease.release().await?;
            }
            Ended::Shutdown => {
                lease.release().await?;
                break;
            }
        }
    }
    Ok(())
}

async fn lead_relay<S: EventStore + CheckpointStore, P: Publisher>(
    relay: Relay<S, P>,
    leases: Leases,
    stop: watch::Receiver<bool>,
) -> Result<(), Error> {
    let name = relay.name().to_owned();
    let poll = Duration::from_millis(100);
    while let Some(lease) = leases.acquire(&name, stopped(&stop)).await? {
        println!("lead {name} {}", lease.token());
        match relay.run_held(&lease, poll, stopped(&stop)).await?.0 {
            Ended::Lost | Ended::Yielded => println!("lost {name} {}", lease.token()),
            Ended::Shutdown => {
                lease.release().await?;
                break;
            }
        }
    }
    Ok(())
}
