//! Appends: each waits for its group (see `group`), the group runs as one `herald_append`
//! call, and each append is answered on its own.

use std::time::SystemTime;

use tokio::sync::oneshot;
use uuid::Uuid;

use super::PostgresStore;
use super::group::Append;
use crate::envelope::NewEvent;
use crate::store::append::check_retry;
use crate::store::numbers::to_micros;
use crate::store::numbers::{from_i64, to_i32, to_i64};
use crate::store::{Appended, Expected, StoreError};

impl PostgresStore {
    /// Queues a non-empty batch for the next group and waits for its answer.
    pub(super) async fn append_grouped(
        &self,
        stream_id: &str,
        expected: Expected,
        events: Vec<NewEvent>,
    ) -> Result<Appended, StoreError> {
        // Duplicates inside the batch are refused before touching the database.
        check_retry(stream_id, &events, &[])?;
        let expected_code = match expected {
            Expected::Any => -1,
            Expected::NoStream => -2,
            Expected::StreamExists => -3,
            Expected::Exact(version) => to_i64(version, "expected version")?,
        };
        let count = i32::try_from(events.len()).map_err(|_| StoreError::OutOfRange {
            what: "events in one append",
            value: events.len() as u64,
            max: i32::MAX as u64,
        })?;
        let schema_versions = events
            .iter()
            .map(|event| to_i32(event.schema_version, "schema version"))
            .collect::<Result<_, _>>()?;
        let (reply, answer) = oneshot::channel();
        let store = self.clone();
        let append = Append {
            stream_id: stream_id.to_owned(),
            expected,
            expected_code,
            count,
            schema_versions,
            events,
            reply,
        };
        let kept = self.state.appends_connection.clone();
        self.state.appends.submit(
            append,
            move |group| {
                let store = store.clone();
                async move { store.run_group(group).await }
            },
            move || kept.release(),
        );
        answer.await.map_err(|_| StoreError::Interrupted {
            stream_id: stream_id.to_owned(),
        })?
    }

    /// Runs one group of appends (distinct streams) and answers each. When the group's
    /// transaction fails as a whole, each append is retried alone, so one append's error
    /// never becomes another's.
    async fn run_group(&self, group: Vec<Append>) {
        match self.append_group(&group).await {
            Ok(outcomes) => {
                for (pending, outcome) in group.into_iter().zip(outcomes) {
                    let result = self.answer(&pending, outcome).await;
                    let _ = pending.reply.send(result);
                }
            }
            Err(error) if group.len() == 1 => {
                if let Some(pending) = group.into_iter().next() {
                    let result = self.database_error(&pending, error).await;
                    let _ = pending.reply.send(result);
                }
            }
            Err(_) => {
                for pending in group {
                    let result = match self.append_group(std::slice::from_ref(&pending)).await {
                        Ok(outcomes) => match outcomes.first() {
                            Some(outcome) => self.answer(&pending, *outcome).await,
                            None => Err(no_outcome()),
                        },
                        Err(error) => self.database_error(&pending, error).await,
                    };
                    let _ = pending.reply.send(result);
                }
            }
        }
    }

