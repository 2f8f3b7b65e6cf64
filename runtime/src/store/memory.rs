//! The in-memory backend: everything behind one mutex.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use crate::envelope::{NewEvent, RecordedEvent};
use crate::projection::{CheckpointStore, DeadLetter};
use crate::saga::{SagaCounts, SagaState, SagaStore, SagaSummary, counts_from};
use crate::store::append::{Admission, admit, check_retry, writable_version};
use crate::store::numbers::{check_append, to_i32, to_i64, to_micros};
use crate::store::{Appended, Direction, EventStore, Expected, Snapshot, StoreError, StreamInfo};

/// An event store in memory. Appends are serialized by a mutex, so positions are in commit
/// order trivially. Clones share the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    log: BTreeMap<u64, RecordedEvent>,
    head: u64,
    streams: HashMap<String, Stream>,
    ids: HashMap<uuid::Uuid, u64>,
    snapshots: HashMap<String, Snapshot>,
    checkpoints: HashMap<String, u64>,
    dead_letters: BTreeMap<(String, u64), DeadLetter>,
    saga_deadlines: BTreeMap<(String, String, String), i64>,
    sagas: BTreeMap<(String, String), SagaSummary>,
}

#[derive(Debug, Default)]
struct Stream {
    info: Option<StreamInfo>,
    positions: BTreeMap<u64, u64>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data: every mutation below
        // validates first and then writes without fallible steps.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl State {
    fn info(&self, stream_id: &str) -> Option<StreamInfo> {
        self.streams.get(stream_id).and_then(|stream| stream.info)
    }

    fn append(
        &mut self,
        stream_id: &str,
        expected: Expected,
        events: Vec<NewEvent>,
    ) -> Result<Appended, StoreError> {
        check_append(expected, &events)?;
        let stored: Vec<_> = events
            .iter()
            .filter_map(|event| self.ids.get(&event.event_id))
            .filter_map(|position| self.log.get(position))
            .map(|event| {
                (
                    event.event_id,
                    event.stream_id.clone(),
                    event.stream_version,
                    event.position,
                )
            })
            .collect();
        if let Some(appended) = check_retry(stream_id, &events, &stored)? {
            return Ok(appended);
        }
        let info = self.info(stream_id);
        let version = match admit(stream_id, expected, info, events.len())? {
            Admission::Write { version } => version,
            Admission::Done(appended) => return Ok(appended),
        };
        let recorded_at = SystemTime::now();
        let first_position = self.head + 1;
        let stream = self.streams.entry(stream_id.to_owned()).or_default();
        let mut new_version = version;
        for event in events {
            new_version += 1;
            self.head += 1;
            let correlation_id = event.effective_correlation_id();
            let recorded = RecordedEvent {
                event_id: event.event_id,
                stream_id: stream_id.to_owned(),
                stream_version: new_version,
                position: self.head,
                event_type: event.event_type,
                schema_version: event.schema_version,
                recorded_at,
                correlation_id,
                causation_id: event.causation_id,
                metadata: event.metadata,
                payload: event.payload,
            };
            stream.positions.insert(new_version, self.head);
            self.ids.insert(recorded.event_id, self.head);
            self.log.insert(self.head, recorded);
        }
        stream.info = Some(StreamInfo {
            version: new_version,
            deleted: false,
            truncated_before: info.map_or(0, |info| info.truncated_before),
        });
        Ok(Appended {
            stream_version: new_version,
            first_position,
            last_position: self.head,
            duplicate: false,
        })
    }
}

impl EventStore for MemoryStore {
    async fn append(
        &self,
        stream_id: &str,
        expected: Expected,
        events: Vec<NewEvent>,
    ) -> Result<Appended, StoreError> {
        self.state().append(stream_id, expected, events)
    }

    async fn read_stream(
        &self,
        stream_id: &str,
        from: u64,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        to_i64(from, "stream version")?;
        let state = self.state();
        let Some(stream) = state.streams.get(stream_id) else {
            return Ok(Vec::new());
        };
        if stream.info.is_some_and(|info| info.deleted) {
            return Err(StoreError::StreamDeleted(stream_id.to_owned()));
        }
        let positions: Vec<u64> = match direction {
            Direction::Forward => stream
                .positions
                .range(from..)
                .take(limit)
                .map(|(_, p)| *p)
                .collect(),
            Direction::Backward => stream
                .positions
                .range(..=from)
                .rev()
                .take(limit)
                .map(|(_, p)| *p)
                .collect(),
        };
        Ok(positions
            .iter()
            .filter_map(|position| state.log.get(position).cloned())
            .collect())
    }

    async fn read_all(
        &self,
        from_position: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        to_i64(from_position, "position")?;
        let state = self.state();
        Ok(state
            .log
            .range(from_position..)
            .take(limit)
            .map(|(_, event)| event.clone())
            .collect())
    }

    async fn head_position(&self) -> Result<u64, StoreError> {
        Ok(self.state().head)
    }

    async fn read_event(&self, event_id: uuid::Uuid) -> Result<Option<RecordedEvent>, StoreError> {
        let state = self.state();
        Ok(state
            .ids
            .get(&event_id)
            .and_then(|position| state.log.get(position))
            .cloned())
    }

    async fn stream_info(&self, stream_id: &str) -> Result<Option<StreamInfo>, StoreError> {
        Ok(self.state().info(stream_id))
    }

