//! Exponential backoff with jitter: how long a failed message, publish or conflicting command
//! waits before the next try.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Exponential backoff with "equal jitter": attempt `n` (from 1) waits a random time between
/// half and all of `min(max, initial × 2^(n-1))`, so that processes that collided once do not
/// collide again in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    /// 200 ms, doubling up to 30 s.
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The wait after failed attempt `attempt` (from 1).
    pub fn delay(&self, attempt: u64) -> Duration {
        let doublings = u32::try_from(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .min(30);
        let full = self.initial.saturating_mul(1 << doublings).min(self.max);
        let half = full / 2;
        half + half.mul_f64(unit_random())
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
    use super::*;

    #[test]
    fn doubles_with_jitter_up_to_the_maximum() {
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        for (attempt, full) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (60, 1000),
        ] {
            let delay = backoff.delay(attempt);
            let full = Duration::from_millis(full);
            assert!(
                delay >= full / 2 && delay <= full,
                "attempt {attempt}: {delay:?}"
            );
        }
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
