//! The fulfilment saga: order placed → reserve stock (one step per line, [`Stock`]) →
//! request payment ([`Payment`], answered by a payment service) → ship the order →
//! complete. A declined payment, or no answer within [`PAYMENT_DEADLINE`], releases the
//! stock, cancels the payment request and cancels the order, in that order.
//!
//! The payment service is simulated by [`answer_payment`]: a seeded outcome per order
//! (approve, decline, answer late, or never answer).

use std::collections::BTreeMap;
use std::time::Duration;

use herald::Envelope;
use herald::aggregate::{Aggregate, CommandError, Repository};
use herald::projection::{HandlerError, Projection};
use herald::saga::{
    Command, Correlation, Decision, Dispatch, DispatchError, Input, Saga, decode_as,
};
use herald::store::EventStore;
use herald::{DecodeError, Event};
use herald_example_orders::OrderEvent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Order, OrderCommand, sample_commands};

/// How long the saga waits for the payment service.
pub const PAYMENT_DEADLINE: Duration = Duration::from_secs(4);

/// What happens to a product's stock.
#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "stock", version = 1)]
pub enum StockEvent {
    /// Units arrived.
    Added {
        /// The product.
        sku: String,
        /// How many.
        quantity: u32,
    },
    /// Units were set aside for an order.
    Reserved {
        /// The order.
        order_id: String,
        /// The product.
        sku: String,
        /// How many.
        quantity: u32,
    },
    /// An order's units went back.
    Released {
        /// The order.
        order_id: String,
        /// The product.
        sku: String,
        /// How many.
        quantity: u32,
    },
}

/// One product's stock.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stock {
    /// Units not reserved.
    pub available: i64,
    /// Units reserved, per order.
    pub reserved: BTreeMap<String, u32>,
}

/// What can be asked of a product's stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StockCommand {
    /// Add units.
    Add {
        /// The product.
        sku: String,
        /// How many.
        quantity: u32,
    },
    /// Reserve units for an order.
    Reserve {
        /// The order.
        order_id: String,
        /// The product.
        sku: String,
        /// How many.
        quantity: u32,
    },
    /// Release an order's units (nothing if it has none).
    Release {
        /// The order.
        order_id: String,
        /// The product.
        sku: String,
    },
}

/// Why stock refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    /// Not enough units.
    #[error("only {available} of {sku} left, {wanted} wanted")]
    OutOfStock {
        /// The product.
        sku: String,
        /// Units left.
        available: i64,
        /// Units wanted.
        wanted: u32,
    },
}

impl Aggregate for Stock {
    const TYPE: &'static str = "stock";
    type Event = StockEvent;
    type Command = StockCommand;
    type Error = StockError;

    fn apply(&mut self, event: &StockEvent) {
        match event {
            StockEvent::Added { quantity, .. } => self.available += i64::from(*quantity),
            StockEvent::Reserved {
                order_id, quantity, ..
            } => {
                self.available -= i64::from(*quantity);
                *self.reserved.entry(order_id.clone()).or_default() += quantity;
            }
            StockEvent::Released {
                order_id, quantity, ..
            } => {
                self.available += i64::from(*quantity);
                self.reserved.remove(order_id);
            }
        }
    }

    fn handle(&self, command: StockCommand) -> Result<Vec<StockEvent>, StockError> {
        Ok(match command {
            StockCommand::Add { sku, quantity } => vec![StockEvent::Added { sku, quantity }],
            StockCommand::Reserve {
                order_id,
                sku,
                quantity,
            } => {
                if self.available < i64::from(quantity) {
                    return Err(StockError::OutOfStock {
                        sku,
                        available: self.available,
                        wanted: quantity,
                    });
                }
                vec![StockEvent::Reserved {
                    order_id,
                    sku,
                    quantity,
                }]
            }
            StockCommand::Release { order_id, sku } => match self.reserved.get(&order_id) {
                Some(&quantity) => vec![StockEvent::Released {
                    order_id,
                    sku,
                    quantity,
                }],
                None => Vec::new(),
            },
        })
    }
}

