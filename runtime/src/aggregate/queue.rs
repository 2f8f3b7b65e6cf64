//! A queue of commands per aggregate id, alive only while its aggregate has commands to run:
//! the first command to find none starts the task that runs them (see `Repository`), and the
//! task removes the queue when it finds it empty, leaving the state to the cache.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use tokio::sync::oneshot;

use super::cache::StateCache;
use super::{Aggregate, CommandError, Executed};
use crate::envelope::Cause;

/// A state and the stream version it includes.
pub(crate) type Held<A> = Option<(A, u64)>;

/// What a command's caller waits for.
pub(crate) type Answer<A> =
    Result<Executed<<A as Aggregate>::Event>, CommandError<<A as Aggregate>::Error>>;

/// A command waiting for its aggregate's task.
pub(crate) struct Pending<A: Aggregate> {
    pub(crate) command: A::Command,
    pub(crate) cause: Option<Cause>,
    /// Set by `execute_once`: the command's events get ids derived from it.
    pub(crate) command_id: Option<uuid::Uuid>,
    pub(crate) reply: oneshot::Sender<Answer<A>>,
}

/// The queues of a repository and its clones, and its state cache.
pub(crate) struct Queues<A: Aggregate> {
    /// An entry exists exactly while a task runs the aggregate's commands.
    queues: Mutex<HashMap<String, VecDeque<Pending<A>>>>,
    cache: Option<StateCache<A>>,
}

impl<A: Aggregate> Queues<A> {
    /// No queues; states of idle aggregates go to `cache`, if any.
    pub(crate) fn new(cache: Option<StateCache<A>>) -> Self {
        Queues {
            queues: Mutex::new(HashMap::new()),
            cache,
        }
    }

    /// The capacity of the state cache, if there is one.
    pub(crate) fn cache_capacity(&self) -> Option<usize> {
        self.cache.as_ref().map(StateCache::capacity)
    }

    /// Queues `pending` on aggregate `id`. When no task runs its commands, returns the
    /// cached state (if any) for the task the caller must start.
    pub(crate) fn push(&self, id: &str, pending: Pending<A>) -> Option<Held<A>> {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(queue) = queues.get_mut(id) {
            queue.push_back(pending);
            return None;
        }
        queues.insert(id.to_owned(), VecDeque::from([pending]));
        Some(self.cache.as_ref().and_then(|cache| cache.take(id)))
    }

    /// Up to `max` queued commands of `id`, in arrival order. None are left: the queue is
    /// removed (the task ends) and `held` goes to the cache.
    pub(crate) fn next(&self, id: &str, held: &mut Held<A>, max: usize) -> Vec<Pending<A>> {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        match queues.get_mut(id) {
            Some(queue) if !queue.is_empty() => {
                let count = queue.len().min(max);
                queue.drain(..count).collect()
            }
            _ => {
                queues.remove(id);
                if let (Some(cache), Some((state, version))) = (&self.cache, held.take()) {
                    cache.put(id.to_owned(), state, version);
                }
                Vec::new()
            }
        }
    }

    /// The task of `id` ended early (its runtime shut down, or the aggregate panicked):
    /// removes the queue, which answers every command in it with `StoreError::Interrupted`.
    pub(crate) fn abandon(&self, id: &str) {
        let removed = self
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        drop(removed);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}
