//! What a saga keeps beside its log: deadlines and an index of instances by state.

use std::fmt::Write as _;
use std::future::Future;
use std::time::Duration;

use crate::projection::CheckpointStore;
use crate::saga::SagaState;
use crate::store::{EventStore, StoreError};

/// One instance as the saga index shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SagaSummary {
    /// The saga.
    pub saga: String,
    /// The instance.
    pub instance: String,
    /// Where it is.
    pub state: SagaState,
    /// The last step it recorded.
    pub last_step: Option<String>,
    /// The failure or error it recorded last.
    pub error: Option<String>,
    /// When it started (µs since the Unix epoch).
    pub started_micros: i64,
    /// When its summary last changed (µs since the Unix epoch).
    pub updated_micros: i64,
}

/// How many instances of a saga are in each state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SagaCounts {
    /// The saga.
    pub saga: String,
    /// Instances per state, in [`SagaState::ALL`] order.
    pub per_state: Vec<(SagaState, u64)>,
    /// The age of the oldest running (or compensating) instance.
    pub oldest_running: Option<Duration>,
}

impl SagaCounts {
    /// The instances in `state`.
    pub fn count(&self, state: SagaState) -> u64 {
        self.per_state
            .iter()
            .find(|(each, _)| *each == state)
            .map_or(0, |(_, count)| *count)
    }

    /// The counts in the Prometheus text exposition format: see [`prometheus`].
    pub fn prometheus(&self) -> String {
        prometheus(std::slice::from_ref(self))
    }
}

/// Saga counts in the Prometheus text exposition format: gauge `herald_sagas` labelled with
/// `saga` and `state`, and `herald_saga_oldest_running_seconds` labelled with `saga` (0 when
/// none is unfinished); nothing for no sagas.
pub fn prometheus(sagas: &[SagaCounts]) -> String {
    let mut out = String::new();
    if sagas.is_empty() {
        return out;
    }
    let label = |saga: &str| {
        saga.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    };
    let _ = writeln!(
        out,
        "# HELP herald_sagas Saga instances per state.\n# TYPE herald_sagas gauge"
    );
    for counts in sagas {
        let saga = label(&counts.saga);
        for (state, count) in &counts.per_state {
            let _ = writeln!(
                out,
                "herald_sagas{{saga=\"{saga}\",state=\"{}\"}} {count}",
                state.as_str()
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP herald_saga_oldest_running_seconds Age of the oldest unfinished instance.\n\
         # TYPE herald_saga_oldest_running_seconds gauge"
    );
    for counts in sagas {
        let age = counts.oldest_running.unwrap_or_default().as_secs_f64();
        let saga = label(&counts.saga);
        let _ = writeln!(
            out,
            "herald_saga_oldest_running_seconds{{saga=\"{saga}\"}} {age:.3}"
        );
    }
    out
}

/// A store that keeps sagas: their logs (as streams), their checkpoints, and the deadline
/// and index tables. [`MemoryStore`](crate::store::memory::MemoryStore) and the SQL stores
/// implement it.
pub trait SagaStore: EventStore + CheckpointStore {
    /// Sets deadline `name` of an instance to `due_micros` (replacing an earlier one).
    fn schedule_deadline(
        &self,
        saga: &str,
        instance: &str,
        name: &str,
        due_micros: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes deadline `name` of an instance; with `due_micros`, only if it is still due
    /// then (so a deadline moved meanwhile stays).
    fn remove_deadline(
        &self,
        saga: &str,
        instance: &str,
        name: &str,
        due_micros: Option<i64>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Up to `limit` deadlines of `saga` due at `now_micros`, earliest first:
    /// `(instance, name, due_micros)`.
    fn due_deadlines(
        &self,
        saga: &str,
        now_micros: i64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<(String, String, i64)>, StoreError>> + Send;

    /// Writes an instance's summary (replacing the previous one; the start time stays).
    fn record_saga(
        &self,
        summary: &SagaSummary,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// How many instances of `saga` are in each state, and the age of the oldest running one
    /// at `now_micros`.
    fn saga_counts(
        &self,
        saga: &str,
        now_micros: i64,
    ) -> impl Future<Output = Result<SagaCounts, StoreError>> + Send;

    /// Up to `limit` instances of `saga` in `state`, oldest first.
    fn sagas_in(
        &self,
        saga: &str,
        state: SagaState,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<SagaSummary>, StoreError>> + Send;
}

/// Counts from `(state, count)` rows and the oldest unfinished start.
pub(crate) fn counts_from(
    saga: &str,
    rows: impl IntoIterator<Item = (SagaState, u64)>,
    oldest_start: Option<i64>,
    now_micros: i64,
) -> SagaCounts {
    let rows: Vec<_> = rows.into_iter().collect();
    let per_state = SagaState::ALL
        .into_iter()
        .map(|state| {
            let count = rows
                .iter()
                .filter(|(each, _)| *each == state)
                .map(|(_, count)| count)
                .sum();
            (state, count)
        })
        .collect();
    SagaCounts {
        saga: saga.to_owned(),
        per_state,
        oldest_running: oldest_start.map(|start| {
            Duration::from_micros(now_micros.saturating_sub(start).max(0).unsigned_abs())
        }),
    }
}