/// What happens to an order's payment.
#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "payment", version = 1)]
pub enum PaymentEvent {
    /// The payment service was asked to charge.
    Requested {
        /// The order.
        order_id: String,
        /// How much, in cents.
        amount_cents: i64,
    },
    /// The charge went through.
    Approved {
        /// The order.
        order_id: String,
    },
    /// The charge was refused.
    Declined {
        /// The order.
        order_id: String,
        /// Why.
        reason: String,
    },
    /// The request was withdrawn before an answer.
    Cancelled {
        /// The order.
        order_id: String,
    },
    /// An approved charge was paid back.
    Refunded {
        /// The order.
        order_id: String,
    },
}

/// Where an order's payment is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentStatus {
    /// Nothing asked.
    #[default]
    None,
    /// Waiting for the payment service.
    Requested,
    /// Charged.
    Approved,
    /// Refused.
    Declined,
    /// Withdrawn.
    Cancelled,
    /// Paid back.
    Refunded,
}

/// An order's payment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    /// Where it is.
    pub status: PaymentStatus,
}

/// What can be asked of a payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PaymentCommand {
    /// Ask the payment service to charge.
    Request {
        /// The order.
        order_id: String,
        /// How much, in cents.
        amount_cents: i64,
    },
    /// The service charged.
    Approve {
        /// The order.
        order_id: String,
    },
    /// The service refused.
    Decline {
        /// The order.
        order_id: String,
        /// Why.
        reason: String,
    },
    /// Withdraw the request, or pay an approved charge back (nothing if neither applies).
    Cancel {
        /// The order.
        order_id: String,
    },
}

/// Why a payment refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("payment is {status:?}: cannot {action}")]
pub struct PaymentError {
    /// Its status.
    pub status: PaymentStatus,
    /// What was asked.
    pub action: &'static str,
}

impl Aggregate for Payment {
    const TYPE: &'static str = "payment";
    type Event = PaymentEvent;
    type Command = PaymentCommand;
    type Error = PaymentError;

    fn apply(&mut self, event: &PaymentEvent) {
        self.status = match event {
            PaymentEvent::Requested { .. } => PaymentStatus::Requested,
            PaymentEvent::Approved { .. } => PaymentStatus::Approved,
            PaymentEvent::Declined { .. } => PaymentStatus::Declined,
            PaymentEvent::Cancelled { .. } => PaymentStatus::Cancelled,
            PaymentEvent::Refunded { .. } => PaymentStatus::Refunded,
        };
    }

    fn handle(&self, command: PaymentCommand) -> Result<Vec<PaymentEvent>, PaymentError> {
        let refuse = |action| PaymentError {
            status: self.status,
            action,
        };
        Ok(match command {
            PaymentCommand::Request {
                order_id,
                amount_cents,
            } => match self.status {
                PaymentStatus::None => vec![PaymentEvent::Requested {
                    order_id,
                    amount_cents,
                }],
                _ => return Err(refuse("request")),
            },
            PaymentCommand::Approve { order_id } => match self.status {
                PaymentStatus::Requested => vec![PaymentEvent::Approved { order_id }],
                _ => return Err(refuse("approve")),
            },
            PaymentCommand::Decline { order_id, reason } => match self.status {
                PaymentStatus::Requested => vec![PaymentEvent::Declined { order_id, reason }],
                _ => return Err(refuse("decline")),
            },
            PaymentCommand::Cancel { order_id } => match self.status {
                PaymentStatus::Requested => vec![PaymentEvent::Cancelled { order_id }],
                PaymentStatus::Approved => vec![PaymentEvent::Refunded { order_id }],
                _ => Vec::new(),
            },
        })
    }
}

