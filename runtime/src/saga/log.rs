//! The saga log: every instance is a stream, `saga-<name>-<instance>`, of [`SagaEvent`]s,
//! and its [`Instance`] (the saga's state and where its steps are) is their fold.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Bytes;
use crate::error::DecodeError;
use crate::event::Event;
use crate::saga::{Input, Saga};

/// What a saga instance's log records, one event per fact. Versioned like any event, so a
/// log written today replays after the format changes.
#[derive(herald_macros::Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "herald.saga", version = 1)]
pub enum SagaEvent {
    /// The instance began.
    Started {
        /// The saga's name.
        saga: String,
        /// The instance id.
        instance: String,
    },
    /// An event reached the instance (its copy, so the log replays without its source).
    Received {
        /// The event's id (a redelivery with the same id is ignored).
        event_id: String,
        /// Its type as stored.
        event_type: String,
        /// Its schema version.
        schema_version: u32,
        /// Its payload as stored.
        payload: Bytes,
    },
    /// A deadline fired.
    DeadlineFired {
        /// Its name.
        deadline: String,
    },
    /// The saga decided a step: a command to send and what undoes it. A step without a
    /// command only registers its compensation.
    StepScheduled {
        /// The step's number in the instance, from 0.
        step: u32,
        /// The step's name.
        name: String,
        /// The command, as JSON.
        command: Option<String>,
        /// The compensating command, as JSON.
        compensation: Option<String>,
    },
    /// A step's command was accepted.
    StepCompleted {
        /// The step.
        step: u32,
    },
    /// A step's command was refused: the instance compensates.
    StepFailed {
        /// The step.
        step: u32,
        /// The refusal.
        reason: String,
    },
    /// A deadline was set (or moved).
    DeadlineScheduled {
        /// Its name.
        deadline: String,
        /// When it is due, in microseconds since the Unix epoch.
        due_micros: i64,
    },
    /// A deadline was cancelled.
    DeadlineCancelled {
        /// Its name.
        deadline: String,
    },
    /// The saga decided it is done once its steps are.
    CompletionRequested,
    /// The saga decided to fail: the instance compensates.
    CompensationStarted {
        /// Why.
        reason: String,
    },
    /// A step's compensation was accepted.
    Compensated {
        /// The step.
        step: u32,
    },
    /// Every step completed and the saga asked to complete.
    Completed,
    /// Every compensation ran: the instance ended compensated.
    Failed {
        /// Why it failed.
        reason: String,
    },
    /// A command could not be delivered, or a compensation failed, after every retry: the
    /// instance stops and waits for an operator.
    Stuck {
        /// The last error.
        reason: String,
    },
}

/// Where a saga instance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SagaState {
    /// Sending commands and waiting for events.
    Running,
    /// Running compensations after a failure.
    Compensating,
    /// Done: every step completed.
    Completed,
    /// Failed, and every compensation ran.
    Compensated,
    /// Parked after a delivery or a compensation failed every retry.
    Stuck,
}

impl SagaState {
    /// Every state, in order.
    pub const ALL: [SagaState; 5] = [
        SagaState::Running,
        SagaState::Compensating,
        SagaState::Completed,
        SagaState::Compensated,
        SagaState::Stuck,
    ];

    /// Its name, as stored in the saga index and shown: `running`, `compensating`,
    /// `completed`, `compensated`, `stuck`.
    pub fn as_str(self) -> &'static str {
        match self {
            SagaState::Running => "running",
            SagaState::Compensating => "compensating",
            SagaState::Completed => "completed",
            SagaState::Compensated => "compensated",
            SagaState::Stuck => "stuck",
        }
    }

    /// The state named `name` (see [`SagaState::as_str`]).
    pub fn parse(name: &str) -> Option<SagaState> {
        SagaState::ALL
            .into_iter()
            .find(|state| state.as_str() == name)
    }

    /// Whether the instance will do nothing more by itself.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            SagaState::Completed | SagaState::Compensated | SagaState::Stuck
        )
    }
}

/// Where one step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StepState {
    Pending,
    Done,
    Failed,
}

/// One step of an instance.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) name: String,
    pub(crate) command: Option<String>,
    pub(crate) compensation: Option<String>,
    pub(crate) state: StepState,
}

/// A saga instance rebuilt from its log.
#[derive(Debug, Clone)]
pub struct Instance<G> {
    /// The saga's state: the fold of the events it received.
    pub saga: G,
    /// The log stream's version (0: the instance does not exist).
    pub version: u64,
    /// Where it is.
    pub state: SagaState,
    /// The last step it recorded (a step's name, or a compensation as `undo <name>`).
    pub last_step: Option<String>,
    /// The failure or error it recorded last.
    pub error: Option<String>,
    /// The deadlines set and not yet fired or cancelled, with when they are due (µs).
    pub deadlines: BTreeMap<String, i64>,
    /// The deadlines that fired.
    pub fired: BTreeSet<String>,
    /// When its log began.
    pub started: Option<std::time::SystemTime>,
    pub(crate) received: HashSet<String>,
    pub(crate) steps: Vec<Step>,
    pub(crate) compensated: BTreeSet<u32>,
    pub(crate) complete: bool,
}

