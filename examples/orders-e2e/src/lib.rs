//! Orders end to end: commands go through an [`Order`] aggregate into a Herald store, an
//! [`OrderSummary`] projection keeps a SQL read model exactly once, and a relay publishes the
//! events to NATS JetStream. The `orders-e2e` binary drives each piece.

use std::time::Duration;

pub mod fulfilment;
pub mod registration;

use herald::aggregate::Aggregate;
use herald_example_orders::OrderEvent;
use herald_example_orders::v3::{Currency, Line};
use serde::{Deserialize, Serialize};

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Not placed yet.
    #[default]
    New,
    /// Placed.
    Placed,
    /// Cancelled.
    Cancelled,
    /// Left the warehouse.
    Shipped,
    /// Arrived.
    Delivered,
}

impl Status {
    /// The name stored in the read model.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Placed => "placed",
            Status::Cancelled => "cancelled",
            Status::Shipped => "shipped",
            Status::Delivered => "delivered",
        }
    }
}

/// The order aggregate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Its status.
    pub status: Status,
    /// How many lines it has.
    pub lines: usize,
}

/// What can be asked of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OrderCommand {
    /// Place it.
    Place {
        /// The order.
        order_id: String,
        /// Its lines.
        lines: Vec<Line>,
        /// Its currency.
        currency: Currency,
    },
    /// Cancel it.
    Cancel {
        /// The order.
        order_id: String,
        /// Why.
        reason: String,
    },
    /// Hand it to a carrier.
    Ship {
        /// The order.
        order_id: String,
        /// The carrier.
        carrier: String,
    },
    /// Record its delivery.
    Deliver {
        /// The order.
        order_id: String,
    },
}

/// Why an order refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// The command does not fit the status.
    #[error("cannot {action} an order that is {status}")]
    WrongStatus {
        /// What was asked.
        action: &'static str,
        /// The order's status.
        status: &'static str,
    },
    /// An order needs lines.
    #[error("an order needs at least one line")]
    NoLines,
}

impl Aggregate for Order {
    const TYPE: &'static str = "order";
    type Event = OrderEvent;
    type Command = OrderCommand;
    type Error = OrderError;

    fn apply(&mut self, event: &OrderEvent) {
        match event {
            OrderEvent::Placed { lines, .. } => {
                self.status = Status::Placed;
                self.lines = lines.len();
            }
            OrderEvent::Cancelled { .. } => self.status = Status::Cancelled,
            OrderEvent::Dispatched { .. } => self.status = Status::Shipped,
            OrderEvent::Delivered { .. } => self.status = Status::Delivered,
        }
    }

    fn handle(&self, command: OrderCommand) -> Result<Vec<OrderEvent>, OrderError> {
        let refuse = |action| OrderError::WrongStatus {
            action,
            status: self.status.as_str(),
        };
        Ok(vec![match command {
            OrderCommand::Place {
                order_id,
                lines,
                currency,
            } => {
                if self.status != Status::New {
                    return Err(refuse("place"));
                }
                if lines.is_empty() {
                    return Err(OrderError::NoLines);
                }
                OrderEvent::Placed {
                    order_id,
                    lines,
                    currency,
                    note: None,
                }
            }
            OrderCommand::Cancel { order_id, reason } => {
                if self.status != Status::Placed {
                    return Err(refuse("cancel"));
                }
                OrderEvent::Cancelled { order_id, reason }
            }
            OrderCommand::Ship { order_id, carrier } => {
                if self.status != Status::Placed {
                    return Err(refuse("ship"));
                }
                OrderEvent::Dispatched { order_id, carrier }
            }
            OrderCommand::Deliver { order_id } => {
                if self.status != Status::Shipped {
                    return Err(refuse("deliver"));
                }
                OrderEvent::Delivered { order_id }
            }
        }])
    }
}

/// The order summary read model (tables `order_summary` and `order_counts`), in SQLite
/// ([`sqlite`]) or PostgreSQL ([`postgres`]).
///
/// Its updates are increments, not idempotent upserts: an event applied twice would show,
/// which is what the crash test checks.
#[derive(Debug, Clone, Default)]
pub struct OrderSummary {
    /// Sleep this long per event (to make a rebuild slow enough to interrupt in a demo).
    pub delay_per_event: Duration,
}

/// The read model's name (its checkpoint key).
pub const ORDER_SUMMARY: &str = "order_summary";

