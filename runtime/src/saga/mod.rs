//! Sagas: long-running processes across aggregates and services, with compensation,
//! deadlines and a durable saga log.
//!
//! A [`Saga`] is a state type and two pure handlers: [`Saga::on`] turns an event (after
//! [`Saga::apply`] folded it into the state) into [`Decision`]s — send a command, register a
//! compensation, set or cancel a deadline, complete, fail — and [`Saga::on_deadline`] does
//! the same when a deadline fires. Which events start an instance ([`Saga::STARTS`]) and
//! how an event finds its instance ([`Saga::CORRELATION`]) are declared. Every effect goes
//! through the [`SagaRunner`]:
//!
//! - **The saga log is an event stream.** Each instance is the stream
//!   `saga-<name>-<instance>` of [`SagaEvent`]s (started, event received, step scheduled,
//!   completed or failed, deadline scheduled, fired or cancelled, compensation started,
//!   compensated, completed, failed, stuck), appended with optimistic concurrency. The
//!   instance ([`Instance`]) is rebuilt from it, so it replays and upcasts like any stream,
//!   and a replica that loses a race reloads and goes on.
//! - **Exactly-once effects.** Decisions are recorded before they are carried out. A command
//!   carries an id derived from the saga, the instance and the step ([`command_id`]); the
//!   receiving side deduplicates by it (for a local aggregate,
//!   [`Repository::execute_once`](crate::aggregate::Repository::execute_once); for a command
//!   sent through the relay, the event id of the outbox event, which the consumer's inbox
//!   keeps). A crash between "command sent" and "step recorded" sends it again, and it is
//!   not applied twice.
//! - **Compensation.** When a step's command is refused ([`DispatchError::Refused`]) or the
//!   saga decides [`Decision::Fail`], the compensations of the steps that completed run in
//!   reverse order, each exactly once. A command or compensation that keeps failing for
//!   other reasons is retried with backoff ([`SagaOptions`]), then the instance is parked as
//!   [`SagaState::Stuck`] with the error — never dropped.
//! - **Deadlines** are rows in the store's database ([`SagaStore`]), fired by the runner
//!   holding the saga's lease ([`Runner::run_leased`](crate::projection::Runner::run_leased)),
//!   so they survive restarts and failover; a deadline of a finished instance, or one already
//!   fired or cancelled, is ignored.
//! - **Visibility**: [`SagaStore::saga_counts`] counts instances per state with the age of
//!   the oldest unfinished one (in `herald::status` too, and its Prometheus text);
//!   [`SagaStore::sagas_in`] lists them with their last step and error.
//!
//! The runner reads the local log like a projection (it is a
//! [`Runner`](crate::projection::Runner): `catch_up`, `run`, `run_leased`, partitions by
//! instance), or is handed events from a broker through [`SagaRunner::handle`] (from a
//! `consumer` handler, whose inbox makes delivery exactly once).

mod log;
mod runner;
mod tables;

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::envelope::Cause;
use crate::error::DecodeError;
use crate::event::Event;
use crate::store::StoreError;

pub use log::{Instance, SagaEvent, SagaState};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) use runner::now_micros;
pub use runner::{SagaOptions, SagaRunner};
pub(crate) use tables::counts_from;
pub use tables::{SagaCounts, SagaStore, SagaSummary, prometheus};

/// A long-running process: its state, and what it decides on each event.
pub trait Saga: Default + Send + Sync + 'static {
    /// Its name: log streams are `saga-<NAME>-<instance>`, its checkpoint and lease
    /// `saga-<NAME>`.
    const NAME: &'static str;
    /// The event types (as stored, e.g. `order.placed`) that start an instance. Other events
    /// only reach an instance that exists.
    const STARTS: &'static [&'static str];
    /// How an event finds its instance.
    const CORRELATION: Correlation;
    /// The events it reads.
    type Event: Input;
    /// The commands it sends (stored in its log as JSON).
    type Command: Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static;

    /// Folds an event into the state. Pure.
    fn apply(&mut self, event: &Self::Event);

    /// What to do after `event` was folded in. Pure: effects are the runner's.
    fn on(&self, event: &Self::Event) -> Vec<Decision<Self::Command>>;

    /// What to do when deadline `name` fires. Pure.
    fn on_deadline(&self, name: &str) -> Vec<Decision<Self::Command>>;
}

/// How an event finds its saga instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correlation {
    /// By a field of the (JSON) payload: the instance id is its value (a string, or a number
    /// written as one).
    Field(&'static str),
    /// By the envelope's correlation id.
    CorrelationId,
}

/// The events a saga reads: one [`Event`] type, or an enum over several (implement it with
/// [`decode_as`] for each).
pub trait Input: Sized + Send + Sync + 'static {
    /// Whether events of this stored type are read.
    fn accepts(event_type: &str) -> bool;

    /// Decodes a stored event of an accepted type.
    fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: &[u8],
    ) -> Result<Self, DecodeError>;
}

impl<E: Event + Send + Sync + 'static> Input for E {
    fn accepts(event_type: &str) -> bool {
        crate::store::is_event_of::<E>(event_type)
    }

    fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: &[u8],
    ) -> Result<Self, DecodeError> {
        E::decode(event_type, schema_version, payload)
    }
}

/// Decodes a stored event as `E` when it is one of `E`'s types: for [`Input`] impls over
/// several event families.
pub fn decode_as<E: Event>(
    event_type: &str,
    schema_version: u32,
    payload: &[u8],
) -> Option<Result<E, DecodeError>> {
    crate::store::is_event_of::<E>(event_type)
        .then(|| E::decode(event_type, schema_version, payload))
}