    async fn delete_stream(&self, stream_id: &str, expected: Expected) -> Result<(), StoreError> {
        let mut state = self.state();
        let info = state.info(stream_id);
        writable_version(stream_id, expected, info)?;
        let stream = state.streams.entry(stream_id.to_owned()).or_default();
        let mut info = info.unwrap_or(StreamInfo {
            version: 0,
            deleted: false,
            truncated_before: 0,
        });
        info.deleted = true;
        stream.info = Some(info);
        Ok(())
    }

    async fn truncate_stream(&self, stream_id: &str, before: u64) -> Result<(), StoreError> {
        to_i64(before, "truncation version")?;
        let mut state = self.state();
        let State {
            streams, log, ids, ..
        } = &mut *state;
        let Some(stream) = streams.get_mut(stream_id) else {
            return Ok(());
        };
        let kept = stream.positions.split_off(&before);
        for position in std::mem::replace(&mut stream.positions, kept).into_values() {
            if let Some(event) = log.remove(&position) {
                ids.remove(&event.event_id);
            }
        }
        if let Some(info) = stream.info.as_mut() {
            info.truncated_before = info.truncated_before.max(before);
        }
        Ok(())
    }

    async fn load_snapshot(&self, stream_id: &str) -> Result<Option<Snapshot>, StoreError> {
        Ok(self.state().snapshots.get(stream_id).cloned())
    }

    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError> {
        to_i32(snapshot.schema_version, "snapshot schema version")?;
        to_i64(snapshot.stream_version, "snapshot stream version")?;
        self.state()
            .snapshots
            .insert(snapshot.stream_id.clone(), snapshot);
        Ok(())
    }
}

impl CheckpointStore for MemoryStore {
    async fn load_checkpoint(&self, name: &str) -> Result<u64, StoreError> {
        Ok(self.state().checkpoints.get(name).copied().unwrap_or(0))
    }

    async fn save_checkpoint(&self, name: &str, position: u64) -> Result<(), StoreError> {
        to_i64(position, "checkpoint position")?;
        self.state().checkpoints.insert(name.to_owned(), position);
        Ok(())
    }

    async fn record_dead_letter(&self, dead_letter: DeadLetter) -> Result<(), StoreError> {
        to_i64(dead_letter.position, "dead letter position")?;
        to_i32(dead_letter.attempts, "dead letter attempts")?;
        to_micros(dead_letter.failed_at, "dead letter time")?;
        self.state().dead_letters.insert(
            (dead_letter.projection.clone(), dead_letter.position),
            dead_letter,
        );
        Ok(())
    }

    async fn dead_letters(&self, projection: &str) -> Result<Vec<DeadLetter>, StoreError> {
        Ok(self
            .state()
            .dead_letters
            .values()
            .filter(|letter| letter.projection == projection)
            .cloned()
            .collect())
    }
}

impl SagaStore for MemoryStore {
    async fn schedule_deadline(
        &self,
        saga: &str,
        instance: &str,
        name: &str,
        due_micros: i64,
    ) -> Result<(), StoreError> {
        self.state().saga_deadlines.insert(
            (saga.to_owned(), instance.to_owned(), name.to_owned()),
            due_micros,
        );
        Ok(())
    }

    async fn remove_deadline(
        &self,
        saga: &str,
        instance: &str,
        name: &str,
        due_micros: Option<i64>,
    ) -> Result<(), StoreError> {
        let key = (saga.to_owned(), instance.to_owned(), name.to_owned());
        let mut state = self.state();
        if due_micros.is_none() || state.saga_deadlines.get(&key) == due_micros.as_ref() {
            state.saga_deadlines.remove(&key);
        }
        Ok(())
    }

    async fn due_deadlines(
        &self,
        saga: &str,
        now_micros: i64,
        limit: usize,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let state = self.state();
        let mut due: Vec<_> = state
            .saga_deadlines
            .iter()
            .filter(|((each, _, _), due)| each == saga && **due <= now_micros)
            .map(|((_, instance, name), due)| (instance.clone(), name.clone(), *due))
            .collect();
        due.sort_by_key(|(_, _, due)| *due);
        due.truncate(limit);
        Ok(due)
    }

    async fn record_saga(&self, summary: &SagaSummary) -> Result<(), StoreError> {
        let mut state = self.state();
        let key = (summary.saga.clone(), summary.instance.clone());
        let started_micros = state
            .sagas
            .get(&key)
            .map_or(summary.started_micros, |old| old.started_micros);
        state.sagas.insert(
            key,
            SagaSummary {
                started_micros,
                ..summary.clone()
            },
        );
        Ok(())
    }

    async fn saga_counts(&self, saga: &str, now_micros: i64) -> Result<SagaCounts, StoreError> {
        let state = self.state();
        let of_saga = || state.sagas.values().filter(|summary| summary.saga == saga);
        let oldest = of_saga()
            .filter(|summary| !summary.state.is_final())
            .map(|summary| summary.started_micros)
            .min();
        Ok(counts_from(
            saga,
            of_saga().map(|summary| (summary.state, 1)),
            oldest,
            now_micros,
        ))
    }

    async fn sagas_in(
        &self,
        saga: &str,
        wanted: SagaState,
        limit: usize,
    ) -> Result<Vec<SagaSummary>, StoreError> {
        let state = self.state();
        let mut found: Vec<_> = state
            .sagas
            .values()
            .filter(|summary| summary.saga == saga && summary.state == wanted)
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.started_micros, &a.instance).cmp(&(b.started_micros, &b.instance)));
        found.truncate(limit);
        Ok(found)
    }
}
