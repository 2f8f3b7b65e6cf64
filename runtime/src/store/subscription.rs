//! Tailing the global log.

use std::time::Duration;

use crate::envelope::RecordedEvent;
use crate::store::{EventStore, StoreError};

/// Tails [`EventStore::read_all`]: hands out every committed event once, in position order,
/// waiting for new ones when caught up.
///
/// Correctness rests on the store's guarantee that positions are assigned in commit order,
/// so "the next position after the last one seen" never skips a late commit.
#[derive(Debug, Clone)]
pub struct Subscription<S> {
    store: S,
    next: u64,
    batch_size: usize,
    poll_interval: Duration,
}

impl<S: EventStore> Subscription<S> {
    /// A subscription that starts at `from_position` (1 for the whole log).
    pub fn new(store: S, from_position: u64) -> Self {
        Subscription {
            store,
            next: from_position.max(1),
            batch_size: 500,
            poll_interval: Duration::from_millis(20),
        }
    }

    /// Sets how many events one batch holds at most.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Sets how long to wait before asking again when caught up.
    pub fn poll_interval(mut self, poll_interval: Duration) -> Self {
        self.poll_interval = poll_interval;
        self
    }

    /// The position the next batch starts at.
    pub fn next_position(&self) -> u64 {
        self.next
    }

    /// The next batch, without waiting: empty when caught up.
    pub async fn poll(&mut self) -> Result<Vec<RecordedEvent>, StoreError> {
        let events = self.store.read_all(self.next, self.batch_size).await?;
        if let Some(last) = events.last() {
            self.next = last.position + 1;
        }
        Ok(events)
    }

    /// The next non-empty batch, waiting for new events when caught up.
    pub async fn next_batch(&mut self) -> Result<Vec<RecordedEvent>, StoreError> {
        loop {
            let events = self.poll().await?;
            if !events.is_empty() {
                return Ok(events);
            }
            tokio::time::sleep(self.poll_interval).await;
        }
    }
}