/// The events the saga reads.
#[derive(Debug, Clone, PartialEq)]
pub enum FulfilmentInput {
    /// An order's.
    Order(OrderEvent),
    /// A product's stock's.
    Stock(StockEvent),
    /// A payment's.
    Payment(PaymentEvent),
}

impl Input for FulfilmentInput {
    fn accepts(event_type: &str) -> bool {
        herald::store::is_event_of::<OrderEvent>(event_type)
            || herald::store::is_event_of::<StockEvent>(event_type)
            || herald::store::is_event_of::<PaymentEvent>(event_type)
    }

    fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: &[u8],
    ) -> Result<Self, DecodeError> {
        if let Some(order) = decode_as::<OrderEvent>(event_type, schema_version, payload) {
            return order.map(FulfilmentInput::Order);
        }
        if let Some(stock) = decode_as::<StockEvent>(event_type, schema_version, payload) {
            return stock.map(FulfilmentInput::Stock);
        }
        PaymentEvent::decode(event_type, schema_version, payload).map(FulfilmentInput::Payment)
    }
}

/// The commands the saga sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FulfilmentCommand {
    /// To a product's stock.
    Stock(StockCommand),
    /// To an order's payment.
    Payment(PaymentCommand),
    /// To the order.
    Order(OrderCommand),
}

/// The fulfilment of one order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fulfilment {
    /// The order.
    pub order_id: String,
    /// Its lines: product and quantity.
    pub lines: Vec<(String, u32)>,
    /// Its total, in cents.
    pub amount_cents: i64,
    /// The lines whose stock is reserved.
    pub reserved: usize,
}

/// The saga's name.
pub const FULFILMENT: &str = "fulfilment";

impl Saga for Fulfilment {
    const NAME: &'static str = FULFILMENT;
    const STARTS: &'static [&'static str] = &["order.placed"];
    const CORRELATION: Correlation = Correlation::Field("order_id");
    type Event = FulfilmentInput;
    type Command = FulfilmentCommand;

    fn apply(&mut self, event: &FulfilmentInput) {
        match event {
            FulfilmentInput::Order(OrderEvent::Placed {
                order_id, lines, ..
            }) => {
                self.order_id = order_id.clone();
                self.lines = lines
                    .iter()
                    .map(|line| (line.sku.clone(), line.quantity))
                    .collect();
                self.amount_cents = lines
                    .iter()
                    .map(|line| line.unit_price_cents * i64::from(line.quantity))
                    .sum();
            }
            FulfilmentInput::Stock(StockEvent::Reserved { .. }) => self.reserved += 1,
            _ => {}
        }
    }

    fn on(&self, event: &FulfilmentInput) -> Vec<Decision<FulfilmentCommand>> {
        let order_id = self.order_id.clone();
        match event {
            FulfilmentInput::Order(OrderEvent::Placed { .. }) => {
                let mut decisions = vec![Decision::compensation(
                    "cancel order",
                    FulfilmentCommand::Order(OrderCommand::Cancel {
                        order_id: order_id.clone(),
                        reason: "fulfilment failed".to_owned(),
                    }),
                )];
                for (sku, quantity) in &self.lines {
                    decisions.push(
                        Decision::send(
                            format!("reserve {sku}"),
                            FulfilmentCommand::Stock(StockCommand::Reserve {
                                order_id: order_id.clone(),
                                sku: sku.clone(),
                                quantity: *quantity,
                            }),
                        )
                        .compensated_by(FulfilmentCommand::Stock(
                            StockCommand::Release {
                                order_id: order_id.clone(),
                                sku: sku.clone(),
                            },
                        )),
                    );
                }
                decisions
            }
            FulfilmentInput::Stock(StockEvent::Reserved { .. })
                if self.reserved == self.lines.len() =>
            {
                vec![
                    Decision::send(
                        "charge",
                        FulfilmentCommand::Payment(PaymentCommand::Request {
                            order_id: order_id.clone(),
                            amount_cents: self.amount_cents,
                        }),
                    )
                    .compensated_by(FulfilmentCommand::Payment(
                        PaymentCommand::Cancel { order_id },
                    )),
                    Decision::schedule("payment", PAYMENT_DEADLINE),
                ]
            }
            FulfilmentInput::Payment(PaymentEvent::Approved { .. }) => vec![
                Decision::cancel("payment"),
                Decision::send(
                    "ship",
                    FulfilmentCommand::Order(OrderCommand::Ship {
                        order_id,
                        carrier: "saga express".to_owned(),
                    }),
                ),
                Decision::Complete,
            ],
            FulfilmentInput::Payment(PaymentEvent::Declined { reason, .. }) => vec![
                Decision::cancel("payment"),
                Decision::fail(format!("payment declined: {reason}")),
            ],
            _ => Vec::new(),
        }
    }

    fn on_deadline(&self, name: &str) -> Vec<Decision<FulfilmentCommand>> {
        match name {
            "payment" => vec![Decision::fail("no payment answer in time")],
            _ => Vec::new(),
        }
    }
}

