//! How long a command waits before it runs again after another process appended first:
//! exponential backoff with jitter, within a deadline.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// The retry policy for version conflicts (see [`Repository::conflict_deadline`]).
///
/// [`Repository::conflict_deadline`]: super::Repository::conflict_deadline
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    /// How long a command keeps retrying, counted from its first attempt.
    pub(crate) deadline: Duration,
    /// The wait before the first retry (before jitter).
    pub(crate) base: Duration,
    /// The longest wait (before jitter).
    pub(crate) cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            deadline: Duration::from_secs(5),
            base: Duration::from_millis(5),
            cap: Duration::from_millis(500),
        }
    }
}

impl Backoff {
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
    policy: Backoff,
    started: Instant,
    retries: u32,
}

impl Retries {
    /// The wait before the next attempt, or `None` when the deadline has passed. The wait is
    /// `min(cap, base · 2ⁿ)` for the n-th retry, of which a random half is dropped ("equal
    /// jitter"), so that processes that collided once do not collide again in step; it never
    /// reaches past the deadline.
    pub(crate) fn next_wait(&mut self) -> Option<Duration> {
        let remaining = self.policy.deadline.checked_sub(self.started.elapsed())?;
        if remaining.is_zero() {
            return None;
        }
        let exponential = self
            .policy
            .base
            .saturating_mul(1_u32.checked_shl(self.retries).unwrap_or(u32::MAX));
        let full = exponential.min(self.policy.cap);
        self.retries = self.retries.saturating_add(1);
        let half = full / 2;
        let jitter = half.mul_f64(unit_random());
        Some((half + jitter).min(remaining))
    }
}

/// A number in `[0, 1)`: SplitMix64 over a per-process counter mixed with the clock and the
/// process id, so two processes started together still draw differently. Not for secrets.
fn unit_random() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos() as u64);
    let seed = COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        ^ nanos
        ^ (u64::from(std::process::id()) << 32);
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // The top 53 bits, as many as an f64 holds exactly.
    (z >> 11) as f64 / (1_u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn waits_grow_to_the_cap_with_jitter() {
        let policy = Backoff {
            deadline: Duration::from_secs(3600),
            base: Duration::from_millis(10),
            cap: Duration::from_millis(200),
        };
        let mut retries = policy.start();
        let waits: Vec<Duration> = (0..40).map(|_| retries.next_wait().unwrap()).collect();
        for (n, wait) in waits.iter().enumerate() {
            let full = Duration::from_millis(10 * (1_u64 << n.min(20))).min(policy.cap);
            assert!(
                *wait >= full / 2 && *wait <= full,
                "retry {n}: {wait:?} outside [{:?}, {full:?}]",
                full / 2
            );
        }
        // Jittered: the capped waits are not all the same.
        let capped: HashSet<Duration> = waits[10..].iter().copied().collect();
        assert!(capped.len() > 20, "{capped:?}");
    }

    #[test]
    fn no_wait_reaches_past_the_deadline() {
        let policy = Backoff {
            deadline: Duration::from_millis(30),
            base: Duration::from_millis(20),
            cap: Duration::from_secs(1),
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

    #[test]
    fn draws_spread_over_the_unit_interval() {
        let draws: Vec<f64> = (0..10_000).map(|_| unit_random()).collect();
        assert!(draws.iter().all(|draw| (0.0..1.0).contains(draw)));
        for decile in 0..10 {
            let low = f64::from(decile) / 10.0;
            let count = draws
                .iter()
                .filter(|draw| (low..low + 0.1).contains(*draw))
                .count();
            assert!((800..1200).contains(&count), "decile {decile}: {count}");
        }
    }
}
