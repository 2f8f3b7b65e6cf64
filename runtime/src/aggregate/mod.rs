//! Aggregates: state rebuilt from a stream, commands turned into events, and a repository
//! that loads, handles and appends with the right expected version.
//!
//! Commands on one aggregate run one after another within a process, and conflicts with
//! other processes are retried with backoff: see [`Repository`].
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

mod cache;
mod queue;
mod repository;
mod retry;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::EncodeError;
use crate::event::Event;
use crate::store::StoreError;

pub use repository::Repository;

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
    /// The store failed (including a conflict still there at the conflict deadline).
    #[error(transparent)]
    Store(#[from] StoreError),
}