/// Carries the saga's commands out on the local aggregates, each at most once.
#[derive(Debug, Clone)]
pub struct Fulfilling<S: EventStore> {
    orders: Repository<S, Order>,
    stock: Repository<S, Stock>,
    payments: Repository<S, Payment>,
}

impl<S: EventStore> Fulfilling<S> {
    /// The repositories of the three aggregates over `store`.
    pub fn new(store: S) -> Self {
        Fulfilling {
            orders: Repository::new(store.clone()),
            stock: Repository::new(store.clone()).cache(64).snapshot_every(100),
            payments: Repository::new(store),
        }
    }
}

fn outcome<T, E: std::error::Error + Send + Sync + 'static>(
    result: Result<T, CommandError<E>>,
) -> Result<(), DispatchError> {
    match result {
        Ok(_) => Ok(()),
        Err(CommandError::Refused(refusal)) => Err(DispatchError::Refused(refusal.to_string())),
        Err(error) => Err(DispatchError::Failed(Box::new(error))),
    }
}

impl<S: EventStore> Dispatch<FulfilmentCommand> for Fulfilling<S> {
    async fn dispatch(&self, command: &Command<FulfilmentCommand>) -> Result<(), DispatchError> {
        let (id, cause) = (command.command_id, Some(command.cause));
        match &command.command {
            FulfilmentCommand::Stock(stock) => {
                let sku = match stock {
                    StockCommand::Add { sku, .. }
                    | StockCommand::Reserve { sku, .. }
                    | StockCommand::Release { sku, .. } => sku,
                };
                outcome(self.stock.execute_once(sku, id, stock.clone(), cause).await)
            }
            FulfilmentCommand::Payment(payment) => {
                let order_id = match payment {
                    PaymentCommand::Request { order_id, .. }
                    | PaymentCommand::Approve { order_id }
                    | PaymentCommand::Decline { order_id, .. }
                    | PaymentCommand::Cancel { order_id } => order_id,
                };
                outcome(
                    self.payments
                        .execute_once(order_id, id, payment.clone(), cause)
                        .await,
                )
            }
            FulfilmentCommand::Order(order) => {
                let order_id = match order {
                    OrderCommand::Place { order_id, .. }
                    | OrderCommand::Cancel { order_id, .. }
                    | OrderCommand::Ship { order_id, .. }
                    | OrderCommand::Deliver { order_id } => order_id,
                };
                outcome(
                    self.orders
                        .execute_once(order_id, id, order.clone(), cause)
                        .await,
                )
            }
        }
    }
}

/// What the simulated payment service does with an order's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentAnswer {
    /// Approves at once.
    Approve,
    /// Approves after a while (well within the deadline).
    ApproveLate(Duration),
    /// Declines.
    Decline,
    /// Never answers: the deadline fires.
    Silent,
}

