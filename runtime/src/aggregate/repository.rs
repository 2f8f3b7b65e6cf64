//! The repository: loads aggregates, runs commands on them in turn and appends their events.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use uuid::Uuid;

use super::cache::StateCache;
use super::queue::{Held, Pending, Queues};
use super::retry::ConflictRetry;
use super::{Aggregate, CommandError, Executed, Loaded};
use crate::Backoff;
use crate::envelope::{Cause, NewEvent};
use crate::error::EncodeError;
use crate::event::Event;
use crate::store::{EventStore, Expected, Snapshot, StoreError};

/// The most commands of one aggregate that one append takes.
const MAX_COMMANDS: usize = 128;

/// Loads aggregates from a store, runs commands and appends their events.
///
/// # Hot aggregates
///
/// Commands on one aggregate id run one after another, in arrival order, while commands on
/// different ids run in parallel; clones share this, so in one process commands never race
/// each other for a stream version. The commands of an id are queued, and a task (spawned by
/// the first command to find the queue empty, ended when it is empty again: nothing stays
/// behind for idle ids) runs them: it takes every command queued so far, runs them in order
/// on the state, each seeing the events of the ones before it, appends all their events in
/// one append, answers each command with its own events and version, and keeps the state
/// for the next commands. A burst of commands on one aggregate therefore costs one load,
/// then one append per group of commands. A command whose caller stops waiting still runs.
///
/// A version conflict can then only come from another process (or another repository on the
/// same store). The commands are then run again on the state loaded from the store, after a
/// wait that doubles with each conflict, with jitter, until
/// [`conflict_deadline`](Repository::conflict_deadline) has passed; then the conflict is each
/// command's error. A command the aggregate refuses is never retried; it is answered once the
/// commands before it are appended (if it was refused on a state kept in memory, all are
/// first run again on the state loaded from the store). When loading fails, the commands are
/// run again one by one, so that one command's error never becomes another's; when an append
/// fails otherwise than with a conflict, whether it stored the events is unknown: the first
/// command of the group gets the error and the others [`StoreError::Interrupted`].
pub struct Repository<S, A: Aggregate> {
    store: S,
    snapshot_every: Option<u64>,
    retry: ConflictRetry,
    queues: Arc<Queues<A>>,
}

impl<S: Clone, A: Aggregate> Clone for Repository<S, A> {
    fn clone(&self) -> Self {
        Repository {
            store: self.store.clone(),
            snapshot_every: self.snapshot_every,
            retry: self.retry,
            queues: self.queues.clone(),
        }
    }
}

impl<S: std::fmt::Debug, A: Aggregate> std::fmt::Debug for Repository<S, A> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Repository")
            .field("store", &self.store)
            .field("snapshot_every", &self.snapshot_every)
            .field("conflict_deadline", &self.retry.deadline)
            .field("cache", &self.queues.cache_capacity())
            .finish()
    }
}

impl<S: EventStore, A: Aggregate> Repository<S, A> {
    /// A repository without snapshots or cache that retries conflicts for up to 5 seconds,
    /// waiting 5 ms before the first retry and at most 500 ms between two.
    pub fn new(store: S) -> Self {
        Repository {
            store,
            snapshot_every: None,
            retry: ConflictRetry::default(),
            queues: Arc::new(Queues::new(None)),
        }
    }

    /// Keeps the state of up to `capacity` idle aggregates in memory between commands, so a
    /// command on a recently used aggregate skips loading it. Stale states are safe: the
    /// append expects the cached version, so a state another process moved past conflicts
    /// and the aggregate is reloaded; a command refused on a cached state is re-run on the
    /// state loaded from the store, so refusals never rest on stale state. Loads
    /// ([`Repository::load`]) always read the store. Off by default; set it before cloning
    /// the repository (clones made before have a cache, and queues, of their own).
    pub fn cache(mut self, capacity: usize) -> Self {
        self.queues = Arc::new(Queues::new(
            (capacity > 0).then(|| StateCache::new(capacity)),
        ));
        self
    }

