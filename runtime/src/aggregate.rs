//! Aggregates: state rebuilt from a stream, commands turned into events, and a repository
//! that loads, handles and appends with the right expected version.
//!
//! ```
//! use herald::aggregate::{Aggregate, Repository};
//! use herald::store::memory::MemoryStore;
//! use herald::Event;
//! # use schemars::JsonSchema;
//! # use serde::{Deserialize, Serialize};
//!
//! #[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
//! #[event(name = "account", version = 1)]
//! enum AccountEvent { Deposited { cents: i64 } }
//!
//! #[derive(Default, Serialize, Deserialize)]
//! struct Account { balance: i64 }
//!
//! impl Aggregate for Account {
//!     const TYPE: &'static str = "account";
//!     type Event = AccountEvent;
//!     type Command = i64;
//!     type Error = std::convert::Infallible;
//!     fn apply(&mut self, AccountEvent::Deposited { cents }: &AccountEvent) { self.balance += cents }
//!     fn handle(&self, cents: i64) -> Result<Vec<AccountEvent>, Self::Error> {
//!         Ok(vec![AccountEvent::Deposited { cents }])
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let accounts = Repository::<_, Account>::new(MemoryStore::new()).snapshot_every(10);
//! accounts.execute("a-1", 250).await?;
//! accounts.execute("a-1", 100).await?;
//! assert_eq!(accounts.load("a-1").await?.state.balance, 350);
//! # Ok::<(), Box<dyn std::error::Error>>(()) })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::envelope::{Cause, NewEvent};
use crate::error::EncodeError;
use crate::event::Event;
use crate::store::{EventStore, Expected, Snapshot, StoreError};

/// A consistency boundary whose state is the fold of its events.
pub trait Aggregate: Default + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The aggregate type; streams are named `<TYPE>-<id>`, snapshots are tagged with it.
    const TYPE: &'static str;
    /// The version of the serialized state. Bump it when the state's shape or meaning
    /// changes: snapshots written with another version are ignored and the state is rebuilt
    /// from the events.
    const SNAPSHOT_VERSION: u32 = 1;
    /// The events (current version; older stored versions are upcast on load).
    type Event: Event + Send + Sync;
    /// The commands. `Clone` because [`Repository::execute`] runs a command again on a fresh
    /// state after a version conflict, and `handle` takes it by value.
    type Command: Clone + Send;
    /// Why a command is refused.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Folds one event into the state.
    fn apply(&mut self, event: &Self::Event);

    /// Decides which events a command produces, without changing the state.
    fn handle(&self, command: Self::Command) -> Result<Vec<Self::Event>, Self::Error>;
}

/// An aggregate's state and the stream version it includes.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<A> {
    /// The state.
    pub state: A,
    /// The stream version (0: no events).
    pub version: u64,
    /// Whether a snapshot was used.
    pub from_snapshot: bool,
}

/// What a command produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Executed<E> {
    /// The events appended.
    pub events: Vec<E>,
    /// The stream version after the append.
    pub version: u64,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error + 'static> {
    /// The aggregate refused the command.
    #[error("command refused: {0}")]
    Refused(#[source] E),
    /// An event could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The store failed (including a conflict that outlived the retries).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Loads aggregates from a store, runs commands and appends their events. Clones share the
/// store and the state cache.
pub struct Repository<S, A> {
    store: S,
    snapshot_every: Option<u64>,
    conflict_retries: u32,
    cache: Option<Arc<StateCache<A>>>,
    aggregate: PhantomData<fn() -> A>,
}

impl<S: Clone, A> Clone for Repository<S, A> {
    fn clone(&self) -> Self {
        Repository {
            store: self.store.clone(),
            snapshot_every: self.snapshot_every,
            conflict_retries: self.conflict_retries,
            cache: self.cache.clone(),
            aggregate: PhantomData,
        }
    }
}

impl<S: std::fmt::Debug, A> std::fmt::Debug for Repository<S, A> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Repository")
            .field("store", &self.store)
            .field("snapshot_every", &self.snapshot_every)
            .field("conflict_retries", &self.conflict_retries)
            .field("cache", &self.cache.as_ref().map(|cache| cache.capacity))
            .finish()
    }
}

