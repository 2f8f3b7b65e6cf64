//! The repository: loads aggregates, runs commands on them in turn and appends their events.

use std::sync::Arc;
use std::time::Duration;

use super::backoff::Backoff;
use super::cache::StateCache;
use super::queue::Queues;
use super::{Aggregate, CommandError, Executed, Loaded};
use crate::envelope::{Cause, NewEvent};
use crate::event::Event;
use crate::store::{EventStore, Expected, Snapshot, StoreError};

/// Loads aggregates from a store, runs commands and appends their events.
///
/// # Hot aggregates
///
/// Commands on one aggregate id run one after another, in arrival order, while commands on
/// different ids run in parallel; clones share these queues, so in one process commands
/// never race each other for a stream version. A queue only exists while commands hold or
/// wait for it, and each command hands the state it leaves on to the next, which skips
/// loading it: a burst of commands on one aggregate costs one load, then one append each.
///
/// A version conflict can then only come from another process (or another repository on the
/// same store). The command is then re-run on the state loaded from the store, after a wait
/// that doubles with each conflict, with jitter, until
/// [`conflict_deadline`](Repository::conflict_deadline) has passed; then the conflict is the
/// error. A command the aggregate refuses is never retried (if it was refused on a state kept
/// in memory, it is first re-run once on the state loaded from the store).
pub struct Repository<S, A> {
    store: S,
    snapshot_every: Option<u64>,
    backoff: Backoff,
    queues: Arc<Queues<A>>,
}

impl<S: Clone, A> Clone for Repository<S, A> {
    fn clone(&self) -> Self {
        Repository {
            store: self.store.clone(),
            snapshot_every: self.snapshot_every,
            backoff: self.backoff,
            queues: self.queues.clone(),
        }
    }
}

impl<S: std::fmt::Debug, A> std::fmt::Debug for Repository<S, A> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Repository")
            .field("store", &self.store)
            .field("snapshot_every", &self.snapshot_every)
            .field("conflict_deadline", &self.backoff.deadline)
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
            backoff: Backoff::default(),
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
        self.backoff.deadline = deadline;
        self
    }

    /// The wait before the first retry after a conflict (`base`, default 5 ms) and the
    /// longest wait (`cap`, default 500 ms). The wait doubles with each conflict up to the
    /// cap; a random part of up to half of it is dropped, so that processes that collided do
    /// not retry in step.
    pub fn conflict_backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.backoff.base = base;
        self.backoff.cap = cap.max(base);
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
        let stream_id = Self::stream_id(id);
        let mut turn = self.queues.turn(id).await;
        let mut retries = self.backoff.start();
        // The state the previous command left, or the cached one: only for the first attempt.
        let mut held = turn.take();
        loop {
            let from_memory = held.is_some();
            let mut loaded = match held.take() {
                Some((state, version)) => Loaded {
                    state,
                    version,
                    from_snapshot: false,
                },
                None => self.load(id).await?,
            };
            let events = match loaded.state.handle(command.clone()) {
                Ok(events) => events,
                // A refusal must come from the current state, which one in memory may not be.
                Err(_) if from_memory => continue,
                Err(refused) => {
                    turn.keep(loaded.state, loaded.version);
                    return Err(CommandError::Refused(refused));
                }
            };
            let mut batch = Vec::with_capacity(events.len());
            for event in &events {
                let new = NewEvent::new(event)?;
                batch.push(match cause {
                    Some(cause) => new.caused_by(cause),
                    None => new,
                });
            }
            let expected = Expected::Exact(loaded.version);
            match self.store.append(&stream_id, expected, batch).await {
                Ok(appended) => {
                    for event in &events {
                        loaded.state.apply(event);
                    }
                    self.maybe_snapshot(
                        &stream_id,
                        loaded.version,
                        appended.stream_version,
                        &loaded.state,
                    )
                    .await?;
                    turn.keep(loaded.state, appended.stream_version);
                    return Ok(Executed {
                        events,
                        version: appended.stream_version,
                    });
                }
                // Another process appended since this state was kept: load it again.
                Err(StoreError::Conflict { .. }) if from_memory => {}
                // Another process appended since it was loaded: wait, then load it again.
                Err(conflict @ StoreError::Conflict { .. }) => match retries.next_wait() {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => return Err(conflict.into()),
                },
                Err(error) => return Err(error.into()),
            }
        }
    }

    async fn maybe_snapshot(
        &self,
        stream_id: &str,
        before: u64,
        after: u64,
        state: &A,
    ) -> Result<(), StoreError> {
        let Some(every) = self.snapshot_every else {
            return Ok(());
        };
        if before / every == after / every {
            return Ok(());
        }
        self.store
            .save_snapshot(Snapshot {
                stream_id: stream_id.to_owned(),
                aggregate_type: A::TYPE.to_owned(),
                schema_version: A::SNAPSHOT_VERSION,
                stream_version: after,
                state: serde_json::to_value(state)?,
            })
            .await
    }
}