impl<G: Saga> Default for Instance<G> {
    fn default() -> Self {
        Instance {
            saga: G::default(),
            version: 0,
            state: SagaState::Running,
            last_step: None,
            error: None,
            deadlines: BTreeMap::new(),
            fired: BTreeSet::new(),
            started: None,
            received: HashSet::new(),
            steps: Vec::new(),
            compensated: BTreeSet::new(),
            complete: false,
        }
    }
}

impl<G: Saga> Instance<G> {
    /// Whether the instance received the event with this id.
    pub fn has_received(&self, event_id: &str) -> bool {
        self.received.contains(event_id)
    }

    /// How many steps it scheduled.
    pub fn steps(&self) -> usize {
        self.steps.len()
    }

    /// Folds one log event in.
    pub(crate) fn apply(&mut self, event: &SagaEvent) -> Result<(), DecodeError> {
        match event {
            SagaEvent::Started { .. } => self.state = SagaState::Running,
            SagaEvent::Received {
                event_id,
                event_type,
                schema_version,
                payload,
            } => {
                let input = G::Event::from_stored(event_type, *schema_version, &payload.0)?;
                self.saga.apply(&input);
                self.received.insert(event_id.clone());
            }
            SagaEvent::DeadlineFired { deadline } => {
                self.deadlines.remove(deadline);
                self.fired.insert(deadline.clone());
            }
            SagaEvent::StepScheduled {
                step: _,
                name,
                command,
                compensation,
            } => self.steps.push(Step {
                name: name.clone(),
                command: command.clone(),
                compensation: compensation.clone(),
                state: if command.is_some() {
                    StepState::Pending
                } else {
                    StepState::Done
                },
            }),
            SagaEvent::StepCompleted { step } => {
                if let Some(step) = self.steps.get_mut(*step as usize) {
                    step.state = StepState::Done;
                    self.last_step = Some(step.name.clone());
                }
            }
            SagaEvent::StepFailed { step, reason } => {
                if let Some(step) = self.steps.get_mut(*step as usize) {
                    step.state = StepState::Failed;
                    self.last_step = Some(step.name.clone());
                }
                self.error = Some(reason.clone());
                self.state = SagaState::Compensating;
            }
            SagaEvent::DeadlineScheduled {
                deadline,
                due_micros,
            } => {
                self.deadlines.insert(deadline.clone(), *due_micros);
            }
            SagaEvent::DeadlineCancelled { deadline } => {
                self.deadlines.remove(deadline);
            }
            SagaEvent::CompletionRequested => self.complete = true,
            SagaEvent::CompensationStarted { reason } => {
                self.error = Some(reason.clone());
                self.state = SagaState::Compensating;
            }
            SagaEvent::Compensated { step } => {
                self.compensated.insert(*step);
                if let Some(step) = self.steps.get(*step as usize) {
                    self.last_step = Some(format!("undo {}", step.name));
                }
            }
            SagaEvent::Completed => {
                self.state = SagaState::Completed;
                self.deadlines.clear();
            }
            SagaEvent::Failed { reason } => {
                self.error = Some(reason.clone());
                self.state = SagaState::Compensated;
                self.deadlines.clear();
            }
            SagaEvent::Stuck { reason } => {
                self.error = Some(reason.clone());
                self.state = SagaState::Stuck;
            }
        }
        Ok(())
    }

    /// What the instance must do next, if anything.
    pub(crate) fn next_effect(&self) -> Option<Effect> {
        match self.state {
            SagaState::Running => {
                if let Some((index, step)) = self
                    .steps
                    .iter()
                    .enumerate()
                    .find(|(_, step)| step.state == StepState::Pending)
                {
                    let command = step.command.clone()?;
                    return Some(Effect::Send {
                        step: index as u32,
                        command,
                    });
                }
                self.complete.then_some(Effect::Complete)
            }
            SagaState::Compensating => {
                let undo = self.steps.iter().enumerate().rev().find(|(index, step)| {
                    step.state == StepState::Done
                        && step.compensation.is_some()
                        && !self.compensated.contains(&(*index as u32))
                });
                match undo {
                    Some((index, step)) => Some(Effect::Compensate {
                        step: index as u32,
                        command: step.compensation.clone()?,
                    }),
                    None => Some(Effect::Fail {
                        reason: self.error.clone().unwrap_or_default(),
                    }),
                }
            }
            SagaState::Completed | SagaState::Compensated | SagaState::Stuck => None,
        }
    }

    /// A step's name.
    pub(crate) fn step_name(&self, step: u32) -> &str {
        self.steps
            .get(step as usize)
            .map_or("", |step| step.name.as_str())
    }
}

/// The next thing an instance does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Send step `step`'s command (JSON).
    Send { step: u32, command: String },
    /// Send step `step`'s compensation (JSON).
    Compensate { step: u32, command: String },
    /// Record the end: completed.
    Complete,
    /// Record the end: compensated.
    Fail { reason: String },
}

/// Whether a stored event type is one of the saga log's.
pub(crate) fn is_log_event(event_type: &str) -> bool {
    crate::store::is_event_of::<SagaEvent>(event_type)
}

/// Decodes a log event, whatever version wrote it.
pub(crate) fn decode(
    event_type: &str,
    schema_version: u32,
    payload: &[u8],
) -> Result<SagaEvent, DecodeError> {
    SagaEvent::decode(event_type, schema_version, payload)
}