/// States left by the commands of this repository, with the stream version each includes.
/// A command takes its aggregate's entry out and puts the new state back once its append
/// succeeded, so two commands never share one; an entry that went stale (another process
/// appended) only costs a conflict, after which the aggregate is loaded from the store.
struct StateCache<A> {
    capacity: usize,
    states: Mutex<HashMap<String, (A, u64)>>,
}

impl<A> StateCache<A> {
    fn take(&self, id: &str) -> Option<(A, u64)> {
        self.states
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id)
    }

    fn put(&self, id: &str, state: A, version: u64) {
        let mut states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        if states.len() >= self.capacity && !states.contains_key(id) {
            // Evicts an arbitrary entry: the map's iteration order is as good as random.
            if let Some(evicted) = states.keys().next().cloned() {
                states.remove(&evicted);
            }
        }
        states.insert(id.to_owned(), (state, version));
    }
}

impl<S: EventStore, A: Aggregate> Repository<S, A> {
    /// A repository without snapshots that retries a conflicting command 3 times.
    pub fn new(store: S) -> Self {
        Repository {
            store,
            snapshot_every: None,
            conflict_retries: 3,
            cache: None,
            aggregate: PhantomData,
        }
    }

    /// Keeps the state of up to `capacity` aggregates in memory between commands, so a
    /// command on a recently used aggregate skips loading it. Stale states are safe: the
    /// append expects the cached version, so a state another process moved past conflicts
    /// and the aggregate is reloaded; a command refused on a cached state is re-run on the
    /// state loaded from the store, so refusals never rest on stale state. Loads
    /// ([`Repository::load`]) always read the store. Off by default.
    pub fn cache(mut self, capacity: usize) -> Self {
        self.cache = (capacity > 0).then(|| {
            Arc::new(StateCache {
                capacity,
                states: Mutex::new(HashMap::new()),
            })
        });
        self
    }

    /// Saves a snapshot whenever a command makes the stream cross a multiple of `every`.
    pub fn snapshot_every(mut self, every: u64) -> Self {
        self.snapshot_every = (every > 0).then_some(every);
        self
    }

    /// How often a command is re-run after a concurrent append won (0: never).
    pub fn conflict_retries(mut self, retries: u32) -> Self {
        self.conflict_retries = retries;
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

    /// Runs `command` on aggregate `id` and appends its events.
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
        let mut attempt = 0;
        loop {
            // A cached state is only used on the first attempt: after a conflict or a refusal
            // the aggregate is loaded from the store.
            let cached = match &self.cache {
                Some(cache) if attempt == 0 => cache.take(id),
                _ => None,
            };
            let from_cache = cached.is_some();
            let mut loaded = match cached {
                Some((state, version)) => Loaded {
                    state,
                    version,
                    from_snapshot: false,
                },
                None => self.load(id).await?,
            };
            let events = match loaded.state.handle(command.clone()) {
                Ok(events) => events,
                // A refusal must come from the current state, which a cached one may not be.
                Err(_) if from_cache => {
                    attempt += 1;
                    continue;
                }
                Err(refused) => {
                    self.keep(id, loaded);
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
                    loaded.version = appended.stream_version;
                    self.keep(id, loaded);
                    return Ok(Executed {
                        events,
                        version: appended.stream_version,
                    });
                }
                Err(StoreError::Conflict { .. }) if attempt < self.conflict_retries => {
                    attempt += 1;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Puts a state back into the cache, if there is one.
    fn keep(&self, id: &str, loaded: Loaded<A>) {
        if let Some(cache) = &self.cache {
            cache.put(id, loaded.state, loaded.version);
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