/// The order summary on one backend: its migration, its projection and a reader.
macro_rules! order_summary_on {
    ($module:ident, $db:ty, $connection:ty, $store:ty, $migrations:literal) => {
        /// The order summary read model on this backend.
        pub mod $module {
            use herald::Envelope;
            use herald::projection::HandlerError;
            use herald::projection::sql::SqlProjection;
            use herald_example_orders::OrderEvent;
            use sqlx::Pool;

            use crate::{ORDER_SUMMARY, OrderSummary, Status, SummaryRow};

            /// Creates Herald's tables (checkpoints, leases) and the read model's in `pool`.
            pub async fn migrate_read_model(
                pool: &Pool<$db>,
            ) -> Result<(), herald::store::StoreError> {
                <$store>::new(pool.clone()).migrate().await?;
                let mut migrator = sqlx::migrate!($migrations);
                migrator.dangerous_set_table_name("orders_e2e_migrations");
                migrator.run(pool).await?;
                Ok(())
            }

            /// The whole read model, ordered: summaries and counts.
            pub async fn read_model(
                pool: &Pool<$db>,
            ) -> Result<(Vec<SummaryRow>, Vec<(String, i64)>), sqlx::Error> {
                let summaries = sqlx::query_as(
                    "SELECT order_id, status, lines, total_cents, carrier, events_applied \
                     FROM order_summary ORDER BY order_id",
                )
                .fetch_all(pool)
                .await?;
                let counts =
                    sqlx::query_as("SELECT status, orders FROM order_counts ORDER BY status")
                        .fetch_all(pool)
                        .await?;
                Ok((summaries, counts))
            }

            async fn count(
                connection: &mut $connection,
                status: Status,
                delta: i64,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(
                    "INSERT INTO order_counts (status, orders) VALUES ($1, $2) ON CONFLICT \
                     (status) DO UPDATE SET orders = order_counts.orders + excluded.orders",
                )
                .bind(status.as_str())
                .bind(delta)
                .execute(&mut *connection)
                .await?;
                Ok(())
            }

            async fn transition(
                connection: &mut $connection,
                order_id: &str,
                to: Status,
                carrier: Option<&str>,
            ) -> Result<(), HandlerError> {
                let from: String =
                    sqlx::query_scalar("SELECT status FROM order_summary WHERE order_id = $1")
                        .bind(order_id)
                        .fetch_one(&mut *connection)
                        .await?;
                sqlx::query(
                    "UPDATE order_summary SET status = $2, carrier = COALESCE($3, carrier), \
                     events_applied = events_applied + 1 WHERE order_id = $1",
                )
                .bind(order_id)
                .bind(to.as_str())
                .bind(carrier)
                .execute(&mut *connection)
                .await?;
                sqlx::query("UPDATE order_counts SET orders = orders - 1 WHERE status = $1")
                    .bind(from)
                    .execute(&mut *connection)
                    .await?;
                count(connection, to, 1).await?;
                Ok(())
            }

            impl SqlProjection<$db> for OrderSummary {
                type Event = OrderEvent;

                fn name(&self) -> &str {
                    ORDER_SUMMARY
                }

                async fn apply(
                    &mut self,
                    connection: &mut $connection,
                    event: &Envelope<OrderEvent>,
                ) -> Result<(), HandlerError> {
                    if !self.delay_per_event.is_zero() {
                        tokio::time::sleep(self.delay_per_event).await;
                    }
                    match &event.payload {
                        OrderEvent::Placed {
                            order_id, lines, ..
                        } => {
                            let total: i64 = lines
                                .iter()
                                .map(|line| line.unit_price_cents * i64::from(line.quantity))
                                .sum();
                            sqlx::query(
                                "INSERT INTO order_summary (order_id, status, lines, \
                                 total_cents, events_applied) VALUES ($1, 'placed', $2, $3, 1)",
                            )
                            .bind(order_id)
                            .bind(lines.len() as i64)
                            .bind(total)
                            .execute(&mut *connection)
                            .await?;
                            count(connection, Status::Placed, 1).await?;
                        }
                        OrderEvent::Cancelled { order_id, .. } => {
                            transition(connection, order_id, Status::Cancelled, None).await?;
                        }
                        OrderEvent::Dispatched { order_id, carrier } => {
                            transition(connection, order_id, Status::Shipped, Some(carrier))
                                .await?;
                        }
                        OrderEvent::Delivered { order_id } => {
                            transition(connection, order_id, Status::Delivered, None).await?;
                        }
                    }
                    Ok(())
                }

                async fn reset(&mut self, connection: &mut $connection) -> Result<(), HandlerError> {
                    sqlx::query("DELETE FROM order_summary")
                        .execute(&mut *connection)
                        .await?;
                    sqlx::query("DELETE FROM order_counts")
                        .execute(&mut *connection)
                        .await?;
                    Ok(())
                }
            }
        }
    };
}

order_summary_on!(
    sqlite,
    sqlx::Sqlite,
    sqlx::SqliteConnection,
    herald::store::sqlite::SqliteStore,
    "migrations/sqlite"
);
order_summary_on!(
    postgres,
    sqlx::Postgres,
    sqlx::PgConnection,
    herald::store::postgres::PostgresStore,
    "migrations/postgres"
);

pub use sqlite::{migrate_read_model, read_model};

/// One row of `order_summary`, for comparisons.
pub type SummaryRow = (String, String, i64, i64, Option<String>, i64);

/// The commands of a sample day: `orders` orders, most shipped, some delivered, some
/// cancelled. Deterministic.
pub fn sample_commands(orders: usize) -> Vec<(String, OrderCommand)> {
    let mut commands = Vec::new();
    for n in 0..orders {
        let order_id = format!("o-{n:05}");
        commands.push((
            order_id.clone(),
            OrderCommand::Place {
                order_id: order_id.clone(),
                lines: (0..1 + n % 3)
                    .map(|line| Line {
                        sku: format!("sku-{}", (n + line) % 17),
                        quantity: 1 + (line as u32 % 2),
                        unit_price_cents: 150 + (n as i64 % 40) * 25,
                    })
                    .collect(),
                currency: Currency::EUR,
            },
        ));
        match n % 5 {
            0 => commands.push((
                order_id.clone(),
                OrderCommand::Cancel {
                    order_id,
                    reason: "changed mind".into(),
                },
            )),
            1 | 2 => {
                commands.push((
                    order_id.clone(),
                    OrderCommand::Ship {
                        order_id: order_id.clone(),
                        carrier: "dhl".into(),
                    },
                ));
                commands.push((order_id.clone(), OrderCommand::Deliver { order_id }));
            }
            _ => commands.push((
                order_id.clone(),
                OrderCommand::Ship {
                    order_id,
                    carrier: "ups".into(),
                },
            )),
        }
    }
    commands
}