/// What a saga decides on an event or a deadline.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision<C> {
    /// Send `command` as step `step`; `compensation` undoes it if the saga fails later.
    /// (Named `Step`, not `Send`, so that compiler messages about the `Send` marker trait
    /// keep its short name in crates using Herald.)
    Step {
        /// The step's name (shown in the log and the status).
        step: String,
        /// The command.
        command: C,
        /// What undoes it.
        compensation: Option<C>,
    },
    /// Register `command` to run if the saga fails later (after the compensations of the
    /// steps scheduled after it), without a command now.
    Compensation {
        /// The step's name.
        step: String,
        /// The compensating command.
        command: C,
    },
    /// Set (or move) deadline `name` to fire `after` from now.
    Schedule {
        /// The deadline's name.
        name: String,
        /// When, from now.
        after: Duration,
    },
    /// Cancel deadline `name`.
    Cancel {
        /// The deadline's name.
        name: String,
    },
    /// End the saga once the steps decided so far completed.
    Complete,
    /// Fail: compensate the completed steps in reverse order.
    Fail {
        /// Why.
        reason: String,
    },
}

impl<C> Decision<C> {
    /// Sends `command` as step `step`, with no compensation.
    pub fn send(step: impl Into<String>, command: C) -> Self {
        Decision::Step {
            step: step.into(),
            command,
            compensation: None,
        }
    }

    /// Sets the compensation of a [`Decision::Step`] (other decisions are returned as they
    /// are).
    pub fn compensated_by(self, compensation: C) -> Self {
        match self {
            Decision::Step { step, command, .. } => Decision::Step {
                step,
                command,
                compensation: Some(compensation),
            },
            other => other,
        }
    }

    /// Registers a compensation without a command now.
    pub fn compensation(step: impl Into<String>, command: C) -> Self {
        Decision::Compensation {
            step: step.into(),
            command,
        }
    }

    /// Sets deadline `name`.
    pub fn schedule(name: impl Into<String>, after: Duration) -> Self {
        Decision::Schedule {
            name: name.into(),
            after,
        }
    }

    /// Cancels deadline `name`.
    pub fn cancel(name: impl Into<String>) -> Self {
        Decision::Cancel { name: name.into() }
    }

    /// Fails the saga.
    pub fn fail(reason: impl Into<String>) -> Self {
        Decision::Fail {
            reason: reason.into(),
        }
    }
}

/// A command a saga sends, with its deterministic id.
#[derive(Debug, Clone, PartialEq)]
pub struct Command<C> {
    /// Its id: the same every time this step (or its compensation) is sent; the receiver
    /// deduplicates by it.
    pub command_id: Uuid,
    /// The saga.
    pub saga: &'static str,
    /// The instance.
    pub instance: String,
    /// The step's name.
    pub step: String,
    /// Whether it is a compensation.
    pub compensation: bool,
    /// Correlation and causation for the events it causes (the instance's log stream).
    pub cause: Cause,
    /// The command.
    pub command: C,
}

/// Why a command was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// The receiver refused it (a business rule): the step failed and the saga compensates.
    /// For a compensation, retried like [`DispatchError::Failed`].
    #[error("refused: {0}")]
    Refused(String),
    /// It could not be delivered or carried out (store, network): retried with backoff.
    #[error("failed: {0}")]
    Failed(Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// Where a saga's commands go: local aggregates through their
/// [`Repository`](crate::aggregate::Repository) (`execute_once`), other services through
/// an outbox stream the relay publishes (append with the command id as the event id).
pub trait Dispatch<C>: Send + Sync {
    /// Carries out `command`, at most once per [`Command::command_id`]: a second call with
    /// an id already carried out succeeds without doing it again.
    fn dispatch(
        &self,
        command: &Command<C>,
    ) -> impl Future<Output = Result<(), DispatchError>> + Send;
}

/// Why the saga runner failed.
#[derive(Debug, thiserror::Error)]
pub enum SagaError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event or a log event could not be decoded.
    #[error("saga `{saga}`: {source}")]
    Decode {
        /// The saga.
        saga: &'static str,
        /// The decoding error.
        source: DecodeError,
    },
    /// A command could not be written to the log.
    #[error("saga `{saga}`: a command cannot be stored as JSON: {source}")]
    Encode {
        /// The saga.
        saga: &'static str,
        /// The serializer's error.
        source: serde_json::Error,
    },
}

/// The log stream of instance `instance` of saga `saga`: `saga-<saga>-<instance>`.
pub fn log_stream(saga: &str, instance: &str) -> String {
    format!("saga-{saga}-{instance}")
}

/// The id of step `step` of an instance (`compensation`: of its compensation), the same on
/// every replica and after every restart.
pub fn command_id(saga: &str, instance: &str, step: u32, compensation: bool) -> Uuid {
    let kind = if compensation { "undo" } else { "do" };
    let name = format!("{saga}\u{1f}{instance}\u{1f}{step}\u{1f}{kind}");
    Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

/// The UUID namespace of saga command ids.
const NAMESPACE: Uuid = Uuid::from_u128(0x6865_7261_6c64_2d73_6167_612d_636d_6473);

/// The instance an event (its JSON payload, its correlation id) belongs to under
/// `correlation`, if it names one.
pub(crate) fn instance_of(
    correlation: Correlation,
    payload: &[u8],
    correlation_id: Option<Uuid>,
) -> Option<String> {
    match correlation {
        Correlation::CorrelationId => correlation_id.map(|id| id.to_string()),
        Correlation::Field(field) => {
            let payload: serde_json::Value = serde_json::from_slice(payload).ok()?;
            match payload.get(field)? {
                serde_json::Value::String(text) => Some(text.clone()),
                serde_json::Value::Number(number) => Some(number.to_string()),
                _ => None,
            }
        }
    }
}
