//! Grouping: concurrent appends (and aggregate loads) of one process share one statement.
//!
//! Requests queue here. The first one to find no group running spawns a task that takes
//! every queued request (up to a limit; for appends, one per stream), runs them as one
//! statement, answers each, and goes on until the queue is empty. Appends share one
//! `herald_append` call, transaction and WAL flush; loads share one query. One group of each
//! kind runs at a time: appends number their events one group after the other anyway (under
//! the head lock), and two append groups in flight measured slower, as each was half the size
//! for the same fixed cost per transaction. The task is spawned, not run by a caller, so a
//! caller that stops waiting cannot cancel a statement other requests are part of.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use sqlx::postgres::PgRow;
use tokio::sync::oneshot;

use crate::envelope::NewEvent;
use crate::store::{Appended, Expected, StoreError};

/// The most appends one transaction takes.
const MAX_APPENDS: usize = 256;
/// The most events one transaction takes (a larger single append still runs, alone).
const MAX_EVENTS: usize = 4_096;
/// The most loads one query takes.
const MAX_LOADS: usize = 64;

/// A request that can wait for a group.
pub(super) trait Member: Send + 'static {
    /// Whether `self` may join a group already holding `count` requests on `streams`, of
    /// `size` in all (never asked of the first request: it always goes).
    fn fits(&self, count: usize, streams: &HashSet<String>, size: usize) -> bool;
    /// The stream it is about.
    fn stream_id(&self) -> &str;
    /// How much of a group's budget it takes.
    fn size(&self) -> usize;
}

/// One append waiting for its group.
pub(super) struct Append {
    pub(super) stream_id: String,
    pub(super) expected: Expected,
    /// `expected` as `herald_append` takes it (-1 any, -2 no stream, -3 stream exists, n).
    pub(super) expected_code: i64,
    /// The number of events, as `herald_append` takes it.
    pub(super) count: i32,
    /// The events' schema versions, as `herald_append` takes them.
    pub(super) schema_versions: Vec<i32>,
    pub(super) events: Vec<NewEvent>,
    pub(super) reply: oneshot::Sender<Result<Appended, StoreError>>,
}

impl Member for Append {
    fn fits(&self, count: usize, streams: &HashSet<String>, size: usize) -> bool {
        count < MAX_APPENDS
            && size + self.events.len() <= MAX_EVENTS
            && !streams.contains(&self.stream_id)
    }
    fn stream_id(&self) -> &str {
        &self.stream_id
    }
    fn size(&self) -> usize {
        self.events.len()
    }
}

/// One aggregate load waiting for its group: the stream's rows from `from`, at most `limit`.
pub(super) struct Load {
    pub(super) stream_id: String,
    pub(super) from: i64,
    pub(super) limit: i64,
    pub(super) reply: oneshot::Sender<Result<Vec<PgRow>, StoreError>>,
}

impl Member for Load {
    fn fits(&self, count: usize, _: &HashSet<String>, _: usize) -> bool {
        count < MAX_LOADS
    }
    fn stream_id(&self) -> &str {
        &self.stream_id
    }
    fn size(&self) -> usize {
        1
    }
}

struct Queue<M> {
    waiting: VecDeque<M>,
    /// A draining task is alive.
    running: bool,
}

/// The queue of a store and its clones.
pub(super) struct Group<M> {
    queue: Arc<Mutex<Queue<M>>>,
}

impl<M> Default for Group<M> {
    fn default() -> Self {
        Group {
            queue: Arc::new(Mutex::new(Queue {
                waiting: VecDeque::new(),
                running: false,
            })),
        }
    }
}

impl<M> Clone for Group<M> {
    fn clone(&self) -> Self {
        Group {
            queue: self.queue.clone(),
        }
    }
}

impl<M> std::fmt::Debug for Group<M> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Group").finish_non_exhaustive()
    }
}

impl<M: Member> Group<M> {
    /// Queues `member`, spawning the task that drains the queue with `run` unless one is
    /// alive; the task calls `idle` when it finds the queue empty and ends.
    pub(super) fn submit<F, R, I>(&self, member: M, run: F, idle: I)
    where
        F: Fn(Vec<M>) -> R + Send + 'static,
        R: Future<Output = ()> + Send + 'static,
        I: FnOnce() + Send + 'static,
    {
        if self.push(member) {
            // Boxed: the statement's future is large, and spawning copies a future by value.
            let drain = Box::pin(self.clone().drain(run));
            tokio::spawn(async move {
                drain.await;
                idle();
            });
        }
    }

    /// Queues `member`; returns whether the caller must start the draining task.
    fn push(&self, member: M) -> bool {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.waiting.push_back(member);
        !std::mem::replace(&mut queue.running, true)
    }

    /// The next group, in queue order. Empty (and the queue marked idle) when nothing waits.
    fn next(&self) -> Vec<M> {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let mut taken: Vec<M> = Vec::new();
        let mut streams = HashSet::new();
        let mut size = 0;
        let mut kept = VecDeque::new();
        while let Some(member) = queue.waiting.pop_front() {
            if taken.is_empty() || member.fits(taken.len(), &streams, size) {
                size += member.size();
                streams.insert(member.stream_id().to_owned());
                taken.push(member);
            } else {
                kept.push_back(member);
            }
        }
        queue.waiting = kept;
        if taken.is_empty() {
            queue.running = false;
        }
        taken
    }

    /// Runs groups with `run` until the queue is empty.
    async fn drain<F, R>(self, run: F)
    where
        F: Fn(Vec<M>) -> R,
        R: Future<Output = ()>,
    {
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
            run(group).await;
        }
    }
}

/// Marks the queue idle and fails what waits when the draining task is dropped before it
/// finished (its runtime shut down), so later requests start a new task instead of waiting.
struct Idle<M> {
    group: Group<M>,
    finished: bool,
}

impl<M> Drop for Idle<M> {
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
        // Dropping the senders answers each waiting request with `StoreError::Interrupted`.
        queue.waiting.clear();
    }
}