    /// Saves a snapshot whenever a command makes the stream cross a multiple of `every`.
    pub fn snapshot_every(mut self, every: u64) -> Self {
        self.snapshot_every = (every > 0).then_some(every);
        self
    }

    /// How long a command keeps retrying after version conflicts, from its first attempt
    /// (waiting in its aggregate's queue does not count). Zero: a conflict with another
    /// process fails the command at once. Default 5 seconds.
    pub fn conflict_deadline(mut self, deadline: Duration) -> Self {
        self.retry.deadline = deadline;
        self
    }

    /// The wait before the first retry after a conflict (`base`, default 5 ms) and the
    /// longest wait (`cap`, default 500 ms). The wait doubles with each conflict up to the
    /// cap; a random part of up to half of it is dropped, so that processes that collided do
    /// not retry in step.
    pub fn conflict_backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.retry.backoff = Backoff {
            initial: base,
            max: cap.max(base),
        };
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The stream of aggregate `id`.
    pub fn stream_id(id: &str) -> String {
        format!("{}-{id}", A::TYPE)
    }

    /// Loads aggregate `id`: the latest usable snapshot, then the events after it.
    pub async fn load(&self, id: &str) -> Result<Loaded<A>, StoreError> {
        let stream_id = Self::stream_id(id);
        let mut loaded = Loaded {
            state: A::default(),
            version: 0,
            from_snapshot: false,
        };
        if self.snapshot_every.is_some()
            && let Some(snapshot) = self.store.load_snapshot(&stream_id).await?
            && snapshot.aggregate_type == A::TYPE
            && snapshot.schema_version == A::SNAPSHOT_VERSION
            && let Ok(state) = serde_json::from_value::<A>(snapshot.state)
        {
            loaded = Loaded {
                state,
                version: snapshot.stream_version,
                from_snapshot: true,
            };
        }
        self.store
            .fold_stream(
                &stream_id,
                loaded.version + 1,
                usize::MAX,
                &mut loaded,
                |loaded, stored| {
                    let event =
                        A::Event::decode(stored.event_type, stored.schema_version, stored.payload)
                            .map_err(|source| StoreError::DecodeInStream {
                                stream_id: Self::stream_id(id),
                                stream_version: stored.stream_version,
                                event_type: stored.event_type.to_owned(),
                                source: Box::new(source),
                            })?;
                    loaded.state.apply(&event);
                    loaded.version = stored.stream_version;
                    Ok(())
                },
            )
            .await?;
        Ok(loaded)
    }

    /// Runs `command` on aggregate `id` and appends its events, after the commands on `id`
    /// that came before it.
    pub async fn execute(
        &self,
        id: &str,
        command: A::Command,
    ) -> Result<Executed<A::Event>, CommandError<A::Error>> {
        self.execute_caused_by(id, command, None).await
    }

    /// [`Repository::execute`], carrying correlation and causation from `cause` (usually
    /// [`crate::Envelope::cause`] of the event that triggered the command).
    pub async fn execute_caused_by(
        &self,
        id: &str,
        command: A::Command,
        cause: Option<Cause>,
    ) -> Result<Executed<A::Event>, CommandError<A::Error>> {
        self.submit(id, command, cause, None).await
    }

    /// Runs `command` on aggregate `id` at most once per `command_id`, however often it is
    /// called (a saga step sent again after a crash, a redelivered message): its events get
    /// ids derived from `command_id`, and a command whose first event is already stored is
    /// not run again. Returns `None` when it had already been carried out (also when this
    /// call lost a race with another process carrying out the same command: the store's
    /// idempotent re-append or the refusal on the state after it is then recognised as the
    /// command having been done). A command that produced no events leaves no trace and runs
    /// again.
    pub async fn execute_once(
        &self,
        id: &str,
        command_id: Uuid,
        command: A::Command,
        cause: Option<Cause>,
    ) -> Result<Option<Executed<A::Event>>, CommandError<A::Error>> {
        let first = derived_event_id(command_id, 0);
        if self.store.read_event(first).await?.is_some() {
            return Ok(None);
        }
        match self.submit(id, command, cause, Some(command_id)).await {
            Ok(executed) => Ok(Some(executed)),
            Err(error) => match self.store.read_event(first).await {
                Ok(Some(_)) => Ok(None),
                _ => Err(error),
            },
        }
    }

