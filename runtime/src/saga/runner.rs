//! The saga runner: routes events to instances, records decisions, carries them out, fires
//! deadlines, and keeps the index.

use std::marker::PhantomData;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::Bytes;
use crate::envelope::{Cause, NewEvent, RecordedEvent};
use crate::projection::{CheckpointWriter, Partition, ProjectionError, RunnerOptions};
use crate::saga::log::{Effect, decode, is_log_event};
use crate::saga::{
    Command, Decision, Dispatch, DispatchError, Input, Instance, Saga, SagaError, SagaEvent,
    SagaState, SagaStore, SagaSummary, command_id, instance_of, log_stream,
};
use crate::store::{Direction, Expected, StoreError};

/// How a saga runner retries, besides its [`RunnerOptions`] (whose `max_attempts`,
/// `initial_backoff` and `max_backoff` also bound a command's delivery attempts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SagaOptions {
    /// Deadlines fired per batch.
    pub deadlines_per_batch: usize,
}

impl Default for SagaOptions {
    fn default() -> Self {
        SagaOptions {
            deadlines_per_batch: 100,
        }
    }
}

/// Runs saga `G` over a store, sending its commands through `D`.
///
/// A [`Runner`](crate::projection::Runner) over the store's log (checkpoint and lease
/// `saga-<NAME>`, `#k` for a partition, which splits instances by id): each batch handles
/// the events after the checkpoint, then fires the deadlines that are due — only those due
/// before the first event it has not handled was recorded, so an answer that came in time
/// always wins over its deadline, however far behind the runner is. Events from a broker
/// go through [`SagaRunner::handle`] instead (and deadlines through
/// [`SagaRunner::fire_deadlines`]).
#[derive(Debug)]
pub struct SagaRunner<S, G, D> {
    store: S,
    dispatch: D,
    options: RunnerOptions,
    saga_options: SagaOptions,
    partition: Partition,
    checkpoints: CheckpointWriter,
    saga: PhantomData<fn() -> G>,
}

/// An event as it reaches a saga, from the log or from a broker.
struct Delivery<'a> {
    event_id: String,
    event_type: &'a str,
    schema_version: u32,
    payload: &'a [u8],
    correlation_id: Option<uuid::Uuid>,
    cause: Option<Cause>,
}

/// How many step results a runner records in one append at most.
const RESULTS_PER_APPEND: usize = 16;

pub(crate) fn now_micros() -> i64 {
    micros(SystemTime::now())
}

