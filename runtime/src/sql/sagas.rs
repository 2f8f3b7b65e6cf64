//! The statements on sagas' side tables: `herald_saga_deadlines` and `herald_sagas` (the
//! index of instances by state).

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};
use uuid::Uuid;

use crate::saga::{SagaCounts, SagaState, SagaStore, SagaSummary};
use crate::sql::SqlBackend;
use crate::store::numbers::from_i64;
use crate::store::{SqlStore, StoreError};

fn limit(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

impl<DB> SagaStore for SqlStore<DB>
where
    DB: SqlBackend,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'a> Option<&'a str>: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Decode<'a, DB>,
    for<'a> i32: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> String: Decode<'a, DB> + Type<DB>,
    for<'a> Option<String>: Decode<'a, DB>,
    for<'a> Uuid: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    Self: crate::store::EventStore + crate::projection::CheckpointStore,
{
    async fn schedule_deadline(
        &self,
        saga: &str,
        instance: &str,
        name: &str,
        due_micros: i64,
    ) -> Result<(), StoreError> {
        sqlx::query::<DB>(
            "INSERT INTO herald_saga_deadlines (saga, instance, name, due_micros) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (saga, instance, name) \
             DO UPDATE SET due_micros = EXCLUDED.due_micros",
        )
        .bind(saga)
        .bind(instance)
        .bind(name)
        .bind(due_micros)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn remove_deadline(
        &self,
        saga: &str,
        instance: &str,
        name: &str,
        due_micros: Option<i64>,
    ) -> Result<(), StoreError> {
        let query = match due_micros {
            Some(due) => sqlx::query::<DB>(
                "DELETE FROM herald_saga_deadlines \
                 WHERE saga = $1 AND instance = $2 AND name = $3 AND due_micros = $4",
            )
            .bind(saga)
            .bind(instance)
            .bind(name)
            .bind(due),
            None => sqlx::query::<DB>(
                "DELETE FROM herald_saga_deadlines WHERE saga = $1 AND instance = $2 AND name = $3",
            )
            .bind(saga)
            .bind(instance)
            .bind(name),
        };
        query.execute(&self.pool).await?;
        Ok(())
    }

    async fn due_deadlines(
        &self,
        saga: &str,
        now_micros: i64,
        count: usize,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = sqlx::query::<DB>(
            "SELECT instance, name, due_micros FROM herald_saga_deadlines \
             WHERE saga = $1 AND due_micros <= $2 ORDER BY due_micros LIMIT $3",
        )
        .bind(saga)
        .bind(now_micros)
        .bind(limit(count))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("instance")?,
                    row.try_get("name")?,
                    row.try_get("due_micros")?,
                ))
            })
            .collect()
    }

    async fn record_saga(&self, summary: &SagaSummary) -> Result<(), StoreError> {
        sqlx::query::<DB>(
            "INSERT INTO herald_sagas (saga, instance, state, last_step, error, started_micros, \
             updated_micros) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (saga, instance) DO UPDATE SET state = EXCLUDED.state, \
             last_step = EXCLUDED.last_step, error = EXCLUDED.error, \
             updated_micros = EXCLUDED.updated_micros",
        )
        .bind(summary.saga.as_str())
        .bind(summary.instance.as_str())
        .bind(summary.state.as_str())
        .bind(summary.last_step.as_deref())
        .bind(summary.error.as_deref())
        .bind(summary.started_micros)
        .bind(summary.updated_micros)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn saga_counts(&self, saga: &str, now_micros: i64) -> Result<SagaCounts, StoreError> {
        let rows = sqlx::query::<DB>(
            "SELECT state, COUNT(*) AS instances, MIN(started_micros) AS oldest \
             FROM herald_sagas WHERE saga = $1 GROUP BY state",
        )
        .bind(saga)
        .fetch_all(&self.pool)
        .await?;
        let mut per_state = Vec::new();
        let mut oldest: Option<i64> = None;
        for row in &rows {
            let name: String = row.try_get("state")?;
            let state = SagaState::parse(&name)
                .ok_or_else(|| StoreError::Corrupt(format!("saga state `{name}`")))?;
            let count: i64 = row.try_get("instances")?;
            per_state.push((state, from_i64(count, "saga count")?));
            if !state.is_final() {
                let start: Option<i64> = row.try_get("oldest")?;
                oldest = match (oldest, start) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        Ok(crate::saga::counts_from(
            saga, per_state, oldest, now_micros,
        ))
    }

    async fn sagas_in(
        &self,
        saga: &str,
        state: SagaState,
        count: usize,
    ) -> Result<Vec<SagaSummary>, StoreError> {
        let rows = sqlx::query::<DB>(
            "SELECT saga, instance, state, last_step, error, started_micros, updated_micros \
             FROM herald_sagas WHERE saga = $1 AND state = $2 \
             ORDER BY started_micros, instance LIMIT $3",
        )
        .bind(saga)
        .bind(state.as_str())
        .bind(limit(count))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let name: String = row.try_get("state")?;
                Ok(SagaSummary {
                    saga: row.try_get("saga")?,
                    instance: row.try_get("instance")?,
                    state: SagaState::parse(&name)
                        .ok_or_else(|| StoreError::Corrupt(format!("saga state `{name}`")))?,
                    last_step: row.try_get("last_step")?,
                    error: row.try_get("error")?,
                    started_micros: row.try_get("started_micros")?,
                    updated_micros: row.try_get("updated_micros")?,
                })
            })
            .collect()
    }
}