    /// Queues a command and waits for its answer.
    async fn submit(
        &self,
        id: &str,
        command: A::Command,
        cause: Option<Cause>,
        command_id: Option<Uuid>,
    ) -> Result<Executed<A::Event>, CommandError<A::Error>> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            command,
            cause,
            command_id,
            reply,
        };
        if let Some(held) = self.queues.push(id, pending) {
            // Spawned, so that a caller that stops waiting never cancels the commands of the
            // callers queued behind it. Boxed: the task's future is several kilobytes, which
            // spawning would otherwise copy more than once, for every command.
            let run = Box::pin(self.clone().run_queue(id.to_owned(), held));
            tokio::spawn(run);
        }
        answer.await.map_err(|_| {
            CommandError::Store(StoreError::Interrupted {
                stream_id: Self::stream_id(id),
            })
        })?
    }

    /// Runs the queued commands of aggregate `id` until none is left, starting from `held`.
    async fn run_queue(self, id: String, mut held: Held<A>) {
        let mut guard = Abandoned {
            queues: &self.queues,
            id: &id,
            finished: false,
        };
        let stream_id = Self::stream_id(&id);
        loop {
            let commands = self.queues.next(&id, &mut held, MAX_COMMANDS);
            if commands.is_empty() {
                guard.finished = true;
                return;
            }
            held = match self.run_batch(&id, &stream_id, commands, held).await {
                Ok(held) => held,
                Err((mut commands, error)) if commands.len() == 1 => {
                    if let Some(pending) = commands.pop() {
                        let _ = pending.reply.send(Err(error));
                    }
                    None
                }
                // Nothing was appended: run alone, each command gets an error of its own.
                Err((commands, _)) => {
                    let mut held = None;
                    for pending in commands {
                        held = match self.run_batch(&id, &stream_id, vec![pending], None).await {
                            Ok(alone) => alone,
                            Err((mut alone, error)) => {
                                if let Some(pending) = alone.pop() {
                                    let _ = pending.reply.send(Err(error));
                                }
                                None
                            }
                        };
                    }
                    held
                }
            };
        }
    }

    /// Runs `commands` in order on the state, from `held` or loaded, and appends all their
    /// events at once; answers each and returns the state after them. A conflict reloads
    /// the state and runs them all again (after a wait, unless the state came from memory).
    /// When the load fails, the commands come back unanswered with the error.
    async fn run_batch(
        &self,
        id: &str,
        stream_id: &str,
        commands: Vec<Pending<A>>,
        mut held: Held<A>,
    ) -> Result<Held<A>, (Vec<Pending<A>>, CommandError<A::Error>)> {
        let mut retries = self.retry.start();
        loop {
            let from_memory = held.is_some();
            let (mut state, version) = match held.take() {
                Some(held) => held,
                None => match self.load(id).await {
                    Ok(loaded) => (loaded.state, loaded.version),
                    Err(error) => return Err((commands, error.into())),
                },
            };
            let Some((outcomes, batch)) = decide(&mut state, version, &commands, from_memory)
            else {
                // A refusal must come from the current state, which one in memory may not be.
                continue;
            };
            if batch.is_empty() {
                answer(commands, outcomes);
                return Ok(Some((state, version)));
            }
            match self
                .store
                .append(stream_id, Expected::Exact(version), batch)
                .await
            {
                // A retry of an append that was stored already: nothing was written, and the
                // state here folded the events on top of a state that may include them, so
                // it is neither kept nor snapshotted.
                Ok(appended) if appended.duplicate => {
                    answer(commands, outcomes);
                    return Ok(None);
                }
                Ok(appended) => {
                    let after = appended.stream_version;
                    self.maybe_snapshot(stream_id, version, after, &state).await;
                    answer(commands, outcomes);
                    return Ok(Some((state, after)));
                }
                // Another process appended since this state was kept: load it again.
                Err(StoreError::Conflict { .. }) if from_memory => {}
                // Another process appended since it was loaded: wait, then load it again.
                Err(StoreError::Conflict {
                    stream_id,
                    expected,
                    actual,
                }) => match retries.next_wait() {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => {
                        for pending in commands {
                            let conflict = StoreError::Conflict {
                                stream_id: stream_id.clone(),
                                expected,
                                actual,
                            };
                            let _ = pending.reply.send(Err(conflict.into()));
                        }
                        return Ok(None);
                    }
                },
                // Whether the events were stored is unknown: running the commands again could
                // store them twice. The first command gets the error, the others `Interrupted`.
                Err(error) => {
                    let mut error = Some(error);
                    for pending in commands {
                        let error = error.take().unwrap_or_else(|| StoreError::Interrupted {
                            stream_id: stream_id.to_owned(),
                        });
                        let _ = pending.reply.send(Err(error.into()));
                    }
                    return Ok(None);
                }
            }
        }
    }

    /// Saves a snapshot when the stream crossed a multiple of `snapshot_every`. A snapshot
    /// that cannot be saved only costs later loads some time; the commands succeeded.
    async fn maybe_snapshot(&self, stream_id: &str, before: u64, after: u64, state: &A) {
        let Some(every) = self.snapshot_every else {
            return;
        };
        if before / every == after / every {
            return;
        }
        let saved = match serde_json::to_value(state) {
            Ok(state) => {
                self.store
                    .save_snapshot(Snapshot {
                        stream_id: stream_id.to_owned(),
                        aggregate_type: A::TYPE.to_owned(),
                        schema_version: A::SNAPSHOT_VERSION,
                        stream_version: after,
                        state,
                    })
                    .await
            }
            Err(error) => Err(StoreError::from(error)),
        };
        if let Err(error) = saved {
            tracing::warn!(stream_id, version = after, %error, "snapshot not saved");
        }
    }
}