fn micros(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_micros()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

impl<S: SagaStore, G: Saga, D: Dispatch<G::Command>> SagaRunner<S, G, D> {
    /// A runner with default options.
    pub fn new(store: S, dispatch: D) -> Self {
        SagaRunner {
            store,
            dispatch,
            options: RunnerOptions::default(),
            saga_options: SagaOptions::default(),
            partition: Partition::ALL,
            checkpoints: CheckpointWriter::default(),
            saga: PhantomData,
        }
    }

    /// Sets the saga options.
    pub fn with_saga_options(mut self, options: SagaOptions) -> Self {
        self.saga_options = options;
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The dispatcher.
    pub fn dispatcher(&self) -> &D {
        &self.dispatch
    }

    /// The checkpoint's (and lease's) name: `saga-<NAME>`, `#k` for partition `k`.
    pub fn checkpoint_name(&self) -> String {
        self.partition.checkpoint_name(&format!("saga-{}", G::NAME))
    }

    /// Instance `instance` rebuilt from its log (version 0: it does not exist).
    pub async fn load(&self, instance: &str) -> Result<Instance<G>, SagaError> {
        let events = self
            .store
            .read_stream(
                &log_stream(G::NAME, instance),
                1,
                Direction::Forward,
                usize::MAX,
            )
            .await?;
        let mut loaded = Instance::<G>::default();
        for event in &events {
            let logged = decode(&event.event_type, event.schema_version, &event.payload).map_err(
                |source| SagaError::Decode {
                    saga: G::NAME,
                    source,
                },
            )?;
            loaded.apply(&logged).map_err(|source| SagaError::Decode {
                saga: G::NAME,
                source,
            })?;
            loaded.version = event.stream_version;
            if loaded.started.is_none() {
                loaded.started = Some(event.recorded_at);
            }
        }
        Ok(loaded)
    }

    /// Handles one event: finds its instance (starting one if the event's type starts the
    /// saga), records it with the saga's decisions, and carries them out. An event of
    /// another type, of another partition, without a correlation, for no instance, or
    /// already received, changes nothing (a redelivered event resumes what its first
    /// delivery left undone). An event reaching an instance that is compensating is not
    /// recorded (the compensation goes on), one reaching a finished instance is ignored.
    pub async fn handle(&self, event: &RecordedEvent) -> Result<(), SagaError> {
        self.deliver(Delivery {
            event_id: event.event_id.to_string(),
            event_type: &event.event_type,
            schema_version: event.schema_version,
            payload: &event.payload,
            correlation_id: Some(event.correlation_id),
            cause: Some(event.cause()),
        })
        .await
    }

    /// [`SagaRunner::handle`] for a message a [`Consumer`](crate::consumer::Consumer)
    /// received from a broker: call it from the consumer's handler, whose inbox makes the
    /// delivery exactly once (and the saga log drops a redelivered event id anyway). The
    /// event is recorded in its current version; [`Correlation::CorrelationId`] reads the
    /// `Herald-Correlation-Id` header, which Herald's relay sets. On SQLite, keep the
    /// saga's store in another file than the consumer's inbox: the handler runs inside the
    /// inbox's write transaction, and a SQLite file has one writer at a time.
    ///
    /// [`Correlation::CorrelationId`]: crate::saga::Correlation::CorrelationId
    #[cfg(all(feature = "consumer", any(feature = "sqlite", feature = "postgres")))]
    pub async fn handle_message(
        &self,
        message: &crate::consumer::Received<G::Event>,
    ) -> Result<(), SagaError>
    where
        G::Event: crate::Event,
    {
        let encoded = crate::Event::encode(&message.event).map_err(|source| {
            SagaError::Store(StoreError::Corrupt(format!(
                "saga `{}`: a received event cannot be encoded again: {source}",
                G::NAME
            )))
        })?;
        let header_id = |name: &str| {
            message
                .headers
                .get(name)
                .and_then(|value| uuid::Uuid::parse_str(value).ok())
        };
        let correlation_id = header_id(crate::transport::CORRELATION_ID_HEADER);
        let cause = match (
            correlation_id,
            uuid::Uuid::parse_str(&message.event_id).ok(),
        ) {
            (Some(correlation_id), Some(causation_id)) => Some(Cause {
                correlation_id,
                causation_id,
            }),
            _ => None,
        };
        self.deliver(Delivery {
            event_id: message.event_id.clone(),
            event_type: encoded.event_type,
            schema_version: encoded.version,
            payload: &encoded.payload,
            correlation_id,
            cause,
        })
        .await
    }

    /// Routes one delivered event to its instance: see [`SagaRunner::handle`].
    async fn deliver(&self, event: Delivery<'_>) -> Result<(), SagaError> {
        if is_log_event(event.event_type) || !G::Event::accepts(event.event_type) {
            return Ok(());
        }
        let Some(instance_id) = instance_of(G::CORRELATION, event.payload, event.correlation_id)
        else {
            return Ok(());
        };
        if !self.partition.contains(&instance_id) {
            return Ok(());
        }
        let event_id = event.event_id;
        let stream = log_stream(G::NAME, &instance_id);
        let mut instance = loop {
            let mut instance = self.load(&instance_id).await?;
            if instance.version == 0 && !G::STARTS.contains(&event.event_type) {
                return Ok(());
            }
            if instance.state.is_final() {
                return Ok(());
            }
            // Received already (a redelivery, or the retry after a crash): what its first
            // delivery decided may not all be done yet.
            if instance.has_received(&event_id) {
                self.sync_deadlines(&instance_id, &instance).await?;
                break instance;
            }
            // Compensating: the event changes nothing, but what is left to undo goes on.
            if instance.state != SagaState::Running {
                break instance;
            }
            let input =
                G::Event::from_stored(event.event_type, event.schema_version, event.payload)
                    .map_err(|source| SagaError::Decode {
                        saga: G::NAME,
                        source,
                    })?;
            let mut log = Vec::with_capacity(8);
            if instance.version == 0 {
                log.push(SagaEvent::Started {
                    saga: G::NAME.to_owned(),
                    instance: instance_id.clone(),
                });
            }
            log.push(SagaEvent::Received {
                event_id: event_id.clone(),
                event_type: event.event_type.to_owned(),
                schema_version: event.schema_version,
                payload: Bytes(event.payload.to_vec()),
            });
            // Folded before deciding: the saga decides on the state that includes the event.
            for logged in &log {
                instance.apply(logged).map_err(|source| SagaError::Decode {
                    saga: G::NAME,
                    source,
                })?;
            }
            let folded = log.len();
            let decisions = instance.saga.on(&input);
            log.extend(self.record_decisions(&instance, decisions)?);
            let schedules = log
                .iter()
                .any(|logged| matches!(logged, SagaEvent::DeadlineScheduled { .. }));
            match self
                .append(&stream, &mut instance, log, folded, event.cause)
                .await
            {
                Ok(()) => {
                    if schedules {
                        self.sync_deadlines(&instance_id, &instance).await?;
                    }
                    break instance;
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(error) => return Err(error.into()),
            }
        };
        self.drive(&instance_id, &mut instance).await
    }

    /// Fires up to [`SagaOptions::deadlines_per_batch`] deadlines due now; returns how
    /// many it handled (fired or found stale). For a runner fed by [`SagaRunner::handle`];
    /// following the log, it fires them itself.
    pub async fn fire_deadlines(&self) -> Result<usize, SagaError> {
        self.fire_deadlines_until(now_micros()).await
    }

    /// Fires the deadlines due at `until` (µs since the Unix epoch).
    async fn fire_deadlines_until(&self, until: i64) -> Result<usize, SagaError> {
        let due = self
            .store
            .due_deadlines(G::NAME, until, self.saga_options.deadlines_per_batch)
            .await?;
        let mut handled = 0;
        for (instance_id, name, due_micros) in due {
            if !self.partition.contains(&instance_id) {
                continue;
            }
            handled += 1;
            let stream = log_stream(G::NAME, &instance_id);
            let mut instance = loop {
                let mut instance = self.load(&instance_id).await?;
                if instance.state != SagaState::Running
                    || instance.deadlines.get(&name) != Some(&due_micros)
                {
                    break instance;
                }
                let decisions = instance.saga.on_deadline(&name);
                let mut log = vec![SagaEvent::DeadlineFired {
                    deadline: name.clone(),
                }];
                log.extend(self.record_decisions(&instance, decisions)?);
                match self.append(&stream, &mut instance, log, 0, None).await {
                    Ok(()) => {
                        tracing::debug!(saga = G::NAME, instance = %instance_id, deadline = %name, "deadline fired");
                        self.sync_deadlines(&instance_id, &instance).await?;
                        break instance;
                    }
                    Err(StoreError::Conflict { .. }) => continue,
                    Err(error) => return Err(error.into()),
                }
            };
            // Whatever the deadline found, what the instance left undone is done first, so
            // the row goes only once nothing depends on it.
            self.drive(&instance_id, &mut instance).await?;
            self.store
                .remove_deadline(G::NAME, &instance_id, &name, Some(due_micros))
                .await?;
        }
        Ok(handled)
    }

    /// The log events that record `decisions`, numbering steps after the instance's.
    fn record_decisions(
        &self,
        instance: &Instance<G>,
        decisions: Vec<Decision<G::Command>>,
    ) -> Result<Vec<SagaEvent>, SagaError> {
        let json = |command: &G::Command| {
            serde_json::to_string(command).map_err(|source| SagaError::Encode {
                saga: G::NAME,
                source,
            })
        };
        let mut step = u32::try_from(instance.steps()).unwrap_or(u32::MAX);
        let mut log = Vec::with_capacity(decisions.len());
        for decision in decisions {
            log.push(match decision {
                Decision::Step {
                    step: name,
                    command,
                    compensation,
                } => {
                    let scheduled = SagaEvent::StepScheduled {
                        step,
                        name,
                        command: Some(json(&command)?),
                        compensation: compensation.as_ref().map(json).transpose()?,
                    };
                    step = step.saturating_add(1);
                    scheduled
                }
                Decision::Compensation {
                    step: name,
                    command,
                } => {
                    let scheduled = SagaEvent::StepScheduled {
                        step,
                        name,
                        command: None,
                        compensation: Some(json(&command)?),
                    };
                    step = step.saturating_add(1);
                    scheduled
                }
                Decision::Schedule { name, after } => SagaEvent::DeadlineScheduled {
                    deadline: name,
                    due_micros: now_micros()
                        .saturating_add(i64::try_from(after.as_micros()).unwrap_or(i64::MAX)),
                },
                Decision::Cancel { name } => SagaEvent::DeadlineCancelled { deadline: name },
                Decision::Complete => SagaEvent::CompletionRequested,
                Decision::Fail { reason } => SagaEvent::CompensationStarted { reason },
            });
        }
        Ok(log)
    }

    /// Appends `log` to an instance's stream at the version it was loaded at, and folds it
    /// into the instance but for its first `folded` events, folded already (a conflict
    /// leaves the instance unusable: load it again).
    async fn append(
        &self,
        stream: &str,
        instance: &mut Instance<G>,
        log: Vec<SagaEvent>,
        folded: usize,
        cause: Option<Cause>,
    ) -> Result<(), StoreError> {
        let events = log
            .iter()
            .map(|logged| {
                let event = NewEvent::new(logged)?;
                Ok(match cause {
                    Some(cause) => event.caused_by(cause),
                    None => event,
                })
            })
            .collect::<Result<Vec<_>, crate::EncodeError>>()
            .map_err(|error| StoreError::Corrupt(format!("saga log event: {error}")))?;
        let appended = self
            .store
            .append(stream, Expected::Exact(instance.version), events)
            .await?;
        for logged in log.iter().skip(folded) {
            instance
                .apply(logged)
                .map_err(|error| StoreError::Corrupt(format!("saga log event: {error}")))?;
        }
        instance.version = appended.stream_version;
        instance.started.get_or_insert_with(SystemTime::now);
        Ok(())
    }

    /// Writes the instance's deadlines to the deadline table (idempotent).
    async fn sync_deadlines(
        &self,
        instance_id: &str,
        instance: &Instance<G>,
    ) -> Result<(), SagaError> {
        for (name, due) in &instance.deadlines {
            self.store
                .schedule_deadline(G::NAME, instance_id, name, *due)
                .await?;
        }
        Ok(())
    }

    /// Carries out what the instance decided and has not done yet, recording each result,
    /// until it waits for an event or a deadline, or ends; then updates the index.
    async fn drive(&self, instance_id: &str, instance: &mut Instance<G>) -> Result<(), SagaError> {
        let stream = log_stream(G::NAME, instance_id);
        // Every command of an instance shares one correlation id, derived from its stream.
        let correlation_id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, stream.as_bytes());
        // The results are folded into the instance as they come and appended together at
        // the end (or every few): a crash before that only makes the next run send the
        // same commands again, which the receivers recognise.
        let mut results = Vec::new();
        while let Some(effect) = instance.next_effect() {
            let result = match effect {
                Effect::Send { step, command } => {
                    match self
                        .send(instance_id, instance, step, &command, false, correlation_id)
                        .await?
                    {
                        Ok(()) => SagaEvent::StepCompleted { step },
                        Err(DispatchError::Refused(reason)) => {
                            SagaEvent::StepFailed { step, reason }
                        }
                        Err(DispatchError::Failed(error)) => SagaEvent::Stuck {
                            reason: format!("step `{}`: {error}", instance.step_name(step)),
                        },
                    }
                }
                Effect::Compensate { step, command } => {
                    match self
                        .send(instance_id, instance, step, &command, true, correlation_id)
                        .await?
                    {
                        Ok(()) => SagaEvent::Compensated { step },
                        Err(error) => SagaEvent::Stuck {
                            reason: format!(
                                "compensation of step `{}`: {error}",
                                instance.step_name(step)
                            ),
                        },
                    }
                }
                Effect::Complete => SagaEvent::Completed,
                Effect::Fail { reason } => SagaEvent::Failed { reason },
            };
            instance
                .apply(&result)
                .map_err(|source| SagaError::Decode {
                    saga: G::NAME,
                    source,
                })?;
            results.push(result);
            if results.len() >= RESULTS_PER_APPEND || instance.next_effect().is_none() {
                // Folded already; the instance's version is still the one they follow.
                let folded = results.len();
                let flushed = std::mem::take(&mut results);
                match self.append(&stream, instance, flushed, folded, None).await {
                    Ok(()) => {}
                    // Another replica moved the instance on: go on from where it is.
                    Err(StoreError::Conflict { .. }) => *instance = self.load(instance_id).await?,
                    Err(error) => return Err(error.into()),
                }
            }
        }
        self.store
            .record_saga(&SagaSummary {
                saga: G::NAME.to_owned(),
                instance: instance_id.to_owned(),
                state: instance.state,
                last_step: instance.last_step.clone(),
                error: instance.error.clone(),
                started_micros: instance.started.map_or_else(now_micros, micros),
                updated_micros: now_micros(),
            })
            .await?;
        Ok(())
    }

    /// Sends a step's command (or compensation), retrying failures with backoff up to
    /// `max_attempts` times (a refused compensation too); the last error is returned.
    async fn send(
        &self,
        instance_id: &str,
        instance: &Instance<G>,
        step: u32,
        command: &str,
        compensation: bool,
        correlation_id: uuid::Uuid,
    ) -> Result<Result<(), DispatchError>, SagaError> {
        let command: G::Command =
            serde_json::from_str(command).map_err(|source| SagaError::Encode {
                saga: G::NAME,
                source,
            })?;
        let command_id = command_id(G::NAME, instance_id, step, compensation);
        let command = Command {
            command_id,
            saga: G::NAME,
            instance: instance_id.to_owned(),
            step: instance.step_name(step).to_owned(),
            compensation,
            cause: Cause {
                correlation_id,
                causation_id: command_id,
            },
            command,
        };
        let mut attempts = 0;
        loop {
            attempts += 1;
            let error = match self.dispatch.dispatch(&command).await {
                Ok(()) => return Ok(Ok(())),
                Err(DispatchError::Refused(reason)) if !compensation => {
                    return Ok(Err(DispatchError::Refused(reason)));
                }
                Err(error) => error,
            };
            if attempts >= self.options.max_attempts.max(1) {
                tracing::error!(saga = G::NAME, instance = instance_id, step = %command.step, compensation, %error, "command failed every attempt; the instance is stuck");
                return Ok(Err(error));
            }
            tracing::warn!(saga = G::NAME, instance = instance_id, step = %command.step, attempts, %error, "command failed; retrying");
            tokio::time::sleep(self.options.backoff(attempts)).await;
        }
    }

    async fn save_checkpoint(&self, name: &str, position: u64) -> Result<(), ProjectionError> {
        self.checkpoints.save(&self.store, name, position).await
    }

    fn failed(&self, position: u64, error: SagaError) -> ProjectionError {
        match error {
            SagaError::Store(error) => ProjectionError::Store(error),
            other => ProjectionError::Handler {
                projection: self.checkpoint_name(),
                position,
                source: Box::new(other),
            },
        }
    }
}

impl<S: SagaStore, G: Saga, D: Dispatch<G::Command>> crate::projection::batch_loop::Batches
    for SagaRunner<S, G, D>
{
    fn options(&mut self) -> &mut RunnerOptions {
        &mut self.options
    }

    fn checkpoint_name(&self) -> String {
        SagaRunner::checkpoint_name(self)
    }

    fn set_partition(&mut self, partition: Partition) {
        self.partition = partition;
    }

    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    fn set_fence(&mut self, fence: Option<crate::lease::Fence>) {
        self.checkpoints.fence = fence;
    }

    async fn checkpoint_and_head(&mut self) -> Result<(u64, u64), ProjectionError> {
        let checkpoint = self.store.load_checkpoint(&self.checkpoint_name()).await?;
        Ok((checkpoint, self.store.head_position().await?))
    }

    async fn next_batch(&mut self) -> Result<(usize, u64), ProjectionError> {
        let name = self.checkpoint_name();
        let checkpoint = self.store.load_checkpoint(&name).await?;
        let events = self
            .store
            .read_all(checkpoint + 1, self.options.batch_size.max(1))
            .await?;
        let mut done = checkpoint;
        for event in &events {
            if let Err(error) = self.handle(event).await {
                if done > checkpoint {
                    self.save_checkpoint(&name, done).await?;
                }
                return Err(self.failed(event.position, error));
            }
            done = event.position;
        }
        if done > checkpoint {
            self.save_checkpoint(&name, done).await?;
        }
        // A deadline fires only once every event recorded before it was due was handled:
        // an answer that came in time wins over its deadline, however far behind the
        // runner is.
        let horizon = match self.store.read_all(done + 1, 1).await?.first() {
            Some(next) => micros(next.recorded_at).min(now_micros()),
            None => now_micros(),
        };
        let fired = self
            .fire_deadlines_until(horizon)
            .await
            .map_err(|error| self.failed(done, error))?;
        Ok((events.len() + fired, done))
    }

    async fn reset(&mut self) -> Result<(), ProjectionError> {
        let name = self.checkpoint_name();
        self.save_checkpoint(&name, 0).await
    }
}