    /// One `herald_append` call for `group`: `(outcome, version, first position)` per append.
    async fn append_group(&self, group: &[Append]) -> Result<Vec<(i32, i64, i64)>, sqlx::Error> {
        let events = group.iter().map(|pending| pending.events.len()).sum();
        let mut streams = Vec::with_capacity(group.len());
        let mut expected = Vec::with_capacity(group.len());
        let mut counts = Vec::with_capacity(group.len());
        let mut requests = Vec::with_capacity(events);
        let mut ids = Vec::with_capacity(events);
        let mut types = Vec::with_capacity(events);
        let mut schema_versions = Vec::with_capacity(events);
        let mut correlations = Vec::with_capacity(events);
        let mut causations = Vec::with_capacity(events);
        let mut metadata = Vec::with_capacity(events);
        let mut payloads = Vec::with_capacity(events);
        // Requests are numbered from 1; a group holds at most `group::MAX_APPENDS`.
        for (request, pending) in (1_i32..).zip(group) {
            streams.push(pending.stream_id.as_str());
            expected.push(pending.expected_code);
            counts.push(pending.count);
            schema_versions.extend_from_slice(&pending.schema_versions);
            for event in &pending.events {
                requests.push(request);
                ids.push(event.event_id);
                types.push(event.event_type.as_str());
                correlations.push(event.effective_correlation_id());
                causations.push(event.causation_id);
                metadata.push(sqlx::types::Json(&event.metadata));
                payloads.push(event.payload.as_slice());
            }
        }
        // A clock past the year 294,000 cannot be stored: an encoding error for the group.
        let recorded_at = to_micros(SystemTime::now(), "recorded-at time")
            .map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
        let query = sqlx::query_as::<_, (i32, i32, i64, i64)>(
            "SELECT * FROM herald_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&streams)
        .bind(&expected)
        .bind(&counts)
        .bind(&requests)
        .bind(&ids)
        .bind(&types)
        .bind(&schema_versions)
        .bind(recorded_at)
        .bind(&correlations)
        .bind(&causations)
        .bind(&metadata)
        .bind(&payloads);
        let mut connection = self.state.appends_connection.take(&self.pool).await?;
        let rows = query.fetch_all(&mut *connection).await?;
        self.state.appends_connection.put(connection);
        let mut outcomes = vec![(-1, 0, 0); group.len()];
        for (request, outcome, version, first) in rows {
            if let Some(slot) = usize::try_from(request)
                .ok()
                .and_then(|request| request.checked_sub(1))
                .and_then(|index| outcomes.get_mut(index))
            {
                *slot = (outcome, version, first);
            }
        }
        Ok(outcomes)
    }

    /// Turns one append's outcome into its answer.
    async fn answer(
        &self,
        pending: &Append,
        (outcome, version, first): (i32, i64, i64),
    ) -> Result<Appended, StoreError> {
        let stream_id = &pending.stream_id;
        match outcome {
            0 => {
                let first_position = from_i64(first, "position")?;
                Ok(Appended {
                    stream_version: from_i64(version, "stream version")?,
                    first_position,
                    last_position: first_position + pending.events.len() as u64 - 1,
                    duplicate: false,
                })
            }
            1 => Err(StoreError::Conflict {
                stream_id: stream_id.clone(),
                expected: pending.expected,
                actual: from_i64(version, "stream version")?,
            }),
            2 => Err(StoreError::StreamDeleted(stream_id.clone())),
            3 => self.retried(pending).await,
            _ => Err(no_outcome()),
        }
    }

    /// A group of one failed: a unique violation on an event id means a concurrent append
    /// stored it first (maybe a retry); anything else is the error.
    async fn database_error(
        &self,
        pending: &Append,
        error: sqlx::Error,
    ) -> Result<Appended, StoreError> {
        match &error {
            sqlx::Error::Database(database) if database.code().as_deref() == Some("23505") => {
                self.retried(pending).await
            }
            _ => Err(StoreError::Database(error)),
        }
    }

    /// Some ids of the batch are stored: a retry if they are the whole batch, in order.
    async fn retried(&self, pending: &Append) -> Result<Appended, StoreError> {
        let ids: Vec<Uuid> = pending.events.iter().map(|event| event.event_id).collect();
        let rows = sqlx::query(
            "SELECT event_id, stream_id, stream_version, position FROM herald_events \
             WHERE event_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        let stored = rows
            .iter()
            .map(super::Tables::stored_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        check_retry(&pending.stream_id, &pending.events, &stored)?.ok_or_else(|| {
            StoreError::Corrupt("an event id was reported stored but cannot be found".to_owned())
        })
    }
}

fn no_outcome() -> StoreError {
    StoreError::Corrupt("herald_append returned no outcome for an append".to_owned())
}