/// What one command of a batch comes to.
enum Outcome<A: Aggregate> {
    Executed(Executed<A::Event>),
    Refused(A::Error),
    Encode(EncodeError),
}

/// Runs `commands` in order on `state` at `version`, applying each one's events before the
/// next: each command's outcome, and all their events. `None` when a command is refused on
/// a state `from_memory` (`state` is then spoiled).
fn decide<A: Aggregate>(
    state: &mut A,
    mut version: u64,
    commands: &[Pending<A>],
    from_memory: bool,
) -> Option<(Vec<Outcome<A>>, Vec<NewEvent>)> {
    let mut outcomes = Vec::with_capacity(commands.len());
    let mut batch = Vec::with_capacity(commands.len());
    for pending in commands {
        let events = match state.handle(pending.command.clone()) {
            Ok(events) => events,
            Err(_) if from_memory => return None,
            Err(refused) => {
                outcomes.push(Outcome::Refused(refused));
                continue;
            }
        };
        let encoded = events
            .iter()
            .enumerate()
            .map(|(index, event)| {
                let mut new = NewEvent::new(event)?;
                if let Some(cause) = pending.cause {
                    new = new.caused_by(cause);
                }
                if let Some(command_id) = pending.command_id {
                    new = new.with_id(derived_event_id(command_id, index));
                }
                Ok(new)
            })
            .collect::<Result<Vec<_>, _>>();
        match encoded {
            Ok(encoded) => {
                for event in &events {
                    state.apply(event);
                }
                version += events.len() as u64;
                batch.extend(encoded);
                outcomes.push(Outcome::Executed(Executed { events, version }));
            }
            Err(error) => outcomes.push(Outcome::Encode(error)),
        }
    }
    Some((outcomes, batch))
}

/// Answers each command with its outcome.
fn answer<A: Aggregate>(commands: Vec<Pending<A>>, outcomes: Vec<Outcome<A>>) {
    for (pending, outcome) in commands.into_iter().zip(outcomes) {
        let _ = pending.reply.send(match outcome {
            Outcome::Executed(executed) => Ok(executed),
            Outcome::Refused(refused) => Err(CommandError::Refused(refused)),
            Outcome::Encode(error) => Err(CommandError::Encode(error)),
        });
    }
}

