//! How long a command waits before it runs again after another process appended first: the
//! crate's [`Backoff`], within a deadline.

use std::time::{Duration, Instant};

use crate::Backoff;

/// The retry policy for version conflicts (see [`Repository::conflict_deadline`]).
///
/// [`Repository::conflict_deadline`]: super::Repository::conflict_deadline
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConflictRetry {
    /// How long a command keeps retrying, counted from its first attempt.
    pub(crate) deadline: Duration,
    /// The waits between attempts.
    pub(crate) backoff: Backoff,
}

impl Default for ConflictRetry {
    fn default() -> Self {
        ConflictRetry {
            deadline: Duration::from_secs(5),
            backoff: Backoff {
                initial: Duration::from_millis(5),
                max: Duration::from_millis(500),
            },
        }
    }
}

impl ConflictRetry {
    /// The retries of one command, starting now.
    pub(crate) fn start(self) -> Retries {
        Retries {
            policy: self,
            started: Instant::now(),
            retries: 0,
        }
    }
}

/// The retries of one command so far.
#[derive(Debug)]
pub(crate) struct Retries {
    policy: ConflictRetry,
    started: Instant,
    retries: u64,
}

impl Retries {
    /// The wait before the next attempt ([`Backoff::delay`]), or `None` when the deadline
    /// has passed; it never reaches past the deadline.
    pub(crate) fn next_wait(&mut self) -> Option<Duration> {
        let remaining = self.policy.deadline.checked_sub(self.started.elapsed())?;
        if remaining.is_zero() {
            return None;
        }
        self.retries = self.retries.saturating_add(1);
        Some(self.policy.backoff.delay(self.retries).min(remaining))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_wait_reaches_past_the_deadline() {
        let policy = ConflictRetry {
            deadline: Duration::from_millis(30),
            backoff: Backoff {
                initial: Duration::from_millis(20),
                max: Duration::from_secs(1),
            },
        };
        let mut retries = policy.start();
        let mut slept = Duration::ZERO;
        while let Some(wait) = retries.next_wait() {
            assert!(
                slept + wait <= Duration::from_millis(31),
                "{slept:?} + {wait:?}"
            );
            std::thread::sleep(wait);
            slept += wait;
        }
        assert!(retries.started.elapsed() >= policy.deadline);
        assert!(retries.retries >= 1);
    }
}
