//! Commands on one aggregate take turns: a queue per aggregate id, alive only while commands
//! hold or wait for it, which hands the state each command leaves on to the next.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Mutex as TurnLock, OwnedMutexGuard};

use super::cache::StateCache;

/// A state and the stream version it includes, as a command left it.
type Held<A> = Option<(A, u64)>;

/// The queues of a repository and its clones, and its state cache.
pub(crate) struct Queues<A> {
    queues: Mutex<HashMap<String, Queue<A>>>,
    cache: Option<StateCache<A>>,
}

/// One aggregate's queue.
struct Queue<A> {
    /// The commands holding or waiting for the turn; the queue is removed at zero, so the map
    /// only ever holds the aggregates being worked on.
    members: usize,
    turn: Arc<TurnLock<Held<A>>>,
}

impl<A> Queues<A> {
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

    /// Waits for aggregate `id`'s turn, in arrival order. A new queue starts with the
    /// cached state, if any.
    pub(crate) async fn turn(self: &Arc<Self>, id: &str) -> Turn<A> {
        let lock = {
            let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
            let queue = match queues.get_mut(id) {
                Some(queue) => queue,
                None => {
                    let cached = self.cache.as_ref().and_then(|cache| cache.take(id));
                    queues.entry(id.to_owned()).or_insert(Queue {
                        members: 0,
                        turn: Arc::new(TurnLock::new(cached)),
                    })
                }
            };
            queue.members += 1;
            queue.turn.clone()
        };
        // Counted as a member from here, so a caller that stops waiting still leaves.
        let mut turn = Turn {
            queues: self.clone(),
            id: id.to_owned(),
            guard: None,
        };
        turn.guard = Some(lock.lock_owned().await);
        turn
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// The turn of one command on one aggregate; the next command's starts when it is dropped.
pub(crate) struct Turn<A> {
    queues: Arc<Queues<A>>,
    id: String,
    guard: Option<OwnedMutexGuard<Held<A>>>,
}

impl<A> Turn<A> {
    /// Takes the state the previous command left (or the cached one).
    pub(crate) fn take(&mut self) -> Held<A> {
        self.guard.as_mut().and_then(|held| held.take())
    }

    /// Leaves `state` at `version` to the next command (or to the cache).
    pub(crate) fn keep(&mut self, state: A, version: u64) {
        if let Some(held) = self.guard.as_mut() {
            **held = Some((state, version));
        }
    }
}

impl<A> Drop for Turn<A> {
    fn drop(&mut self) {
        let mut queues = self
            .queues
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(queue) = queues.get_mut(&self.id) else {
            return;
        };
        queue.members = queue.members.saturating_sub(1);
        if queue.members > 0 {
            // The state stays in the queue for the next command.
            return;
        }
        // The last member: nobody else holds the lock or can take it while `queues` is held.
        let held = match self.guard.as_mut() {
            Some(held) => held.take(),
            None => queue.turn.try_lock().ok().and_then(|mut held| held.take()),
        };
        queues.remove(&self.id);
        if let (Some(cache), Some((state, version))) = (&self.queues.cache, held) {
            cache.put(std::mem::take(&mut self.id), state, version);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn turns_come_in_order_and_hand_the_state_on() {
        let queues = Arc::new(Queues::<u32>::new(None));
        let mut first = queues.turn("a").await;
        first.keep(7, 1);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for n in 0..3 {
            let (queues, order) = (queues.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                let mut turn = queues.turn("a").await;
                let (state, version) = turn.take().unwrap();
                order.lock().unwrap().push(n);
                turn.keep(state + 1, version + 1);
            }));
            // Each is queued before the next arrives.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Another aggregate does not wait for "a".
        let mut other = tokio::time::timeout(Duration::from_secs(1), queues.turn("b"))
            .await
            .unwrap();
        assert_eq!(other.take(), None);
        drop(other);
        assert!(order.lock().unwrap().is_empty());
        drop(first);
        for task in waiting {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2]);
        // Idle: the queues are gone, and without a cache so is the state.
        assert_eq!(queues.len(), 0);
        assert_eq!(queues.turn("a").await.take(), None);
    }

    #[tokio::test]
    async fn idle_states_go_to_the_cache_and_no_queue_is_left_behind() {
        let queues = Arc::new(Queues::<u32>::new(Some(StateCache::new(2))));
        for id in ["a", "b", "c"] {
            queues.turn(id).await.keep(1, 1);
        }
        assert_eq!(queues.len(), 0);
        // Capacity 2: one of the three was evicted.
        let mut cached = 0;
        for id in ["a", "b", "c"] {
            cached += usize::from(queues.turn(id).await.take().is_some());
        }
        assert_eq!(cached, 2);

        // A command that stops waiting leaves the queue too, and the state goes to the cache.
        let mut holder = queues.turn("d").await;
        holder.keep(5, 3);
        let waiter = queues.clone();
        let cancelled = tokio::spawn(async move { waiter.turn("d").await.take() });
        tokio::time::sleep(Duration::from_millis(20)).await;
        cancelled.abort();
        assert!(cancelled.await.unwrap_err().is_cancelled());
        drop(holder);
        assert_eq!(queues.len(), 0);
        assert_eq!(queues.turn("d").await.take(), Some((5, 3)));

        // Many ids, one after the other: nothing accumulates.
        for n in 0..1_000 {
            queues.turn(&format!("id-{n}")).await.keep(n, 1);
        }
        assert_eq!(queues.len(), 0);
    }
}
