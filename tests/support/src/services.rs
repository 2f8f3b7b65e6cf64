//! The machine's services the tests talk to, and names no other test run uses.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// The machine's PostgreSQL (trust auth, database `test`).
pub const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The machine's NATS server (JetStream enabled).
pub const NATS_URL: &str = "127.0.0.1:4222";

/// `prefix` and 16 hex digits no other call, process or run gives: a PostgreSQL schema, a
/// table, a JetStream stream, a Kafka topic or a consumer group of a test's own.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("{prefix}{:016x}", hasher.finish())
}

/// Runs `work` to its end on a thread of its own with a runtime of its own: how a `Drop`
/// cleans up with async clients (it cannot await, and may run inside the test's runtime),
/// even when the test panicked.
pub(crate) fn clean_up(work: impl Future<Output = ()> + Send + 'static) {
    let _ = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(work);
    })
    .join();
}
