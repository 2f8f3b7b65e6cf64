//! `orders-e2e`: seed orders through the aggregate, build the read model, relay to NATS.
//!
//! ```text
//! orders-e2e --database sqlite://orders.db seed --orders 1000
//! orders-e2e --database sqlite://orders.db project
//! orders-e2e --database sqlite://orders.db rebuild
//! orders-e2e --database sqlite://orders.db relay --stream ORDERS --until-caught-up
//! orders-e2e --database sqlite://orders.db lag
//! ```

use std::io::Write;
use std::str::FromStr;
use std::time::Duration;

use clap::{Parser, Subcommand};
use herald::aggregate::Repository;
use herald::projection::sql::SqlProjectionRunner;
use herald::projection::{Progress, Runner, RunnerOptions};
use herald::relay::Relay;
use herald::store::sqlite::SqliteStore;
use herald_example_orders_e2e::{
    ORDER_SUMMARY, Order, OrderSummary, migrate_read_model, sample_commands,
};
use sqlx::sqlite::SqliteConnectOptions;

/// Orders end to end with Herald.
#[derive(Debug, Parser)]
struct Config {
    /// The SQLite database holding the event store and the read model.
    #[arg(
        long,
        env = "ORDERS_DATABASE",
        default_value = "sqlite://orders-e2e.db"
    )]
    database: String,
    /// The NATS server (JetStream enabled).
    #[arg(long, env = "ORDERS_NATS", default_value = "127.0.0.1:4222")]
    nats: String,
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
    /// Publishes events to a JetStream stream, creating it if needed.
    Relay {
        /// The JetStream stream; subjects are `<stream>.<event type>`.
        #[arg(long, default_value = "ORDERS")]
        stream: String,
        /// Events per checkpoint.
        #[arg(long, default_value_t = 500)]
        batch_size: usize,
        /// Stop when caught up instead of following the log.
        #[arg(long)]
        until_caught_up: bool,
        /// Milliseconds to wait between publishing a batch and checkpointing it (widens the
        /// window a crash test aims at).
        #[arg(long, default_value_t = 0)]
        pause_before_commit_ms: u64,
    },
    /// Deletes a JetStream stream (clean-up after a demo).
    DropStream {
        /// The stream.
        #[arg(long, default_value = "ORDERS")]
        stream: String,
    },
    /// Shows how far the read model and the relay are behind.
    Lag {
        /// The relay's stream.
        #[arg(long, default_value = "ORDERS")]
        stream: String,
    },
}

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Config::parse();
    let options = SqliteConnectOptions::from_str(&config.database)?;
    let store = SqliteStore::connect_with(options).await?;
    migrate_read_model(store.pool()).await?;
    match config.command {
        Command::Seed { orders } => seed(&store, orders).await,
        Command::Project {
            batch_size,
            delay_ms,
        } => {
            let mut runner = runner(&store, batch_size, delay_ms);
            let reached = runner.catch_up(print_progress).await?;
            println!("caught up at {reached}");
            Ok(())
        }
        Command::Rebuild {
            batch_size,
            delay_ms,
        } => {
            let mut runner = runner(&store, batch_size, delay_ms);
            let reached = runner.rebuild(print_progress).await?;
            eprintln!();
            println!("rebuilt up to {reached}");
            Ok(())
        }
        Command::Relay {
            stream,
            batch_size,
            until_caught_up,
            pause_before_commit_ms,
        } => {
            relay(
                &config.nats,
                store,
                &stream,
                batch_size,
                until_caught_up,
                pause_before_commit_ms,
            )
            .await
        }
        Command::DropStream { stream } => {
            let jetstream = async_nats::jetstream::new(async_nats::connect(&config.nats).await?);
            jetstream.delete_stream(&stream).await?;
            println!("deleted {stream}");
            Ok(())
        }
        Command::Lag { stream } => {
            let projection = runner(&store, 1, 0).lag().await?;
            println!(
                "{ORDER_SUMMARY}: {} behind (head {}, checkpoint {}), oldest unprocessed {:?}",
                projection.positions,
                projection.head,
                projection.checkpoint,
                projection.oldest_unprocessed_age
            );
            let relay = herald::projection::lag(
                &store,
                herald::store::EventStore::load_checkpoint(&store, &relay_name(&stream)).await?,
            )
            .await?;
            println!(
                "relay {stream}: {} behind (checkpoint {}), oldest unprocessed {:?}",
                relay.positions, relay.checkpoint, relay.oldest_unprocessed_age
            );
            Ok(())
        }
    }
}

async fn seed(store: &SqliteStore, orders: usize) -> Result<(), Error> {
    let repository = Repository::<_, Order>::new(store.clone()).snapshot_every(50);
    let commands = sample_commands(orders);
    for (order_id, command) in &commands {
        repository.execute(order_id, command.clone()).await?;
    }
    println!(
        "{} commands for {orders} orders; head is now {}",
        commands.len(),
        herald::store::EventStore::head_position(store).await?
    );
    Ok(())
}

fn runner(
    store: &SqliteStore,
    batch_size: usize,
    delay_ms: u64,
) -> SqlProjectionRunner<sqlx::Sqlite, SqliteStore, OrderSummary> {
    let projection = OrderSummary {
        delay_per_event: Duration::from_millis(delay_ms),
    };
    SqlProjectionRunner::new(store.pool().clone(), store.clone(), projection).with_options(
        RunnerOptions {
            batch_size,
            ..RunnerOptions::default()
        },
    )
}

/// Prints a progress bar on stderr and a machine-readable line on stdout per batch.
fn print_progress(progress: &Progress) {
    const WIDTH: usize = 30;
    let filled = (progress.fraction() * WIDTH as f64).round() as usize;
    eprint!(
        "\r[{}{}] {}/{} ({:.1}%) {:.0} events/s ",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        progress.done,
        progress.total,
        progress.fraction() * 100.0,
        progress.rate()
    );
    println!("progress {} {}", progress.done, progress.total);
    let _ = std::io::stdout().flush();
}

fn relay_name(stream: &str) -> String {
    format!("relay:{stream}")
}

async fn relay(
    nats: &str,
    store: SqliteStore,
    stream: &str,
    batch_size: usize,
    until_caught_up: bool,
    pause_before_commit_ms: u64,
) -> Result<(), Error> {
    let client = async_nats::connect(nats).await?;
    let jetstream = async_nats::jetstream::new(client);
    jetstream
        .get_or_create_stream(async_nats::jetstream::stream::Config {
            name: stream.to_owned(),
            subjects: vec![format!("{stream}.>")],
            ..Default::default()
        })
        .await?;
    let relay = Relay::new(store, jetstream, relay_name(stream), stream).batch_size(batch_size);
    let mut total = herald::relay::RelayStats::default();
    loop {
        let stats = relay.publish_batch().await?;
        if stats.published == 0 {
            if until_caught_up {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        println!("published {}", stats.last_position);
        let _ = std::io::stdout().flush();
        if pause_before_commit_ms > 0 {
            tokio::time::sleep(Duration::from_millis(pause_before_commit_ms)).await;
        }
        relay.commit(stats.last_position).await?;
        total.published += stats.published;
        total.duplicates += stats.duplicates;
        total.last_position = stats.last_position;
    }
    println!(
        "relayed {} events ({} duplicates dropped by JetStream), checkpoint {}",
        total.published, total.duplicates, total.last_position
    );
    Ok(())
}
