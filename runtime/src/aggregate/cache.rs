//! The states of aggregates no command is working on, kept between commands when the
//! repository has a cache ([`Repository::cache`](super::Repository::cache)).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Up to `capacity` states, each with the stream version it includes. A state is taken out
/// while commands work on its aggregate and put back when they are done, so it is never
/// shared; one that went stale (another process appended) only costs a conflict, after which
/// the aggregate is loaded from the store.
pub(crate) struct StateCache<A> {
    capacity: usize,
    states: Mutex<HashMap<String, (A, u64)>>,
}

impl<A> StateCache<A> {
    /// An empty cache of `capacity` states (at least one).
    pub(crate) fn new(capacity: usize) -> Self {
        StateCache {
            capacity: capacity.max(1),
            states: Mutex::new(HashMap::new()),
        }
    }

    /// How many states it keeps.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Takes the state of `id` out, if it is kept.
    pub(crate) fn take(&self, id: &str) -> Option<(A, u64)> {
        self.states
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id)
    }

    /// Keeps `state` at `version` for `id`, evicting another state when full.
    pub(crate) fn put(&self, id: String, state: A, version: u64) {
        let mut states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        if states.len() >= self.capacity && !states.contains_key(&id) {
            // Evicts an arbitrary entry: the map's iteration order is as good as random.
            if let Some(evicted) = states.keys().next().cloned() {
                states.remove(&evicted);
            }
        }
        states.insert(id, (state, version));
    }
}