/// The seeded answer for order number `n`: about 15 % declined, 10 % silent, 15 % late.
pub fn seeded_answer(seed: u64, n: u64) -> PaymentAnswer {
    // SplitMix64: a well-mixed number from (seed, n).
    let mut x = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    match x % 100 {
        0..15 => PaymentAnswer::Decline,
        15..25 => PaymentAnswer::Silent,
        25..40 => PaymentAnswer::ApproveLate(Duration::from_millis(200 + (x >> 8) % 1300)),
        _ => PaymentAnswer::Approve,
    }
}

/// Answers a payment request as the payment service would, at most once per order.
pub async fn answer_payment<S: EventStore>(
    payments: &Repository<S, Payment>,
    order_id: &str,
    answer: PaymentAnswer,
) -> Result<(), CommandError<PaymentError>> {
    let command = match answer {
        PaymentAnswer::Silent => return Ok(()),
        PaymentAnswer::Decline => PaymentCommand::Decline {
            order_id: order_id.to_owned(),
            reason: "card declined".to_owned(),
        },
        PaymentAnswer::Approve | PaymentAnswer::ApproveLate(_) => PaymentCommand::Approve {
            order_id: order_id.to_owned(),
        },
    };
    let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, order_id.as_bytes());
    match payments.execute_once(order_id, id, command, None).await {
        // A request withdrawn before a late answer refuses it: the answer comes too late.
        Ok(_) | Err(CommandError::Refused(_)) => Ok(()),
        Err(error) => Err(error),
    }
}

/// Puts exactly enough stock in for `orders` sample orders, then places them (placing
/// only: the saga does the rest); returns how many it placed.
pub async fn place_orders<S: EventStore>(
    store: &S,
    orders: usize,
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let places: Vec<_> = sample_commands(orders)
        .into_iter()
        .filter(|(_, command)| matches!(command, OrderCommand::Place { .. }))
        .collect();
    let mut needed: BTreeMap<String, u32> = BTreeMap::new();
    for (_, command) in &places {
        if let OrderCommand::Place { lines, .. } = command {
            for line in lines {
                *needed.entry(line.sku.clone()).or_default() += line.quantity;
            }
        }
    }
    let stock = Repository::<_, Stock>::new(store.clone());
    for (sku, quantity) in needed {
        let command = StockCommand::Add {
            sku: sku.clone(),
            quantity,
        };
        stock.execute(&sku, command).await?;
    }
    let orders_repository = Repository::<_, Order>::new(store.clone());
    for (order_id, command) in &places {
        orders_repository.execute(order_id, command.clone()).await?;
    }
    Ok(places.len())
}

/// The simulated payment service: answers each payment request with the seeded answer of
/// its order (late answers from a task of their own).
pub struct PaymentService<S: EventStore> {
    payments: Repository<S, Payment>,
    seed: u64,
}

impl<S: EventStore> PaymentService<S> {
    /// The service over `store`, answering with the answers of `seed`.
    pub fn new(store: S, seed: u64) -> Self {
        PaymentService {
            payments: Repository::new(store),
            seed,
        }
    }
}

impl<S: EventStore> Projection for PaymentService<S> {
    type Event = PaymentEvent;

    fn name(&self) -> &str {
        "payment-service"
    }

    async fn handle(&mut self, event: &Envelope<PaymentEvent>) -> Result<(), HandlerError> {
        let PaymentEvent::Requested { order_id, .. } = &event.payload else {
            return Ok(());
        };
        let number = order_id
            .trim_start_matches("o-")
            .parse::<u64>()
            .unwrap_or_default();
        let answer = seeded_answer(self.seed, number);
        let (payments, order_id) = (self.payments.clone(), order_id.clone());
        match answer {
            PaymentAnswer::ApproveLate(after) => {
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    if let Err(error) = answer_payment(&payments, &order_id, answer).await {
                        eprintln!("late payment answer for {order_id} failed: {error}");
                    }
                });
                Ok(())
            }
            _ => Ok(answer_payment(&payments, &order_id, answer).await?),
        }
    }
}
