//! Group commit for appends: concurrent appends of one process share one transaction.
//!
//! Appends queue here. The first one to find no group running spawns a task that takes
//! every queued append (for distinct streams, up to [`MAX_APPENDS`] appends and
//! [`MAX_EVENTS`] events), runs them as one `herald_append` call, answers each, and goes on
//! until the queue is empty. One group runs at a time: groups number their events one after
//! the other anyway (under the head lock), and two in flight measured slower, as each was
//! half the size for the same fixed cost per transaction. The task is spawned, not run by a caller, so a caller that stops
//! waiting cannot cancel a transaction other appends are part of.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

use crate::envelope::NewEvent;
use crate::store::{Appended, Expected, StoreError};

use super::PostgresStore;

/// The most appends one transaction takes.
pub(super) const MAX_APPENDS: usize = 256;
/// The most events one transaction takes (a larger single append still runs, alone).
pub(super) const MAX_EVENTS: usize = 4_096;

/// One append waiting for its group.
pub(super) struct Pending {
    pub(super) stream_id: String,
    pub(super) expected: Expected,
    pub(super) events: Vec<NewEvent>,
    pub(super) reply: oneshot::Sender<Result<Appended, StoreError>>,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Pending>,
    /// A draining task is alive.
    running: bool,
}

/// The queue of a store and its clones.
#[derive(Default, Clone)]
pub(super) struct Group {
    queue: Arc<Mutex<Queue>>,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Group").finish_non_exhaustive()
    }
}

impl Group {
    /// Queues `pending`; returns whether the caller must start the draining task.
    pub(super) fn push(&self, pending: Pending) -> bool {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.waiting.push_back(pending);
        !std::mem::replace(&mut queue.running, true)
    }

    /// The next group: queued appends to distinct streams, in queue order. Empty (and the
    /// queue marked idle) when nothing waits.
    fn next(&self) -> Vec<Pending> {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let mut taken = Vec::new();
        let mut streams = HashSet::new();
        let mut events = 0;
        let mut kept = VecDeque::new();
        while let Some(pending) = queue.waiting.pop_front() {
            let fits = taken.is_empty()
                || (taken.len() < MAX_APPENDS && events + pending.events.len() <= MAX_EVENTS);
            if fits && streams.insert(pending.stream_id.clone()) {
                events += pending.events.len();
                taken.push(pending);
            } else {
                kept.push_back(pending);
            }
        }
        queue.waiting = kept;
        if taken.is_empty() {
            queue.running = false;
        }
        taken
    }

    /// Runs groups until the queue is empty.
    pub(super) async fn drain(self, store: PostgresStore) {
        let mut guard = Idle {
            group: self.clone(),
            finished: false,
        };
        loop {
            let group = self.next();
            if group.is_empty() {
                guard.finished = true;
                return;
            }
            store.run_group(group).await;
        }
    }
}

/// Marks the queue idle and fails what waits when the task is dropped before it
/// finished (its runtime shut down), so later appends start a new task instead of waiting.
struct Idle {
    group: Group,
    finished: bool,
}

impl Drop for Idle {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut queue = self
            .group
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        queue.running = false;
        // Dropping the senders answers each waiting append with `StoreError::Interrupted`.
        queue.waiting.clear();
    }
}