/// Removes a queue whose task ended before it finished, so its commands are answered and
/// the next command starts a new task.
struct Abandoned<'a, A: Aggregate> {
    queues: &'a Queues<A>,
    id: &'a str,
    finished: bool,
}

impl<A: Aggregate> Drop for Abandoned<'_, A> {
    fn drop(&mut self) {
        if !self.finished {
            self.queues.abandon(self.id);
        }
    }
}

/// The id of event `index` of the command with id `command_id`.
fn derived_event_id(command_id: Uuid, index: usize) -> Uuid {
    Uuid::new_v5(&command_id, &(index as u64).to_be_bytes())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::store::memory::MemoryStore;

    #[derive(
        crate::Event, Serialize, Deserialize, schemars::JsonSchema, Debug, Clone, PartialEq,
    )]
    #[event(name = "tally", version = 1)]
    struct Counted {
        by: u32,
    }

    #[derive(Default, Serialize, Deserialize)]
    struct Tally(Vec<u32>);

    impl Aggregate for Tally {
        const TYPE: &'static str = "tally";
        type Event = Counted;
        type Command = u32;
        type Error = std::convert::Infallible;
        fn apply(&mut self, event: &Counted) {
            self.0.push(event.by);
        }
        fn handle(&self, by: u32) -> Result<Vec<Counted>, Self::Error> {
            Ok(vec![Counted { by }])
        }
    }

    #[tokio::test]
    async fn commands_run_in_arrival_order_and_leave_no_queue() {
        let tallies = Repository::<_, Tally>::new(MemoryStore::new());
        let (a, b, c) = tokio::join!(
            tallies.execute("t", 1),
            tallies.execute("t", 2),
            tallies.execute("t", 3)
        );
        let versions: Vec<u64> = [a, b, c]
            .into_iter()
            .map(|executed| executed.unwrap().version)
            .collect();
        assert_eq!(versions, [1, 2, 3]);
        assert_eq!(tallies.load("t").await.unwrap().state.0, [1, 2, 3]);
        assert_eq!(tallies.queues.len(), 0);
        for n in 0..500 {
            tallies.execute(&format!("id-{n}"), n).await.unwrap();
        }
        assert_eq!(tallies.queues.len(), 0);
    }

    #[tokio::test]
    async fn a_command_whose_caller_left_still_runs() {
        let tallies = Repository::<_, Tally>::new(MemoryStore::new()).cache(4);
        let left = tokio::spawn({
            let tallies = tallies.clone();
            async move { tallies.execute("t", 7).await }
        });
        left.abort();
        let _ = left.await;
        let executed = tallies.execute("t", 8).await.unwrap();
        // Whether the first caller left before or after queueing its command, the second
        // command ran after it or alone.
        let state = tallies.load("t").await.unwrap().state.0;
        assert!(state == [7, 8] || state == [8], "{state:?}");
        assert_eq!(executed.version, state.len() as u64);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(tallies.queues.len(), 0);
    }

    #[tokio::test]
    async fn a_command_carried_out_once_whatever_the_retries() {
        let store = MemoryStore::new();
        let tallies = Repository::<_, Tally>::new(store.clone())
            .cache(4)
            .snapshot_every(1);
        let once = Uuid::now_v7();
        assert!(
            tallies
                .execute_once("t", once, 5, None)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            tallies
                .execute_once("t", once, 5, None)
                .await
                .unwrap()
                .is_none()
        );
        // A second process that checked before the first appended runs the command on the
        // state after it: the store recognises the retry by the event id, and the state that
        // folded the event twice is neither cached nor snapshotted.
        let other = Repository::<_, Tally>::new(store)
            .cache(4)
            .snapshot_every(1);
        other.submit("t", 5, None, Some(once)).await.unwrap();
        other.execute("t", 1).await.unwrap();
        assert_eq!(other.load("t").await.unwrap().state.0, [5, 1]);
        assert_eq!(tallies.load("t").await.unwrap().state.0, [5, 1]);
    }
}
